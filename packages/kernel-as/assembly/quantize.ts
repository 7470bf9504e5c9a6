// float32 <-> int8/uint8 conversion with ONNX semantics (QuantizeLinear,
// DequantizeLinear, DynamicQuantizeLinear), bit-identical to ONNX Runtime:
//   quantize:   y = saturate(roundHalfEven(clamp(x / scale, qmin - zp, qmax - zp)) + zp)
//               (a true float32 division, not a multiply by the reciprocal)
//   dequantize: y = float32(x - zp) * scale
// Defined behaviour for non-finite input (ABI.md): quantizing NaN gives the zero
// point, +-Infinity saturates; DynamicQuantizeLinear rejects NaN and infinities
// because no scale can represent them.
//
// Tensors are addressed as [outer, axisLen, inner] around the quantization axis.
// Parameter modes: 0 per tensor (1 scale), 1 per axis (axisLen scales), 2 blocked
// along the axis (ONNX opset 21 block_size: outer * ceil(axisLen / block) * inner).

import {
  ERR_ARGUMENT, ERR_BOUNDS, ERR_NOT_FINITE, ERR_OVERFLOW, ERR_RANGE, ERR_SCALE, OK, TYPE_INT32, TYPE_INT8, TYPE_UINT8,
} from './abi';
import { inMemory } from './util';

const MODE_TENSOR: i32 = 0;
const MODE_AXIS: i32 = 1;
const MODE_BLOCKED: i32 = 2;

@inline function qmin(t: i32): i32 {
  return t == TYPE_UINT8 ? 0 : -128;
}
@inline function qmax(t: i32): i32 {
  return t == TYPE_UINT8 ? 255 : 127;
}

@inline function elemSize(t: i32): usize {
  return t == TYPE_INT32 ? 4 : 1;
}

@inline function loadQ(ptr: usize, i: usize, t: i32): i32 {
  if (t == TYPE_UINT8) return <i32>load<u8>(ptr + i);
  if (t == TYPE_INT8) return <i32>load<i8>(ptr + i);
  return load<i32>(ptr + (i << 2));
}

@inline function quantizeOne(x: f32, s: f32, zp: i32, t: i32): i32 {
  let v = x / s;
  v = max<f32>(v, <f32>(qmin(t) - zp));
  v = min<f32>(v, <f32>(qmax(t) - zp));
  const r = nearest<f32>(v);
  // NaN survives max/min (wasm propagates it) and maps to the zero point.
  return (r != r ? 0 : <i32>r) + zp;
}

// ---------------------------------------------------------------------------
// Spans: n contiguous elements with one scale/zero point, or one per element.

// Rounding by adding 1.5 * 2^23: in [2^23, 2^24) a float32 has no fraction bits,
// so the addition itself rounds half to even and the integer lands in the low
// mantissa bits. Valid for |v| < 2^22, which the clamp to [qmin - zp, qmax - zp]
// guarantees. NaN lanes are zeroed first (they become the zero point); pmin/pmax
// are plain minps/maxps, unlike f32x4.min/max whose NaN rules cost several
// instructions on x86.
const MAGIC_F: f32 = 12582912.0;
const MAGIC_BITS: i32 = 0x4B400000;

/** Clamps one vector of quotients to [lo, hi], NaN lanes to 0. */
@inline function clampVec(d: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmin(f32x4.pmax(v128.and(d, f32x4.eq(d, d)), lo), hi);
}

/** Rounds clamped quotients (|c| < 2^22) half to even and subtracts `bias` = MAGIC_BITS - zp. */
@inline function roundVec(c: v128, magic: v128, bias: v128): v128 {
  return i32x4.sub(f32x4.add(c, magic), bias);
}

/** NaN lanes to 0 (they quantize to the zero point). */
@inline function zeroNaN(d: v128): v128 {
  return v128.and(d, f32x4.eq(d, d));
}

/**
 * round(c / s) + zp for one vector of inputs c already clamped from below (no NaN lanes),
 * left for the saturating narrows to clamp from above. `sv` holds s, or 1 / s when `mul`.
 * The lower clamp keeps c / s + magic positive, and every c / s + magic from there up to
 * +Infinity has float bits that grow with its value, so a quotient beyond qmax - zp (up
 * to +Infinity) gives an integer above qmax, which the narrows saturate exactly as a clamp
 * would have. Below 2^22 the integer is round(c / s) + zp; above, at least 2^22 + zp.
 * With an exact reciprocal c * (1 / s) is exact (a power of two; a product too small to
 * be exact vanishes in + magic either way), so the relaxed build's multiply-add gives the
 * same sum fused or not.
 */
