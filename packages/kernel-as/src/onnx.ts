// ONNX operator semantics on top of the kernel: N-D tensors, numpy-style batched
// matmul, optional inputs, axis/block_size/output_dtype attributes. The
// conformance runner and the model executor both go through these functions.

import { ShapeError, TypeMismatchError, ValueRangeError, KernelError } from './errors.js';
import type { Kernel } from './kernel.js';
import { normalizeAxis, product } from './shapes.js';
import { type QuantType, type Tensor, type TensorData, type TensorType, tensorOf } from './tensor.js';

export type { Tensor, TensorData, TensorType };

export type Attributes = Record<string, number | number[] | string | undefined>;

const ARRAY_OF: Record<TensorType, { new (n: number | ArrayLike<number>): TensorData; from(a: ArrayLike<number>): TensorData }> = {
  uint8: Uint8Array,
  int8: Int8Array,
  int32: Int32Array,
  float32: Float32Array,
};

/** Builds a tensor, converting plain number arrays to the type's typed array. */
export function tensor(type: TensorType, dims: readonly number[], data: ArrayLike<number>): Tensor {
  if (!(type in ARRAY_OF)) throw new TypeMismatchError(`unsupported tensor type '${type}'`);
  for (const d of dims) if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid dims [${dims.join(', ')}]`);
  const count = product(dims);
  if (data.length !== count) throw new ShapeError(`dims [${dims.join(', ')}] need ${count} values, got ${data.length}`);
  const Ctor = ARRAY_OF[type];
  const typed = data instanceof Ctor ? (data as TensorData) : Ctor.from(data);
  if (type !== 'float32') {
    const [lo, hi] = type === 'uint8' ? [0, 255] : type === 'int8' ? [-128, 127] : [-2147483648, 2147483647];
    for (let i = 0; i < data.length; i++) {
      const v = data[i] as number;
      if (!Number.isInteger(v) || v < lo || v > hi) throw new ValueRangeError(`value ${v} at ${i} is not a ${type}`);
    }
  }
  return tensorOf(type, [...dims], typed);
}

function quantType(t: Tensor, what: string): QuantType {
  if (t.type === 'uint8' || t.type === 'int8') return t.type;
  throw new TypeMismatchError(`${what} must be uint8 or int8, got ${t.type}`);
}

function scalarValue(t: Tensor | undefined, what: string): number | undefined {
  if (!t) return undefined;
  if (t.data.length !== 1) throw new ShapeError(`${what} must be a scalar, got dims [${t.dims.join(', ')}]`);
  return t.data[0] as number;
}

function floatsOf(t: Tensor, what: string): Float32Array {
  if (t.type !== 'float32') throw new TypeMismatchError(`${what} must be float32, got ${t.type}`);
  return t.data as Float32Array;
}

/** numpy matmul shape rules: returns batch shape and the broadcast index maps. */
function matmulShapes(aDims: number[], bDims: number[]) {
  if (aDims.length === 0 || bDims.length === 0) throw new ShapeError('MatMul inputs must have rank >= 1');
  const a2 = aDims.length === 1 ? [1, aDims[0]!] : aDims;
  const b2 = bDims.length === 1 ? [bDims[0]!, 1] : bDims;
  const m = a2[a2.length - 2]!, k = a2[a2.length - 1]!;
  const kb = b2[b2.length - 2]!, n = b2[b2.length - 1]!;
  if (k !== kb) throw new ShapeError(`MatMul inner dimensions differ: A is [${aDims.join(', ')}], B is [${bDims.join(', ')}]`);
  const aBatch = a2.slice(0, -2), bBatch = b2.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const pa = [...Array(rank - aBatch.length).fill(1), ...aBatch];
  const pb = [...Array(rank - bBatch.length).fill(1), ...bBatch];
  const batch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = pa[i]!, y = pb[i]!;
    if (x !== y && x !== 1 && y !== 1) throw new ShapeError(`MatMul batch dimensions do not broadcast: [${aDims.join(', ')}] and [${bDims.join(', ')}]`);
    batch.push(Math.max(x, y));
  }
  const outDims = [...batch];
  if (aDims.length > 1) outDims.push(m);
  if (bDims.length > 1) outDims.push(n);
  // For each output batch index, the flat batch index into A and B.
  const count = product(batch);
  const aIdx = new Array<number>(count), bIdx = new Array<number>(count);
  for (let flat = 0; flat < count; flat++) {
    let rem = flat, ai = 0, bi = 0, aStride = 1, bStride = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const size = batch[d]!;
      const idx = rem % size;
      rem = Math.floor(rem / size);
      if (pa[d] !== 1) ai += idx * aStride;
      if (pb[d] !== 1) bi += idx * bStride;
      aStride *= pa[d]!;
      bStride *= pb[d]!;
    }
    aIdx[flat] = ai;
    bIdx[flat] = bi;
  }
  return { m, k, n, outDims, count, aIdx, bIdx, bBatchCount: product(pb), aBatchCount: product(pa) };
}

/** Zero-point values of a per-column parameter (1 or N values, or one row of N per B batch). */
function perColumn(t: Tensor | undefined, n: number, batches: number, what: string): (b: number) => number[] | undefined {
  if (!t) return () => undefined;
  const values = Array.from(t.data as ArrayLike<number>);
  if (values.length === 1 || values.length === n) return () => values;
  if (values.length === n * batches) return (b) => values.slice(b * n, (b + 1) * n);
  throw new ShapeError(`${what} must have 1 or ${n} values, got ${values.length}`);
}

function runBatchedMatmul<T extends TensorData>(
  k: Kernel, a: Tensor, b: Tensor, bZp: Tensor | undefined, outType: TensorType, what: string,
  multiply: (aSlice: Uint8Array | Int8Array, m: number, packed: ReturnType<Kernel['packWeights']>, bBatch: number) => T,
): Tensor {
  const s = matmulShapes(a.dims, b.dims);
  const Out = ARRAY_OF[outType];
  const out = new Out(product(s.outDims));
  if (out.length === 0) return tensorOf(outType, s.outDims, out);
  const zpOf = perColumn(bZp, s.n, s.bBatchCount, `${what} b_zero_point`);
  const bData = b.data as Uint8Array | Int8Array;
  const aData = a.data as Uint8Array | Int8Array;
  if (s.k === 0) return tensorOf(outType, s.outDims, out); // empty sums
  const bSize = s.k * s.n, aSize = s.m * s.k, ySize = s.m * s.n;
  // With a single B, A's batches are consecutive rows: one call covers them all.
  if (s.bBatchCount === 1 && s.count === s.aBatchCount) {
    const packed = k.packWeights(bData, s.k, s.n, zpOf(0));
    try {
      out.set(multiply(aData, s.m * s.count, packed, 0));
    } finally {
      packed.dispose();
    }
    return tensorOf(outType, s.outDims, out);
  }
  const packs = new Map<number, ReturnType<Kernel['packWeights']>>();
  try {
    for (let i = 0; i < s.count; i++) {
      const bi = s.bIdx[i]!;
      let packed = packs.get(bi);
      if (!packed) {
        packed = k.packWeights(bData.subarray(bi * bSize, (bi + 1) * bSize), s.k, s.n, zpOf(bi));
        packs.set(bi, packed);
      }
      const ai = s.aIdx[i]!;
      out.set(multiply(aData.subarray(ai * aSize, (ai + 1) * aSize), s.m, packed, bi), i * ySize);
    }
  } finally {
    for (const p of [...packs.values()].reverse()) p.dispose();
  }
  return tensorOf(outType, s.outDims, out);
}

/** ONNX MatMulInteger (opset 10). */
export function matMulInteger(k: Kernel, a: Tensor, b: Tensor, aZp?: Tensor, bZp?: Tensor): Tensor {
  quantType(a, 'A');
  quantType(b, 'B');
  if (aZp && aZp.type !== a.type) throw new TypeMismatchError(`a_zero_point must be ${a.type}`);
  if (bZp && bZp.type !== b.type) throw new TypeMismatchError(`b_zero_point must be ${b.type}`);
  let aZero: number | number[] | undefined;
  if (aZp) {
    const values = Array.from(aZp.data as ArrayLike<number>);
    const rows = a.dims.length >= 2 ? a.dims[a.dims.length - 2]! : 1;
    if (values.length === 1) aZero = values[0]!;
    else if (values.length === rows && a.dims.length === 2) aZero = values;
    else throw new ShapeError(`a_zero_point must be a scalar or one value per row, got ${values.length}`);
  }
  return runBatchedMatmul(k, a, b, bZp, 'int32', 'MatMulInteger', (aSlice, m, packed) => k.matmulInteger(aSlice, m, packed, aZero));
}

/** ONNX QLinearMatMul (opset 10/21): per-tensor A and output, per-tensor or per-column B. */
export function qLinearMatMul(
  k: Kernel, a: Tensor, aScale: Tensor, aZp: Tensor | undefined, b: Tensor, bScale: Tensor, bZp: Tensor | undefined,
  yScale: Tensor, yZp: Tensor | undefined,
): Tensor {
  quantType(a, 'a');
  quantType(b, 'b');
  const outType: QuantType = yZp ? quantType(yZp, 'y_zero_point') : 'uint8';
  const as = scalarValue(aScale, 'a_scale')!;
  const ys = scalarValue(yScale, 'y_scale')!;
  floatsOf(aScale, 'a_scale');
  floatsOf(yScale, 'y_scale');
  const bScales = floatsOf(bScale, 'b_scale');
  const az = scalarValue(aZp, 'a_zero_point');
  const yz = scalarValue(yZp, 'y_zero_point') ?? 0;
  const s = matmulShapes(a.dims, b.dims);
  const scaleOf = perColumn(bScale, s.n, s.bBatchCount, 'b_scale');
  const paramsFor = new Map<number, ReturnType<Kernel['requantParams']>>();
  return runBatchedMatmul(k, a, b, bZp, outType, 'QLinearMatMul', (aSlice, m, packed, bBatch) => {
    let params = paramsFor.get(bBatch);
    if (!params) {
      params = k.requantParams({
        inputScale: as, weightScale: scaleOf(bBatch) ?? bScales, outputScale: ys, outputZeroPoint: yz, outputType: outType,
      });
      paramsFor.set(bBatch, params);
    }
    return k.qlinearMatmul(aSlice, m, packed, params, { aZeroPoint: az });
  });
}

interface QuantLayout {
  dims?: readonly number[];
  axis?: number;
  blockSize?: number;
}

/** Maps ONNX scale rank rules onto the kernel's layout options. */
function layoutFor(x: Tensor, scale: Tensor, attrs: Attributes): QuantLayout {
  const blockSize = typeof attrs.block_size === 'number' ? attrs.block_size : 0;
  const axisAttr = typeof attrs.axis === 'number' ? attrs.axis : 1;
  if (scale.data.length === 1 && blockSize === 0) return {};
  if (blockSize > 0) {
    if (scale.dims.length !== x.dims.length) throw new ShapeError('blocked quantization needs scales of the same rank as x');
    return { dims: x.dims, axis: normalizeAxis(axisAttr, x.dims.length), blockSize };
  }
  if (scale.dims.length !== 1) throw new ShapeError(`per-axis scales must be 1-D, got dims [${scale.dims.join(', ')}]`);
  return { dims: x.dims, axis: normalizeAxis(axisAttr, x.dims.length) };
}

const OUTPUT_DTYPE: Record<number, QuantType> = { 2: 'uint8', 3: 'int8' };

/** ONNX QuantizeLinear (opset 10-21, int8/uint8 outputs). */
export function quantizeLinear(k: Kernel, x: Tensor, yScale: Tensor, yZp?: Tensor, attrs: Attributes = {}): Tensor {
  const data = floatsOf(x, 'x');
  const scales = floatsOf(yScale, 'y_scale');
  let type: QuantType = 'uint8';
  const dtype = typeof attrs.output_dtype === 'number' ? attrs.output_dtype : 0;
  if (yZp) type = quantType(yZp, 'y_zero_point');
  else if (dtype !== 0) {
    const t = OUTPUT_DTYPE[dtype];
    if (!t) throw new TypeMismatchError(`output_dtype ${dtype} is not supported (uint8=2, int8=3)`);
    type = t;
  }
  if (yZp && dtype !== 0 && OUTPUT_DTYPE[dtype] !== type) throw new TypeMismatchError('output_dtype disagrees with y_zero_point');
  const layout = layoutFor(x, yScale, attrs);
  const y = k.quantizeLinear(data, {
    scale: scales, zeroPoint: yZp ? (yZp.data as ArrayLike<number>) : undefined, type, ...layout,
  });
  return tensorOf(type, [...x.dims], y);
}

/** ONNX DequantizeLinear (opset 10-21) for uint8, int8 and int32 inputs. */
export function dequantizeLinear(k: Kernel, x: Tensor, xScale: Tensor, xZp?: Tensor, attrs: Attributes = {}): Tensor {
  if (x.type === 'float32') throw new TypeMismatchError('DequantizeLinear input must be uint8, int8 or int32');
  if (xZp && xZp.type !== x.type) throw new TypeMismatchError(`x_zero_point must be ${x.type}`);
  const scales = floatsOf(xScale, 'x_scale');
  const layout = layoutFor(x, xScale, attrs);
  const y = k.dequantizeLinear(x.data as Uint8Array | Int8Array | Int32Array, {
    scale: scales, zeroPoint: xZp ? (xZp.data as ArrayLike<number>) : undefined, ...layout,
  });
  return { type: 'float32', dims: [...x.dims], data: y };
}

/** ONNX DynamicQuantizeLinear (opset 11): returns [y, y_scale, y_zero_point]. */
export function dynamicQuantizeLinear(k: Kernel, x: Tensor): [Tensor, Tensor, Tensor] {
  const r = k.dynamicQuantizeLinear(floatsOf(x, 'x'));
  return [
    { type: 'uint8', dims: [...x.dims], data: r.data },
    { type: 'float32', dims: [], data: Float32Array.of(r.scale) },
    { type: 'uint8', dims: [], data: Uint8Array.of(r.zeroPoint) },
  ];
}

export const SUPPORTED_OPS = ['MatMulInteger', 'QLinearMatMul', 'QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear'] as const;

/** Runs one operator by name with inputs in ONNX order (undefined for omitted optional inputs). */
export function runOp(k: Kernel, op: string, inputs: (Tensor | undefined)[], attrs: Attributes = {}): Tensor[] {
  const need = (i: number, name: string): Tensor => {
    const t = inputs[i];
    if (!t) throw new ShapeError(`${op} needs input ${i} (${name})`);
    return t;
  };
  switch (op) {
    case 'MatMulInteger':
      return [matMulInteger(k, need(0, 'A'), need(1, 'B'), inputs[2], inputs[3])];
    case 'QLinearMatMul':
      return [qLinearMatMul(k, need(0, 'a'), need(1, 'a_scale'), inputs[2], need(3, 'b'), need(4, 'b_scale'), inputs[5],
        need(6, 'y_scale'), inputs[7])];
    case 'QuantizeLinear':
      return [quantizeLinear(k, need(0, 'x'), need(1, 'y_scale'), inputs[2], attrs)];
    case 'DequantizeLinear':
      return [dequantizeLinear(k, need(0, 'x'), need(1, 'x_scale'), inputs[2], attrs)];
    case 'DynamicQuantizeLinear':
      return dynamicQuantizeLinear(k, need(0, 'x'));
    default:
      throw new KernelError('UNSUPPORTED_OP', `operator '${op}' is not supported (supported: ${SUPPORTED_OPS.join(', ')})`);
  }
}
