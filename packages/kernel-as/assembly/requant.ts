// Integer-only requantization, as integer-only inference engines do it (TFLite
// Micro's QuantizeMultiplier / gemmlowp): the real multiplier s_a * s_b / s_y is
// written as a Q31 integer `mult` in [2^30, 2^31) and a power-of-two `shift`, so
// real ~= mult * 2^(shift - 31). A value v becomes
//   y = clamp(roundHalfEven(v * mult / 2^(31 - shift)) + zero_point, qmin, qmax)
// with the product taken exactly in 64 bits and a single rounding (ties to even,
// as ONNX Runtime rounds). No floating point is involved, so hosts without an FPU
// get the same bytes.

import {
  ERR_ARGUMENT, ERR_BOUNDS, ERR_MULTIPLIER, ERR_SCALE, ERR_ZERO_POINT, OK, TYPE_INT8, TYPE_UINT8,
} from './abi';
import { inMemory, overlaps } from './util';

export const MIN_SHIFT: i32 = -31;
export const MAX_SHIFT: i32 = 30;
// Any multiplier in [0, 2^31) is accepted, not only the normalized [2^30, 2^31) that
// quantize_multiplier writes: the product is exact for all of them, and job specs
// carry any Q31 value. A negative one (2^31 and up as unsigned) is refused.
@inline function validPair(mult: i32, shift: i32): bool {
  return mult >= 0 && shift >= MIN_SHIFT && shift <= MAX_SHIFT;
}

/** True when every (mult, shift) pair is in range: mult in [0, 2^31), shift in [-31, 30]. */
export function validRequantParams(mult: usize, shift: usize, count: i32): bool {
  for (let i = 0; i < count; i++) {
    if (!validPair(load<i32>(mult + <usize>i * 4), load<i32>(shift + <usize>i * 4))) return false;
  }
  return true;
}

/** v * mult * 2^(shift-31), rounded half to even, saturated to int32. */
@inline export function multiplyByQuantized(v: i32, mult: i32, shift: i32): i64 {
  const prod: i64 = <i64>v * <i64>mult;
  const rs: i64 = <i64>(31 - shift); // 1..62
  let q: i64 = prod >> rs;
  const rem: i64 = prod & ((<i64>1 << rs) - 1);
  const half: i64 = <i64>1 << (rs - 1);
  if (rem > half || (rem == half && (q & 1) != 0)) q++;
  return q;
}

@inline function clampTo(q: i64, yType: i32): i32 {
  const lo: i64 = yType == TYPE_UINT8 ? 0 : -128;
  const hi: i64 = yType == TYPE_UINT8 ? 255 : 127;
  return <i32>(q < lo ? lo : q > hi ? hi : q);
}

/** Requantizes one row of n int32 values into bytes of yType (internal, unchecked). */
export function requantizeRow(
  acc: usize, n: i32, bias: usize, mult: usize, shift: usize, perChannel: i32, yZp: i32, yType: i32, y: usize,
): void {
  let m = load<i32>(mult);
  let s = load<i32>(shift);
  for (let j = 0; j < n; j++) {
    if (perChannel) {
      m = load<i32>(mult + <usize>j * 4);
      s = load<i32>(shift + <usize>j * 4);
    }
    let v = load<i32>(acc + <usize>j * 4);
    if (bias != 0) v += load<i32>(bias + <usize>j * 4);
    const q = multiplyByQuantized(v, m, s) + <i64>yZp;
    store<u8>(y + <usize>j, <u8>clampTo(q, yType));
  }
}

/**
 * Requantizes an M x N int32 matrix (row-major) into uint8/int8, with an optional
 * int32 bias per column (bias = 0 for none) and per-tensor (perChannel = 0) or
 * per-column (perChannel = 1) multipliers and shifts.
 */
export function requantize(
  acc: usize, m: i32, n: i32, bias: usize, mult: usize, shift: usize, perChannel: i32, yZp: i32, yType: i32, y: usize,
): i32 {
  if (m <= 0 || n <= 0) return ERR_ARGUMENT;
  if (yType != TYPE_UINT8 && yType != TYPE_INT8) return ERR_ARGUMENT;
  if (perChannel != 0 && perChannel != 1) return ERR_ARGUMENT;
  if (yType == TYPE_UINT8 ? (yZp < 0 || yZp > 255) : (yZp < -128 || yZp > 127)) return ERR_ZERO_POINT;
  const count = <u64>m * <u64>n;
  if (count * 4 > 0x7FFF_FFFF) return ERR_ARGUMENT;
  const params: u64 = perChannel ? <u64>n : 1;
  if (!inMemory(acc, count * 4) || !inMemory(y, count)) return ERR_BOUNDS;
  if (!inMemory(mult, params * 4) || !inMemory(shift, params * 4)) return ERR_BOUNDS;
  if (bias != 0 && !inMemory(bias, <u64>n * 4)) return ERR_BOUNDS;
  if (!validRequantParams(mult, shift, <i32>params)) return ERR_MULTIPLIER;
  // In place is allowed (y == acc): each row is read before its bytes are written
  // and bytes never run ahead of the int32 values still to be read.
  if (y != acc && overlaps(y, count, acc, count * 4)) return ERR_ARGUMENT;
  for (let r = 0; r < m; r++) {
    requantizeRow(acc + <usize>r * <usize>n * 4, n, bias, mult, shift, perChannel, yZp, yType, y + <usize>r * <usize>n);
  }
  return OK;
}

/**
 * Writes the Q31 multiplier and shift for a real multiplier to out[0], out[1]
 * (two int32). Multipliers below 2^-32 become (0, 0): they map every int32 to 0.
 */
export function quantize_multiplier(real: f64, out: usize): i32 {
  if (!inMemory(out, 8)) return ERR_BOUNDS;
  if (!(real > 0) || real == Infinity) return ERR_SCALE;
  const bits = reinterpret<u64>(real);
  const biased = <i32>((bits >> 52) & 0x7FF);
  if (biased == 0) {
    store<i32>(out, 0);
    store<i32>(out + 4, 0);
    return OK;
  }
  // real = q * 2^e with q in [0.5, 1)
  let e = biased - 1022;
  const q = reinterpret<f64>((bits & 0x800F_FFFF_FFFF_FFFF) | (<u64>1022 << 52));
  let m = <i64>nearest(q * 2147483648.0);
  if (m == 2147483648) {
    m = 1073741824;
    e++;
  }
  if (e > MAX_SHIFT) return ERR_MULTIPLIER;
  if (e < MIN_SHIFT) {
    store<i32>(out, 0);
    store<i32>(out + 4, 0);
    return OK;
  }
  store<i32>(out, <i32>m);
  store<i32>(out + 4, e);
  return OK;
}
