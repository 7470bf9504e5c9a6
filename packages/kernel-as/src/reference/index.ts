// Plain TypeScript reference implementations of every kernel, written for
// clarity and ONNX semantics rather than speed (the matmul is a reasonably tiled
// JS loop so it also serves as the plain-JS baseline in benchmarks). Tests compare
// the Wasm builds against these on random inputs.

import { type QuantType, QUANT_RANGE } from '../tensor.js';

/** Rounds to the nearest integer, ties to even (what ONNX and ONNX Runtime do). */
export function roundHalfEven(v: number): number {
  if (!Number.isFinite(v)) return v;
  const f = Math.floor(v);
  const diff = v - f;
  if (diff < 0.5) return f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Y[m][n] = sum_k (A[m][k] - za[m]) * (B[k][n] - zb[n]) in wrapping int32
 * arithmetic. za/zb are arrays of length 1 (per tensor) or per row/column.
 */
export function matmulInteger(
  a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number,
  aZp: ArrayLike<number> = [0], bZp: ArrayLike<number> = [0],
): Int32Array {
  const y = new Int32Array(m * n);
  const bz = new Int32Array(n);
  for (let j = 0; j < n; j++) bz[j] = bZp.length === 1 ? bZp[0]! : bZp[j]!;
  const row = new Int32Array(n);
  for (let i = 0; i < m; i++) {
    const za = aZp.length === 1 ? aZp[0]! : aZp[i]!;
    row.fill(0);
    for (let kk = 0; kk < k; kk++) {
      const av = a[i * k + kk]! - za;
      if (av === 0) continue;
      const base = kk * n;
      for (let j = 0; j < n; j++) row[j] = (row[j]! + Math.imul(av, b[base + j]! - bz[j]!)) | 0;
    }
    y.set(row, i * n);
  }
  return y;
}

/** Q31 multiplier and shift of a positive real (frexp, round half to even). */
export function quantizeMultiplier(real: number): { multiplier: number; shift: number } {
  if (!(real > 0) || !Number.isFinite(real)) throw new RangeError('multiplier must be positive and finite');
  if (real < 2 ** -1022) return { multiplier: 0, shift: 0 };
  let e = Math.floor(Math.log2(real)) + 1;
  let q = real / 2 ** e;
  // log2 can be off by one near powers of two.
  if (q >= 1) { q /= 2; e++; }
  if (q < 0.5) { q *= 2; e--; }
  let m = roundHalfEven(q * 2 ** 31);
  if (m === 2 ** 31) { m = 2 ** 30; e++; }
  if (e > 30) throw new RangeError('multiplier too large');
  if (e < -31) return { multiplier: 0, shift: 0 };
  return { multiplier: m, shift: e };
}

/** v * mult * 2^(shift-31) rounded half to even, exactly (BigInt). */
export function multiplyByQuantized(v: number, mult: number, shift: number): bigint {
  const prod = BigInt(v) * BigInt(mult);
  const rs = BigInt(31 - shift);
  let q = prod >> rs; // floor
  const rem = prod - (q << rs);
  const half = 1n << (rs - 1n);
  if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  return q;
}

export function requantize(
  acc: ArrayLike<number>, m: number, n: number, mult: ArrayLike<number>, shift: ArrayLike<number>,
  zp: number, type: QuantType, bias?: ArrayLike<number>,
): number[] {
  const [lo, hi] = QUANT_RANGE[type];
  const out: number[] = new Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const c = mult.length === 1 ? 0 : j;
      const v = (acc[i * n + j]! + (bias ? bias[j]! : 0)) | 0;
      const q = Number(multiplyByQuantized(v, mult[c]!, shift[c]!)) + zp;
      out[i * n + j] = Math.min(hi, Math.max(lo, q));
    }
  }
  return out;
}

/** QuantizeLinear of one value with ONNX Runtime's float32 steps. */
export function quantizeValue(x: number, scale: number, zp: number, type: QuantType): number {
  const [lo, hi] = QUANT_RANGE[type];
  let v = Math.fround(Math.fround(x) / Math.fround(scale));
  if (Number.isNaN(v)) return zp;
  v = Math.min(Math.max(v, lo - zp), hi - zp);
  return roundHalfEven(v) + zp;
}

export function dequantizeValue(x: number, scale: number, zp: number): number {
  return Math.fround(Math.fround((x - zp) | 0) * Math.fround(scale));
}

/** Maps element index i of a [outer, axisLen, inner] tensor to its parameter index. */
export function paramIndex(i: number, axisLen: number, inner: number, mode: 'tensor' | 'axis' | 'blocked', block = 0): number {
  if (mode === 'tensor') return 0;
  const a = Math.floor(i / inner) % axisLen;
  if (mode === 'axis') return a;
  const o = Math.floor(i / (inner * axisLen));
  const nb = Math.ceil(axisLen / block);
  return (o * nb + Math.floor(a / block)) * inner + (i % inner);
}

export interface RefLayout {
  axisLen: number;
  inner: number;
  mode: 'tensor' | 'axis' | 'blocked';
  block?: number;
}

export function quantizeLinear(
  x: ArrayLike<number>, scales: ArrayLike<number>, zps: ArrayLike<number> | undefined, type: QuantType, layout: RefLayout,
): number[] {
  const out: number[] = new Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const p = paramIndex(i, layout.axisLen, layout.inner, layout.mode, layout.block);
    out[i] = quantizeValue(x[i]!, scales[p]!, zps ? zps[p]! : 0, type);
  }
  return out;
}

