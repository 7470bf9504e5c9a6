// A float32 reference executor for the pipeline's graph. It calibrates
// activation ranges for quantization and runs the float ops between int8
// layers; results follow ONNX semantics (numpy broadcasting, softmax and layer
// normalization over the given axes).

import { erf } from '../train/math.js';
import { type BinaryOp, type FloatGraph, type FloatTensor, type Op, type UnaryOp, GraphShapeError, isBinaryOp } from './ir.js';
import { conv2d, maxPool2d } from './conv.js';
import { isShapeOp, runShapeOp } from './shape-ops.js';

export type TensorMap = Map<string, FloatTensor>;

function count(dims: readonly number[]): number {
  return dims.reduce((p, d) => p * d, 1);
}

function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new GraphShapeError(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** y = x . W + b over the last dimension of x. */
export function linearFloat(x: FloatTensor, w: FloatTensor, b: FloatTensor | undefined): FloatTensor {
  const [k, n] = w.dims as [number, number];
  if (x.dims[x.dims.length - 1] !== k) throw new GraphShapeError(`linear input [${x.dims.join(', ')}] does not match weight [${k}, ${n}]`);
  const rows = count(x.dims) / k;
  const out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    for (let p = 0; p < k; p++) {
      const xv = x.data[r * k + p]!;
      if (xv === 0) continue;
      for (let j = 0; j < n; j++) out[r * n + j]! += xv * w.data[p * n + j]!;
    }
    if (b) for (let j = 0; j < n; j++) out[r * n + j]! += b.data[j]!;
  }
  return { dims: [...x.dims.slice(0, -1), n], data: out };
}

