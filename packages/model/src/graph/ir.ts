// The float graph the pipeline works on: an imported ONNX model reduced to the
// operations the executors know, in topological order, with constants as
// float32 tensors. Linear layers (MatMul/Gemm with a constant weight, plus a
// following constant bias) are recognised at import, because they are what the
// int8 kernels run.

import { ModelError } from '../errors.js';
import { type ShapeOp, SHAPE_OP_KINDS, isShapeOp, shapeOpInputs, shapeOpOutputs } from './shape-ops.js';

export interface FloatTensor {
  dims: number[];
  data: Float32Array;
}

/** A linear layer y = x . W + b, with W stored K x N (inputs x outputs). */
export interface LinearOp {
  kind: 'linear';
  input: string;
  output: string;
  weight: string;
  bias?: string;
}

export interface MatMulOp {
  kind: 'matmul';
  a: string;
  b: string;
  output: string;
}

/** A 2-D convolution (a 1-D one is imported with height 1), weight [cout, cin, kh, kw]. */
export interface ConvOp {
  kind: 'conv';
  input: string;
  output: string;
  weight: string;
  bias?: string;
  /** Rank of the spatial dims in the ONNX graph (1 or 2); the executors run both as 2-D. */
  spatialRank: 1 | 2;
  kernel: [number, number];
  strides: [number, number];
  /** top, left, bottom, right */
  pads: [number, number, number, number];
  dilations: [number, number];
}

export interface MaxPoolOp {
  kind: 'maxpool';
  input: string;
  output: string;
  kernel: [number, number];
  strides: [number, number];
  pads: [number, number, number, number];
}

/** Elementwise with numpy broadcasting; comparisons and logic give 1 for true and 0 for false (booleans are held as float32). */
export interface BinaryOp {
  kind: 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'pow' | 'equal' | 'greater' | 'less' | 'greaterorequal' | 'lessorequal' | 'and' | 'or';
  a: string;
  b: string;
  output: string;
}

/** `not` and `tobool` (Cast to bool) give 1 or 0. */
export interface UnaryOp {
  kind: 'relu' | 'gelu' | 'tanh' | 'sigmoid' | 'identity' | 'sqrt' | 'log' | 'exp' | 'neg' | 'abs' | 'not' | 'tobool';
  input: string;
  output: string;
}

/** Where(cond, a, b): a where cond is non-zero, else b, with numpy broadcasting over all three. */
export interface WhereOp {
  kind: 'where';
  cond: string;
  a: string;
  b: string;
  output: string;
}

export interface LeakyReluOp {
  kind: 'leakyrelu';
  input: string;
  output: string;
  alpha: number;
}

/** Clip to [min, max]; either bound is a value name (a scalar), absent for no bound. */
export interface ClipOp {
  kind: 'clip';
  input: string;
  output: string;
  min?: string;
  max?: string;
}

export interface ReduceOp {
  kind: 'reducemean' | 'reducemax';
  input: string;
  output: string;
  /** Axes to reduce; absent for all. */
  axes?: number[];
  keepdims: boolean;
}

export interface FlattenOp {
  kind: 'flatten';
  input: string;
  output: string;
  axis: number;
}

export interface AxesOp {
  kind: 'unsqueeze' | 'squeeze';
  input: string;
  output: string;
  /** Absent on squeeze: every dimension of size 1. */
  axes?: number[];
}

export interface ConcatOp {
  kind: 'concat';
  inputs: string[];
  output: string;
  axis: number;
}

export interface SoftmaxOp {
  kind: 'softmax';
  input: string;
  output: string;
  axis: number;
}

export interface LayerNormOp {
  kind: 'layernorm';
  input: string;
  output: string;
  axis: number;
  epsilon: number;
  scale: string;
  bias?: string;
}

export interface TransposeOp {
  kind: 'transpose';
  input: string;
  output: string;
  perm?: number[];
}

export interface ReshapeOp {
  kind: 'reshape';
  input: string;
  output: string;
  shape: number[];
}

export type Op =
  | LinearOp | ConvOp | MatMulOp | BinaryOp | UnaryOp | LeakyReluOp | ClipOp | SoftmaxOp | LayerNormOp | TransposeOp | ReshapeOp
  | MaxPoolOp | ReduceOp | FlattenOp | AxesOp | ConcatOp | WhereOp | ShapeOp;

/** Every op kind, for validating decoded graphs. */
export const OP_KINDS: readonly Op['kind'][] = [
  'linear', 'conv', 'matmul', 'add', 'sub', 'mul', 'div', 'max', 'min', 'pow', 'relu', 'gelu', 'tanh', 'sigmoid', 'identity',
  'sqrt', 'log', 'exp', 'neg', 'abs', 'leakyrelu', 'clip', 'softmax', 'layernorm', 'transpose', 'reshape', 'maxpool',
  'reducemean', 'reducemax', 'flatten', 'unsqueeze', 'squeeze', 'concat',
  'equal', 'greater', 'less', 'greaterorequal', 'lessorequal', 'and', 'or', 'not', 'tobool', 'where', ...SHAPE_OP_KINDS,
];

/** Ops whose weights the int8 model multiplies on the kernel. */
export type GemmOp = LinearOp | ConvOp;

export function isGemmOp(op: Op): op is GemmOp {
  return op.kind === 'linear' || op.kind === 'conv';
}

export interface GraphInput {
  name: string;
  /** Declared dims; null for a symbolic dimension such as the batch. */
  dims: (number | null)[];
}

export interface FloatGraph {
  name: string;
  inputs: GraphInput[];
  outputs: string[];
  ops: Op[];
  constants: Map<string, FloatTensor>;
}

/** The model uses operators the pipeline does not implement (code UNSUPPORTED_OPS). */
export class UnsupportedOpsError extends ModelError {
  readonly ops: string[];
  constructor(ops: string[]) {
    super('UNSUPPORTED_OPS', `unsupported operators: ${ops.join(', ')}`);
    this.ops = ops;
  }
}

/** A graph whose structure or shapes the pipeline cannot execute (code GRAPH_SHAPE). */
export class GraphShapeError extends ModelError {
  constructor(message: string) {
    super('GRAPH_SHAPE', message);
  }
}

const BINARY_KINDS = new Set<string>([
  'add', 'sub', 'mul', 'div', 'max', 'min', 'pow', 'equal', 'greater', 'less', 'greaterorequal', 'lessorequal', 'and', 'or',
] satisfies BinaryOp['kind'][]);

export function isBinaryOp(op: Op): op is BinaryOp {
  return BINARY_KINDS.has(op.kind);
}

/** Names an op reads. */
export function opInputs(op: Op): string[] {
  if (isShapeOp(op)) return shapeOpInputs(op);
  if (isBinaryOp(op)) return [op.a, op.b];
  switch (op.kind) {
    case 'linear':
    case 'conv':
      return op.bias ? [op.input, op.weight, op.bias] : [op.input, op.weight];
    case 'clip':
      return [op.input, ...(op.min ? [op.min] : []), ...(op.max ? [op.max] : [])];
    case 'concat':
      return [...op.inputs];
    case 'matmul':
      return [op.a, op.b];
    case 'where':
      return [op.cond, op.a, op.b];
    case 'layernorm':
      return op.bias ? [op.input, op.scale, op.bias] : [op.input, op.scale];
    default:
      return [op.input];
  }
}

/** Names an op writes (an LSTM writes up to three). */
export function opOutputs(op: Op): string[] {
  return isShapeOp(op) ? shapeOpOutputs(op) : [op.output];
}
