import * as ort from 'onnxruntime-web';
import { Prng } from '@compotastic/mesh';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKernel, type Kernel } from '@compotastic/kernel';
import * as kref from '@compotastic/kernel/reference';
import { vibrationDataset } from '../src/data/vibration.js';
import { runFloat } from '../src/graph/float-exec.js';
import { importOnnx } from '../src/graph/import.js';
import { UnsupportedOpsError } from '../src/graph/ir.js';
import { graph } from '../src/onnx/builder.js';
import { decodeModel, encodeModel } from '../src/onnx/proto.js';
import { tensor } from '../src/onnx/tensor.js';
import { Int8Executor } from '../src/quant/executor.js';
import { Int8FormatError, decodeInt8Model, encodeInt8Model } from '../src/quant/format.js';
import { activationBytes, activationLayout, decodeActivations, encodeActivations } from '../src/quant/activations.js';
import { quantizeGraph, type Int8Model } from '../src/quant/quantize.js';
import { buildReferenceModel, type ReferenceModel } from '../src/reference-model.js';

ort.env.wasm.numThreads = 1;

let ref: ReferenceModel;
let kernels: Kernel[];
let ortProbs: Float32Array;

function top1(p: ArrayLike<number>, rows: number, cols: number): number[] {
  return Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let j = 1; j < cols; j++) if (p[r * cols + j]! > p[r * cols + best]!) best = j;
    return best;
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

/**
 * Checks every int8 linear layer of an executor's run against the plain-TypeScript reference kernels, independently
 * of any Wasm build: uint8 QuantizeLinear of the layer's input with its calibrated scale and zero point,
 * MatMulInteger against the int8 weights, then (acc + bias) * inputScale * weightScale per output channel. The first
 * `maxRows` rows are checked (the reference loops are slow, and every row takes the same path).
 */
function expectLinearsMatchReference(q: Int8Model, values: Map<string, { dims: number[]; data: Float32Array }>, label: string, maxRows = 64): void {
  for (const [i, l] of q.linears) {
    const op = q.ops[i]!;
    if (op.kind !== 'linear') throw new Error(`op ${i} is not linear`);
    const all = values.get(op.input)!.data;
    const rows = Math.min(all.length / l.k, maxRows);
    const x = all.subarray(0, rows * l.k);
    const qx = kref.quantizeLinear(x, [l.inputScale], [l.inputZeroPoint], 'uint8', { axisLen: 1, inner: 1, mode: 'tensor' });
    const acc = kref.matmulInteger(qx, l.weights, rows, l.k, l.n, [l.inputZeroPoint], [0]);
    const want = new Float32Array(rows * l.n);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < l.n; c++) want[r * l.n + c] = (acc[r * l.n + c]! + l.bias[c]!) * Math.fround(l.inputScale * l.weightScales[c]!);
    }
    // Integer arithmetic is exact; only the float32 rounding of the epilogue may differ.
    const got = values.get(op.output)!.data;
    let worst = 0;
    for (let j = 0; j < want.length; j++) worst = Math.max(worst, Math.abs(got[j]! - want[j]!) / (1 + Math.abs(want[j]!)));
    expect(worst, `${label}: layer ${i}`).toBeLessThan(1e-6);
  }
}

beforeAll(async () => {
  ref = buildReferenceModel({ trainSamples: 3000, testSamples: 600, epochs: 6 });
  kernels = await Promise.all((['scalar', 'simd'] as const).map((build) => loadKernel({ build })));
  const session = await ort.InferenceSession.create(ref.onnx);
  const out = await session.run({ x: new ort.Tensor('float32', ref.test.x, [ref.test.count, ref.test.features]) });
  ortProbs = out.probs!.data as Float32Array;
}, 120_000);

describe('the reference model', () => {
  it('learns the task: well above the 20% chance level on held-out data', () => {
    expect(ref.testAccuracy).toBeGreaterThan(0.8);
    expect(ref.trainAccuracy).toBeGreaterThanOrEqual(ref.testAccuracy - 0.01);
  });

  it('is rebuilt identically from the same seed', () => {
    // Determinism does not depend on the data volume: a small build (a tenth of the data, one epoch) keeps this cheap.
    const small = { trainSamples: 300, testSamples: 60, epochs: 1 };
    const a = buildReferenceModel(small);
    const again = buildReferenceModel(small);
    expect(Buffer.from(again.onnx).equals(Buffer.from(a.onnx))).toBe(true);
    const other = buildReferenceModel({ ...small, seed: 2 });
    expect(Buffer.from(other.onnx).equals(Buffer.from(a.onnx))).toBe(false);
  });
});