function broadcastDims(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1, y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new GraphShapeError(`shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(Math.max(x, y));
  }
  return out;
}

/** Flat index into a broadcast operand for every output element. */
function broadcastIndex(src: readonly number[], out: readonly number[]): Int32Array {
  const total = count(out);
  const idx = new Int32Array(total);
  const rank = out.length;
  const padded = [...Array(rank - src.length).fill(1), ...src];
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = padded[d] === 1 ? 0 : s;
    s *= padded[d]!;
  }
  for (let i = 0; i < total; i++) {
    let rem = i, off = 0;
    for (let d = rank - 1; d >= 0; d--) {
      const size = out[d]!;
      off += (rem % size) * strides[d]!;
      rem = Math.floor(rem / size);
    }
    idx[i] = off;
  }
  return idx;
}

const BINARY: Record<BinaryOp['kind'], (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  // ONNX Max/Min propagate NaN, as Math.max/min do.
  max: Math.max,
  min: Math.min,
  pow: Math.pow,
  equal: (x, y) => +(x === y),
  greater: (x, y) => +(x > y),
  less: (x, y) => +(x < y),
  greaterorequal: (x, y) => +(x >= y),
  lessorequal: (x, y) => +(x <= y),
  and: (x, y) => +(x !== 0 && y !== 0),
  or: (x, y) => +(x !== 0 || y !== 0),
};

/** Where(cond, a, b) with numpy broadcasting over the three operands. */
function where(cond: FloatTensor, a: FloatTensor, b: FloatTensor): FloatTensor {
  const dims = broadcastDims(broadcastDims(cond.dims, a.dims), b.dims);
  const [ic, ia, ib] = [cond, a, b].map((t) => broadcastIndex(t.dims, dims)) as [Int32Array, Int32Array, Int32Array];
  const out = new Float32Array(count(dims));
  for (let i = 0; i < out.length; i++) out[i] = cond.data[ic[i]!] !== 0 ? a.data[ia[i]!]! : b.data[ib[i]!]!;
  return { dims, data: out };
}

function binary(kind: keyof typeof BINARY, a: FloatTensor, b: FloatTensor): FloatTensor {
  const dims = broadcastDims(a.dims, b.dims);
  const n = count(dims);
  const out = new Float32Array(n);
  const f = BINARY[kind];
  // A scalar operand (the common case: x * 10, max(x, -0.4)) needs no index tables.
  if (b.data.length === 1 && a.data.length === n) {
    const y = b.data[0]!;
    for (let i = 0; i < n; i++) out[i] = f(a.data[i]!, y);
    return { dims, data: out };
  }
  if (a.data.length === 1 && b.data.length === n) {
    const x = a.data[0]!;
    for (let i = 0; i < n; i++) out[i] = f(x, b.data[i]!);
    return { dims, data: out };
  }
  const same = a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i]);
  const ia = same ? undefined : broadcastIndex(a.dims, dims);
  const ib = same ? undefined : broadcastIndex(b.dims, dims);
  for (let i = 0; i < n; i++) {
    const x = a.data[ia ? ia[i]! : i]!, y = b.data[ib ? ib[i]! : i]!;
    out[i] = f(x, y);
  }
  return { dims, data: out };
}

function matmulFloat(a: FloatTensor, b: FloatTensor): FloatTensor {
  if (a.dims.length < 2 || b.dims.length < 2) throw new GraphShapeError('activation MatMul needs rank >= 2 operands');
  const m = a.dims[a.dims.length - 2]!, k = a.dims[a.dims.length - 1]!, n = b.dims[b.dims.length - 1]!;
  if (b.dims[b.dims.length - 2] !== k) throw new GraphShapeError(`MatMul inner dimensions differ: [${a.dims.join(', ')}] x [${b.dims.join(', ')}]`);
  const batch = broadcastDims(a.dims.slice(0, -2), b.dims.slice(0, -2));
  const ia = broadcastIndex(a.dims.slice(0, -2), batch), ib = broadcastIndex(b.dims.slice(0, -2), batch);
  const batches = count(batch);
  const out = new Float32Array(batches * m * n);
  for (let t = 0; t < batches; t++) {
    const ao = ia[t]! * m * k, bo = ib[t]! * k * n, oo = t * m * n;
    for (let i = 0; i < m; i++) {
      for (let p = 0; p < k; p++) {
        const av = a.data[ao + i * k + p]!;
        for (let j = 0; j < n; j++) out[oo + i * n + j]! += av * b.data[bo + p * n + j]!;
      }
    }
  }
  return { dims: [...batch, m, n], data: out };
}

function softmax(x: FloatTensor, axis: number): FloatTensor {
  const ax = normAxis(axis, x.dims.length);
  const len = x.dims[ax]!, inner = count(x.dims.slice(ax + 1)), outer = count(x.dims.slice(0, ax));
  const out = new Float32Array(x.data.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      let max = -Infinity;
      for (let j = 0; j < len; j++) max = Math.max(max, x.data[base + j * inner]!);
      let sum = 0;
      for (let j = 0; j < len; j++) sum += out[base + j * inner] = Math.exp(x.data[base + j * inner]! - max);
      for (let j = 0; j < len; j++) out[base + j * inner]! /= sum;
    }
  }
  return { dims: [...x.dims], data: out };
}

function layerNorm(x: FloatTensor, axis: number, eps: number, scale: FloatTensor, bias: FloatTensor | undefined): FloatTensor {
  const ax = normAxis(axis, x.dims.length);
  const size = count(x.dims.slice(ax));
  if (scale.data.length !== size) throw new GraphShapeError(`LayerNormalization scale has ${scale.data.length} values, expected ${size}`);
  const rows = x.data.length / size;
  const out = new Float32Array(x.data.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let j = 0; j < size; j++) mean += x.data[r * size + j]!;
    mean /= size;
    let variance = 0;
    for (let j = 0; j < size; j++) variance += (x.data[r * size + j]! - mean) ** 2;
    variance /= size;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let j = 0; j < size; j++) {
      out[r * size + j] = (x.data[r * size + j]! - mean) * inv * scale.data[j]! + (bias ? bias.data[j]! : 0);
    }
  }
  return { dims: [...x.dims], data: out };
}

function transpose(x: FloatTensor, perm?: number[]): FloatTensor {
  const rank = x.dims.length;
  const p = perm ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (p.length !== rank || [...p].sort().some((v, i) => v !== i)) throw new GraphShapeError(`invalid perm [${p.join(', ')}]`);
  const dims = p.map((d) => x.dims[d]!);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) { inStrides[d] = s; s *= x.dims[d]!; }
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    let rem = i, off = 0;
    for (let d = rank - 1; d >= 0; d--) {
      off += (rem % dims[d]!) * inStrides[p[d]!]!;
      rem = Math.floor(rem / dims[d]!);
    }
    out[i] = x.data[off]!;
  }
  return { dims, data: out };
}

function reshape(x: FloatTensor, shape: number[]): FloatTensor {
  const dims = shape.map((d, i) => (d === 0 ? x.dims[i]! : d));
  const known = dims.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const unknown = dims.filter((d) => d === -1).length;
  if (unknown > 1) throw new GraphShapeError('Reshape with more than one -1');
  const resolved = dims.map((d) => (d === -1 ? x.data.length / known : d));
  if (count(resolved) !== x.data.length || resolved.some((d) => !Number.isInteger(d))) {
    throw new GraphShapeError(`cannot reshape [${x.dims.join(', ')}] to [${shape.join(', ')}]`);
  }
  return { dims: resolved, data: x.data };
}

const UNARY: Record<Exclude<UnaryOp['kind'], 'identity'>, (v: number) => number> = {
  relu: (v) => (v > 0 ? v : 0),
  gelu: (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
  tanh: Math.tanh,
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  sqrt: Math.sqrt,
  log: Math.log,
  exp: Math.exp,
  neg: (v) => -v,
  abs: Math.abs,
  not: (v) => +(v === 0),
  tobool: (v) => +(v !== 0),
};

function unary(kind: UnaryOp['kind'], x: FloatTensor): FloatTensor {
  if (kind === 'identity') return x;
  return { dims: [...x.dims], data: x.data.map(UNARY[kind]) };
}

function scalar(t: FloatTensor, what: string): number {
  if (t.data.length !== 1) throw new GraphShapeError(`${what} must be a scalar, got [${t.dims.join(', ')}]`);
  return t.data[0]!;
}

function clip(x: FloatTensor, min: FloatTensor | undefined, max: FloatTensor | undefined): FloatTensor {
  const lo = min ? scalar(min, 'Clip min') : -Infinity, hi = max ? scalar(max, 'Clip max') : Infinity;
  return { dims: [...x.dims], data: x.data.map((v) => (v < lo ? lo : v > hi ? hi : v)) };
}

function reduce(kind: 'reducemean' | 'reducemax', x: FloatTensor, axes: number[] | undefined, keepdims: boolean): FloatTensor {
  const rank = x.dims.length;
  const reduced = new Set((axes ?? x.dims.map((_, i) => i)).map((a) => normAxis(a, rank)));
  const outDims = x.dims.map((d, i) => (reduced.has(i) ? 1 : d));
  const n = count(outDims);
  const acc = new Float64Array(n).fill(kind === 'reducemax' ? -Infinity : 0);
  const idx = broadcastIndex(outDims, x.dims); // each input element's output slot
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i]!, o = idx[i]!;
    if (kind === 'reducemax') acc[o] = v > acc[o]! || Number.isNaN(v) ? v : acc[o]!;
    else acc[o]! += v;
  }
  const per = x.data.length / Math.max(1, n);
  const data = kind === 'reducemean' ? Float32Array.from(acc, (v) => v / per) : Float32Array.from(acc);
  return { dims: keepdims ? outDims : x.dims.filter((_, i) => !reduced.has(i)), data };
}

function flatten(x: FloatTensor, axis: number): FloatTensor {
  const a = axis < 0 ? axis + x.dims.length : axis;
  if (a < 0 || a > x.dims.length) throw new GraphShapeError(`Flatten axis ${axis} is out of range for rank ${x.dims.length}`);
  return { dims: [count(x.dims.slice(0, a)), count(x.dims.slice(a))], data: x.data };
}

function unsqueeze(x: FloatTensor, axes: number[]): FloatTensor {
  const rank = x.dims.length + axes.length;
  const at = new Set(axes.map((a) => normAxis(a, rank)));
  if (at.size !== axes.length) throw new GraphShapeError(`Unsqueeze axes [${axes.join(', ')}] repeat`);
  const dims: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) dims.push(at.has(i) ? 1 : x.dims[j++]!);
  return { dims, data: x.data };
}

function squeeze(x: FloatTensor, axes: number[] | undefined): FloatTensor {
  const at = new Set((axes ?? x.dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normAxis(a, x.dims.length)));
  for (const a of at) if (x.dims[a] !== 1) throw new GraphShapeError(`Squeeze axis ${a} has size ${x.dims[a]}, not 1`);
  return { dims: x.dims.filter((_, i) => !at.has(i)), data: x.data };
}

function concat(xs: FloatTensor[], axis: number): FloatTensor {
  const first = xs[0]!;
  const ax = normAxis(axis, first.dims.length);
  for (const x of xs) {
    if (x.dims.length !== first.dims.length || x.dims.some((d, i) => i !== ax && d !== first.dims[i])) {
      throw new GraphShapeError(`Concat inputs [${first.dims.join(', ')}] and [${x.dims.join(', ')}] differ off axis ${ax}`);
    }
  }
  const outer = count(first.dims.slice(0, ax)), inner = count(first.dims.slice(ax + 1));
  const total = xs.reduce((n, x) => n + x.dims[ax]!, 0);
  const data = new Float32Array(outer * total * inner);
  let off = 0;
  for (const x of xs) {
    const chunk = x.dims[ax]! * inner;
    for (let o = 0; o < outer; o++) data.set(x.data.subarray(o * chunk, (o + 1) * chunk), o * total * inner + off);
    off += chunk;
  }
  return { dims: first.dims.map((d, i) => (i === ax ? total : d)), data };
}

/** Runs one op, reading and writing `values`. */
export function runFloatOp(op: Op, values: TensorMap, constants: TensorMap): void {
  const get = (name: string): FloatTensor => {
    const t = values.get(name) ?? constants.get(name);
    if (!t) throw new GraphShapeError(`value '${name}' is not available`);
    return t;
  };
  if (isShapeOp(op)) {
    runShapeOp(op, get, values);
    return;
  }
  if (isBinaryOp(op)) {
    values.set(op.output, binary(op.kind, get(op.a), get(op.b)));
    return;
  }
  let y: FloatTensor;
  switch (op.kind) {
    case 'linear':
      y = linearFloat(get(op.input), get(op.weight), op.bias ? get(op.bias) : undefined);
      break;
    case 'matmul':
      y = matmulFloat(get(op.a), get(op.b));
      break;
    case 'conv':
      y = conv2d(get(op.input), op, get(op.weight), op.bias ? get(op.bias) : undefined);
      break;
    case 'maxpool':
      y = maxPool2d(get(op.input), op);
      break;
    case 'where':
      y = where(get(op.cond), get(op.a), get(op.b));
      break;
    case 'leakyrelu': {
      const alpha = op.alpha;
      const x = get(op.input);
      const data = new Float32Array(x.data.length);
      for (let i = 0; i < data.length; i++) {
        const v = x.data[i]!;
        data[i] = v >= 0 ? v : v * alpha;
      }
      y = { dims: [...x.dims], data };
      break;
    }
    case 'clip':
      y = clip(get(op.input), op.min ? get(op.min) : undefined, op.max ? get(op.max) : undefined);
      break;
    case 'reducemean':
    case 'reducemax':
      y = reduce(op.kind, get(op.input), op.axes, op.keepdims);
      break;
    case 'flatten':
      y = flatten(get(op.input), op.axis);
      break;
    case 'unsqueeze':
      y = unsqueeze(get(op.input), op.axes ?? []);
      break;
    case 'squeeze':
      y = squeeze(get(op.input), op.axes);
      break;
    case 'concat':
      y = concat(op.inputs.map(get), op.axis);
      break;
    case 'softmax':
      y = softmax(get(op.input), op.axis);
      break;
    case 'layernorm':
      y = layerNorm(get(op.input), op.axis, op.epsilon, get(op.scale), op.bias ? get(op.bias) : undefined);
      break;
    case 'transpose':
      y = transpose(get(op.input), op.perm);
      break;
    case 'reshape':
      y = reshape(get(op.input), op.shape);
      break;
    default:
      y = unary(op.kind, get(op.input));
  }
  values.set(op.output, y);
}

/**
 * Runs ops [from, to) of the graph on `inputs` (graph inputs, or the values live
 * at `from` for a pipeline stage). `observe` sees every op's inputs before it runs.
 */
export function runFloat(
  graph: FloatGraph, inputs: TensorMap, range: { from?: number; to?: number } = {},
  observe?: (op: Op, index: number, values: TensorMap) => void,
): TensorMap {
  const values: TensorMap = new Map(inputs);
  const from = range.from ?? 0, to = range.to ?? graph.ops.length;
  for (let i = from; i < to; i++) {
    const op = graph.ops[i]!;
    observe?.(op, i, values);
    runFloatOp(op, values, graph.constants);
  }
  return values;
}