@inline function roundScaled(c: v128, sv: v128, magic: v128, bias: v128, mul: bool): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    if (mul) return i32x4.sub(f32x4.relaxed_madd(c, sv, magic), bias);
  }
  return i32x4.sub(f32x4.add(mul ? f32x4.mul(c, sv) : f32x4.div(c, sv), magic), bias);
}

/** Saturates four vectors of integers to 16 bytes of type t (a constant at every call site). */
@inline function narrowStore(y: usize, q0: v128, q1: v128, q2: v128, q3: v128, t: i32): void {
  const h0 = i16x8.narrow_i32x4_s(q0, q1);
  const h1 = i16x8.narrow_i32x4_s(q2, q3);
  if (t == TYPE_UINT8) v128.store(y, i8x16.narrow_i16x8_u(h0, h1));
  else v128.store(y, i8x16.narrow_i16x8_s(h0, h1));
}

/**
 * The lower clamp of x / s, applied to x: x / s >= lo is x >= lo * s for a positive scale
 * and x <= lo * s for a negative one (`neg`, a constant at each call site).
 */
@inline function clampX(v: v128, loX: v128, neg: bool): v128 {
  return neg ? f32x4.pmin(v, loX) : f32x4.pmax(v, loX);
}

/** 16 elements at p to 16 bytes at y, NaN lanes to the zero point. */
@inline function quantize16Careful(p: usize, y: usize, sv: v128, loX: v128, magic: v128, bias: v128, t: i32, mul: bool, neg: bool): void {
  narrowStore(y,
    roundScaled(clampX(zeroNaN(v128.load(p)), loX, neg), sv, magic, bias, mul),
    roundScaled(clampX(zeroNaN(v128.load(p, 16)), loX, neg), sv, magic, bias, mul),
    roundScaled(clampX(zeroNaN(v128.load(p, 32)), loX, neg), sv, magic, bias, mul),
    roundScaled(clampX(zeroNaN(v128.load(p, 48)), loX, neg), sv, magic, bias, mul), t);
}

/** Elements per chunk of the vector loop: 4 KiB of input, so a chunk done again is still in L1. */
const CHUNK: i32 = 1024;

/**
 * The vector loop over `count` (a multiple of 32) elements from x to y; `loX` is the lower
 * clamp in x's units (lo * s: lo / s' for s' = 1 / s). `t` and `mul` are constants at each
 * call site, so each instance is a loop of its own with no branch or select on them
 * inside. Each chunk runs first without zeroing NaN lanes, summing its inputs instead (a
 * NaN anywhere makes the sum NaN; so can Infinity - Infinity), and only a chunk whose sum
 * is NaN is done again with NaN lanes zeroed. Both passes compute the same bytes for every
 * lane that is not NaN.
 */
@inline function quantizeVec(x: usize, y: usize, count: i32, sv: v128, loX: v128, magic: v128, bias: v128, t: i32, mul: bool, neg: bool): void {
  const end = x + (<usize>count << 2);
  let p = x, q = y;
  while (p < end) {
    const chunkEnd = min<usize>(end, p + (<usize>CHUNK << 2));
    let sum = f32x4.splat(0);
    let a = p, b = q;
    while (a < chunkEnd) {
      const x0 = v128.load(a), x1 = v128.load(a, 16), x2 = v128.load(a, 32), x3 = v128.load(a, 48);
      const x4 = v128.load(a, 64), x5 = v128.load(a, 80), x6 = v128.load(a, 96), x7 = v128.load(a, 112);
      sum = f32x4.add(sum, f32x4.add(f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3)), f32x4.add(f32x4.add(x4, x5), f32x4.add(x6, x7))));
      narrowStore(b,
        roundScaled(clampX(x0, loX, neg), sv, magic, bias, mul), roundScaled(clampX(x1, loX, neg), sv, magic, bias, mul),
        roundScaled(clampX(x2, loX, neg), sv, magic, bias, mul), roundScaled(clampX(x3, loX, neg), sv, magic, bias, mul), t);
      narrowStore(b + 16,
        roundScaled(clampX(x4, loX, neg), sv, magic, bias, mul), roundScaled(clampX(x5, loX, neg), sv, magic, bias, mul),
        roundScaled(clampX(x6, loX, neg), sv, magic, bias, mul), roundScaled(clampX(x7, loX, neg), sv, magic, bias, mul), t);
      a += 128;
      b += 32;
    }
    if (v128.any_true(f32x4.ne(sum, sum))) {
      for (let c = p, d = q; c < chunkEnd; c += 64, d += 16) quantize16Careful(c, d, sv, loX, magic, bias, t, mul, neg);
    }
    p = chunkEnd;
    q = b;
  }
}

