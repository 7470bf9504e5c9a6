// onnxruntime-web (wasm backend, in Node) loads and runs models built here:
// the strongest check that the bytes are ONNX as other tools read it.
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Model, encodeModel, graph, tensor } from '../src/index.js';
import { rng } from './helpers.js';

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
});

async function run(model: Model, feeds: Record<string, ort.Tensor>, storage: 'raw' | 'typed' = 'raw') {
  const session = await ort.InferenceSession.create(encodeModel(model, { tensorStorage: storage }), { executionProviders: ['wasm'] });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
}

describe('onnxruntime-web runs built models', () => {
  it('MatMulInteger with constant weights and zero points', async () => {
    const [m, k, n] = [3, 37, 5];
    const next = rng(11);
    const a = Uint8Array.from({ length: m * k }, () => next() & 255);
    const b = Int8Array.from({ length: k * n }, () => (next() & 255) - 128);
    const aZp = 131, bZp = -3;
    const model = graph('mm')
      .input('A', 'uint8', [m, k])
      .initializer('B', tensor('int8', [k, n], b))
      .initializer('a_zp', tensor('uint8', [], [aZp]))
      .initializer('b_zp', tensor('int8', [], [bZp]))
      .node('MatMulInteger', ['A', 'B', 'a_zp', 'b_zp'], ['Y'])
      .output('Y', 'int32', [m, n])
      .model({ opset: 21 });
    const expected = new Int32Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc += (a[i * k + p]! - aZp) * (b[p * n + j]! - bZp);
        expected[i * n + j] = acc;
      }
    }
    for (const storage of ['raw', 'typed'] as const) {
      const out = await run(model, { A: new ort.Tensor('uint8', a, [m, k]) }, storage);
      expect(out.Y!.dims).toEqual([m, n]);
      expect(out.Y!.data).toEqual(expected);
    }
  });

  it('QuantizeLinear per tensor (uint8) and per axis (int8)', async () => {
    const x = Float32Array.of(-3, -0.5, 0, 0.25, 0.75, 1.25, 2.5, 1000, -1000, 0.125, 7, -7);
    const perTensor = graph('q')
      .input('x', 'float32', [3, 4])
      .initializer('scale', tensor('float32', [], [0.5]))
      .initializer('zp', tensor('uint8', [], [10]))
      .node('QuantizeLinear', ['x', 'scale', 'zp'], ['y'])
      .output('y', 'uint8', [3, 4])
      .model({ opset: 21 });
    const y1 = await run(perTensor, { x: new ort.Tensor('float32', x, [3, 4]) });
    expect(Array.from(y1.y!.data as Uint8Array)).toEqual(Array.from(x, (v) => Math.min(255, Math.max(0, roundHalfEven(v / 0.5) + 10))));

    const scales = [0.5, 0.25, 2, 1];
    const zps = [0, -4, 3, 127];
    const perAxis = graph('qa')
      .input('x', 'float32', [3, 4])
      .initializer('scale', tensor('float32', [4], scales))
      .initializer('zp', tensor('int8', [4], zps))
      .node('QuantizeLinear', ['x', 'scale', 'zp'], ['y'], { axis: 1 })
      .output('y', 'int8', [3, 4])
      .model({ opset: 21 });
    const y2 = await run(perAxis, { x: new ort.Tensor('float32', x, [3, 4]) }, 'typed');
    const expected = Array.from(x, (v, i) => Math.min(127, Math.max(-128, roundHalfEven(v / scales[i % 4]!) + zps[i % 4]!)));
    expect(Array.from(y2.y!.data as Int8Array)).toEqual(expected);
  });
});