describe('ONNX import and the float executor', () => {
  it('imports the exported model and matches ONNX Runtime within 1e-5', () => {
    const g = importOnnx(decodeModel(ref.onnx));
    expect(g.ops.map((o) => o.kind)).toEqual(['linear', 'layernorm', 'gelu', 'linear', 'relu', 'linear', 'softmax']);
    const probs = runFloat(g, new Map([['x', { dims: [ref.test.count, ref.test.features], data: ref.test.x }]])).get('probs')!;
    expect(probs.dims).toEqual([ref.test.count, 5]);
    let maxDiff = 0;
    for (let i = 0; i < probs.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(probs.data[i]! - ortProbs[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('names every unsupported operator in one error', () => {
    const m = graph('bad')
      .input('x', 'float32', [1, 4])
      .initializer('w', tensor('float32', [4, 4], new Float32Array(16)))
      .node('MatMul', ['x', 'w'], ['a'])
      .node('Conv', ['a', 'w'], ['a2'], { group: 2 })
      .node('GRU', ['a2', 'w', 'w'], ['b'])
      .node('LSTM', ['b', 'w', 'w'], ['c'], { hidden_size: 4, direction: 'bidirectional' })
      .node('Relu', ['c'], ['y'])
      .output('y', 'float32', [1, 4])
      .model({ opset: 20 });
    let err: unknown;
    try {
      importOnnx(decodeModel(encodeModel(m)));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedOpsError);
    expect((err as UnsupportedOpsError).ops).toEqual(['Conv with group != 1', 'GRU', 'LSTM with direction=bidirectional']);
    expect((err as Error).message).toMatch(/Conv with group != 1, GRU, LSTM with direction=bidirectional/);
  });

  it('runs a small transformer block (attention with softmax, residual, layer norm, GELU MLP) like ONNX Runtime', async () => {
    const t = 6, d = 8;
    // Unit-variance inputs and weights of variance 1/fan-in, so the attention and MLP branches add O(1) terms to the
    // residual stream: with small weights they contribute ~0.01 and an int8 path that dropped them would still pass.
    const rnd = (n: number, seed: number, sd = 1) => {
      const prng = new Prng(seed);
      return Float32Array.from({ length: n }, () => prng.gaussian(0, sd));
    };
    const w = (name: string, rows: number, cols: number, seed: number) => tensor('float32', [rows, cols], rnd(rows * cols, seed, 1 / Math.sqrt(rows)));
    const m = graph('block')
      .input('x', 'float32', [t, d])
      .initializer('wq', w('wq', d, d, 1)).initializer('wk', w('wk', d, d, 3)).initializer('wv', w('wv', d, d, 5))
      .initializer('wo', w('wo', d, d, 7)).initializer('w1', w('w1', d, 16, 9)).initializer('w2', w('w2', 16, d, 11))
      .initializer('scale', tensor('float32', [], [1 / Math.sqrt(d)]))
      .initializer('g', tensor('float32', [d], new Float32Array(d).fill(1))).initializer('b', tensor('float32', [d], new Float32Array(d)))
      .node('MatMul', ['x', 'wq'], ['q']).node('MatMul', ['x', 'wk'], ['k']).node('MatMul', ['x', 'wv'], ['v'])
      .node('Transpose', ['k'], ['kt'], { perm: [1, 0] })
      .node('MatMul', ['q', 'kt'], ['s']).node('Mul', ['s', 'scale'], ['ss']).node('Softmax', ['ss'], ['p'], { axis: -1 })
      .node('MatMul', ['p', 'v'], ['att']).node('MatMul', ['att', 'wo'], ['o']).node('Add', ['x', 'o'], ['r1'])
      .node('LayerNormalization', ['r1', 'g', 'b'], ['n1'], { axis: -1 })
      .node('MatMul', ['n1', 'w1'], ['f1']).node('Gelu', ['f1'], ['f2']).node('MatMul', ['f2', 'w2'], ['f3'])
      .node('Add', ['n1', 'f3'], ['y'])
      .output('y', 'float32', [t, d])
      .model({ opset: 20 });
    const bytes = encodeModel(m);
    const x = rnd(t * d, 42);
    const session = await ort.InferenceSession.create(bytes);
    const want = (await session.run({ x: new ort.Tensor('float32', x, [t, d]) })).y!.data as Float32Array;
    const g = importOnnx(decodeModel(bytes));
    const got = runFloat(g, new Map([['x', { dims: [t, d], data: x }]])).get('y')!;
    expect(got.dims).toEqual([t, d]);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got.data[i]! - want[i]!)).toBeLessThan(1e-4);
    // Both branches matter: y differs from the residual stream alone (n1 without the MLP) by O(1).
    const n1 = runFloat(g, new Map([['x', { dims: [t, d], data: x }]])).get('n1')!;
    expect(maxAbsDiff(n1.data, want)).toBeGreaterThan(0.5);
    // The int8 version stays close too. Six int8 layers each add about half an input step (scale ~ 0.015) times the
    // weights' norm (~1); measured here (fixed data): max 0.016, mean 0.0064. The bounds are ~2.5x that, far below
    // the O(1) terms a wrong int8 layer would disturb.
    const q = quantizeGraph(g, new Map([['x', { dims: [t, d], data: x }]]));
    expect(q.linears.size).toBe(6);
    const ex = Int8Executor.create(kernels[1]!, q);
    const qvalues = ex.run(new Map([['x', { dims: [t, d], data: x }]]));
    expectLinearsMatchReference(q, qvalues, 'transformer');
    const qy = qvalues.get('y')!;
    expect(maxAbsDiff(qy.data, want)).toBeLessThan(0.04);
    expect(meanAbsDiff(qy.data, want)).toBeLessThan(0.015);
    ex.dispose();
  });
});

describe('int8 quantization and the int8 executor', () => {
  function quantized() {
    const g = importOnnx(decodeModel(ref.onnx));
    const calib = new Map([['x', { dims: [400, ref.train.features], data: ref.train.x.subarray(0, 400 * ref.train.features) }]]);
    return quantizeGraph(g, calib);
  }

  it('agrees with the float model in ONNX Runtime on held-out inputs, on every build', () => {
    const q = decodeInt8Model(encodeInt8Model(quantized()));
    const n = ref.test.count;
    const want = top1(ortProbs, n, 5);
    const outputs = kernels.map((k) => {
      const ex = Int8Executor.create(k, q);
      const values = ex.run(new Map([['x', { dims: [n, ref.test.features], data: ref.test.x }]]));
      ex.dispose();
      // Layer by layer, each build computes exactly what the reference kernels compute.
      expectLinearsMatchReference(q, values, k.build);
      return values.get('probs')!.data;
    });
    expect(outputs).toHaveLength(2);
    outputs.forEach((probs, b) => {
      const build = kernels[b]!.build;
      // Each build against ONNX Runtime's float model (the independent reference). Measured (fixed seeds): 596 of
      // 600 top-1 classes agree, mean |dp| 0.0021, max |dp| 0.098 on a sample near a decision boundary. The bounds
      // are ~2x that; a wrong scale, zero point or bias moves the mean by far more.
      const agreement = top1(probs, n, 5).filter((c, i) => c === want[i]).length / n;
      expect(agreement, build).toBeGreaterThanOrEqual(0.985);
      expect(meanAbsDiff(probs, ortProbs), build).toBeLessThan(0.005);
      expect(maxAbsDiff(probs, ortProbs), build).toBeLessThan(0.2);
    });
    // And the builds agree with each other bit for bit (integer arithmetic, the same float epilogue).
    const bytes = (f: Float32Array) => Buffer.from(f.buffer, f.byteOffset, f.byteLength);
    expect(Buffer.compare(bytes(outputs[1]!), bytes(outputs[0]!))).toBe(0);
  });

  it('runs any layer range: a two-stage pipeline equals the whole model', () => {
    const q = quantized();
    const ex = Int8Executor.create(kernels[1]!, q);
    const x = new Map([['x', { dims: [16, ref.test.features], data: ref.test.x.subarray(0, 16 * ref.test.features) }]]);
    const whole = ex.run(x).get('probs')!;
    for (let cut = 1; cut < ex.layerCount; cut++) {
      const stage1 = ex.run(x, { to: cut });
      const live = new Map(ex.liveAt(cut).map((name) => [name, stage1.get(name)!] as const));
      expect(live.size).toBe(1);
      const stage2 = ex.run(live, { from: cut });
      expect(Array.from(stage2.get('probs')!.data)).toEqual(Array.from(whole.data));
    }
    expect(() => ex.run(x, { from: 3, to: 2 })).toThrow(/layer range/);
    // Across the mesh: every cut's live values serialized and back give the same result, and a value that feeds a
    // linear layer travels as one byte per element.
    const all = ex.run(x);
    const widths = (name: string) => all.get(name)!.data.length / 16;
    for (let cut = 1; cut < ex.layerCount; cut++) {
      const layout = activationLayout(ex, cut, widths);
      const bytes = encodeActivations(layout, ex.run(x, { to: cut }), 16);
      expect(bytes.length).toBe(activationBytes(layout, 16));
      const stage2 = ex.run(decodeActivations(layout, bytes, 16), { from: cut });
      expect(Array.from(stage2.get('probs')!.data), `cut ${cut}`).toEqual(Array.from(whole.data));
    }
    const input = activationLayout(ex, 0, widths);
    expect(input).toHaveLength(1);
    expect(input[0]!.quantizedBy).toBeDefined();
    expect(activationBytes(input, 1)).toBe(64);
    expect(() => decodeActivations(input, new Uint8Array(63), 1)).toThrow(/bytes/);
    expect(ex.macs(1)).toBe(64 * 96 + 96 * 48 + 48 * 5);
    ex.dispose();
  });

  it('decodes parts held in Node Buffers, and parts that sit inside a larger file, to the same model', () => {
    const parts = encodeInt8Model(quantized());
    const plain = decodeInt8Model(parts);
    // Both parts at an odd offset inside one file, as a reader of a bundle or a state file hands them over.
    const file = Buffer.alloc(parts.config.length + parts.weights.length + 7, 0x5a);
    file.set(parts.weights, 3);
    file.set(parts.config, 3 + parts.weights.length + 1);
    const fromFile = decodeInt8Model({
      weights: file.subarray(3, 3 + parts.weights.length),
      config: file.subarray(3 + parts.weights.length + 1, 3 + parts.weights.length + 1 + parts.config.length),
    });
    expect(fromFile.linears.size).toBe(plain.linears.size);
    for (const [op, l] of plain.linears) {
      const b = fromFile.linears.get(op)!;
      expect(Buffer.from(b.weights.buffer, b.weights.byteOffset, b.weights.byteLength).equals(Buffer.from(l.weights.buffer, l.weights.byteOffset, l.weights.byteLength))).toBe(true);
      expect(Array.from(b.weightScales)).toEqual(Array.from(l.weightScales));
      expect(Array.from(b.bias)).toEqual(Array.from(l.bias));
    }
  });

  it('rejects corrupted or mismatched int8 parts with typed errors', () => {
    const parts = encodeInt8Model(quantized());
    expect(() => decodeInt8Model({ config: parts.config, weights: parts.weights.subarray(1) })).toThrow(Int8FormatError);
    expect(() => decodeInt8Model({ config: new TextEncoder().encode('{"format":"x"}'), weights: parts.weights })).toThrow(Int8FormatError);
    expect(() => decodeInt8Model({ config: Uint8Array.of(0xff, 0xfe), weights: parts.weights })).toThrow(Int8FormatError);
    const cfg = JSON.parse(new TextDecoder().decode(parts.config));
    cfg.linears[0].weights.offset = parts.weights.length - 4;
    expect(() => decodeInt8Model({ config: new TextEncoder().encode(JSON.stringify(cfg)), weights: parts.weights })).toThrow(/runs past|bytes/);
    const cfg2 = JSON.parse(new TextDecoder().decode(parts.config));
    cfg2.ops[0].kind = 'gru';
    expect(() => decodeInt8Model({ config: new TextEncoder().encode(JSON.stringify(cfg2)), weights: parts.weights })).toThrow(/unknown kind/);
  });
});

describe('fine-tuning', () => {
  it('starts from given weights without changing them, and moves them only a little', async () => {
    const { trainMlp, mlpAccuracy } = await import('../src/index.js');
    const fresh = vibrationDataset(800, 77);
    const before = ref.weights.w1.slice();
    const tuned = trainMlp(fresh, { init: ref.weights, epochs: 1, learningRate: 5e-4, seed: 3 });
    expect(Array.from(ref.weights.w1)).toEqual(Array.from(before));
    let maxDelta = 0;
    for (let i = 0; i < before.length; i++) maxDelta = Math.max(maxDelta, Math.abs(tuned.w1[i]! - before[i]!));
    expect(maxDelta).toBeGreaterThan(0);
    expect(maxDelta).toBeLessThan(0.05);
    expect(mlpAccuracy(tuned, ref.test)).toBeGreaterThan(0.8);
  });
});
