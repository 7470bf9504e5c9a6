import { OtaError } from '../errors.js';

// Raw DEFLATE (RFC 1951) decoding for a device, into a bounded output buffer that is also the history window (each
// of our blocks is an independent stream). Codes are decoded canonically, one bit at a time, from per-length counts
// and a symbol list (about 1.6 KB of tables for the whole decoder, built per block), instead of the 2^15-entry lookup
// and bit-reversal tables a desktop inflater builds: slower per literal, but literals are a small part of a patch.
// Every input is checked: a truncated or damaged stream is MALFORMED, never a hang or a read out of bounds.

/** Where compressed bytes come from; `next` throws MALFORMED past the end. */
export interface ByteInput {
  next(): number;
}

const MAX_BITS = 15;
const MAX_LITERAL_CODES = 286;
const MAX_DISTANCE_CODES = 30;
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
  8193, 12289, 16385, 24577,
];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

/** A canonical Huffman code: how many codes of each length, and the symbols in code order. */
class HuffmanCode {
  readonly counts = new Uint16Array(MAX_BITS + 1);
  readonly symbols: Uint16Array;
  constructor(maxSymbols: number) {
    this.symbols = new Uint16Array(maxSymbols);
  }

  /** Builds the code from `n` code lengths; an over-subscribed set is MALFORMED (an incomplete one fails when used). */
  build(lengths: Uint8Array, from: number, n: number, offsets: Uint16Array): void {
    this.counts.fill(0);
    for (let s = 0; s < n; s++) this.counts[lengths[from + s]!]!++;
    this.counts[0] = 0;
    let left = 1;
    for (let len = 1; len <= MAX_BITS; len++) {
      left = (left << 1) - this.counts[len]!;
      if (left < 0) throw new OtaError('MALFORMED', 'deflate: over-subscribed Huffman code');
    }
    offsets[1] = 0;
    for (let len = 1; len < MAX_BITS; len++) offsets[len + 1] = offsets[len]! + this.counts[len]!;
    for (let s = 0; s < n; s++) {
      const len = lengths[from + s]!;
      if (len !== 0) this.symbols[offsets[len]!++] = s;
    }
  }
}

export class RawInflater {
  private readonly literals = new HuffmanCode(288);
  private readonly distances = new HuffmanCode(32);
  private readonly codeLengths = new HuffmanCode(19);
  private readonly lengths = new Uint8Array(MAX_LITERAL_CODES + 32);
  private readonly offsets = new Uint16Array(MAX_BITS + 1);
  private input: ByteInput = { next: () => 0 };
  private bitBuf = 0;
  private bitCount = 0;

  /** RAM the decoder's tables hold (its typed arrays). */
  static readonly tableBytes = 2 * (3 * (MAX_BITS + 1) + 288 + 32 + 19) + (MAX_LITERAL_CODES + 32) + 2 * (MAX_BITS + 1);

  /**
   * Inflates one raw DEFLATE stream from `input` into `out` and returns the bytes produced; a stream that would
   * produce more than `out` holds is MALFORMED.
   */
  inflate(input: ByteInput, out: Uint8Array): number {
    this.input = input;
    this.bitBuf = 0;
    this.bitCount = 0;
    let pos = 0;
    let last: number;
    do {
      last = this.bits(1);
      const type = this.bits(2);
      if (type === 0) pos = this.stored(out, pos);
      else if (type === 1) {
        this.fixedCodes();
        pos = this.codes(out, pos);
      } else if (type === 2) {
        this.dynamicCodes();
        pos = this.codes(out, pos);
      } else throw new OtaError('MALFORMED', 'deflate: invalid block type 3');
    } while (!last);
    return pos;
  }

  private bits(n: number): number {
    while (this.bitCount < n) {
      this.bitBuf |= this.input.next() << this.bitCount;
      this.bitCount += 8;
    }
    const v = this.bitBuf & ((1 << n) - 1);
    this.bitBuf >>>= n;
    this.bitCount -= n;
    return v;
  }

