// Empirical bias correction after post-training quantization: int8 weights,
// uint8 inputs and clipped activation ranges each shift a layer's output on
// average, and the shifts add up through a deep model (a ReLU after a layer
// turns even a zero-mean error into a bias). For every linear and conv layer in
// order, the int8 model runs the calibration batches up to that layer (the
// earlier layers already corrected), the mean of its output per output channel
// is compared with the float model's on the same batches, and the difference is
// taken out of the layer's int32 bias. The format does not change: only the
// bias values do.

import type { Kernel } from '@compotastic/kernel';
import type { TensorMap } from '../graph/float-exec.js';
import type { FloatTensor } from '../graph/ir.js';
import { Int8Executor } from './executor.js';
import { OrtProbe } from './ort-calibrate.js';
import type { Int8Linear, Int8Model } from './quantize.js';

/** What bias correction did to one layer. */
export interface LayerBiasCorrection {
  /** Op index of the linear or conv layer. */
  layer: number;
  /** Mean over output channels of |mean int8 output - mean float output|, before the correction. */
  meanAbsShiftBefore: number;
  /** The same after it (the channel shifts left over from rounding the correction to accumulator units). */
  meanAbsShiftAfter: number;
}

/** Per output channel sums of a layer's output: channels on axis 1 for a conv, the last axis for a linear layer. */
function channelSums(t: FloatTensor, n: number, conv: boolean, sums: Float64Array): number {
  const inner = conv ? t.dims.slice(2).reduce((a, b) => a * b, 1) : 1;
  const d = t.data;
  if (conv) {
    for (let i = 0; i < d.length; i++) sums[Math.floor(i / inner) % n]! += d[i]!;
  } else {
    for (let i = 0; i < d.length; i++) sums[i % n]! += d[i]!;
  }
  return d.length / n;
}

/** A copy of the model whose linear layers own their bias arrays (the correction writes them). */
function withOwnBiases(model: Int8Model): Int8Model {
  const linears = new Map<number, Int8Linear>([...model.linears].map(([i, l]) => [i, { ...l, bias: l.bias.slice() }]));
  return { ...model, linears };
}

/**
 * Corrects the int32 bias of every linear and conv layer so that, over the
 * calibration batches, its mean output per channel matches the float model's
 * (`onnx`, run in onnxruntime-web). Layers are corrected in graph order, each
 * measured with the earlier ones already corrected. Returns the corrected model
 * (the given one is not changed) and what was corrected per layer.
 */
export async function correctBiases(
  kernel: Kernel, model: Int8Model, onnx: Uint8Array, batches: TensorMap[],
): Promise<{ model: Int8Model; layers: LayerBiasCorrection[] }> {
  const out = withOwnBiases(model);
  const layers = [...out.linears.keys()].sort((a, b) => a - b).filter((i) => {
    const kind = out.ops[i]!.kind;
    return kind === 'linear' || kind === 'conv';
  });
  if (layers.length === 0 || batches.length === 0) return { model: out, layers: [] };
  const outputName = (i: number) => (out.ops[i] as { output: string }).output;
  // Float means per channel, over every batch.
  const floatSums = new Map(layers.map((i) => [i, new Float64Array(out.linears.get(i)!.n)]));
  const floatCount = new Map<number, number>();
  const probe = await OrtProbe.create(onnx, [...new Set(layers.map(outputName))]);
  try {
    for (const batch of batches) {
      const values = await probe.run(batch);
      for (const i of layers) {
        const t = values.get(outputName(i));
        if (!t) continue;
        const count = channelSums(t, out.linears.get(i)!.n, out.ops[i]!.kind === 'conv', floatSums.get(i)!);
        floatCount.set(i, (floatCount.get(i) ?? 0) + count);
      }
    }
  } finally {
    await probe.release();
  }
  const exec = Int8Executor.create(kernel, out);
  const report: LayerBiasCorrection[] = [];
  try {
    let states: TensorMap[] = batches.map((b) => new Map(b));
    let at = 0;
    for (const i of layers) {
      const l = out.linears.get(i)!;
      const conv = out.ops[i]!.kind === 'conv';
      // The values live before layer i, with every earlier layer corrected.
      const live = exec.liveAt(i);
      states = states.map((s) => {
        const v = exec.run(s, { from: at, to: i });
        return new Map(live.map((name) => [name, v.get(name)!]));
      });
      at = i;
      const n = l.n, fc = floatCount.get(i) ?? 0;
      if (fc === 0) continue;
      const sums = new Float64Array(n);
      let count = 0;
      for (const s of states) count += channelSums(exec.run(s, { from: i, to: i + 1 }).get(outputName(i))!, n, conv, sums);
      const floatMean = floatSums.get(i)!;
      let before = 0, after = 0;
      for (let c = 0; c < n; c++) {
        const shift = sums[c]! / count - floatMean[c]! / fc;
        const unit = l.inputScale * l.weightScales[c]!;
        const q = Math.round(shift / unit);
        l.bias[c] = Math.max(-2147483648, Math.min(2147483647, l.bias[c]! - q));
        before += Math.abs(shift);
        after += Math.abs(shift - q * unit);
      }
      report.push({ layer: i, meanAbsShiftBefore: before / n, meanAbsShiftAfter: after / n });
    }
  } finally {
    exec.dispose();
  }
  return { model: out, layers: report };
}
