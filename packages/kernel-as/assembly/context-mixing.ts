// The hot loop of applying an OTA binary patch: the range decoder and the context-mixing model of the difference
// bytes (the OTA package's codec/range-coder.ts and codec/diff-model.ts, which specify it; integer-only, so every
// build decodes the same bytes as the TypeScript decoder). The host keeps the rest (headers, lengths, literals):
// it feeds coded bytes into the state's input window, decodes the few integers of each patch op bit by bit with
// cm_bit/cm_direct, and hands runs of old bytes to cm_diff, which writes old + difference for each.
//
// One state block (cm_state_size) holds everything: registers, the input window, the old and new byte runs, the
// model's tables and mixer weights (with the batch-trained zero-flag weights and their pending updates), and the
// stretch table.

import { ERR_ARGUMENT, ERR_BOUNDS, ERR_FORMAT, OK } from './abi';
import { inMemory } from './util';

const INPUTS = 5;
const ZERO_SETS = 8;
const VALUE_SETS = 256;
const ZERO_RATE = 20;
const VALUE_RATE = 10;
const INITIAL_WEIGHT = 19660;
const TOP: u32 = 1 << 24;
/** From this many bytes since the last non-zero difference, zero flags use the batch-trained weights. */
const FAST_DIST = 8;
/** Zero flags whose weight updates are summed before they are applied. */
const FAST_BATCH = 16;
const FAST_SETS = 4;
const FAST_INPUTS = 2;
/** Bytes a group flag covers at most (from a multiple of GROUP_BYTES into the region to the next). */
const GROUP_BYTES = 16;
/** Zero bytes since the last non-zero difference from which group flags are coded. */
const RUN_DIST = 2;
/** Fewest bytes a group flag for the rest of a group covers. */
const MIN_RUN_BYTES = 4;
/** Weight sets of group flags: some pred non-zero, all preds known, near a difference (below FAST_DIST). */
const GROUP_SETS = 8;
const MIN_BITS = 8;
const MAX_BITS = 20;

/** Bytes of coded input the window holds. */
export const CM_INPUT_BYTES = 512;
/** Longest run of old bytes one cm_diff call takes. */
export const CM_RUN_BYTES = 1024;
/**
 * A difference byte never takes more coded bytes than this: a group flag, the zero flag, the equals-pred flag and 8
 * bits, of at most 12 bits of range each, rounded up.
 */
const BYTES_PER_DIFF = 22;

// Register offsets in the state block.
const R_RANGE = 0;
const R_CODE = 4;
const R_IN_POS = 8;
const R_IN_LEN = 12;
const R_EOF = 16;
const R_ERROR = 20;
const R_ZBITS = 24;
const R_VBITS = 28;
const R_PBITS = 32;
const R_O1 = 36;
const R_O2 = 40;
const R_O3 = 44;
const R_P1 = 48;
const R_P2 = 52;
const R_DIST = 56;
const R_PR = 60;
const R_FAST_COUNT = 64;
const R_GROUP_COUNT = 68;
const HEADER = 80;
const O_INPUT = HEADER;
const O_OLD = O_INPUT + CM_INPUT_BYTES;
const O_NEW = O_OLD + CM_RUN_BYTES;
const O_STRETCH = O_NEW + CM_RUN_BYTES;
const O_ZW = O_STRETCH + 2 * 4096;
const O_VW = O_ZW + 4 * INPUTS * ZERO_SETS;
// Batch-trained weights of zero flags far from differences (O_FW) and of group flags (O_GW), then their pending
// sums, PENDING bytes after each weight.
const O_FW = O_VW + 4 * INPUTS * VALUE_SETS;
const O_GW = O_FW + 4 * FAST_INPUTS * FAST_SETS;
const PENDING = 4 * FAST_INPUTS * (FAST_SETS + GROUP_SETS);
const O_TABLES = O_FW + 2 * PENDING;

const SQUASH_POINTS: StaticArray<i32> = [
  1, 2, 4, 6, 10, 17, 27, 45, 74, 120, 194, 311, 488, 747, 1102, 1546, 2048, 2550, 2994, 3349, 3608, 3785, 3902,
  3976, 4022, 4051, 4069, 4079, 4086, 4090, 4092, 4094, 4095,
];