/**
 * Whether x * r equals x / s bit for bit: s is a power of two and r = 1 / s is a
 * normal float32 (also a power of two), so both are the same real number rounded once.
 * Division is the costliest step of the loop; power-of-two scales are common.
 */
@inline function exactReciprocal(s: f32, r: f32): bool {
  const sb = reinterpret<u32>(s) & 0x7FFF_FFFF;
  const rb = reinterpret<u32>(r) & 0x7FFF_FFFF;
  return (sb & 0x007F_FFFF) == 0 && sb >= 0x0080_0000 && rb >= 0x0080_0000 && rb < 0x7F80_0000;
}

/** Picks the loop for t, the scale's sign (`neg`, a constant at each call site) and the scaling. */
@inline function quantizeScaled(x: usize, y: usize, count: i32, s: f32, r: f32, loX: v128, magic: v128, bias: v128, t: i32, neg: bool): void {
  if (exactReciprocal(s, r)) {
    const rv = f32x4.splat(r);
    if (t == TYPE_UINT8) quantizeVec(x, y, count, rv, loX, magic, bias, TYPE_UINT8, true, neg);
    else quantizeVec(x, y, count, rv, loX, magic, bias, TYPE_INT8, true, neg);
  } else {
    const sv = f32x4.splat(s);
    if (t == TYPE_UINT8) quantizeVec(x, y, count, sv, loX, magic, bias, TYPE_UINT8, false, neg);
    else quantizeVec(x, y, count, sv, loX, magic, bias, TYPE_INT8, false, neg);
  }
}

function quantizeSpanConst(x: usize, y: usize, n: i32, s: f32, zp: i32, t: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    i = n & ~31;
    const lo: f32 = <f32>(qmin(t) - zp);
    const bias = i32x4.splat(MAGIC_BITS - zp);
    // Constants derived from s (0 * s is +-0 for the finite scales accepted here), so the
    // optimizer keeps them in registers: folded into the loop, V8 rebuilds each v128
    // constant from general registers on every use.
    const zero: f32 = <f32>0 * s;
    const magic = f32x4.splat(MAGIC_F + zero);
    // The lower clamp in x's units: lo * s, exact for a power-of-two s. When it overflows
    // to an infinity (|s| > 2^119), every x / s is above -2^9 anyway, well inside the rounding's range.
    const loX = f32x4.splat(lo * s);
    const r: f32 = <f32>1 / s;
    if (s > 0) quantizeScaled(x, y, i, s, r, loX, magic, bias, t, false);
    else quantizeScaled(x, y, i, s, r, loX, magic, bias, t, true);
  }
  for (; i < n; i++) {
    store<u8>(y + <usize>i, <u8>quantizeOne(load<f32>(x + (<usize>i << 2)), s, zp, t));
  }
}

@inline function loadZpVec(zps: usize, i: i32, t: i32): v128 {
  if (zps == 0) return i32x4.splat(0);
  const four = v128.load32_zero(zps + <usize>i);
  if (t == TYPE_UINT8) return i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(four));
  return i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(four));
}

function quantizeSpanVec(x: usize, y: usize, n: i32, scales: usize, zps: usize, t: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const qlo = f32x4.splat(<f32>qmin(t));
    const qhi = f32x4.splat(<f32>qmax(t));
    const magicBits = i32x4.splat(MAGIC_BITS);
    const magic = f32x4.splat(MAGIC_F);
    for (; i + 4 <= n; i += 4) {
      const zv = loadZpVec(zps, i, t);
      const zf = f32x4.convert_i32x4_s(zv);
      const d = f32x4.div(v128.load(x + (<usize>i << 2)), v128.load(scales + (<usize>i << 2)));
      const q = roundVec(clampVec(d, f32x4.sub(qlo, zf), f32x4.sub(qhi, zf)), magic, i32x4.sub(magicBits, zv));
      store<u8>(y + <usize>i, <u8>i32x4.extract_lane(q, 0));
      store<u8>(y + <usize>i + 1, <u8>i32x4.extract_lane(q, 1));
      store<u8>(y + <usize>i + 2, <u8>i32x4.extract_lane(q, 2));
      store<u8>(y + <usize>i + 3, <u8>i32x4.extract_lane(q, 3));
    }
  }
  for (; i < n; i++) {
    const zp = zps == 0 ? 0 : loadQ(zps, <usize>i, t);
    store<u8>(y + <usize>i, <u8>quantizeOne(load<f32>(x + (<usize>i << 2)), load<f32>(scales + (<usize>i << 2)), zp, t));
  }
}