export function dequantizeLinear(
  x: ArrayLike<number>, scales: ArrayLike<number>, zps: ArrayLike<number> | undefined, layout: RefLayout,
): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const p = paramIndex(i, layout.axisLen, layout.inner, layout.mode, layout.block);
    out[i] = dequantizeValue(x[i]!, scales[p]!, zps ? zps[p]! : 0);
  }
  return out;
}

/**
 * DynamicQuantizeLinear with ONNX Runtime's float32 steps; throws on NaN/Inf, and on a
 * range whose float32 scale is infinite or zero (where ONNX Runtime returns garbage).
 */
export function dynamicQuantizeLinear(x: ArrayLike<number>): { data: number[]; scale: number; zeroPoint: number } {
  let lo = 0, hi = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!Number.isFinite(v)) throw new RangeError('non-finite input');
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const f = Math.fround;
  const scale = hi === lo ? 1 : f(f(f(hi) - f(lo)) / 255);
  if (scale === 0 || !Number.isFinite(scale)) throw new RangeError('no finite, non-zero float32 scale for this range');
  const initial = f(0 - f(f(lo) / scale));
  const zeroPoint = roundHalfEven(Math.max(0, Math.min(255, initial)));
  const data = Array.from(x, (v) => quantizeValue(v, scale, zeroPoint, 'uint8'));
  return { data, scale, zeroPoint };
}

export function deltaEncode(old: Uint8Array, next: Uint8Array, mode: 'sub' | 'xor'): Uint8Array {
  const out = new Uint8Array(old.length);
  for (let i = 0; i < old.length; i++) out[i] = mode === 'sub' ? (next[i]! - old[i]!) & 255 : next[i]! ^ old[i]!;
  return out;
}

export function deltaDecode(old: Uint8Array, delta: Uint8Array, mode: 'sub' | 'xor'): Uint8Array {
  const out = new Uint8Array(old.length);
  for (let i = 0; i < old.length; i++) out[i] = mode === 'sub' ? (old[i]! + delta[i]!) & 255 : old[i]! ^ delta[i]!;
  return out;
}

/** Rebuilds the new image from the old image and bsdiff control triples plus the new image's bytes. */
export function applyDiffOps(old: Uint8Array, next: Uint8Array, ops: Int32Array): Uint8Array {
  // Reconstructs through the add/extra semantics, taking the difference bytes and
  // extra bytes from `next` itself: proves the ops cover the image consistently.
  const out = new Uint8Array(next.length);
  let newPos = 0;
  let oldPos = 0;
  for (let i = 0; i < ops.length; i += 3) {
    const add = ops[i]!, extra = ops[i + 1]!, seek = ops[i + 2]!;
    if (add < 0 || extra < 0 || newPos + add + extra > next.length || oldPos < 0 || oldPos + add > old.length) {
      throw new RangeError(`op ${i / 3} out of range`);
    }
    for (let j = 0; j < add; j++) {
      const diff = (next[newPos + j]! - old[oldPos + j]!) & 255;
      out[newPos + j] = (old[oldPos + j]! + diff) & 255;
    }
    newPos += add;
    oldPos += add;
    out.set(next.subarray(newPos, newPos + extra), newPos);
    newPos += extra;
    oldPos += seek;
  }
  if (newPos !== next.length) throw new RangeError(`ops cover ${newPos} of ${next.length} bytes`);
  return out;
}

/**
 * The two streams of a patch for control triples `ops`: per triple, `add` difference bytes (new - old, mod 256) into
 * `diff`, then `extra` bytes copied from the new image into `extra`; the old position moves on by add + seek.
 */
export function patchBuild(old: Uint8Array, next: Uint8Array, ops: Int32Array): { diff: Uint8Array; extra: Uint8Array } {
  const diff: number[] = [];
  const extra: number[] = [];
  let newPos = 0;
  let oldPos = 0;
  for (let i = 0; i < ops.length; i += 3) {
    const add = ops[i]!, ex = ops[i + 1]!, seek = ops[i + 2]!;
    for (let j = 0; j < add; j++) diff.push((next[newPos + j]! - old[oldPos + j]!) & 255);
    newPos += add;
    for (let j = 0; j < ex; j++) extra.push(next[newPos + j]!);
    newPos += ex;
    oldPos += add + seek;
  }
  return { diff: Uint8Array.from(diff), extra: Uint8Array.from(extra) };
}

/** Rebuilds the new image from the old one, the control triples and the two streams (the inverse of patchBuild). */
export function patchApply(old: Uint8Array, ops: Int32Array, streams: { diff: Uint8Array; extra: Uint8Array }): Uint8Array {
  const out = new Uint8Array(streams.diff.length + streams.extra.length);
  let newPos = 0, oldPos = 0, d = 0, e = 0;
  for (let i = 0; i < ops.length; i += 3) {
    const add = ops[i]!, ex = ops[i + 1]!, seek = ops[i + 2]!;
    if (add < 0 || ex < 0 || oldPos < 0 || oldPos + add > old.length || newPos + add + ex > out.length) throw new RangeError(`op ${i / 3} out of range`);
    for (let j = 0; j < add; j++) out[newPos + j] = (old[oldPos + j]! + streams.diff[d++]!) & 255;
    newPos += add;
    out.set(streams.extra.subarray(e, e + ex), newPos);
    e += ex;
    newPos += ex;
    oldPos += add + seek;
  }
  if (newPos !== out.length) throw new RangeError(`ops cover ${newPos} of ${out.length} bytes`);
  if (d !== streams.diff.length) throw new RangeError(`ops take ${d} of ${streams.diff.length} difference bytes`);
  return out;
}
