import type { BitCoder } from './bit-coder.js';
import { Mixer, hash2, squash, stretch } from './context-mixing.js';

// Context model for the difference bytes of a binary patch (new - old over matched regions). The bytes are mostly
// zero; the non-zero ones sit where the old image holds a relocated address or offset (after a call opcode, in a
// pointer table), and their values repeat because a shifted region shifts every reference into it by the same
// amount. Unlike a general-purpose compressor the model sees the *old* bytes at each position, which the patch
// applier has anyway: that tells it where differences are likely and which value they took last time in the same
// surroundings. Each byte is coded as a zero flag, then (if non-zero) its 8 bits through a binary tree; both
// predictions mix several contexts hashed into one table per part.
//
// Once RUN_DIST bytes since the last non-zero difference are zero (patch format 3), the coder first codes a group
// flag for the bytes up to the next multiple of GROUP_BYTES into the region: at such a multiple for the whole
// GROUP_BYTES, and where the distance has just reached RUN_DIST for the rest of the current group (at least
// MIN_RUN_BYTES); after a 0 they are all zero and cost nothing more. Far from any non-zero difference (FAST_DIST
// bytes or more), where almost all of a patch's bytes are, the zero flags mix only two of the five contexts (the
// three old bytes before it; the last difference after them, with the old byte here). Both kinds of flag have their
// own weights, trained in batches: the errors of up to FAST_BATCH flags are summed and applied together (at once
// after a 1), so within a batch no prediction waits for the previous flag's weight update. A non-zero byte whose
// context has a known non-zero pred first codes whether it equals that pred (node 0 of the value tree), and the
// eight bits only when it does not. The caller asks where a group flag comes (groupLength) and calls codeGroup.

/** Table sizes (log2 entries): part of a patch's header, since encoder and decoder must agree. */
export interface DiffModelSize {
  zeroBits: number;
  valueBits: number;
  predBits: number;
}

/** The default: about 38 KiB of model, so a whole patch applies in under 64 KiB of RAM. */
export const DEFAULT_DIFF_MODEL_SIZE: Readonly<DiffModelSize> = Object.freeze({ zeroBits: 13, valueBits: 12, predBits: 12 });
export const MIN_MODEL_BITS = 8;
export const MAX_MODEL_BITS = 20;

const INPUTS = 5;
const ZERO_MIXER_SETS = 8;
const VALUE_MIXER_SETS = 256;
const ZERO_LEARNING_RATE = 20;
const VALUE_LEARNING_RATE = 10;
const PROBABILITY_SHIFT = 4;
/** Bytes since the last non-zero difference from which a zero flag is coded with the batch-trained weights. */
export const FAST_DIST = 8;
/** Zero flags whose weight updates are summed before they are applied. */
export const FAST_BATCH = 16;
/** Weight sets of the batch-trained zero flag (selected by pred != 0 and pred known), and its inputs. */
const FAST_SETS = 4;
const FAST_INPUTS = 2;
/** Bytes a group flag covers at most (from a multiple of GROUP_BYTES into the region to the next). */
export const GROUP_BYTES = 16;
/** Zero bytes since the last non-zero difference from which group flags are coded. */
export const RUN_DIST = 2;
/** Fewest bytes a group flag for the rest of a group covers. */
export const MIN_RUN_BYTES = 4;
/** Weight sets of group flags: some pred non-zero, all preds known, near a difference (below FAST_DIST). */
const GROUP_SETS = 8;
const INITIAL_WEIGHT = 19660;
const MAX_WEIGHT = 0x3fffff;

/** Bytes of RAM a DiffByteModel of this size holds. */
export function diffModelBytes(size: DiffModelSize): number {
  return 2 * (2 ** size.zeroBits + 2 ** size.valueBits + 2 ** size.predBits) + 4 * INPUTS * (ZERO_MIXER_SETS + VALUE_MIXER_SETS + 2) + 4 * FAST_INPUTS * 2 * (FAST_SETS + GROUP_SETS);
}

export class DiffByteModel {
  private readonly zBits: number;
  private readonly vBits: number;
  private readonly pBits: number;
  private readonly zt: Uint16Array;
  private readonly vt: Uint16Array;
  private readonly zMix = new Mixer(INPUTS, ZERO_MIXER_SETS, ZERO_LEARNING_RATE);
  private readonly vMix = new Mixer(INPUTS, VALUE_MIXER_SETS, VALUE_LEARNING_RATE);
  /** Last difference byte seen after the same three old bytes (low 8 bits), with an 8-bit check of the context. */
  private readonly lastInContext: Uint16Array;

  private o1 = 0;
  private o2 = 0;
  private o3 = 0;
  private p1 = 0;
  private p2 = 0;
  private dist = 0;
  private readonly idx = new Int32Array(INPUTS);
  /** Batch-trained zero-flag weights (16.16) and the summed updates not applied yet. */
  private readonly fastWeights = new Int32Array(FAST_INPUTS * FAST_SETS).fill(INITIAL_WEIGHT);
  private readonly fastPending = new Int32Array(FAST_INPUTS * FAST_SETS);
  /** The same for group flags. */
  private readonly groupWeights = new Int32Array(FAST_INPUTS * GROUP_SETS).fill(INITIAL_WEIGHT);
  private readonly groupPending = new Int32Array(FAST_INPUTS * GROUP_SETS);
  /** Flags coded since each set of pending sums was applied: [zero flags, group flags]. */
  private readonly batchCounts = new Int32Array(2);

