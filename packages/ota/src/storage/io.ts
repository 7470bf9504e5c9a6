import { OtaError } from '../errors.js';

/** Random-access reads from something stored: a buffer, a file, a flash partition. */
export interface RandomAccessSource {
  readonly length: number;
  /** Exactly `length` bytes from `offset`; throws OtaError STORAGE when the range is outside the source. */
  read(offset: number, length: number): Uint8Array;
}

/** Sequential writes (a new image being rebuilt, a download). */
export interface ByteSink {
  write(chunk: Uint8Array): void;
}

export function checkRange(offset: number, length: number, size: number, what: string): void {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new OtaError('STORAGE', `${what}: range ${offset}+${length} is outside 0..${size}`);
  }
}

export function bufferSource(data: Uint8Array): RandomAccessSource {
  return {
    length: data.length,
    read(offset, length) {
      checkRange(offset, length, data.length, 'buffer read');
      return data.subarray(offset, offset + length);
    },
  };
}

/** Most bytes a BufferSink reserves up front for what its caller expects. */
const MAX_RESERVED_BYTES = 64 * 1024 * 1024;

/**
 * A sink that collects everything written, for hosts that keep images in memory. Given the bytes it should expect
 * (up to 64 MiB are reserved), it writes into one buffer instead of copying each chunk apart.
 */
export class BufferSink implements ByteSink {
  private chunks: Uint8Array[] = [];
  private total = 0;
  private reserved: Uint8Array | null;

  constructor(expectedBytes = 0) {
    this.reserved = expectedBytes > 0 ? new Uint8Array(Math.min(expectedBytes, MAX_RESERVED_BYTES)) : null;
  }

  write(chunk: Uint8Array): void {
    const r = this.reserved;
    if (r) {
      if (this.total + chunk.length <= r.length) {
        r.set(chunk, this.total);
        this.total += chunk.length;
        return;
      }
      this.chunks.push(r.subarray(0, this.total));
      this.reserved = null;
    }
    this.chunks.push(chunk.slice());
    this.total += chunk.length;
  }

  get length(): number {
    return this.total;
  }

  bytes(): Uint8Array {
    if (this.reserved) return this.reserved.subarray(0, this.total);
    const out = new Uint8Array(this.total);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    this.chunks = [out];
    return out;
  }
}

/** Reads a source sequentially through a small window, for decoders that pull bytes one at a time. */
export class ChunkedReader {
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  private pos: number;

  constructor(
    private readonly src: RandomAccessSource,
    start: number,
    private readonly end: number,
    private readonly chunkSize = 512,
  ) {
    this.pos = start;
  }

  get position(): number {
    return this.pos;
  }

  next(): number {
    const rel = this.pos - this.bufStart;
    if (rel >= 0 && rel < this.buf.length) {
      this.pos++;
      return this.buf[rel]!;
    }
    if (this.pos >= this.end) throw new OtaError('MALFORMED', 'stream is truncated');
    const n = Math.min(this.chunkSize, this.end - this.pos);
    this.buf = this.src.read(this.pos, n).slice();
    this.bufStart = this.pos;
    this.pos++;
    return this.buf[0]!;
  }
}
