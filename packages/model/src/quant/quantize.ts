// Post-training int8 quantization of a float graph: linear and convolution
// layers get int8 weights quantized symmetrically per output channel, uint8
// input activations with a scale and zero point calibrated on sample inputs
// (static: fixed at quantization time), and int32 biases in the accumulator's
// scale. Everything else stays float32 (cheap elementwise ops).

import { ModelError } from '../errors.js';
import { runFloat, type TensorMap } from '../graph/float-exec.js';
import { type FloatGraph, type FloatTensor, type GemmOp, type Op, isGemmOp, opInputs } from '../graph/ir.js';
import type { LstmOp } from '../graph/shape-ops.js';
import { roundWithErrorFeedback } from './gptq.js';

/**
 * One linear or convolution layer in int8 form: the K x N matrix the kernel
 * multiplies (for a convolution K = cin*kh*kw over the im2col columns, N = cout).
 */
export interface Int8Linear {
  k: number;
  n: number;
  /** K x N int8 weights, row-major, zero point 0. */
  weights: Int8Array;
  /** Per output channel (column) weight scale. */
  weightScales: Float32Array;
  /** Bias in accumulator units: round(b / (inputScale * weightScale[c])). */
  bias: Int32Array;
  inputScale: number;
  /** Zero point of the input activations: uint8, or uint16 when `inputBits` is 16. */
  inputZeroPoint: number;
  /**
   * 16: the input is quantized to uint16 and multiplied as two uint8 digits (high and low byte, two products on
   * the int8 kernel, summed as 256 x high + low), for layers where 8-bit activations lose too much (as TFLite's
   * 16x8 mode). Absent: 8-bit inputs.
   */
  inputBits?: 16;
}

/** A quantized model: the float graph's ops, int8 linear and conv layers by op index, and the remaining float constants. */
export interface Int8Model {
  name: string;
  inputs: FloatGraph['inputs'];
  outputs: string[];
  ops: Op[];
  linears: Map<number, Int8Linear>;
  /** LSTM layers whose matrix products run in int8, by op index (the others stay float32). */
  recurrent?: Map<number, Int8Recurrent>;
  /** Float constants still needed (layer norm scales, constants of elementwise ops). */
  constants: Map<string, FloatTensor>;
}

/**
 * An LSTM's two products in int8: X_t W^T (K = input, N = 4*hidden, the two
 * biases summed into this one) and H R^T (K = N/4 = hidden, no bias), the hidden
 * state quantized over [-1, 1], the range o*tanh(c) lies in.
 */
export interface Int8Recurrent {
  x: Int8Linear;
  h: Int8Linear;
}

/** The hidden state's fixed quantization range. */
export const HIDDEN_RANGE: ActivationRange = { min: -1, max: 1 };

export interface ActivationRange {
  min: number;
  max: number;
}

/** Rounds half to even. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Records the range of every linear and conv layer's input over the calibration
 * inputs: one batch, or several run one after another (ranges are merged).
 */
export function calibrate(graph: FloatGraph, samples: TensorMap | TensorMap[]): Map<number, ActivationRange> {
  const ranges = new Map<number, ActivationRange>();
  for (const batch of Array.isArray(samples) ? samples : [samples]) calibrateBatch(graph, batch, ranges);
  return ranges;
}

function calibrateBatch(graph: FloatGraph, samples: TensorMap, ranges: Map<number, ActivationRange>): void {
  runFloat(graph, samples, {}, (op, index, values) => {
    if (!isGemmOp(op) && op.kind !== 'lstm') return;
    const x = values.get(op.input) ?? graph.constants.get(op.input);
    if (!x) return;
    ranges.set(index, widenRange(ranges.get(index), x.data, index));
  });
}

/** `range` (or [0, 0]) widened to cover `data`; the range always includes 0, so 0 is exact. */
export function widenRange(range: ActivationRange | undefined, data: Float32Array, layer: number): ActivationRange {
  let min = range?.min ?? 0, max = range?.max ?? 0;
  for (const v of data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    throw new ModelError('CALIBRATION', `layer ${layer} sees non-finite activations during calibration`);
  }
  return { min, max };
}

/** Values kept per layer and batch for choosing a clipped range (every n-th value, n fixed by the batch size). */
export const RANGE_SAMPLES_PER_BATCH = 4096;