function squash(x: i32): i32 {
  if (x > 2047) return 4095;
  if (x < -2047) return 1;
  const w = x & 127;
  const i = (x >> 7) + 16;
  return (unchecked(SQUASH_POINTS[i]) * (128 - w) + unchecked(SQUASH_POINTS[i + 1]) * w + 64) >> 7;
}

@inline function hash2(a: u32, b: u32, bits: i32): u32 {
  return ((a ^ (b * 0x9e3779b1)) * 0x85ebca6b) >>> (32 - bits);
}

// The coder's registers live in globals while a call runs (loaded from the state block at its start, stored back at
// its end), so the hot loop keeps them out of memory.
let gRange: u32 = 0;
let gCode: u32 = 0;
let gPos: i32 = 0;
let gLen: i32 = 0;
let gError: i32 = 0;
let gPr: i32 = 2048;
let gInput: usize = 0;

function loadCoder(s: usize): void {
  gRange = <u32>load<i32>(s + R_RANGE);
  gCode = <u32>load<i32>(s + R_CODE);
  gPos = load<i32>(s + R_IN_POS);
  gLen = load<i32>(s + R_IN_LEN);
  gError = load<i32>(s + R_ERROR);
  gPr = load<i32>(s + R_PR);
  gInput = s + O_INPUT;
}

function storeCoder(s: usize): void {
  store<i32>(s + R_RANGE, <i32>gRange);
  store<i32>(s + R_CODE, <i32>gCode);
  store<i32>(s + R_IN_POS, gPos);
  store<i32>(s + R_IN_LEN, gLen);
  store<i32>(s + R_ERROR, gError);
  store<i32>(s + R_PR, gPr);
}

@inline function reg(s: usize, r: i32): i32 {
  return load<i32>(s + <usize>r);
}

@inline function setReg(s: usize, r: i32, v: i32): void {
  store<i32>(s + <usize>r, v);
}

function bitsValid(zb: i32, vb: i32, pb: i32): bool {
  return zb >= MIN_BITS && zb <= MAX_BITS && vb >= MIN_BITS && vb <= MAX_BITS && pb >= MIN_BITS && pb <= MAX_BITS;
}

/** Bytes of a state block for these table sizes (log2 entries), or ERR_ARGUMENT. */
export function cm_state_size(zb: i32, vb: i32, pb: i32): i32 {
  if (!bitsValid(zb, vb, pb)) return ERR_ARGUMENT;
  return O_TABLES + 2 * ((1 << zb) + (1 << vb) + (1 << pb));
}

/** Sizes of the input window and of the old and new runs. */
export function cm_input_bytes(): i32 {
  return CM_INPUT_BYTES;
}
export function cm_run_bytes(): i32 {
  return CM_RUN_BYTES;
}

/** Offsets of the input window, the old run and the new run inside a state block. */
export function cm_input_offset(): i32 {
  return O_INPUT;
}
export function cm_old_offset(): i32 {
  return O_OLD;
}
export function cm_new_offset(): i32 {
  return O_NEW;
}

/** Resets a state block: fresh model, empty input. */
export function cm_init(s: usize, zb: i32, vb: i32, pb: i32): i32 {
  if (!bitsValid(zb, vb, pb)) return ERR_ARGUMENT;
  if (!inMemory(s, <u64>cm_state_size(zb, vb, pb))) return ERR_BOUNDS;
  for (let r = 0; r < HEADER; r += 4) setReg(s, r, 0);
  setReg(s, R_RANGE, <i32>0xffffffff);
  setReg(s, R_ZBITS, zb);
  setReg(s, R_VBITS, vb);
  setReg(s, R_PBITS, pb);
  setReg(s, R_PR, 2048);
  // Stretch: the inverse of squash, built from it so the two agree exactly.
  let pi = 0;
  for (let x = -2047; x <= 2047; x++) {
    const v = squash(x);
    for (let j = pi; j <= v; j++) store<i16>(s + O_STRETCH + 2 * <usize>j, <i16>x);
    pi = v + 1;
  }
  for (let j = pi; j < 4096; j++) store<i16>(s + O_STRETCH + 2 * <usize>j, 2047);
  for (let i = 0; i < INPUTS * (ZERO_SETS + VALUE_SETS) + FAST_INPUTS * (FAST_SETS + GROUP_SETS); i++) store<i32>(s + O_ZW + 4 * <usize>i, INITIAL_WEIGHT);
  for (let i = 0; i < FAST_INPUTS * (FAST_SETS + GROUP_SETS); i++) store<i32>(s + O_FW + PENDING + 4 * <usize>i, 0);
  const zt = s + O_TABLES;
  const vt = zt + (2 << zb);
  const lic = vt + (2 << vb);
  for (let i = 0; i < 1 << zb; i++) store<u16>(zt + 2 * <usize>i, 32768);
  for (let i = 0; i < 1 << vb; i++) store<u16>(vt + 2 * <usize>i, 32768);
  for (let i = 0; i < 1 << pb; i++) store<u16>(lic + 2 * <usize>i, 0);
  return OK;
}

