// The float graph the pipeline works on: an imported ONNX model reduced to the
// operations the executors know, in topological order, with constants as
// float32 tensors. Linear layers (MatMul/Gemm with a constant weight, plus a
// following constant bias) are recognised at import, because they are what the
// int8 kernels run.

import { ModelError } from '../errors.js';

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

export interface BinaryOp {
  kind: 'add' | 'sub' | 'mul' | 'div';
  a: string;
  b: string;
  output: string;
}

export interface UnaryOp {
  kind: 'relu' | 'gelu' | 'tanh' | 'sigmoid' | 'identity';
  input: string;
  output: string;
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

export type Op = LinearOp | MatMulOp | BinaryOp | UnaryOp | SoftmaxOp | LayerNormOp | TransposeOp | ReshapeOp;

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

/** Names an op reads. */
export function opInputs(op: Op): string[] {
  switch (op.kind) {
    case 'linear':
      return op.bias ? [op.input, op.weight, op.bias] : [op.input, op.weight];
    case 'matmul':
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
      return [op.a, op.b];
    case 'layernorm':
      return op.bias ? [op.input, op.scale, op.bias] : [op.input, op.scale];
    default:
      return [op.input];
  }
}
