// Calibration and per-op checks through onnxruntime-web: the float model runs in
// ONNX Runtime with chosen intermediate values added as graph outputs, which is
// far faster than the float reference executor on convolution-heavy graphs and
// gives ONNX Runtime's own values to compare each imported op against.

import type { TensorMap } from '../graph/float-exec.js';
import { inlineIf } from '../graph/control-flow.js';
import { type FloatGraph, isGemmOp } from '../graph/ir.js';
import { decodeModel, encodeModel } from '../onnx/proto.js';
import { convGeometry, im2col } from '../graph/conv.js';
import { accumulateHessian } from './gptq.js';
import { type ActivationRange, clippedRange, strideSample, widenRange } from './quantize.js';

type Ort = typeof import('onnxruntime-web');

/** A float model in ONNX Runtime that also returns the named intermediate values. */
export class OrtProbe {
  private constructor(private readonly ort: Ort, private readonly session: import('onnxruntime-web').InferenceSession, readonly names: string[]) {}

  static async create(onnx: Uint8Array, names: string[]): Promise<OrtProbe> {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    // Values inside If branches are not graph values ONNX Runtime can return: probe the inlined graph the importer sees.
    const decoded = decodeModel(onnx);
    const model = names.length > 0 ? inlineIf(decoded).model : decoded;
    const existing = new Set(model.graph.outputs.map((o) => o.name));
    const extra = names.filter((n) => !existing.has(n)).map((name) => ({ name }));
    const probed = encodeModel({ ...model, graph: { ...model.graph, outputs: [...model.graph.outputs, ...extra] } });
    return new OrtProbe(ort, await ort.InferenceSession.create(probed), names);
  }

  /** Runs the model; returns the probed values (and the graph outputs). */
  async run(inputs: TensorMap): Promise<TensorMap> {
    const feeds: Record<string, import('onnxruntime-web').Tensor> = {};
    for (const [name, t] of inputs) feeds[name] = new this.ort.Tensor('float32', t.data, t.dims);
    const result = await this.session.run(feeds);
    const out: TensorMap = new Map();
    for (const [name, t] of Object.entries(result)) out.set(name, { dims: t.dims.map(Number), data: t.data as Float32Array });
    return out;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** How a layer's range is chosen from its calibrated values. */
export interface CalibrationOptions {
  /**
   * 'minmax' (the default): every value seen. 'mse': the clipped range with the
   * least quantization error over a fixed sample of them (`clippedRange`).
   */
  ranges?: 'minmax' | 'mse';
}

/** Activation ranges of every linear and conv layer's input, measured in ONNX Runtime over the batches. */
export async function calibrateWithOnnxRuntime(
  onnx: Uint8Array, graph: FloatGraph, batches: TensorMap[], options: CalibrationOptions = {},
): Promise<Map<number, ActivationRange>> {
  const layers = graph.ops.flatMap((op, i) => (isGemmOp(op) ? [[i, op.input] as const] : []));
  const inputNames = new Set(graph.inputs.map((i) => i.name));
  const probe = await OrtProbe.create(onnx, [...new Set(layers.map(([, n]) => n).filter((n) => !inputNames.has(n)))]);
  const ranges = new Map<number, ActivationRange>();
  const samples = new Map<number, Float32Array[]>();
  const mse = options.ranges === 'mse';
  try {
    for (const batch of batches) {
      const values = await probe.run(batch);
      for (const [i, name] of layers) {
        const x = values.get(name) ?? batch.get(name);
        if (!x) continue;
        ranges.set(i, widenRange(ranges.get(i), x.data, i));
        if (mse) samples.set(i, [...(samples.get(i) ?? []), strideSample(x.data)]);
      }
    }
  } finally {
    await probe.release();
  }
  if (mse) {
    for (const [i, range] of ranges) {
      const parts = samples.get(i) ?? [];
      const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
      ranges.set(i, clippedRange(all, range));
    }
  }
  return ranges;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Input rows per layer and batch that the correlation estimate takes (every n-th, n fixed by the batch's size). */
const HESSIAN_ROWS_PER_BATCH = 2048;

/**
 * X^T X (upper triangle, K x K) of every linear and conv layer's input rows over the batches, in ONNX Runtime: for a
 * conv its im2col columns, for a linear layer the rows of its last dimension. For `roundWithErrorFeedback`.
 */
export async function inputHessiansWithOnnxRuntime(onnx: Uint8Array, graph: FloatGraph, batches: TensorMap[]): Promise<Map<number, Float64Array>> {
  const layers = graph.ops.flatMap((op, i) => (isGemmOp(op) ? [[i, op] as const] : []));
  const inputNames = new Set(graph.inputs.map((i) => i.name));
  const probe = await OrtProbe.create(onnx, [...new Set(layers.map(([, op]) => op.input).filter((n) => !inputNames.has(n)))]);
  const out = new Map<number, Float64Array>();
  try {
    for (const batch of batches) {
      const values = await probe.run(batch);
      for (const [i, op] of layers) {
        const x = values.get(op.input) ?? batch.get(op.input);
        const w = graph.constants.get(op.weight);
        if (!x || !w) continue;
        if (op.kind === 'conv') {
          const g = convGeometry(x.dims, op.spatialRank, op, `layer ${i} (Conv)`);
          const k = g.channels * op.kernel[0] * op.kernel[1], positions = g.outHeight * g.outWidth;
          const h = out.get(i) ?? new Float64Array(k * k);
          const cols = new Float32Array(positions * k);
          // A step sharing no factor with the row width, so the sample walks through every column, not one.
          let step = Math.max(1, Math.ceil((g.batch * positions) / HESSIAN_ROWS_PER_BATCH));
          while (gcd(step, g.outWidth) !== 1) step++;
          for (let n = 0; n < g.batch; n++) accumulateHessian(h, im2col(x.data, n, g, op, 0, cols, true), positions, k, step);
          out.set(i, h);
        } else {
          const k = x.dims[x.dims.length - 1]!;
          const h = out.get(i) ?? new Float64Array(k * k);
          const rows = x.data.length / k;
          accumulateHessian(h, x.data, rows, k, Math.max(1, Math.ceil(rows / HESSIAN_ROWS_PER_BATCH)));
          out.set(i, h);
        }
      }
    }
  } finally {
    await probe.release();
  }
  return out;
}