/**
 * Moves the unread input to the front of the window and returns how many bytes it holds; the host then writes up
 * to CM_INPUT_BYTES minus that after them and calls cm_input_added.
 */
export function cm_input_compact(s: usize): i32 {
  const pos = reg(s, R_IN_POS);
  const len = reg(s, R_IN_LEN);
  const left = len - pos;
  for (let i = 0; i < left; i++) store<u8>(s + O_INPUT + <usize>i, load<u8>(s + O_INPUT + <usize>(pos + i)));
  setReg(s, R_IN_POS, 0);
  setReg(s, R_IN_LEN, left);
  return left;
}

/** The host wrote `n` bytes after the unread ones; `eof` says the coded stream ends with them. */
export function cm_input_added(s: usize, n: i32, eof: i32): i32 {
  const len = reg(s, R_IN_LEN);
  if (n < 0 || len + n > CM_INPUT_BYTES) return ERR_ARGUMENT;
  setReg(s, R_IN_LEN, len + n);
  setReg(s, R_EOF, eof != 0 ? 1 : 0);
  return OK;
}

/** Coded bytes in the window not read yet. */
export function cm_input_available(s: usize): i32 {
  return reg(s, R_IN_LEN) - reg(s, R_IN_POS);
}

@inline function nextByte(): u32 {
  if (gPos >= gLen) {
    gError = 1;
    return 0;
  }
  const b = <u32>load<u8>(gInput + <usize>gPos);
  gPos++;
  return b;
}

/** Reads the coded stream's first five bytes (a zero, then the first code word). */
export function cm_start(s: usize): i32 {
  if (cm_input_available(s) < 5) return ERR_FORMAT;
  loadCoder(s);
  const zero = nextByte();
  let code: u32 = 0;
  for (let i = 0; i < 4; i++) code = (code << 8) | nextByte();
  gCode = code;
  gRange = 0xffffffff;
  storeCoder(s);
  return zero != 0 || code == 0xffffffff ? ERR_FORMAT : OK;
}

@inline function decodeBit(p1: u32): i32 {
  const bound = (gRange >>> 12) * p1;
  let bit = 0;
  if (gCode < bound) {
    gRange = bound;
    bit = 1;
  } else {
    gCode -= bound;
    gRange -= bound;
  }
  while (gRange < TOP) {
    gRange <<= 8;
    gCode = (gCode << 8) | nextByte();
  }
  return bit;
}

/** One bit with P(1) = p1 / 4096 (p1 in 1..4095), or ERR_FORMAT when the coded stream ran out. */
export function cm_bit(s: usize, p1: i32): i32 {
  if (p1 < 1 || p1 > 4095) return ERR_ARGUMENT;
  loadCoder(s);
  const bit = decodeBit(<u32>p1);
  storeCoder(s);
  return gError != 0 ? ERR_FORMAT : bit;
}

/** `count` (0..16) raw bits, most significant first, or ERR_FORMAT when the coded stream ran out. */
export function cm_direct(s: usize, count: i32): i32 {
  if (count < 0 || count > 16) return ERR_ARGUMENT;
  loadCoder(s);
  let v = 0;
  for (let i = 0; i < count; i++) {
    gRange >>>= 1;
    let bit = 0;
    if (gCode >= gRange) {
      gCode -= gRange;
      bit = 1;
    }
    v = (v << 1) | bit;
    while (gRange < TOP) {
      gRange <<= 8;
      gCode = (gCode << 8) | nextByte();
    }
  }
  storeCoder(s);
  return gError != 0 ? ERR_FORMAT : v;
}

