// Post-training int8 quantization of a float graph: linear and convolution
// layers get int8 weights quantized symmetrically per output channel, uint8
// input activations with a scale and zero point calibrated on sample inputs
// (static: fixed at quantization time), and int32 biases in the accumulator's
// scale. Everything else stays float32 (cheap elementwise ops).

import { ModelError } from '../errors.js';
import { runFloat, type TensorMap } from '../graph/float-exec.js';
import { type FloatGraph, type FloatTensor, type GemmOp, type Op, isGemmOp, opInputs } from '../graph/ir.js';

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
  /** uint8 zero point of the input activations. */
  inputZeroPoint: number;
}

/** A quantized model: the float graph's ops, int8 linear and conv layers by op index, and the remaining float constants. */
export interface Int8Model {
  name: string;
  inputs: FloatGraph['inputs'];
  outputs: string[];
  ops: Op[];
  linears: Map<number, Int8Linear>;
  /** Float constants still needed (layer norm scales, constants of elementwise ops). */
  constants: Map<string, FloatTensor>;
}

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
    if (!isGemmOp(op)) return;
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

/** uint8 scale and zero point for a range that includes 0. */
export function activationParams(range: ActivationRange): { scale: number; zeroPoint: number } {
  const span = range.max - range.min;
  if (span === 0) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround(span / 255);
  const zeroPoint = Math.min(255, Math.max(0, roundHalfEven(-range.min / scale)));
  return { scale, zeroPoint };
}

/** The layer's float weights as the K x N matrix the kernel multiplies. */
function gemmWeights(op: GemmOp, graph: FloatGraph): FloatTensor {
  const w = graph.constants.get(op.weight)!;
  if (op.kind === 'linear') return w;
  const n = w.dims[0]!, k = w.data.length / n; // [cout, cin, kh, kw] -> [cin*kh*kw, cout]
  const data = new Float32Array(k * n);
  for (let c = 0; c < n; c++) for (let r = 0; r < k; r++) data[r * n + c] = w.data[c * k + r]!;
  return { dims: [k, n], data };
}

function quantizeLinear(op: GemmOp, graph: FloatGraph, range: ActivationRange): Int8Linear {
  const w = gemmWeights(op, graph);
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
  const { scale: inputScale, zeroPoint: inputZeroPoint } = activationParams(range);
  const bias = new Int32Array(n);
  const b = op.bias ? graph.constants.get(op.bias) : undefined;
  if (b) {
    for (let c = 0; c < n; c++) {
      const q = roundHalfEven(b.data[c]! / (inputScale * weightScales[c]!));
      bias[c] = Math.max(-2147483648, Math.min(2147483647, q));
    }
  }
  return { k, n, weights, weightScales, bias, inputScale, inputZeroPoint };
}

/**
 * Quantizes every linear and conv layer of the graph, calibrating input
 * activation ranges on `samples` (one or several batches of representative inputs).
 */
export function quantizeGraph(graph: FloatGraph, samples: TensorMap | TensorMap[]): Int8Model {
  return quantizeWithRanges(graph, calibrate(graph, samples));
}

/** Quantizes with activation ranges measured elsewhere (e.g. calibrateWithOnnxRuntime), by op index. */
export function quantizeWithRanges(graph: FloatGraph, ranges: Map<number, ActivationRange>): Int8Model {
  const linears = new Map<number, Int8Linear>();
  const constants = new Map<string, FloatTensor>();
  graph.ops.forEach((op, i) => {
    if (isGemmOp(op)) {
      const range = ranges.get(i);
      if (!range) throw new ModelError('CALIBRATION', `layer ${i} was not reached during calibration`);
      linears.set(i, quantizeLinear(op, graph, range));
    }
  });
  // Keep only the float constants that non-linear ops read.
  for (const op of graph.ops) {
    if (isGemmOp(op)) continue;
    for (const name of opInputs(op)) {
      const t = graph.constants.get(name);
      if (t) constants.set(name, t);
    }
  }
  return { name: graph.name, inputs: graph.inputs, outputs: graph.outputs, ops: graph.ops.map((op) => ({ ...op })), linears, constants };
}
