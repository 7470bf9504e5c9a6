// Argument checks shared by the typed API: they run before anything reaches Wasm
// and throw typed errors with messages that name the offending argument.

import { MODE_AXIS, MODE_BLOCKED, MODE_TENSOR, TYPE_INT32, TYPE_INT8, TYPE_UINT8 } from './abi.js';
import { ShapeError, TypeMismatchError, ValueRangeError } from './errors.js';
import { type ByteArray, type QuantType, QUANT_RANGE } from './tensor.js';

export type { ByteArray, QuantType };

export const TYPE_CODE: Record<QuantType | 'int32', number> = { uint8: TYPE_UINT8, int8: TYPE_INT8, int32: TYPE_INT32 };

/** The quantized type of a byte array (Uint8Array -> uint8, Int8Array -> int8). */
export function byteType(a: unknown, what: string): QuantType {
  if (a instanceof Uint8Array && !(a instanceof Uint8ClampedArray)) return 'uint8';
  if (a instanceof Int8Array) return 'int8';
  throw new TypeMismatchError(`${what} must be a Uint8Array (uint8) or Int8Array (int8)`);
}

export function checkDim(v: number, what: string): number {
  if (!Number.isInteger(v) || v <= 0) throw new ShapeError(`${what} must be a positive integer, got ${String(v)}`);
  return v;
}

export function checkCount(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0) throw new ShapeError(`${what} must be a non-negative integer, got ${String(v)}`);
  return v;
}

export function checkLength(arr: ArrayLike<unknown>, expected: number, what: string): void {
  if (arr.length !== expected) throw new ShapeError(`${what} has ${arr.length} elements, expected ${expected}`);
}

export function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}

export function checkDims(dims: readonly number[], what: string): void {
  for (const [i, d] of dims.entries()) checkCount(d, `${what}[${i}]`);
}

/** Validates one zero point for a type. */
export function checkZeroPoint(v: number, type: QuantType, what: string): number {
  const [lo, hi] = QUANT_RANGE[type];
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new ValueRangeError(`${what} must be an integer in [${lo}, ${hi}] for ${type}, got ${String(v)}`);
  }
  return v;
}

/**
 * Normalizes zero points given as a number, an array of numbers or a typed array
 * into an array of checked values whose length is one of `allowed`.
 */
export function zeroPoints(
  zp: number | ArrayLike<number> | undefined, type: QuantType, allowed: readonly number[], what: string,
): number[] {
  if (zp === undefined) return [];
  const values = typeof zp === 'number' ? [zp] : Array.from(zp);
  if (!allowed.includes(values.length)) {
    throw new ShapeError(`${what} has ${values.length} values, expected ${allowed.join(' or ')}`);
  }
  values.forEach((v, i) => checkZeroPoint(v, type, `${what}[${i}]`));
  return values;
}

export function normalizeAxis(axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new ShapeError(`axis ${String(axis)} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** A tensor viewed as [outer, axisLen, inner] with a parameter mode. */
export interface ParamLayout {
  outer: number;
  axisLen: number;
  inner: number;
  mode: number;
  block: number;
  params: number;
}

/**
 * Chooses how scale/zero-point values map onto a tensor: one value (per tensor),
 * one per slice along `axis`, or one per block of `blockSize` along `axis`.
 */
export function paramLayout(
  count: number, paramCountGiven: number, dims: readonly number[] | undefined, axis: number | undefined,
  blockSize: number | undefined,
): ParamLayout {
  if (blockSize !== undefined && blockSize !== 0) {
    if (!dims) throw new ShapeError('blocked quantization needs dims');
    if (!Number.isInteger(blockSize) || blockSize < 0) throw new ValueRangeError(`blockSize must be a positive integer, got ${blockSize}`);
    const ax = normalizeAxis(axis ?? 1, dims.length);
    const outer = product(dims.slice(0, ax));
    const axisLen = dims[ax] ?? 1;
    const inner = product(dims.slice(ax + 1));
    const params = outer * Math.ceil(axisLen / blockSize) * inner;
    if (paramCountGiven !== params) {
      throw new ShapeError(`blocked quantization of dims [${dims.join(', ')}] along axis ${ax} with block ${blockSize} needs ${params} scales, got ${paramCountGiven}`);
    }
    return { outer, axisLen, inner, mode: MODE_BLOCKED, block: blockSize, params };
  }
  if (paramCountGiven === 1 && axis === undefined) {
    return { outer: 1, axisLen: count, inner: 1, mode: MODE_TENSOR, block: 0, params: 1 };
  }
  if (!dims) throw new ShapeError(`per-axis quantization needs dims (got ${paramCountGiven} scales for ${count} values)`);
  const ax = normalizeAxis(axis ?? 1, dims.length);
  const axisLen = dims[ax] ?? 1;
  if (paramCountGiven === 1) {
    return { outer: 1, axisLen: count, inner: 1, mode: MODE_TENSOR, block: 0, params: 1 };
  }
  if (paramCountGiven !== axisLen) {
    throw new ShapeError(`per-axis quantization along axis ${ax} of dims [${dims.join(', ')}] needs ${axisLen} scales, got ${paramCountGiven}`);
  }
  return {
    outer: product(dims.slice(0, ax)), axisLen, inner: product(dims.slice(ax + 1)), mode: MODE_AXIS, block: 0,
    params: axisLen,
  };
}

export function scalesOf(scale: number | ArrayLike<number>): Float32Array {
  return typeof scale === 'number' ? Float32Array.of(scale) : Float32Array.from(scale);
}

export function checkScales(scales: Float32Array, what: string, allowZero: boolean): void {
  for (let i = 0; i < scales.length; i++) {
    const s = scales[i] as number;
    if (!Number.isFinite(s) || (!allowZero && s === 0)) {
      throw new ValueRangeError(`${what}[${i}] must be finite${allowZero ? '' : ' and non-zero'}, got ${s}`);
    }
  }
}