@inline function stretchOf(s: usize, table: usize, index: u32): i32 {
  return <i32>load<i16>(s + O_STRETCH + 2 * <usize>(load<u16>(table + 2 * <usize>index) >> 4));
}

@inline function learnAt(at: usize, bit: i32): void {
  const v = <i32>load<u16>(at);
  store<u16>(at, <u16>(bit ? v + ((65536 - v) >> 4) : v - (v >> 4)));
}

@inline function mixWeight(at: usize, st: i32, err: i32): void {
  let v = load<i32>(at) + ((st * err) >> 14);
  if (v > 0x3fffff) v = 0x3fffff;
  else if (v < -0x3fffff) v = -0x3fffff;
  store<i32>(at, v);
}

/** squash for x already clamped to -2047..2047 (the mixer's output): interpolates the 33 points. */
@inline function squashClamped(x: i32): i32 {
  const w = x & 127;
  const at = changetype<usize>(SQUASH_POINTS) + (<usize>((x >> 7) + 16) << 2);
  return (load<i32>(at) * (128 - w) + load<i32>(at, 4) * w + 64) >> 7;
}

/** The mixer's output for weights at `w` and five stretched inputs: the dot product (16.16), clamped to -2047..2047. */
@inline function mix5(w: usize, s0: i32, s1: i32, s2: i32, s3: i32, s4: i32): i32 {
  let dot: i64;
  if (ASC_FEATURE_SIMD) {
    // Four of the five products in two i64x2 lanes each (exact, as the scalar sum).
    const sv = i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(s0), 1, s1), 2, s2), 3, s3);
    const wv = v128.load(w);
    const sum = i64x2.add(i64x2.extmul_low_i32x4_s(wv, sv), i64x2.extmul_high_i32x4_s(wv, sv));
    dot = i64x2.extract_lane(sum, 0) + i64x2.extract_lane(sum, 1) + <i64>load<i32>(w, 16) * <i64>s4;
  } else {
    dot = <i64>load<i32>(w) * <i64>s0 + <i64>load<i32>(w, 4) * <i64>s1 + <i64>load<i32>(w, 8) * <i64>s2 +
      <i64>load<i32>(w, 12) * <i64>s3 + <i64>load<i32>(w, 16) * <i64>s4;
  }
  const x = <i32>(dot >> 16);
  return x > 2047 ? 2047 : x < -2047 ? -2047 : x;
}

/**
 * Adds the pending sums to the batch-trained weights of one kind (`n` weights at w) and clears them; clamped as
 * every weight.
 */
function applyPending(w: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = w + 4 * <usize>i;
    let v = load<i32>(at) + load<i32>(at + PENDING);
    if (v > 0x3fffff) v = 0x3fffff;
    else if (v < -0x3fffff) v = -0x3fffff;
    store<i32>(at, v);
    store<i32>(at + PENDING, 0);
  }
}

/** A batch-trained flag's probability: weight pair at `w`, stretched inputs a and b. */
@inline function mix2(w: usize, a: i32, b: i32): i32 {
  const x = <i32>((<i64>load<i32>(w) * <i64>a + <i64>load<i32>(w, 4) * <i64>b) >> 16);
  return squashClamped(x > 2047 ? 2047 : x < -2047 ? -2047 : x);
}

/**
 * Trains a batch-trained flag: adds its update to the pending sums of its weight pair at `w`, applies the sums of
 * its kind (weights at `kind`) after FAST_BATCH flags or a 1, and trains its two entries. Returns the new count.
 */
@inline function trainBatch(kind: usize, weights: i32, w: usize, a: i32, b: i32, err: i32, bit: i32, count: i32, ea: usize, eb: usize): i32 {
  store<i32>(w + PENDING, load<i32>(w + PENDING) + ((a * err) >> 14));
  store<i32>(w + PENDING + 4, load<i32>(w + PENDING + 4) + ((b * err) >> 14));
  let n = count + 1;
  if (bit != 0 || n == FAST_BATCH) {
    applyPending(kind, weights);
    n = 0;
  }
  learnAt(ea, bit);
  learnAt(eb, bit);
  return n;
}

