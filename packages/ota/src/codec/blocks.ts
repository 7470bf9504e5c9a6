import { ByteReader } from '../bytes.js';
import { OtaError } from '../errors.js';
import { ChunkedReader, type RandomAccessSource } from '../storage/io.js';
import { RawInflater } from './inflate.js';

// DEFLATE in independent blocks: each block is a varint compressed length followed by raw DEFLATE data of at most
// `blockBytes` input bytes. A decoder needs one block of output (its history window too) and a small window of
// compressed input, never a 32 KiB history plus an unbounded output, which keeps every streaming decoder in the
// package inside a fixed budget. Writing them (block-deflate.ts, fflate) is the publisher's side; a device only
// inflates, with RawInflater, so the apply path never loads fflate and its tables.

/** DEFLATE's worst-case growth for incompressible input up to 64 KiB (stored blocks), plus the length varint. */
export const BLOCK_SLACK_BYTES = 16;

/** Compressed bytes a BlockInflater reads at a time. */
export const INFLATE_READ_BYTES = 256;

/** RAM a BlockInflater of `blockBytes` holds: its output block, its input window and its code tables. */
export function blockInflaterBytes(blockBytes: number): number {
  return blockBytes + INFLATE_READ_BYTES + RawInflater.tableBytes;
}

/**
 * Reads blocks written by deflateBlocks from a region of a source, one at a time, into one reused buffer: a block
 * returned by next() is valid until the following call.
 */
export class BlockInflater {
  private pos: number;
  private produced = 0;
  private readonly out: Uint8Array;
  private readonly inflater = new RawInflater();

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
    this.out = new Uint8Array(blockBytes);
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
    const input = new ChunkedReader(this.src, this.pos, this.pos + clen, INFLATE_READ_BYTES);
    const out = this.out.subarray(0, expect);
    let n: number;
    try {
      n = this.inflater.inflate(input, out);
    } catch (e) {
      if (!(e instanceof OtaError)) throw e;
      throw new OtaError('MALFORMED', `${this.what}: block does not inflate (${e.message})`, { cause: e });
    }
    if (n !== expect) throw new OtaError('MALFORMED', `${this.what}: block holds ${n} bytes, expected ${expect}`);
    if (input.position !== this.pos + clen) throw new OtaError('MALFORMED', `${this.what}: block has ${this.pos + clen - input.position} bytes after its end`);
    this.pos += clen;
    this.produced += expect;
    return out;
  }

  /** Throws unless every block was read and nothing follows them. */
  finish(): void {
    if (!this.done) throw new OtaError('MALFORMED', `${this.what}: ${this.totalLength - this.produced} bytes were never read`);
    if (this.pos !== this.end) throw new OtaError('MALFORMED', `${this.what} has ${this.end - this.pos} trailing bytes`);
  }
}