  private decode(code: HuffmanCode): number {
    let bitsSoFar = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len <= MAX_BITS; len++) {
      bitsSoFar |= this.bits(1);
      const count = code.counts[len]!;
      if (bitsSoFar - first < count) return code.symbols[index + bitsSoFar - first]!;
      index += count;
      first = (first + count) << 1;
      bitsSoFar <<= 1;
    }
    throw new OtaError('MALFORMED', 'deflate: a code that is not in the Huffman table');
  }

  private stored(out: Uint8Array, at: number): number {
    // Drop the bits left in the current byte: a stored block starts byte aligned.
    this.bitBuf = 0;
    this.bitCount = 0;
    const len = this.input.next() | (this.input.next() << 8);
    const nlen = this.input.next() | (this.input.next() << 8);
    if (len !== (~nlen & 0xffff)) throw new OtaError('MALFORMED', 'deflate: stored block length does not match its complement');
    if (at + len > out.length) throw new OtaError('MALFORMED', 'deflate: stream inflates to more bytes than expected');
    for (let i = 0; i < len; i++) out[at++] = this.input.next();
    return at;
  }

  private fixedCodes(): void {
    const l = this.lengths;
    l.fill(8, 0, 144);
    l.fill(9, 144, 256);
    l.fill(7, 256, 280);
    l.fill(8, 280, 288);
    this.literals.build(l, 0, 288, this.offsets);
    l.fill(5, 0, MAX_DISTANCE_CODES);
    this.distances.build(l, 0, MAX_DISTANCE_CODES, this.offsets);
  }

  private dynamicCodes(): void {
    const nlen = this.bits(5) + 257;
    const ndist = this.bits(5) + 1;
    const ncode = this.bits(4) + 4;
    if (nlen > MAX_LITERAL_CODES || ndist > MAX_DISTANCE_CODES) throw new OtaError('MALFORMED', 'deflate: too many length or distance codes');
    const l = this.lengths;
    l.fill(0, 0, 19);
    for (let i = 0; i < ncode; i++) l[CODE_LENGTH_ORDER[i]!] = this.bits(3);
    this.codeLengths.build(l, 0, 19, this.offsets);
    for (let i = 0; i < nlen + ndist; ) {
      const sym = this.decode(this.codeLengths);
      if (sym < 16) {
        l[i++] = sym;
        continue;
      }
      let value = 0;
      let repeat: number;
      if (sym === 16) {
        if (i === 0) throw new OtaError('MALFORMED', 'deflate: a repeated code length with none before it');
        value = l[i - 1]!;
        repeat = 3 + this.bits(2);
      } else if (sym === 17) repeat = 3 + this.bits(3);
      else repeat = 11 + this.bits(7);
      if (i + repeat > nlen + ndist) throw new OtaError('MALFORMED', 'deflate: code lengths run past their count');
      l.fill(value, i, i + repeat);
      i += repeat;
    }
    if (l[256] === 0) throw new OtaError('MALFORMED', 'deflate: no end-of-block code');
    this.literals.build(l, 0, nlen, this.offsets);
    this.distances.build(l, nlen, ndist, this.offsets);
  }

  private codes(out: Uint8Array, at: number): number {
    for (;;) {
      const sym = this.decode(this.literals);
      if (sym < 256) {
        if (at >= out.length) throw new OtaError('MALFORMED', 'deflate: stream inflates to more bytes than expected');
        out[at++] = sym;
        continue;
      }
      if (sym === 256) return at;
      const li = sym - 257;
      if (li >= LENGTH_BASE.length) throw new OtaError('MALFORMED', `deflate: invalid length code ${sym}`);
      const len = LENGTH_BASE[li]! + this.bits(LENGTH_EXTRA[li]!);
      const di = this.decode(this.distances);
      if (di >= MAX_DISTANCE_CODES) throw new OtaError('MALFORMED', `deflate: invalid distance code ${di}`);
      const dist = DIST_BASE[di]! + this.bits(DIST_EXTRA[di]!);
      if (dist > at) throw new OtaError('MALFORMED', 'deflate: a distance reaching before the start of the block');
      if (at + len > out.length) throw new OtaError('MALFORMED', 'deflate: stream inflates to more bytes than expected');
      for (let i = 0; i < len; i++, at++) out[at] = out[at - dist]!;
    }
  }
}
