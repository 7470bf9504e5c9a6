import { CodecError } from '../errors.js';

/**
 * A 16-bit unsigned "scaled integer": the top 4 bits are an exponent e, the low 12 bits a mantissa m, and the value
 * is m * 2^e. It covers 0..4095*2^15 (about 1.3e8) with at most 1/4096 relative error, enough for memory sizes in
 * KiB and throughput in millions of operations per second in two bytes. Encoding rounds down so a node never
 * advertises more than it has.
 */
export const UFLOAT16_MAX = 4095 * 2 ** 15;

export function encodeUfloat16(value: number): number {
  if (!(value >= 0) || !Number.isFinite(value)) throw new CodecError('BAD_VALUE', `ufloat16 needs a finite value >= 0, got ${value}`);
  // The nudge keeps values like 2.3 * 100 (229.99999999999997 in binary) from rounding down a whole unit.
  let v = Math.floor(Math.min(value, UFLOAT16_MAX) + 1e-7);
  let e = 0;
  while (v > 4095) {
    v = Math.floor(v / 2);
    e++;
  }
  return (e << 12) | v;
}

/** Decode; a value has exactly one encoding (a non-zero exponent needs a mantissa of at least 2048). */
export function decodeUfloat16(raw: number): number {
  if (!Number.isInteger(raw) || raw < 0 || raw > 0xffff) throw new CodecError('BAD_VALUE', `ufloat16 must be a 16-bit integer, got ${raw}`);
  const e = raw >>> 12;
  const m = raw & 0x0fff;
  if (e > 0 && m < 2048) throw new CodecError('BAD_VALUE', `ufloat16 0x${raw.toString(16)} is not in canonical form`);
  return m * 2 ** e;
}

/** The value a number becomes after a round trip through ufloat16 (what peers will see). */
export function quantizeUfloat16(value: number): number {
  return decodeUfloat16(encodeUfloat16(value));
}