/** 16 bytes of type t (a constant at each call site) at x to 16 floats (q - zp) * s at y. */
@inline function dequantize16(x: usize, y: usize, sv: v128, zh: v128, t: i32): void {
  const b = v128.load(x);
  const lo = i16x8.sub(t == TYPE_UINT8 ? i16x8.extend_low_i8x16_u(b) : i16x8.extend_low_i8x16_s(b), zh);
  const hi = i16x8.sub(t == TYPE_UINT8 ? i16x8.extend_high_i8x16_u(b) : i16x8.extend_high_i8x16_s(b), zh);
  v128.store(y, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), sv));
  v128.store(y, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), sv), 16);
  v128.store(y, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), sv), 32);
  v128.store(y, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), sv), 48);
}

function dequantizeSpanConst(x: usize, t: i32, y: usize, n: i32, s: f32, zp: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const sv = f32x4.splat(s);
    const zv = i32x4.splat(zp);
    if (t == TYPE_INT32) {
      for (; i + 4 <= n; i += 4) {
        const v = i32x4.sub(v128.load(x + (<usize>i << 2)), zv);
        v128.store(y + (<usize>i << 2), f32x4.mul(f32x4.convert_i32x4_s(v), sv));
      }
    } else {
      // One loop per byte type (no select on t inside); q - zp is exact in int16.
      const zh = i16x8.splat(<i16>zp);
      if (t == TYPE_UINT8) {
        for (; i + 16 <= n; i += 16) dequantize16(x + <usize>i, y + (<usize>i << 2), sv, zh, TYPE_UINT8);
      } else {
        for (; i + 16 <= n; i += 16) dequantize16(x + <usize>i, y + (<usize>i << 2), sv, zh, TYPE_INT8);
      }
    }
  }
  for (; i < n; i++) {
    store<f32>(y + (<usize>i << 2), <f32>(loadQ(x, <usize>i, t) - zp) * s);
  }
}

function dequantizeSpanVec(x: usize, t: i32, y: usize, n: i32, scales: usize, zps: usize): void {
  for (let i = 0; i < n; i++) {
    const zp = zps == 0 ? 0 : loadQ(zps, <usize>i, t);
    store<f32>(y + (<usize>i << 2), <f32>(loadQ(x, <usize>i, t) - zp) * load<f32>(scales + (<usize>i << 2)));
  }
}

// ---------------------------------------------------------------------------
// Parameter layout shared by quantize and dequantize.

/** Number of scale/zero-point values a mode needs, or -1 for invalid arguments. */
function paramCount(outer: i32, axisLen: i32, inner: i32, mode: i32, block: i32): i64 {
  if (mode == MODE_TENSOR) return 1;
  if (mode == MODE_AXIS) return axisLen;
  if (mode == MODE_BLOCKED) {
    if (block <= 0) return -1;
    const nb = (<i64>axisLen + <i64>block - 1) / <i64>block;
    return <i64>outer * nb * <i64>inner;
  }
  return -1;
}

/** Validates shape, mode and buffers; returns the element count or a negative error. */
function checkLayout(
  x: usize, xElem: usize, outer: i32, axisLen: i32, inner: i32, scale: usize, zp: usize, zpElem: usize,
  mode: i32, block: i32, y: usize, yElem: usize,
): i64 {
  if (outer < 0 || axisLen < 0 || inner < 0) return ERR_ARGUMENT;
  const count: i64 = <i64>outer * <i64>axisLen * <i64>inner;
  if (count * 4 > 0x7FFF_FFFF) return ERR_OVERFLOW;
  const params = paramCount(outer, axisLen, inner, mode, block);
  if (params < 0) return ERR_ARGUMENT;
  if (!inMemory(x, <u64>count * <u64>xElem) || !inMemory(y, <u64>count * <u64>yElem)) return ERR_BOUNDS;
  if (!inMemory(scale, <u64>params * 4)) return ERR_BOUNDS;
  if (zp != 0 && !inMemory(zp, <u64>params * <u64>zpElem)) return ERR_BOUNDS;
  return count;
}