/** Every n-th value of `data`, about `count` of them (deterministic, no randomness). */
export function strideSample(data: Float32Array, count = RANGE_SAMPLES_PER_BATCH): Float32Array {
  const step = Math.max(1, Math.ceil(data.length / count));
  const out = new Float32Array(Math.ceil(data.length / step));
  for (let i = 0, j = 0; i < data.length; i += step, j++) out[j] = data[i]!;
  return out;
}

/** Mean squared error of `values` quantized to uint8 over `range` and back. */
export function quantizationError(values: Float32Array, range: ActivationRange): number {
  const { scale, zeroPoint } = activationParams(range);
  let sum = 0;
  for (const v of values) {
    const q = Math.min(255, Math.max(0, roundHalfEven(v / scale) + zeroPoint));
    const d = (q - zeroPoint) * scale - v;
    sum += d * d;
  }
  return values.length === 0 ? 0 : sum / values.length;
}

/** Fractions of the calibrated range tried by `clippedRange`. */
const CLIP_FRACTIONS = Array.from({ length: 40 }, (_, i) => 1 - i * 0.02);

/**
 * The range of the form [f·min, f·max] (f over 1, 0.98, ..., 0.22) that quantizes
 * `values` with the least squared error: a few rare extremes no longer set the
 * step for every other value. `range` (the full min/max) is kept on a tie.
 */
export function clippedRange(values: Float32Array, range: ActivationRange): ActivationRange {
  let best = range, bestError = quantizationError(values, range);
  for (const f of CLIP_FRACTIONS.slice(1)) {
    const r = { min: range.min * f, max: range.max * f };
    const e = quantizationError(values, r);
    if (e < bestError) {
      best = r;
      bestError = e;
    }
  }
  return best;
}

/** uint8 (or uint16) scale and zero point for a range that includes 0. */
export function activationParams(range: ActivationRange, bits: 8 | 16 = 8): { scale: number; zeroPoint: number } {
  const span = range.max - range.min;
  if (span === 0) return { scale: 1, zeroPoint: 0 };
  const top = bits === 16 ? 65535 : 255;
  const scale = Math.fround(span / top);
  const zeroPoint = Math.min(top, Math.max(0, roundHalfEven(-range.min / scale)));
  return { scale, zeroPoint };
}

/** The layer's float weights as the K x N matrix the kernel multiplies. */
function gemmWeights(op: GemmOp, graph: FloatGraph): FloatTensor {
  const w = graph.constants.get(op.weight)!;
  if (op.kind === 'linear') return w;
  const n = w.dims[0]!; // [cout, cin, kh, kw] -> [cin*kh*kw, cout]
  return transposed(w.data, n, w.data.length / n);
}

/** [rows, cols] -> [cols, rows]: an ONNX [out, in] weight as the K x N matrix the kernel multiplies. */
function transposed(data: Float32Array, rows: number, cols: number): FloatTensor {
  const out = new Float32Array(rows * cols);
  for (let c = 0; c < rows; c++) for (let r = 0; r < cols; r++) out[r * rows + c] = data[c * cols + r]!;
  return { dims: [cols, rows], data: out };
}

function quantizeLinear(op: GemmOp, graph: FloatGraph, range: ActivationRange, bits: 8 | 16, hessian?: Float64Array): Int8Linear {
  const b = op.bias ? graph.constants.get(op.bias) : undefined;
  return quantizeMatrix(gemmWeights(op, graph), b?.data, range, bits, hessian);
}

function quantizeLstm(op: LstmOp, graph: FloatGraph, range: ActivationRange): Int8Recurrent {
  const g4 = 4 * op.hiddenSize;
  const w = graph.constants.get(op.w), r = graph.constants.get(op.r), b = op.b ? graph.constants.get(op.b) : undefined;
  if (!w || !r || (op.b && !b)) throw new ModelError('CALIBRATION', `LSTM ${op.output} has weights that are not constants`);
  const bias = b ? Float32Array.from({ length: g4 }, (_, g) => b.data[g]! + b.data[g4 + g]!) : undefined;
  return {
    x: quantizeMatrix(transposed(w.data, g4, w.data.length / g4), bias, range),
    h: quantizeMatrix(transposed(r.data, g4, op.hiddenSize), undefined, HIDDEN_RANGE),
  };
}

