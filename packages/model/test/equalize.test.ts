// Activation equalization: rescaling the channels between two convolutions keeps the float model's function, and
// with a few wide channels beside narrow ones it lowers the int8 model's error against float.
import { Prng } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { loadKernel } from '@compotastic/kernel';
import { runFloat, type TensorMap } from '../src/graph/float-exec.js';
import { importOnnx } from '../src/graph/import.js';
import type { FloatGraph } from '../src/graph/ir.js';
import { attr, graph } from '../src/onnx/builder.js';
import { decodeModel, encodeModel } from '../src/onnx/proto.js';
import { tensor } from '../src/onnx/tensor.js';
import { channelMaxima, equalizeActivations, equalizedValue } from '../src/quant/equalize.js';
import { Int8Executor } from '../src/quant/executor.js';
import { calibrateWithOnnxRuntime, channelMaximaWithOnnxRuntime } from '../src/quant/ort-calibrate.js';
import { quantizeWithRanges } from '../src/quant/quantize.js';

const CIN = 2, MID = 8, COUT = 4, H = 12, W = 10;

/** conv A -> LeakyRelu -> Max(-0.4) -> MaxPool -> conv B, A's channels 0 and 1 twenty times wider than the rest. */
function twoConvs(seed: number, between: 'homogeneous' | 'sigmoid' = 'homogeneous'): Uint8Array {
  const prng = new Prng(seed);
  const gauss = (n: number, sd: number) => Float32Array.from({ length: n }, () => prng.gaussian(0, sd));
  const wA = gauss(MID * CIN * 9, 0.3);
  for (let c = 0; c < 2; c++) for (let j = 0; j < CIN * 9; j++) wA[c * CIN * 9 + j]! *= 20;
  // B reads the wide channels with small weights (as trained networks often do), so rescaling costs B's weights little.
  const wB = gauss(COUT * MID * 9, 0.2);
  for (let o = 0; o < COUT; o++) for (let c = 0; c < 2; c++) for (let j = 0; j < 9; j++) wB[(o * MID + c) * 9 + j]! /= 20;
  let b = graph('two-convs')
    .input('x', 'float32', [1, CIN, H, W])
    .initializer('wA', tensor('float32', [MID, CIN, 3, 3], wA)).initializer('bA', tensor('float32', [MID], gauss(MID, 0.1)))
    .initializer('wB', tensor('float32', [COUT, MID, 3, 3], wB)).initializer('bB', tensor('float32', [COUT], gauss(COUT, 0.1)))
    .initializer('floor', tensor('float32', [], Float32Array.of(-0.4)))
    .node('Conv', ['x', 'wA', 'bA'], ['a'], { pads: [1, 1, 1, 1] });
  b = between === 'sigmoid'
    ? b.node('Sigmoid', ['a'], ['p'])
    : b.node('LeakyRelu', ['a'], ['l'], { alpha: attr.float(0.2) }).node('Max', ['l', 'floor'], ['m']).node('MaxPool', ['m'], ['p'], { kernel_shape: [2, 2], strides: [2, 2] });
  return encodeModel(b.node('Conv', ['p', 'wB', 'bB'], ['y'], { pads: [1, 1, 1, 1] }).output('y', 'float32', [1, COUT, H / 2, W / 2]).model({ opset: 17 }));
}

function batches(seed: number, count: number): TensorMap[] {
  const prng = new Prng(seed);
  return Array.from({ length: count }, () => new Map([['x', { dims: [1, CIN, H, W], data: Float32Array.from({ length: CIN * H * W }, () => prng.gaussian(0, 1)) }]]));
}

function maxima(g: FloatGraph, data: TensorMap[]): Map<number, Float64Array> {
  const b = g.ops.findIndex((op, i) => i > 0 && op.kind === 'conv');
  const input = (g.ops[b] as { input: string }).input;
  let m: Float64Array | undefined;
  for (const x of data) m = channelMaxima(runFloat(g, x).get(input)!, m);
  return new Map([[b, m!]]);
}

describe('equalizeActivations', () => {
  it('keeps the float function and rescales B\'s input by the scales it reports', () => {
    const g = importOnnx(decodeModel(twoConvs(1)));
    const data = batches(2, 4);
    const eq = equalizeActivations(g, maxima(g, data), 0.75);
    expect(eq.inputs).toHaveLength(1);
    const { value, scales } = eq.inputs[0]!;
    // The wide channels are divided the most.
    expect(Math.min(scales[0]!, scales[1]!)).toBeGreaterThan(Math.max(...scales.slice(2)));
    for (const x of data) {
      const before = runFloat(g, x), after = runFloat(eq.graph, x);
      const y0 = before.get('y')!.data, y1 = after.get('y')!.data;
      const peak = Math.max(...y0.map(Math.abs));
      for (let i = 0; i < y0.length; i++) expect(Math.abs(y1[i]! - y0[i]!)).toBeLessThan(1e-5 * peak);
      const expected = equalizedValue(before.get(value)!, scales).data, got = after.get(value)!.data;
      for (let i = 0; i < got.length; i++) expect(got[i]!).toBeCloseTo(expected[i]!, 4);
    }
    // The original graph is not changed.
    expect(runFloat(importOnnx(decodeModel(twoConvs(1))), data[0]!).get('y')!.data).toEqual(runFloat(g, data[0]!).get('y')!.data);
  });

  it('leaves a chain with an op that does not commute with scaling alone', () => {
    const g = importOnnx(decodeModel(twoConvs(1, 'sigmoid')));
    const b = g.ops.findIndex((op, i) => i > 0 && op.kind === 'conv');
    const eq = equalizeActivations(g, new Map([[b, new Float64Array(MID).fill(1)]]));
    expect(eq.inputs).toHaveLength(0);
    expect(eq.graph.ops).toEqual(g.ops);
  });

  it('lowers the int8 error against float when a few channels are much wider than the others', async () => {
    const onnx = twoConvs(3);
    const g = importOnnx(decodeModel(onnx));
    const calibration = batches(4, 8), heldOut = batches(5, 8);
    const kernel = await loadKernel({ build: 'scalar' });
    const error = async (eqGraph: FloatGraph, equalized: Parameters<typeof calibrateWithOnnxRuntime>[3]) => {
      const exec = Int8Executor.create(kernel, quantizeWithRanges(eqGraph, await calibrateWithOnnxRuntime(onnx, eqGraph, calibration, equalized)));
      let sq = 0;
      for (const x of heldOut) {
        const q = exec.run(x).get('y')!.data, f = runFloat(g, x).get('y')!.data;
        for (let i = 0; i < f.length; i++) sq += (q[i]! - f[i]!) ** 2;
      }
      exec.dispose();
      return sq;
    };
    const eq = equalizeActivations(g, await channelMaximaWithOnnxRuntime(onnx, g, calibration), 0.75);
    const plain = await error(g, {}), equalized = await error(eq.graph, { equalized: eq.inputs });
    expect(equalized).toBeLessThan(0.8 * plain);
  });
});
