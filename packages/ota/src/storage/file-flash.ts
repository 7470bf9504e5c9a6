import { closeSync, existsSync, fstatSync, ftruncateSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { OtaError } from '../errors.js';
import { checkErased, checkGeometry, type Flash } from './flash.js';
import { checkRange } from './io.js';

/** Flash backed by a file (created erased if missing); every write is synced before returning. */
export class FileFlash implements Flash {
  private fd: number;

  constructor(
    readonly path: string,
    readonly length: number,
    readonly sectorSize = 4096,
  ) {
    checkGeometry(length, sectorSize);
    const fresh = !existsSync(path);
    this.fd = openSync(path, fresh ? 'w+' : 'r+');
    const size = fstatSync(this.fd).size;
    if (size !== length) {
      if (!fresh && size !== 0) {
        closeSync(this.fd);
        throw new OtaError('STORAGE', `${path} is ${size} bytes, expected ${length}`);
      }
      ftruncateSync(this.fd, length);
      const ff = new Uint8Array(sectorSize).fill(0xff);
      for (let s = 0; s < length / sectorSize; s++) writeSync(this.fd, ff, 0, sectorSize, s * sectorSize);
      fsyncSync(this.fd);
    }
  }

  read(offset: number, length: number): Uint8Array {
    checkRange(offset, length, this.length, 'flash read');
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, length - done, offset + done);
      if (n <= 0) throw new OtaError('STORAGE', `short read from ${this.path}`);
      done += n;
    }
    return out;
  }

  erase(sector: number): void {
    checkRange(sector * this.sectorSize, this.sectorSize, this.length, 'flash erase');
    writeSync(this.fd, new Uint8Array(this.sectorSize).fill(0xff), 0, this.sectorSize, sector * this.sectorSize);
    fsyncSync(this.fd);
  }

  program(offset: number, data: Uint8Array): void {
    checkRange(offset, data.length, this.length, 'flash program');
    checkErased(this.read(offset, data.length), offset);
    writeSync(this.fd, data, 0, data.length, offset);
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