@inline function finiteF32(v: f32): bool {
  return v - v == 0;
}

/**
 * QuantizeLinear: x float32 [outer, axisLen, inner] -> y (yType) with scale
 * float32 and zero point (yType, or 0 for none) laid out per `mode`.
 * Scales must be finite and non-zero.
 */
export function quantize_linear(
  x: usize, outer: i32, axisLen: i32, inner: i32, scale: usize, zp: usize, mode: i32, block: i32, yType: i32, y: usize,
): i32 {
  if (yType != TYPE_UINT8 && yType != TYPE_INT8) return ERR_ARGUMENT;
  const count = checkLayout(x, 4, outer, axisLen, inner, scale, zp, 1, mode, block, y, 1);
  if (count < 0) return <i32>count;
  const params = <i32>paramCount(outer, axisLen, inner, mode, block);
  for (let i = 0; i < params; i++) {
    const s = load<f32>(scale + (<usize>i << 2));
    if (s == 0 || !finiteF32(s)) return ERR_SCALE;
  }
  if (count == 0) return OK;
  if (mode == MODE_TENSOR) {
    quantizeSpanConst(x, y, <i32>count, load<f32>(scale), zp == 0 ? 0 : loadQ(zp, 0, yType), yType);
    return OK;
  }
  if (mode == MODE_AXIS) {
    if (inner == 1) {
      // Axis is the innermost dimension: scales vary along contiguous elements.
      for (let o = 0; o < outer; o++) {
        const off = <usize>o * <usize>axisLen;
        quantizeSpanVec(x + (off << 2), y + off, axisLen, scale, zp, yType);
      }
      return OK;
    }
    for (let o = 0; o < outer; o++) {
      for (let a = 0; a < axisLen; a++) {
        const off = (<usize>o * <usize>axisLen + <usize>a) * <usize>inner;
        const zpv = zp == 0 ? 0 : loadQ(zp, <usize>a, yType);
        quantizeSpanConst(x + (off << 2), y + off, inner, load<f32>(scale + (<usize>a << 2)), zpv, yType);
      }
    }
    return OK;
  }
  // Blocked: the parameter row for (o, a) is ((o * nb) + a / block) * inner.
  const nb = (axisLen + block - 1) / block;
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < axisLen; a++) {
      const off = (<usize>o * <usize>axisLen + <usize>a) * <usize>inner;
      const prow = (<usize>o * <usize>nb + <usize>(a / block)) * <usize>inner;
      quantizeSpanVec(x + (off << 2), y + off, inner, scale + (prow << 2), zp == 0 ? 0 : zp + prow, yType);
    }
  }
  return OK;
}

/**
 * DequantizeLinear: x (uint8, int8 or int32) [outer, axisLen, inner] -> y float32.
 * Zero points have x's type (0 for none); scales must be finite.
 */
export function dequantize_linear(
  x: usize, xType: i32, outer: i32, axisLen: i32, inner: i32, scale: usize, zp: usize, mode: i32, block: i32, y: usize,
): i32 {
  if (xType != TYPE_UINT8 && xType != TYPE_INT8 && xType != TYPE_INT32) return ERR_ARGUMENT;
  const es = elemSize(xType);
  const count = checkLayout(x, es, outer, axisLen, inner, scale, zp, es, mode, block, y, 4);
  if (count < 0) return <i32>count;
  const params = <i32>paramCount(outer, axisLen, inner, mode, block);
  for (let i = 0; i < params; i++) {
    if (!finiteF32(load<f32>(scale + (<usize>i << 2)))) return ERR_SCALE;
  }
  if (count == 0) return OK;
  if (mode == MODE_TENSOR) {
    dequantizeSpanConst(x, xType, y, <i32>count, load<f32>(scale), zp == 0 ? 0 : loadQ(zp, 0, xType));
    return OK;
  }
  if (mode == MODE_AXIS) {
    if (inner == 1) {
      for (let o = 0; o < outer; o++) {
        const off = <usize>o * <usize>axisLen;
        dequantizeSpanVec(x + off * es, xType, y + (off << 2), axisLen, scale, zp);
      }
      return OK;
    }
    for (let o = 0; o < outer; o++) {
      for (let a = 0; a < axisLen; a++) {
        const off = (<usize>o * <usize>axisLen + <usize>a) * <usize>inner;
        const zpv = zp == 0 ? 0 : loadQ(zp, <usize>a, xType);
        dequantizeSpanConst(x + off * es, xType, y + (off << 2), inner, load<f32>(scale + (<usize>a << 2)), zpv);
      }
    }
    return OK;
  }
  const nb = (axisLen + block - 1) / block;
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < axisLen; a++) {
      const off = (<usize>o * <usize>axisLen + <usize>a) * <usize>inner;
      const prow = (<usize>o * <usize>nb + <usize>(a / block)) * <usize>inner;
      dequantizeSpanVec(x + off * es, xType, y + (off << 2), inner, scale + (prow << 2), zp == 0 ? 0 : zp + prow * es);
    }
  }
  return OK;
}

