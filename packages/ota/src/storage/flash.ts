import { OtaError } from '../errors.js';
import { checkRange, type RandomAccessSource } from './io.js';

/**
 * The shape of a NOR flash partition: reads anywhere, erases whole sectors to 0xFF, and programs only bytes that are
 * erased. Everything the updater persists (slots, boot records, download progress) is written through this, so the
 * same code runs over RAM, a file, or a real partition.
 */
export interface Flash extends RandomAccessSource {
  readonly length: number;
  readonly sectorSize: number;
  erase(sector: number): void;
  /** Writes bytes that are all erased (0xFF) now; anything else is a STORAGE error. */
  program(offset: number, data: Uint8Array): void;
}

/** Throws INVALID_ARGUMENT unless the sector size is a power of two >= 64 and the size a positive multiple of it. */
export function checkGeometry(size: number, sectorSize: number): void {
  if (!Number.isInteger(sectorSize) || sectorSize < 64 || (sectorSize & (sectorSize - 1)) !== 0) {
    throw new OtaError('INVALID_ARGUMENT', 'sector size must be a power of two >= 64');
  }
  if (!Number.isInteger(size) || size <= 0 || size % sectorSize !== 0) throw new OtaError('INVALID_ARGUMENT', 'flash size must be a positive multiple of the sector size');
}

export function checkErased(current: Uint8Array, offset: number): void {
  for (let i = 0; i < current.length; i++) {
    if (current[i] !== 0xff) throw new OtaError('STORAGE', `program over unerased byte at ${offset + i}`);
  }
}

/** Flash in RAM. */
export class MemoryFlash implements Flash {
  readonly data: Uint8Array;

  constructor(
    readonly length: number,
    readonly sectorSize = 4096,
  ) {
    checkGeometry(length, sectorSize);
    this.data = new Uint8Array(length).fill(0xff);
  }

  read(offset: number, length: number): Uint8Array {
    checkRange(offset, length, this.length, 'flash read');
    return this.data.slice(offset, offset + length);
  }

  erase(sector: number): void {
    checkRange(sector * this.sectorSize, this.sectorSize, this.length, 'flash erase');
    this.data.fill(0xff, sector * this.sectorSize, (sector + 1) * this.sectorSize);
  }

  program(offset: number, data: Uint8Array): void {
    checkRange(offset, data.length, this.length, 'flash program');
    checkErased(this.data.subarray(offset, offset + data.length), offset);
    this.data.set(data, offset);
  }
}

/** A sector-aligned window of a larger flash, as a partition table would define. */
export class FlashRegion implements Flash {
  readonly sectorSize: number;

  constructor(
    private readonly parent: Flash,
    readonly start: number,
    readonly length: number,
  ) {
    this.sectorSize = parent.sectorSize;
    if (start % this.sectorSize !== 0 || length % this.sectorSize !== 0 || length <= 0) {
      throw new OtaError('INVALID_ARGUMENT', 'a flash region must be sector aligned and non-empty');
    }
    checkRange(start, length, parent.length, 'flash region');
  }

  read(offset: number, length: number): Uint8Array {
    checkRange(offset, length, this.length, 'region read');
    return this.parent.read(this.start + offset, length);
  }

  erase(sector: number): void {
    checkRange(sector * this.sectorSize, this.sectorSize, this.length, 'region erase');
    this.parent.erase(this.start / this.sectorSize + sector);
  }

  program(offset: number, data: Uint8Array): void {
    checkRange(offset, data.length, this.length, 'region program');
    this.parent.program(this.start + offset, data);
  }
}

/** Thrown by FaultyFlash when the simulated power cut happens. */
export class PowerCutError extends Error {
  constructor(readonly operation: number) {
    super(`simulated power cut at flash operation ${operation}`);
    this.name = 'PowerCutError';
  }
}

/**
 * Wraps a flash and cuts the power at the n-th erase or program: that operation is left half done (half the bytes
 * programmed, or half the sector erased) and every later call throws. For testing that any interruption leaves a
 * bootable image.
 */
export class FaultyFlash implements Flash {
  private ops = 0;
  private dead = false;

  constructor(
    readonly inner: Flash,
    /** Operation (0-based) at which power fails; -1 never. */
    private readonly cutAt: number,
  ) {}

  get length(): number {
    return this.inner.length;
  }
  get sectorSize(): number {
    return this.inner.sectorSize;
  }
  /** Mutating operations performed so far (also counted when no cut is armed). */
  get operations(): number {
    return this.ops;
  }

  private step(): boolean {
    if (this.dead) throw new PowerCutError(this.ops);
    const hit = this.ops === this.cutAt;
    this.ops++;
    if (hit) this.dead = true;
    return hit;
  }

  read(offset: number, length: number): Uint8Array {
    if (this.dead) throw new PowerCutError(this.ops);
    return this.inner.read(offset, length);
  }

  erase(sector: number): void {
    if (this.step()) {
      // A torn erase: the first half of the sector is erased, the rest keeps its bytes.
      const half = this.inner.sectorSize / 2;
      const keep = this.inner.read(sector * this.inner.sectorSize + half, half);
      this.inner.erase(sector);
      this.inner.program(sector * this.inner.sectorSize + half, keep);
      throw new PowerCutError(this.ops - 1);
    }
    this.inner.erase(sector);
  }

  program(offset: number, data: Uint8Array): void {
    if (this.step()) {
      const half = data.length >> 1;
      if (half > 0) this.inner.program(offset, data.subarray(0, half));
      throw new PowerCutError(this.ops - 1);
    }
    this.inner.program(offset, data);
  }
}

/** Sequential writer into an erased flash range, programming in pages. */
export class FlashWriter {
  private readonly page: Uint8Array;
  private fill = 0;
  private pos: number;

  constructor(
    private readonly flash: Flash,
    readonly start: number,
    private readonly limit: number,
    pageSize = 256,
  ) {
    this.page = new Uint8Array(pageSize);
    this.pos = start;
  }

  /** Bytes written so far (including buffered). */
  get written(): number {
    return this.pos - this.start + this.fill;
  }

  write(chunk: Uint8Array): void {
    if (this.written + chunk.length > this.limit) throw new OtaError('TOO_LARGE', `write of ${chunk.length} bytes overflows a ${this.limit}-byte area`);
    for (let i = 0; i < chunk.length; ) {
      const k = Math.min(chunk.length - i, this.page.length - this.fill);
      this.page.set(chunk.subarray(i, i + k), this.fill);
      this.fill += k;
      i += k;
      if (this.fill === this.page.length) this.flush();
    }
  }

  flush(): void {
    if (this.fill === 0) return;
    this.flash.program(this.pos, this.page.subarray(0, this.fill));
    this.pos += this.fill;
    this.fill = 0;
  }
}

/** Erases every sector overlapping [offset, offset + length). */
export function eraseRange(flash: Flash, offset: number, length: number): void {
  const first = Math.floor(offset / flash.sectorSize);
  const last = Math.ceil((offset + length) / flash.sectorSize);
  for (let s = first; s < last; s++) flash.erase(s);
}
