import type { BitCoder } from './bit-coder.js';

const TOP_MODELLED_BITS = 3;

function probOf(p16: number): number {
  const p = p16 >> 4;
  return p < 1 ? 1 : p > 4095 ? 4095 : p;
}

/**
 * Adaptive code for unsigned integers below 2^32: the bit length (0..32) through a binary tree, the next few bits
 * below the leading one with probabilities per length, the rest as raw bits. Suits lengths and offsets whose
 * magnitude repeats but whose low bits are noise.
 */
export class IntModel {
  private readonly lengthTree = new Uint16Array(64).fill(32768);
  private readonly topBits = new Uint16Array(33 * 8).fill(32768);

  private codeBit(coder: BitCoder, table: Uint16Array, index: number, bit: number): number {
    const v = table[index]!;
    const b = coder.bit(probOf(v), bit);
    table[index] = b ? v + ((65536 - v) >> 4) : v - (v >> 4);
    return b;
  }

  code(coder: BitCoder, value: number): number {
    const n = value === 0 ? 0 : 32 - Math.clz32(value);
    let node = 1;
    for (let i = 5; i >= 0; i--) node = (node << 1) | this.codeBit(coder, this.lengthTree, node, (n >> i) & 1);
    const len = node - 64;
    if (len > 32) return -1;
    if (len <= 1) return len;
    let v = 1;
    const modelled = Math.min(len - 1, TOP_MODELLED_BITS);
    let ctx = 1;
    for (let i = 0; i < modelled; i++) {
      const shift = len - 2 - i;
      const bit = this.codeBit(coder, this.topBits, len * 8 + ctx, Math.floor(value / 2 ** shift) & 1);
      ctx = (ctx << 1) | bit;
      v = v * 2 + bit;
    }
    const rest = len - 1 - modelled;
    if (rest > 0) {
      const mask = 2 ** rest;
      const low = value % mask;
      // Direct bits are coded at most 16 at a time.
      const hi = rest > 16 ? coder.direct(Math.floor(low / 65536), rest - 16) : 0;
      const lo = coder.direct(low % 65536, Math.min(rest, 16));
      v = v * mask + hi * 65536 + lo;
    }
    return v;
  }

  get bytes(): number {
    return this.lengthTree.byteLength + this.topBits.byteLength;
  }
}

/** Signed integers through zigzag mapping onto an IntModel. */
export class SignedIntModel {
  private readonly inner = new IntModel();
  code(coder: BitCoder, value: number): number {
    const z = value >= 0 ? value * 2 : -value * 2 - 1;
    const r = this.inner.code(coder, z);
    if (r < 0) return r;
    return r % 2 === 0 ? r / 2 : -(r + 1) / 2;
  }
  get bytes(): number {
    return this.inner.bytes;
  }
}