/**
 * Decodes the difference bytes for positions from..to-1 (to at most CM_RUN_BYTES) of the state's old run and writes
 * old + difference to the same positions of its new run. Stops early, before a byte that might need more coded
 * input than the window holds (unless the stream has ended): returns the position it reached, or ERR_FORMAT for a
 * truncated stream.
 */
export function cm_diff(s: usize, from: i32, to: i32): i32 {
  if (from < 0 || to < from || to > CM_RUN_BYTES) return ERR_ARGUMENT;
  const zb = reg(s, R_ZBITS);
  const vb = reg(s, R_VBITS);
  const pb = reg(s, R_PBITS);
  const zt = s + O_TABLES;
  const vt = zt + (2 << zb);
  const lic = vt + (2 << vb);
  const eof = reg(s, R_EOF) != 0;
  let o1 = <u32>reg(s, R_O1);
  let o2 = <u32>reg(s, R_O2);
  let o3 = <u32>reg(s, R_O3);
  let p1 = <u32>reg(s, R_P1);
  let p2 = <u32>reg(s, R_P2);
  let dist = reg(s, R_DIST);
  let fastCount = reg(s, R_FAST_COUNT);
  let groupCount = reg(s, R_GROUP_COUNT);
  // The coder's registers in locals for the whole run (globals would go through memory on every bit).
  let range = <u32>reg(s, R_RANGE);
  let code = <u32>reg(s, R_CODE);
  let pos = reg(s, R_IN_POS);
  const len = reg(s, R_IN_LEN);
  let error = reg(s, R_ERROR);
  let pr = reg(s, R_PR);
  const input = s + O_INPUT;
  let done = from;
  let failed = false;
  for (; done < to; done++) {
    if (!eof && len - pos < BYTES_PER_DIFF) break;
    // A group flag for the bytes up to the next multiple of GROUP_BYTES (inside the run, which starts at a multiple
    // of CM_RUN_BYTES into the region): at such a multiple, or where the distance has just reached RUN_DIST.
    const groupEnd = (done | (GROUP_BYTES - 1)) + 1;
    const n = groupEnd - done;
    if (dist >= RUN_DIST && groupEnd <= to && (n == GROUP_BYTES || (dist == RUN_DIST && n >= MIN_RUN_BYTES))) {
      // Is any of these n differences non-zero? Its contexts: which positions' last difference after the same
      // three old bytes was non-zero, with n and the distance; how many are known, two old bytes and the first.
      let mask: u32 = 0;
      let nKnown: u32 = 0;
      let a1 = o1;
      let a2 = o2;
      let a3 = o3;
      for (let q = 0; q < n; q++) {
        const h = ((a1 | (a2 << 8) | (a3 << 16)) ^ 0x5bd1e995) * 0x9e3779b1;
        const e = <u32>load<u16>(lic + 2 * <usize>(h >>> (32 - pb)));
        // Branch-free: whether an entry is known is data, and a mispredicted branch per byte would cost more.
        const isKnown = <u32>(e >> 8 == (h & 0xff));
        nKnown += isKnown;
        mask |= (isKnown & <u32>((e & 0xff) != 0)) << q;
        a3 = a2;
        a2 = a1;
        a1 = <u32>load<u8>(s + O_OLD + <usize>(done + q));
      }
      const first = <u32>load<u8>(s + O_OLD + <usize>done);
      const near: u32 = dist < FAST_DIST ? 1 : 0;
      const c1 = hash2(mask | (<u32>n << 16) | (<u32>dist << 21), 0x600, zb);
      const c2 = hash2(o1 | (o2 << 8) | (first << 16), 0x700 | (nKnown << 12) | (near << 17), zb);
      const gw = s + O_GW + 4 * FAST_INPUTS * <usize>((mask != 0 ? 1 : 0) | (nKnown == <u32>n ? 2 : 0) | (near << 2));
      const t1 = stretchOf(s, zt, c1);
      const t2 = stretchOf(s, zt, c2);
      pr = mix2(gw, t1, t2);
      // Once per group: the coder's registers go through the globals the host-facing decodeBit uses.
      gRange = range;
      gCode = code;
      gPos = pos;
      gLen = len;
      gError = error;
      gInput = input;
      const any = decodeBit(<u32>pr);
      range = gRange;
      code = gCode;
      pos = gPos;
      error = gError;
      groupCount = trainBatch(s + O_GW, FAST_INPUTS * GROUP_SETS, gw, t1, t2, ((any << 12) - pr) * ZERO_RATE, any, groupCount, zt + 2 * <usize>c1, zt + 2 * <usize>c2);
      if (error != 0) {
        failed = true;
        break;
      }
      if (!any) {
        // All zero: the new bytes are the old ones; the pred entries stay as they are.
        memory.copy(s + O_NEW + <usize>done, s + O_OLD + <usize>done, <usize>n);
        o3 = a3;
        o2 = a2;
        o1 = a1;
        dist = dist + n < FAST_DIST ? dist + n : FAST_DIST;
        done += n - 1;
        continue;
      }
    }
    const o0 = <u32>load<u8>(s + O_OLD + <usize>done);
    const dctx: u32 = dist > 6 ? 7 : <u32>dist;
    const p1nz: u32 = p1 != 0 ? 1 : 0;
    const p2nz: u32 = p2 != 0 ? 1 : 0;
    const old3 = o1 | (o2 << 8) | (o3 << 16);
    const h = (old3 ^ 0x5bd1e995) * 0x9e3779b1;
    const predIndex = h >>> (32 - pb);
    const check = h & 0xff;
    const entry = <u32>load<u16>(lic + 2 * <usize>predIndex);
    const known: u32 = entry >> 8 == check ? 1 : 0;
    const pred: u32 = known ? entry & 0xff : 0;
    const predNz: u32 = pred != 0 ? 1 : 0;

    // One modelled bit per pass: node 0 is the zero flag, nodes 1..255 the value's bit tree. The five contexts'
    // probabilities are stretched and mixed, the bit decoded, then the mixer and the five entries trained (entries
    // are re-read when learning, so two contexts sharing one update it twice, as the TypeScript model does).
    let node: u32 = 0;
    // False while the zero flag is decoded; then node 0 is the equals-pred flag (when pred is known and non-zero)
    // and nodes 1..255 the bit tree.
    let inValue = false;
    // Far from differences (p1 = p2 = 0, d = 7) the zero flag mixes two of its five contexts with a batch-trained
    // weight set: less work, and the weights do not change within a batch, so its prediction does not wait for the
    // previous flag's training.
    const fast = dist >= FAST_DIST;
    while (true) {
      let table = zt;
      let w: usize;
      let rate = ZERO_RATE;
      let i0: u32 = 0, i1: u32 = 0, i2: u32, i3: u32 = 0, i4: u32;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0;
      const fastFlag = !inValue && fast;
      if (fastFlag) {
        w = s + O_FW + 4 * FAST_INPUTS * <usize>(predNz | (known << 1));
        i2 = hash2(old3, 0x200, zb);
        i4 = hash2(pred | (o0 << 8) | (known << 16), 0x400, zb);
        s2 = stretchOf(s, zt, i2);
        s4 = stretchOf(s, zt, i4);
        pr = mix2(w, s2, s4);
      } else if (!inValue) {
        w = s + O_ZW + 4 * INPUTS * <usize>(p1nz | (predNz << 1) | ((dctx > 2 ? 1 : 0) << 2));
        i0 = hash2(o0 | (dctx << 8), 1, zb);
        i1 = hash2(o0 | (o1 << 8), dctx | 0x100, zb);
        i2 = hash2(old3, p1nz | 0x200, zb);
        i3 = hash2(p1nz | (p2nz << 1) | (dctx << 2) | (predNz << 5) | (known << 6), 0x300, zb);
        i4 = hash2(pred | (o0 << 8) | (known << 16), 0x400, zb);
      } else {
        table = vt;
        w = s + O_VW + 4 * INPUTS * <usize>node;
        rate = VALUE_RATE;
        i0 = node;
        i1 = hash2(p1 | (node << 8), 0x1000, vb);
        i2 = hash2(pred | (node << 8) | (known << 16), 0x2000, vb);
        i3 = hash2(o1 | (o0 << 8) | (node << 16), 0x3000, vb);
        i4 = hash2(o1 | (o2 << 8) | (p1 << 16), node | 0x4000, vb);
      }
      if (!fastFlag) {
        s0 = stretchOf(s, table, i0);
        s1 = stretchOf(s, table, i1);
        s2 = stretchOf(s, table, i2);
        s3 = stretchOf(s, table, i3);
        s4 = stretchOf(s, table, i4);
        pr = squashClamped(mix5(w, s0, s1, s2, s3, s4));
      }
      const bound = (range >>> 12) * <u32>pr;
      const one = code < bound;
      const bit = <i32>one;
      code = select<u32>(code, code - bound, one);
      range = select<u32>(bound, range - bound, one);
      while (range < TOP) {
        let b: u32 = 0;
        if (pos < len) {
          b = <u32>load<u8>(input + <usize>pos);
          pos++;
        } else {
          error = 1;
        }
        range <<= 8;
        code = (code << 8) | b;
      }
      const err = ((bit << 12) - pr) * rate;
      if (fastFlag) {
        // The update goes to the pending sums, applied after FAST_BATCH flags or a 1; two entries are trained.
        fastCount = trainBatch(s + O_FW, FAST_INPUTS * FAST_SETS, w, s2, s4, err, bit, fastCount, zt + 2 * <usize>i2, zt + 2 * <usize>i4);
        if (!bit) break;
        inValue = true;
        node = predNz ? 0 : 1;
        continue;
      } else if (ASC_FEATURE_SIMD) {
        // |st * err| < 2047 * 4095 * 20 < 2^31: the i32 lanes compute exactly what mixWeight does.
        const sv = i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(s0), 1, s1), 2, s2), 3, s3);
        const moved = i32x4.add(v128.load(w), i32x4.shr_s(i32x4.mul(sv, i32x4.splat(err)), 14));
        v128.store(w, i32x4.max_s(i32x4.min_s(moved, i32x4.splat(0x3fffff)), i32x4.splat(-0x3fffff)));
        mixWeight(w + 16, s4, err);
      } else {
        mixWeight(w, s0, err);
        mixWeight(w + 4, s1, err);
        mixWeight(w + 8, s2, err);
        mixWeight(w + 12, s3, err);
        mixWeight(w + 16, s4, err);
      }
      learnAt(table + 2 * <usize>i0, bit);
      learnAt(table + 2 * <usize>i1, bit);
      learnAt(table + 2 * <usize>i2, bit);
      learnAt(table + 2 * <usize>i3, bit);
      learnAt(table + 2 * <usize>i4, bit);
      if (!inValue) {
        if (!bit) break;
        inValue = true;
        node = predNz ? 0 : 1;
      } else if (node == 0) {
        if (bit) {
          node = 256 | pred;
          break;
        }
        node = 1;
      } else {
        node = (node << 1) | <u32>bit;
        if (node >= 256) break;
      }
    }
    const value: u32 = node & 0xff;
    if (error != 0) {
      failed = true;
      break;
    }
    store<u16>(lic + 2 * <usize>predIndex, <u16>((check << 8) | value));
    p2 = p1;
    p1 = value;
    dist = value != 0 ? 0 : dist < FAST_DIST ? dist + 1 : FAST_DIST;
    o3 = o2;
    o2 = o1;
    o1 = o0;
    store<u8>(s + O_NEW + <usize>done, <u8>(o0 + value));
  }
  setReg(s, R_RANGE, <i32>range);
  setReg(s, R_CODE, <i32>code);
  setReg(s, R_IN_POS, pos);
  setReg(s, R_ERROR, error);
  setReg(s, R_PR, pr);
  if (failed) return ERR_FORMAT;
  setReg(s, R_O1, <i32>o1);
  setReg(s, R_O2, <i32>o2);
  setReg(s, R_O3, <i32>o3);
  setReg(s, R_P1, <i32>p1);
  setReg(s, R_P2, <i32>p2);
  setReg(s, R_DIST, dist);
  setReg(s, R_FAST_COUNT, fastCount);
  setReg(s, R_GROUP_COUNT, groupCount);
  return done;
}
