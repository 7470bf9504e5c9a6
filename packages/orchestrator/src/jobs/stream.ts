import { crc32 } from '@compotastic/mesh';
import { JobSpecError } from '../errors.js';

/**
 * Receiving side of a tensor transfer: bytes arrive as (offset, chunk) in any order, possibly duplicated; the set of
 * received ranges tells the receiver what to ask for again. Complete when every byte is present; `verify` checks the
 * sender's CRC-32.
 */
export class InboundStream {
  readonly data: Uint8Array;
  /** Sorted, disjoint [start, end) ranges received so far. */
  private ranges: Array<[number, number]> = [];
  private have = 0;

  constructor(readonly length: number, public expectedCrc: number | null = null) {
    if (!Number.isInteger(length) || length < 0) throw new JobSpecError('BAD_VALUE', `stream length must be a non-negative integer, got ${length}`);
    this.data = new Uint8Array(length);
  }

  get received(): number {
    return this.have;
  }

  get complete(): boolean {
    return this.have === this.length;
  }

  /** Store a chunk. Returns false (and stores nothing) when it falls outside the stream. */
  accept(offset: number, bytes: Uint8Array): boolean {
    if (!Number.isInteger(offset) || offset < 0 || offset + bytes.length > this.length || bytes.length === 0) return false;
    this.data.set(bytes, offset);
    this.addRange(offset, offset + bytes.length);
    return true;
  }

  private addRange(start: number, end: number): void {
    const out: Array<[number, number]> = [];
    let s = start;
    let e = end;
    let placed = false;
    for (const [a, b] of this.ranges) {
      if (b < s) out.push([a, b]);
      else if (a > e) {
        if (!placed) {
          out.push([s, e]);
          placed = true;
        }
        out.push([a, b]);
      } else {
        s = Math.min(s, a);
        e = Math.max(e, b);
      }
    }
    if (!placed) out.push([s, e]);
    out.sort((x, y) => x[0] - y[0]);
    this.ranges = out;
    this.have = out.reduce((n, [a, b]) => n + (b - a), 0);
  }

  /** Gaps still missing, at most `limit` of them, each [offset, length]. */
  missing(limit = 16): Array<[number, number]> {
    const gaps: Array<[number, number]> = [];
    let pos = 0;
    for (const [a, b] of this.ranges) {
      if (a > pos) gaps.push([pos, a - pos]);
      pos = b;
      if (gaps.length >= limit) return gaps;
    }
    if (pos < this.length && gaps.length < limit) gaps.push([pos, this.length - pos]);
    return gaps;
  }

  /** True when complete and the CRC-32 matches (or no CRC was announced). */
  verify(): boolean {
    if (!this.complete) return false;
    return this.expectedCrc === null || crc32(this.data) === this.expectedCrc;
  }

  /** Forget everything (after a failed CRC check the sender resends the whole stream). */
  reset(): void {
    this.ranges = [];
    this.have = 0;
    this.data.fill(0);
  }
}

/** Split [offset, offset+length) of `data` into chunks no larger than `room(offset)` bytes. */
export function* chunksOf(data: Uint8Array, room: (offset: number) => number, offset = 0, length = data.length - offset): Generator<[number, Uint8Array]> {
  const end = Math.min(data.length, offset + length);
  let pos = offset;
  while (pos < end) {
    const size = Math.max(1, Math.min(room(pos), end - pos));
    yield [pos, data.subarray(pos, pos + size)];
    pos += size;
  }
}