/** A K x N float matrix (and bias of N) in int8, per output channel, for inputs over `range`. */
function quantizeMatrix(w: FloatTensor, b: Float32Array | undefined, range: ActivationRange, bits: 8 | 16 = 8, hessian?: Float64Array): Int8Linear {
  const [k, n] = w.dims as [number, number];
  const weights = new Int8Array(k * n);
  const weightScales = new Float32Array(n);
  for (let c = 0; c < n; c++) {
    let maxAbs = 0;
    for (let r = 0; r < k; r++) maxAbs = Math.max(maxAbs, Math.abs(w.data[r * n + c]!));
    const s = maxAbs === 0 ? 1 : Math.fround(maxAbs / 127);
    weightScales[c] = s;
    for (let r = 0; r < k; r++) weights[r * n + c] = Math.max(-127, Math.min(127, roundHalfEven(w.data[r * n + c]! / s)));
  }
  if (hessian) weights.set(roundWithErrorFeedback(w, weightScales, hessian));
  const { scale: inputScale, zeroPoint: inputZeroPoint } = activationParams(range, bits);
  const bias = new Int32Array(n);
  if (b) {
    for (let c = 0; c < n; c++) {
      const q = roundHalfEven(b[c]! / (inputScale * weightScales[c]!));
      bias[c] = Math.max(-2147483648, Math.min(2147483647, q));
    }
  }
  return { k, n, weights, weightScales, bias, inputScale, inputZeroPoint, ...(bits === 16 ? { inputBits: 16 as const } : {}) };
}

/**
 * Quantizes every linear and conv layer of the graph, calibrating input
 * activation ranges on `samples` (one or several batches of representative inputs).
 */
export function quantizeGraph(graph: FloatGraph, samples: TensorMap | TensorMap[], options: QuantizeOptions = {}): Int8Model {
  return quantizeWithRanges(graph, calibrate(graph, samples), options);
}

export interface QuantizeOptions {
  /** LSTM matrix products in int8 (the default, where a range was calibrated) or float32. */
  lstm?: 'int8' | 'float';
  /** Linear and conv layers (by op index) whose inputs are quantized to 16 bits (`Int8Linear.inputBits`). */
  wideInputs?: ReadonlySet<number>;
  /**
   * Per linear or conv layer (by op index), X^T X of its calibration inputs (`inputHessiansWithOnnxRuntime`): its
   * weights are then rounded with error feedback (`roundWithErrorFeedback`) instead of each to the nearest step.
   */
  hessians?: ReadonlyMap<number, Float64Array>;
}

/** Quantizes with activation ranges measured elsewhere (e.g. calibrateWithOnnxRuntime), by op index. */
export function quantizeWithRanges(graph: FloatGraph, ranges: Map<number, ActivationRange>, options: QuantizeOptions = {}): Int8Model {
  const linears = new Map<number, Int8Linear>();
  const recurrent = new Map<number, Int8Recurrent>();
  const constants = new Map<string, FloatTensor>();
  graph.ops.forEach((op, i) => {
    if (isGemmOp(op)) {
      const range = ranges.get(i);
      if (!range) throw new ModelError('CALIBRATION', `layer ${i} was not reached during calibration`);
      linears.set(i, quantizeLinear(op, graph, range, options.wideInputs?.has(i) ? 16 : 8, options.hessians?.get(i)));
    } else if (op.kind === 'lstm' && options.lstm !== 'float' && ranges.has(i)) {
      recurrent.set(i, quantizeLstm(op, graph, ranges.get(i)!));
    }
  });
  // Keep only the float constants that non-linear ops read (an int8 LSTM still reads its initial state).
  graph.ops.forEach((op, i) => {
    if (isGemmOp(op)) return;
    const reads = op.kind === 'lstm' && recurrent.has(i) ? [op.initialH, op.initialC].filter((n): n is string => !!n) : opInputs(op);
    for (const name of reads) {
      const t = graph.constants.get(name);
      if (t) constants.set(name, t);
    }
  });
  return {
    name: graph.name, inputs: graph.inputs, outputs: graph.outputs, ops: graph.ops.map((op) => ({ ...op })), linears,
    ...(recurrent.size > 0 ? { recurrent } : {}), constants,
  };
}
