// Weight rounding with error feedback: on correlated inputs the layer's int8 output stays closer to float than with
// each weight rounded to its nearest step, with the same scales and int8 range; the input correlations are those of
// the layer's real inputs (a conv's im2col columns), and a layer no input reached is refused.
import { Prng } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { loadKernel } from '@compotastic/kernel';
import { convGeometry, im2col } from '../src/graph/conv.js';
import { runFloat, type TensorMap } from '../src/graph/float-exec.js';
import { importOnnx } from '../src/graph/import.js';
import type { ConvOp, FloatGraph } from '../src/graph/ir.js';
import { ModelError } from '../src/errors.js';
import { graph } from '../src/onnx/builder.js';
import { decodeModel, encodeModel } from '../src/onnx/proto.js';
import { tensor } from '../src/onnx/tensor.js';
import { Int8Executor } from '../src/quant/executor.js';
import { accumulateHessian, roundWithErrorFeedback } from '../src/quant/gptq.js';
import { calibrateWithOnnxRuntime, inputHessiansWithOnnxRuntime } from '../src/quant/ort-calibrate.js';
import { type Int8Model, quantizeWithRanges } from '../src/quant/quantize.js';

const CIN = 4, COUT = 6, H = 8, W = 7;

function convOnnx(seed: number): Uint8Array {
  const prng = new Prng(seed);
  const w = Float32Array.from({ length: COUT * CIN * 9 }, () => prng.gaussian(0, 0.3));
  return encodeModel(graph('conv')
    .input('x', 'float32', [1, CIN, H, W])
    .initializer('w', tensor('float32', [COUT, CIN, 3, 3], w)).initializer('b', tensor('float32', [COUT], new Float32Array(COUT)))
    .node('Conv', ['x', 'w', 'b'], ['y'], { pads: [1, 1, 1, 1] })
    .output('y', 'float32', [1, COUT, H, W])
    .model({ opset: 17 }));
}

/** Inputs whose channels move together (a shared component plus a little noise each), as real activations do. */
function correlated(prng: Prng): TensorMap {
  const data = new Float32Array(CIN * H * W);
  for (let p = 0; p < H * W; p++) {
    const shared = prng.gaussian(0, 1);
    for (let c = 0; c < CIN; c++) data[c * H * W + p] = shared * (1 + 0.3 * c) + prng.gaussian(0, 0.3);
  }
  return new Map([['x', { dims: [1, CIN, H, W], data }]]);
}

function outputError(model: Int8Model, g: FloatGraph, inputs: TensorMap[], kernel: Awaited<ReturnType<typeof loadKernel>>): number {
  const exec = Int8Executor.create(kernel, model);
  let sq = 0;
  for (const x of inputs) {
    const q = exec.run(x).get('y')!.data, f = runFloat(g, x).get('y')!.data;
    for (let i = 0; i < f.length; i++) sq += (q[i]! - f[i]!) ** 2;
  }
  exec.dispose();
  return sq;
}

describe('roundWithErrorFeedback', () => {
  it('keeps a conv\'s int8 output closer to float on held-out inputs than rounding each weight', async () => {
    const onnx = convOnnx(1);
    const g = importOnnx(decodeModel(onnx));
    const prng = new Prng(2);
    // Enough rows (24 x 56) for 36 inputs that the fitted rounding holds on other inputs.
    const calibration = Array.from({ length: 24 }, () => correlated(prng));
    const heldOut = Array.from({ length: 6 }, () => correlated(prng));
    const ranges = await calibrateWithOnnxRuntime(onnx, g, calibration);
    const hessians = await inputHessiansWithOnnxRuntime(onnx, g, calibration);
    // 16-bit inputs, so the weights' rounding is what differs.
    const wideInputs = new Set([0]);
    const nearest = quantizeWithRanges(g, ranges, { wideInputs });
    const fed = quantizeWithRanges(g, ranges, { wideInputs, hessians });
    const a = nearest.linears.get(0)!, b = fed.linears.get(0)!;
    expect(b.weightScales).toEqual(a.weightScales);
    expect(b.weights).not.toEqual(a.weights);
    for (const v of b.weights) expect(Math.abs(v)).toBeLessThanOrEqual(127);
    const kernel = await loadKernel();
    const [e1, e0] = [outputError(fed, g, heldOut, kernel), outputError(nearest, g, heldOut, kernel)];
    expect(e1).toBeLessThan(0.6 * e0);
  });

  it('measures the input correlation over the conv\'s im2col columns', async () => {
    const onnx = convOnnx(3);
    const g = importOnnx(decodeModel(onnx));
    const prng = new Prng(4);
    const batches = [correlated(prng), correlated(prng)];
    const h = (await inputHessiansWithOnnxRuntime(onnx, g, batches)).get(0)!;
    const op = g.ops[0] as ConvOp, k = CIN * 9;
    const want = new Float64Array(k * k);
    for (const b of batches) {
      const x = b.get('x')!;
      const geo = convGeometry(x.dims, 2, op, 'conv');
      const cols = im2col(x.data, 0, geo, op, 0, new Float32Array(H * W * k), true);
      for (let r = 0; r < H * W; r++) for (let i = 0; i < k; i++) for (let j = i; j < k; j++) want[i * k + j]! += cols[r * k + i]! * cols[r * k + j]!;
    }
    for (let i = 0; i < k * k; i++) expect(h[i]!).toBeCloseTo(want[i]!, 6);
  });

  it('refuses a layer no calibration input reached', () => {
    const k = 3, n = 2;
    const h = new Float64Array(k * k);
    accumulateHessian(h, new Float32Array(k * 4), 4, k);
    expect(() => roundWithErrorFeedback({ dims: [k, n], data: new Float32Array(k * n).fill(0.5) }, Float32Array.of(0.01, 0.01), h)).toThrow(ModelError);
  });
});
