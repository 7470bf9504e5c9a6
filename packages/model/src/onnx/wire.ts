// 64-bit integers as protobufjs hands them over (Long objects or numbers) and
// as it accepts them (numbers or {low, high}).

import { OnnxFormatError } from '../errors.js';
import type { Int64 } from './types.js';

export interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}

export type WireInt64 = number | LongLike;

export function toBigInt(v: WireInt64, unsigned: boolean): bigint {
  if (typeof v === 'number') return BigInt(v);
  const high = unsigned ? BigInt(v.high >>> 0) : BigInt(v.high | 0);
  return (high << 32n) | BigInt(v.low >>> 0);
}

/** A signed 64-bit value for protobufjs's writer. */
export function toLongLike(v: bigint | number): LongLike | number {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new OnnxFormatError('TENSOR_DATA', `${v} is not an integer`);
    return v;
  }
  const u = BigInt.asUintN(64, v);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0 };
}

/** A number when the value is a safe integer, a bigint otherwise. */
export function toInt64(v: WireInt64): Int64 {
  if (typeof v === 'number') return v;
  const b = toBigInt(v, false);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

/** An int64 field that must be a safe integer (dims, versions). */
export function toSafeInteger(v: WireInt64 | undefined, what: string, code = 'DIMS'): number {
  if (v === undefined || v === null) return 0;
  const x = toInt64(v);
  if (typeof x === 'bigint') throw new OnnxFormatError(code, `${what}: ${x} is out of range`);
  return x;
}
