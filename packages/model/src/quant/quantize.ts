// Post-training int8 quantization of a float graph: linear layers get int8
// weights quantized symmetrically per output channel, uint8 input activations
// with a scale and zero point calibrated on sample inputs, and int32 biases in
// the accumulator's scale. Everything else stays float32 (cheap elementwise ops).

import { ModelError } from '../errors.js';
import { runFloat, type TensorMap } from '../graph/float-exec.js';
import { type FloatGraph, type FloatTensor, type LinearOp, type Op, opInputs } from '../graph/ir.js';

/** One linear layer in int8 form. */
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

/** A quantized model: the float graph's ops, int8 linear layers by op index, and the remaining float constants. */
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

/** Records the range of every linear layer's input over the calibration inputs. */
export function calibrate(graph: FloatGraph, samples: TensorMap): Map<number, ActivationRange> {
  const ranges = new Map<number, ActivationRange>();
  runFloat(graph, samples, {}, (op, index, values) => {
    if (op.kind !== 'linear') return;
    const x = values.get(op.input) ?? graph.constants.get(op.input);
    if (!x) return;
    let min = 0, max = 0; // the range always includes 0, so 0 is exact
    for (const v of x.data) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (!Number.isFinite(min) || !Number.isFinite(max)) {
      throw new ModelError('CALIBRATION', `layer ${index} sees non-finite activations during calibration`);
    }
    ranges.set(index, { min, max });
  });
  return ranges;
}

/** uint8 scale and zero point for a range that includes 0. */
export function activationParams(range: ActivationRange): { scale: number; zeroPoint: number } {
  const span = range.max - range.min;
  if (span === 0) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround(span / 255);
  const zeroPoint = Math.min(255, Math.max(0, roundHalfEven(-range.min / scale)));
  return { scale, zeroPoint };
}

function quantizeLinear(op: LinearOp, graph: FloatGraph, range: ActivationRange): Int8Linear {
  const w = graph.constants.get(op.weight)!;
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
 * Quantizes every linear layer of the graph, calibrating input activation
 * ranges on `samples` (a batch of representative inputs).
 */
export function quantizeGraph(graph: FloatGraph, samples: TensorMap): Int8Model {
  const ranges = calibrate(graph, samples);
  const linears = new Map<number, Int8Linear>();
  const constants = new Map<string, FloatTensor>();
  graph.ops.forEach((op, i) => {
    if (op.kind === 'linear') {
      const range = ranges.get(i);
      if (!range) throw new ModelError('CALIBRATION', `layer ${i} was not reached during calibration`);
      linears.set(i, quantizeLinear(op, graph, range));
    }
  });
  // Keep only the float constants that non-linear ops read.
  for (const op of graph.ops) {
    if (op.kind === 'linear') continue;
    for (const name of opInputs(op)) {
      const t = graph.constants.get(name);
      if (t) constants.set(name, t);
    }
  }
  return { name: graph.name, inputs: graph.inputs, outputs: graph.outputs, ops: graph.ops.map((op) => ({ ...op })), linears, constants };
}
