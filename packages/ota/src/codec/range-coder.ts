import { OtaError } from '../errors.js';

// Binary arithmetic (range) coder in the style of LZMA's: 32-bit range, carry propagation through a cached byte,
// 12-bit probabilities. Integer-only, so any host (JS, C, Wasm) decodes the same bits. A probability `p1` is
// P(bit = 1) scaled to 1..4095; bit 1 takes the low part of the range.

export const PROB_BITS = 12;
export const PROB_ONE = 1 << PROB_BITS;
const TOP = 1 << 24;
const TWO32 = 4294967296;

export class RangeEncoder {
  private low = 0; // < 2^33; held as a double, exact
  private range = 0xffffffff;
  private cache = 0;
  private cacheSize = 1;
  private out: Uint8Array = new Uint8Array(4096);
  private len = 0;

  private put(b: number): void {
    if (this.len === this.out.length) {
      const next = new Uint8Array(this.out.length * 2);
      next.set(this.out);
      this.out = next;
    }
    this.out[this.len++] = b;
  }

  private shiftLow(): void {
    const lo = this.low >>> 0;
    const carry = this.low >= TWO32 ? 1 : 0;
    if (lo < 0xff000000 || carry) {
      let temp = this.cache;
      do {
        this.put((temp + carry) & 0xff);
        temp = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = lo >>> 24;
    }
    this.cacheSize++;
    this.low = (lo & 0x00ffffff) * 256;
  }

  /** Codes `bit` with probability p1 = P(bit = 1) in 1..4095. */
  encode(bit: number, p1: number): void {
    const bound = (this.range >>> PROB_BITS) * p1;
    if (bit) {
      this.range = bound;
    } else {
      this.low += bound;
      this.range -= bound;
    }
    while (this.range < TOP) {
      this.range = (this.range * 256) >>> 0;
      this.shiftLow();
    }
  }

  /** Codes the low `count` bits of `value` (count <= 24), most significant first, each with probability 1/2. */
  encodeDirect(value: number, count: number): void {
    for (let i = count - 1; i >= 0; i--) {
      this.range = this.range >>> 1;
      if ((value >>> i) & 1) this.low += this.range;
      while (this.range < TOP) {
        this.range = (this.range * 256) >>> 0;
        this.shiftLow();
      }
    }
  }

  /** Flushes and returns the coded bytes; the encoder must not be used afterwards. */
  finish(): Uint8Array {
    for (let i = 0; i < 5; i++) this.shiftLow();
    return this.out.slice(0, this.len);
  }
}

/** Where a decoder pulls coded bytes from, one at a time (a buffer, or a chunked reader over storage). */
export interface ByteSource {
  next(): number;
}

export class BufferByteSource implements ByteSource {
  private pos = 0;
  constructor(private readonly data: Uint8Array) {}
  next(): number {
    if (this.pos >= this.data.length) {
      throw new OtaError('MALFORMED', 'coded stream is truncated');
    }
    return this.data[this.pos++]!;
  }
  get consumed(): number {
    return this.pos;
  }
}

export class RangeDecoder {
  private range = 0xffffffff;
  private code = 0;

  constructor(private readonly src: ByteSource) {
    if (src.next() !== 0) throw new OtaError('MALFORMED', 'coded stream does not start with a zero byte');
    for (let i = 0; i < 4; i++) this.code = ((this.code * 256) + src.next()) >>> 0;
    if (this.code === 0xffffffff) throw new OtaError('MALFORMED', 'coded stream has an impossible first word');
  }

  decode(p1: number): number {
    const bound = (this.range >>> PROB_BITS) * p1;
    let bit: number;
    if (this.code < bound) {
      this.range = bound;
      bit = 1;
    } else {
      this.code -= bound;
      this.range -= bound;
      bit = 0;
    }
    while (this.range < TOP) {
      this.range = (this.range * 256) >>> 0;
      this.code = ((this.code * 256) + this.src.next()) >>> 0;
    }
    return bit;
  }

  decodeDirect(count: number): number {
    let v = 0;
    for (let i = 0; i < count; i++) {
      this.range = this.range >>> 1;
      let bit = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        bit = 1;
      }
      v = (v * 2) + bit;
      while (this.range < TOP) {
        this.range = (this.range * 256) >>> 0;
        this.code = ((this.code * 256) + this.src.next()) >>> 0;
      }
    }
    return v;
  }
}