  constructor(size: DiffModelSize = DEFAULT_DIFF_MODEL_SIZE) {
    this.zBits = size.zeroBits;
    this.vBits = size.valueBits;
    this.pBits = size.predBits;
    this.zt = new Uint16Array(1 << this.zBits).fill(32768);
    this.vt = new Uint16Array(1 << this.vBits).fill(32768);
    this.lastInContext = new Uint16Array(1 << this.pBits);
  }

  get bytes(): number {
    return this.zt.byteLength + this.vt.byteLength + this.zMix.bytes + this.vMix.bytes + this.lastInContext.byteLength +
      this.fastWeights.byteLength + this.fastPending.byteLength + this.groupWeights.byteLength + this.groupPending.byteLength;
  }

  private learn(table: Uint16Array, bit: number): void {
    const s = PROBABILITY_SHIFT;
    for (let k = 0; k < INPUTS; k++) {
      const i = this.idx[k]!;
      const v = table[i]!;
      table[i] = bit ? v + ((65536 - v) >> s) : v - (v >> s);
    }
  }

  /**
   * A flag mixed from contexts `c1` and `c2` with weight set `set` of batch-trained weights `w`: the update is added
   * to `pending`, and the sums are applied after FAST_BATCH flags (counted in batchCounts[counter]) or a 1. Both
   * entries are trained.
   */
  private batchFlag(coder: BitCoder, flag: number, w: Int32Array, pending: Int32Array, counter: number, set: number, c1: number, c2: number): number {
    const zt = this.zt;
    const base = set * FAST_INPUTS;
    const s1 = stretch(zt[c1]! >> 4);
    const s2 = stretch(zt[c2]! >> 4);
    let x = Math.floor((w[base]! * s1 + w[base + 1]! * s2) / 65536);
    if (x > 2047) x = 2047;
    else if (x < -2047) x = -2047;
    const p = squash(x);
    const bit = coder.bit(p, flag);
    const err = ((bit << 12) - p) * ZERO_LEARNING_RATE;
    pending[base] = pending[base]! + ((s1 * err) >> 14);
    pending[base + 1] = pending[base + 1]! + ((s2 * err) >> 14);
    const counts = this.batchCounts;
    if (bit || ++counts[counter]! === FAST_BATCH) {
      for (let i = 0; i < w.length; i++) {
        const v = w[i]! + pending[i]!;
        w[i] = v > MAX_WEIGHT ? MAX_WEIGHT : v < -MAX_WEIGHT ? -MAX_WEIGHT : v;
        pending[i] = 0;
      }
      counts[counter] = 0;
    }
    const s = PROBABILITY_SHIFT;
    let v = zt[c1]!;
    zt[c1] = bit ? v + ((65536 - v) >> s) : v - (v >> s);
    v = zt[c2]!;
    zt[c2] = bit ? v + ((65536 - v) >> s) : v - (v >> s);
    return bit;
  }

  /**
   * Bytes a group flag at position `i` of a region of `length` bytes covers, or 0 when none comes there: RUN_DIST or
   * more zero bytes since the last non-zero one, and the group's end (the next multiple of GROUP_BYTES) inside the
   * region; at a multiple of GROUP_BYTES, or where the distance is exactly RUN_DIST with MIN_RUN_BYTES or more left.
   */
  groupLength(i: number, length: number): number {
    const dist = this.dist;
    if (dist < RUN_DIST) return 0;
    const end = (i | (GROUP_BYTES - 1)) + 1;
    if (end > length) return 0;
    const n = end - i;
    return n === GROUP_BYTES || (dist === RUN_DIST && n >= MIN_RUN_BYTES) ? n : 0;
  }

