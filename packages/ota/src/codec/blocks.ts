import { deflateSync, inflateSync } from 'fflate';
import { ByteReader, ByteWriter, concatBytes } from '../bytes.js';
import { OtaError } from '../errors.js';
import type { RandomAccessSource } from '../storage/io.js';

// DEFLATE in independent blocks: each block is a varint compressed length followed by raw DEFLATE data of at most
// `blockBytes` input bytes. A decoder needs one block of output and one of input at a time, never a 32 KiB history
// window plus an unbounded output, which keeps every streaming decoder in the package inside a fixed budget.

/** DEFLATE's worst-case growth for incompressible input up to 64 KiB (stored blocks), plus the length varint. */
export const BLOCK_SLACK_BYTES = 16;

export function deflateBlocks(data: Uint8Array, blockBytes: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += blockBytes) {
    const block = deflateSync(data.subarray(at, at + blockBytes), { level: 9 });
    parts.push(new ByteWriter(4).varint(block.length).finish(), block);
  }
  return concatBytes(parts);
}

/** Reads blocks written by deflateBlocks from a region of a source, one at a time. */
export class BlockInflater {
  private pos: number;
  private produced = 0;

  constructor(
    private readonly src: RandomAccessSource,
    start: number,
    private readonly end: number,
    /** Total bytes the blocks decode to. */
    private readonly totalLength: number,
    private readonly blockBytes: number,
    private readonly what: string,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.produced === this.totalLength;
  }

  /** The next block's bytes (blockBytes, or fewer for the last one). */
  next(): Uint8Array {
    const expect = Math.min(this.blockBytes, this.totalLength - this.produced);
    if (expect <= 0) throw new OtaError('MALFORMED', `${this.what}: asked for more bytes than it holds`);
    if (this.pos >= this.end) throw new OtaError('MALFORMED', `${this.what} is truncated`);
    const r = new ByteReader(this.src.read(this.pos, Math.min(8, this.end - this.pos)), this.what);
    const clen = r.varint('block length', this.blockBytes + BLOCK_SLACK_BYTES);
    this.pos += r.offset;
    if (clen === 0 || this.pos + clen > this.end) throw new OtaError('MALFORMED', `${this.what}: block is truncated or empty`);
    const compressed = this.src.read(this.pos, clen);
    this.pos += clen;
    let out: Uint8Array;
    try {
      // One spare byte: a block that inflates to more than expected shows up as a wrong length.
      out = inflateSync(compressed, { out: new Uint8Array(expect + 1) });
    } catch (e) {
      throw new OtaError('MALFORMED', `${this.what}: block does not inflate (${(e as Error).message})`, { cause: e });
    }
    if (out.length !== expect) throw new OtaError('MALFORMED', `${this.what}: block holds ${out.length} bytes, expected ${expect}`);
    this.produced += expect;
    return out;
  }

  /** Throws unless every block was read and nothing follows them. */
  finish(): void {
    if (!this.done) throw new OtaError('MALFORMED', `${this.what}: ${this.totalLength - this.produced} bytes were never read`);
    if (this.pos !== this.end) throw new OtaError('MALFORMED', `${this.what} has ${this.end - this.pos} trailing bytes`);
  }
}
