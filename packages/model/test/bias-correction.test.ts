// Bias correction: the mean int8-minus-float output shift per channel, measured
// on calibration batches, is folded into each layer's int32 bias, so on held-out
// inputs from the same distribution the int8 output moves toward float.
import { Prng } from '@compotastic/mesh';
import { beforeAll, describe, expect, it } from 'vitest';
import { KERNEL_BUILDS, type Kernel, loadKernel } from '@compotastic/kernel';
import type { TensorMap } from '../src/graph/float-exec.js';
import { runFloat } from '../src/graph/float-exec.js';
import { importOnnx } from '../src/graph/import.js';
import type { FloatGraph } from '../src/graph/ir.js';
import { graph } from '../src/onnx/builder.js';
import { decodeModel, encodeModel } from '../src/onnx/proto.js';
import { tensor } from '../src/onnx/tensor.js';
import { correctBiases } from '../src/quant/bias-correction.js';
import { Int8Executor } from '../src/quant/executor.js';
import { decodeInt8Model, encodeInt8Model } from '../src/quant/format.js';
import { calibrateWithOnnxRuntime } from '../src/quant/ort-calibrate.js';
import { type Int8Model, quantizeWithRanges } from '../src/quant/quantize.js';

const IN = 32, HIDDEN = 24, OUT = 8, ROWS = 64;

/** Weights with one large value per output column, so the per-channel int8 step is coarse for the rest. */
function weights(prng: Prng, k: number, n: number): Float32Array {
  const w = Float32Array.from({ length: k * n }, () => prng.gaussian(0, 1 / Math.sqrt(k)));
  for (let c = 0; c < n; c++) w[prng.intBelow(k) * n + c] = (prng.float() < 0.5 ? -6 : 6) / Math.sqrt(k);
  return w;
}

/** Inputs with a positive mean (as after a ReLU), so the weights' rounding errors add up instead of cancelling. */
function batch(prng: Prng): TensorMap {
  const data = Float32Array.from({ length: ROWS * IN }, () => Math.max(0, prng.gaussian(0.8, 0.6)) + (prng.float() < 0.002 ? 6 : 0));
  return new Map([['x', { dims: [ROWS, IN], data }]]);
}

function mlp(seed: number): Uint8Array {
  const prng = new Prng(seed);
  const bias = (n: number) => tensor('float32', [n], Float32Array.from({ length: n }, () => prng.gaussian(0, 0.1)));
  return encodeModel(graph('mlp')
    .input('x', 'float32', [ROWS, IN])
    .initializer('w1', tensor('float32', [IN, HIDDEN], weights(prng, IN, HIDDEN))).initializer('b1', bias(HIDDEN))
    .initializer('w2', tensor('float32', [HIDDEN, OUT], weights(prng, HIDDEN, OUT))).initializer('b2', bias(OUT))
    .node('MatMul', ['x', 'w1'], ['h0']).node('Add', ['h0', 'b1'], ['h1']).node('Relu', ['h1'], ['h'])
    .node('MatMul', ['h', 'w2'], ['y0']).node('Add', ['y0', 'b2'], ['y'])
    .output('y', 'float32', [ROWS, OUT])
    .model({ opset: 20 }));
}

/** Mean over output channels of |mean(int8 y - float y)| over the batches. */
function meanAbsShift(kernel: Kernel, model: Int8Model, g: FloatGraph, batches: TensorMap[]): number {
  const exec = Int8Executor.create(kernel, model);
  const sums = new Float64Array(OUT);
  for (const b of batches) {
    const q = exec.run(b).get('y')!.data, f = runFloat(g, b).get('y')!.data;
    for (let i = 0; i < q.length; i++) sums[i % OUT]! += q[i]! - f[i]!;
  }
  exec.dispose();
  return sums.reduce((s, v) => s + Math.abs(v), 0) / OUT / (batches.length * ROWS);
}

describe('correctBiases', () => {
  let kernel: Kernel;
  beforeAll(async () => {
    kernel = await loadKernel();
  });

  it('moves the int8 output toward float on held-out inputs, with least-error and min/max ranges', async () => {
    const onnx = mlp(5);
    const g = importOnnx(decodeModel(onnx));
    const calPrng = new Prng(17), testPrng = new Prng(29);
    const calibration = Array.from({ length: 12 }, () => batch(calPrng));
    const heldOut = Array.from({ length: 12 }, () => batch(testPrng));
    for (const ranges of ['mse', 'minmax'] as const) {
      const plain = quantizeWithRanges(g, await calibrateWithOnnxRuntime(onnx, g, calibration, { ranges }));
      const { model, layers } = await correctBiases(kernel, plain, onnx, calibration);
      expect(layers.map((l) => l.layer)).toEqual([...plain.linears.keys()].sort((a, b) => a - b));
      for (const l of layers) expect(l.meanAbsShiftAfter).toBeLessThan(l.meanAbsShiftBefore);
      const before = meanAbsShift(kernel, plain, g, heldOut), after = meanAbsShift(kernel, model, g, heldOut);
      // Without the correction the shift is systematic (well above what rounding the correction leaves).
      expect(before).toBeGreaterThan(2e-3);
      expect(after).toBeLessThan(before * 0.5);
      // Only biases change: the weights and scales are the plain model's, and the plain model is left as it was.
      for (const [i, l] of model.linears) {
        const p = plain.linears.get(i)!;
        expect(l.weights).toEqual(p.weights);
        expect(l.inputScale).toBe(p.inputScale);
        expect(l.bias).not.toEqual(p.bias);
      }
      expect(meanAbsShift(kernel, plain, g, heldOut)).toBe(before);
    }
  });

  it('keeps the bundle format and gives bit-identical outputs on every kernel build', async () => {
    const onnx = mlp(8);
    const g = importOnnx(decodeModel(onnx));
    const prng = new Prng(3);
    const calibration = Array.from({ length: 6 }, () => batch(prng));
    const { model } = await correctBiases(kernel, quantizeWithRanges(g, await calibrateWithOnnxRuntime(onnx, g, calibration, { ranges: 'mse' })), onnx, calibration);
    const decoded = decodeInt8Model(encodeInt8Model(model));
    const x = batch(prng);
    const outs = await Promise.all(KERNEL_BUILDS.map(async (build) => {
      const exec = Int8Executor.create(await loadKernel({ build }), decoded);
      const y = exec.run(x).get('y')!.data;
      exec.dispose();
      return y;
    }));
    const direct = Int8Executor.create(kernel, model);
    expect(outs[0]).toEqual(direct.run(x).get('y')!.data);
    direct.dispose();
    for (const y of outs.slice(1)) expect(y).toEqual(outs[0]);
  });
});