  /**
   * Codes whether any of the `n` (groupLength) difference bytes at old[at..] (the old bytes there) is non-zero;
   * `any` is that answer when encoding. Returns it: 1, and the bytes are coded one by one next; 0, and the model has
   * taken them as zeros (without training anything but the flag's own entries and weights). Contexts: which of the positions' last differences after the same three old bytes were
   * non-zero, with n and the distance; how many are known, the two old bytes before and the first one.
   */
  codeGroup(coder: BitCoder, old: ArrayLike<number>, at: number, n: number, any: number): number {
    const lic = this.lastInContext;
    const pShift = 32 - this.pBits;
    let mask = 0;
    let known = 0;
    let a1 = this.o1;
    let a2 = this.o2;
    let a3 = this.o3;
    for (let q = 0; q < n; q++) {
      const h = Math.imul((a1 | (a2 << 8) | (a3 << 16)) ^ 0x5bd1e995, 0x9e3779b1) >>> 0;
      const e = lic[h >>> pShift]!;
      if (e >> 8 === (h & 0xff)) {
        known++;
        if (e & 0xff) mask |= 1 << q;
      }
      a3 = a2;
      a2 = a1;
      a1 = old[at + q]!;
    }
    const zb = this.zBits;
    const near = this.dist < FAST_DIST ? 1 : 0;
    const c1 = hash2(mask | (n << 16) | (this.dist << 21), 0x600, zb);
    const c2 = hash2(this.o1 | (this.o2 << 8) | (old[at]! << 16), 0x700 | (known << 12) | (near << 17), zb);
    const set = (mask !== 0 ? 1 : 0) | (known === n ? 2 : 0) | (near << 2);
    const bit = this.batchFlag(coder, any, this.groupWeights, this.groupPending, 1, set, c1, c2);
    if (bit) return 1;
    // All zero: the pred entries stay as they are (a relocated value may come back after the same old bytes).
    this.dist = Math.min(this.dist + n, FAST_DIST);
    this.o3 = a3;
    this.o2 = a2;
    this.o1 = a1;
    return 0;
  }

  /** Codes one difference byte `d` at a position where the old image holds `o0`; returns the (decoded) byte. */
  code(coder: BitCoder, o0: number, d: number): number {
    const { o1, o2, o3, p1 } = this;
    const dctx = this.dist > 6 ? 7 : this.dist;
    const p1nz = p1 !== 0 ? 1 : 0;
    const p2nz = this.p2 !== 0 ? 1 : 0;
    const old3 = o1 | (o2 << 8) | (o3 << 16);
    const h = Math.imul(old3 ^ 0x5bd1e995, 0x9e3779b1) >>> 0;
    const predIndex = h >>> (32 - this.pBits);
    const check = h & 0xff;
    const entry = this.lastInContext[predIndex]!;
    const known = entry >> 8 === check ? 1 : 0;
    const pred = known ? entry & 0xff : 0;
    const predNz = pred !== 0 ? 1 : 0;

    // Zero flag.
    const idx = this.idx;
    const zb = this.zBits;
    const zt = this.zt;
    let nz: number;
    if (this.dist >= FAST_DIST) {
      // p1 = p2 = 0 and d = 7 here: the contexts 3 and 5 of the table below, as they are near differences.
      const c2 = hash2(old3, 0x200, zb);
      const c4 = hash2(pred | (o0 << 8) | (known << 16), 0x400, zb);
      nz = this.batchFlag(coder, d !== 0 ? 1 : 0, this.fastWeights, this.fastPending, 0, predNz | (known << 1), c2, c4);
    } else {
      idx[0] = hash2(o0 | (dctx << 8), 1, zb);
      idx[1] = hash2(o0 | (o1 << 8), dctx | 0x100, zb);
      idx[2] = hash2(old3, p1nz | 0x200, zb);
      idx[3] = hash2(p1nz | (p2nz << 1) | (dctx << 2) | (predNz << 5) | (known << 6), 0x300, zb);
      idx[4] = hash2(pred | (o0 << 8) | (known << 16), 0x400, zb);
      for (let k = 0; k < INPUTS; k++) this.zMix.add(stretch(zt[idx[k]!]! >> 4));
      const pz = this.zMix.predict(p1nz | (predNz << 1) | ((dctx > 2 ? 1 : 0) << 2));
      nz = coder.bit(pz, d !== 0 ? 1 : 0);
      this.zMix.update(nz);
      this.learn(zt, nz);
    }

    let value = 0;
    if (nz) {
      const vt = this.vt;
      const vb = this.vBits;
      let node = predNz ? 0 : 1;
      while (node < 256) {
        idx[0] = node;
        idx[1] = hash2(p1 | (node << 8), 0x1000, vb);
        idx[2] = hash2(pred | (node << 8) | (known << 16), 0x2000, vb);
        idx[3] = hash2(o1 | (o0 << 8) | (node << 16), 0x3000, vb);
        idx[4] = hash2(o1 | (o2 << 8) | (p1 << 16), node | 0x4000, vb);
        for (let k = 0; k < INPUTS; k++) this.vMix.add(stretch(vt[idx[k]!]! >> 4));
        // Node 0: the byte equals pred; then the bit tree from node 1, its bit at the node's depth.
        const bit = coder.bit(this.vMix.predict(node), node === 0 ? (d === pred ? 1 : 0) : (d >> (Math.clz32(node) - 24)) & 1);
        this.vMix.update(bit);
        this.learn(vt, bit);
        if (node === 0) {
          if (bit) {
            node = 256 | pred;
            break;
          }
          node = 1;
        } else {
          node = (node << 1) | bit;
        }
      }
      value = node & 0xff;
    }
    this.lastInContext[predIndex] = (check << 8) | value;
    this.p2 = p1;
    this.p1 = value;
    this.dist = value !== 0 ? 0 : Math.min(this.dist + 1, FAST_DIST);
    this.o3 = o2;
    this.o2 = o1;
    this.o1 = o0;
    return value;
  }
}