// Results of the min/max scan.
let scanMin: f32 = 0;
let scanMax: f32 = 0;

/** Min and max of n floats; false when any is NaN or infinite. */
function scanRange(x: usize, n: i32): bool {
  let lo: f32 = Infinity;
  let hi: f32 = -Infinity;
  let nan = false;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // pmin/pmax skip NaN lanes (they keep the accumulator), so NaN is tracked apart.
    let vlo = f32x4.splat(Infinity), vhi = f32x4.splat(-Infinity);
    let vlo2 = vlo, vhi2 = vhi;
    let bad = i32x4.splat(0);
    for (; i + 8 <= n; i += 8) {
      const a = v128.load(x + (<usize>i << 2));
      const b = v128.load(x + (<usize>i << 2), 16);
      vlo = f32x4.pmin(vlo, a);
      vhi = f32x4.pmax(vhi, a);
      vlo2 = f32x4.pmin(vlo2, b);
      vhi2 = f32x4.pmax(vhi2, b);
      bad = v128.or(bad, v128.or(f32x4.ne(a, a), f32x4.ne(b, b)));
    }
    vlo = f32x4.pmin(vlo, vlo2);
    vhi = f32x4.pmax(vhi, vhi2);
    lo = min<f32>(min<f32>(f32x4.extract_lane(vlo, 0), f32x4.extract_lane(vlo, 1)), min<f32>(f32x4.extract_lane(vlo, 2), f32x4.extract_lane(vlo, 3)));
    hi = max<f32>(max<f32>(f32x4.extract_lane(vhi, 0), f32x4.extract_lane(vhi, 1)), max<f32>(f32x4.extract_lane(vhi, 2), f32x4.extract_lane(vhi, 3)));
    nan = v128.any_true(bad);
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v != v) nan = true;
    lo = min<f32>(lo, v);
    hi = max<f32>(hi, v);
  }
  scanMin = lo;
  scanMax = hi;
  // Infinities show up as the extremes themselves.
  return n == 0 || (!nan && finiteF32(lo) && finiteF32(hi));
}

/**
 * DynamicQuantizeLinear: y (uint8) = quantize(x) with scale and zero point chosen
 * from x's range widened to include 0; writes scale (float32) at params[0] and the
 * zero point (uint8) at params[4]. Rejects NaN and infinities (ERR_NOT_FINITE), and
 * ranges whose scale is not a finite, non-zero float32 (ERR_RANGE): max - min beyond
 * float32 (the scale would be +Infinity) or below 128 * 2^-149 (it would round to 0).
 */
export function dynamic_quantize_linear(x: usize, n: i32, y: usize, params: usize): i32 {
  if (n < 0) return ERR_ARGUMENT;
  if (<i64>n * 4 > 0x7FFF_FFFF) return ERR_OVERFLOW;
  if (!inMemory(x, <u64>n * 4) || !inMemory(y, <u64>n) || !inMemory(params, 5)) return ERR_BOUNDS;
  if (!scanRange(x, n)) return ERR_NOT_FINITE;
  const lo = n == 0 ? <f32>0 : min<f32>(scanMin, 0);
  const hi = n == 0 ? <f32>0 : max<f32>(scanMax, 0);
  // Same float32 steps as ONNX Runtime, so scale and zero point match bit for bit.
  const scale: f32 = hi == lo ? <f32>1 : (hi - lo) / <f32>255;
  // Checked before anything is written: an infinite scale quantizes everything to the
  // zero point, and a zero one makes the zero point 0 / 0.
  if (scale == 0 || !finiteF32(scale)) return ERR_RANGE;
  const initialZp: f32 = <f32>0 - lo / scale;
  const zp = <i32>nearest<f32>(max<f32>(<f32>0, min<f32>(<f32>255, initialZp)));
  store<f32>(params, scale);
  store<u8>(params + 4, <u8>zp);
  quantizeSpanConst(x, y, n, scale, zp, TYPE_UINT8);
  return OK;
}
