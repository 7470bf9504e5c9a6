// If at import: small graphs built here, inlined (a folded condition keeps one
// branch; any other condition becomes both branches and Where) and run by the
// float executor and the int8 executor, checked against onnxruntime-web running
// the original If.
import * as ort from 'onnxruntime-web';
import { Prng } from '@compotastic/mesh';
import { loadKernel } from '@compotastic/kernel';
import { beforeAll, describe, expect, it } from 'vitest';
import { inlineIf } from '../src/graph/control-flow.js';
import { runFloat } from '../src/graph/float-exec.js';
import { importOnnx } from '../src/graph/import.js';
import { GraphShapeError, type FloatTensor } from '../src/graph/ir.js';
import { graph } from '../src/onnx/builder.js';
import { encodeModel } from '../src/onnx/proto.js';
import { tensor } from '../src/onnx/tensor.js';
import type { Graph, Model } from '../src/onnx/types.js';
import { Int8Executor } from '../src/quant/executor.js';
import { decodeInt8Model, encodeInt8Model } from '../src/quant/format.js';
import { quantizeGraph } from '../src/quant/quantize.js';

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
});

function randomInput(prng: Prng, dims: number[], scale = 1): FloatTensor {
  return { dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => (prng.float() * 2 - 1) * scale) };
}

async function ortRun(model: Model, inputs: Record<string, FloatTensor>): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(encodeModel(model));
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [n, t] of Object.entries(inputs)) feeds[n] = new ort.Tensor('float32', t.data, t.dims);
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([n, t]) => [n, Float32Array.from(t.data as ArrayLike<number>, Number)]));
  } finally {
    await session.release();
  }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const weight = (prng: Prng, k: number, n: number) => tensor('float32', [k, n], Float32Array.from({ length: k * n }, () => prng.float() - 0.5));

/** y = If(mean(x) > 0) then relu(x W1) * 2 else -(x W2): a condition on the data, branch-local names that clash. */
function dataDependentIf(prng: Prng): Model {
  const thenG = graph('then')
    .initializer('k', tensor('float32', [], [2]))
    .node('MatMul', ['x', 'w1'], ['h'])
    .node('Relu', ['h'], ['r'])
    .node('Mul', ['r', 'k'], ['y'])
    .output('y', 'float32')
    .build({ outerScope: ['x', 'w1', 'w2'] });
  const elseG = graph('else')
    .initializer('k', tensor('float32', [], [-1]))
    .node('MatMul', ['x', 'w2'], ['h'])
    .node('Mul', ['h', 'k'], ['y'])
    .output('y', 'float32')
    .build({ outerScope: ['x', 'w1', 'w2'] });
  return graph('if-data')
    .input('x', 'float32', [3, 8])
    .initializer('w1', weight(prng, 8, 4))
    .initializer('w2', weight(prng, 8, 4))
    .initializer('zero', tensor('float32', [], [0]))
    .node('ReduceMean', ['x'], ['m'], { keepdims: 0 })
    .node('Greater', ['m', 'zero'], ['c'])
    .node('If', ['c'], ['out'], { then_branch: thenG, else_branch: elseG })
    .output('out', 'float32', [3, 4])
    .model({ opset: 17 });
}

describe('If at import', () => {
  it('imports a condition on the data as both branches and Where, matching onnxruntime-web on both sides', async () => {
    const prng = new Prng(5);
    const model = dataDependentIf(prng);
    const { report } = inlineIf(model);
    expect(report).toEqual({ folded: 0, selected: 1 });
    const g = importOnnx(model);
    expect(g.ops.map((o) => o.kind)).toContain('where');
    // Both branches' 'k' and 'h' were renamed apart.
    expect(new Set(g.ops.map((o) => o.output)).size).toBe(g.ops.length);
    const taken = { then: 0, else: 0 };
    for (let t = 0; t < 12; t++) {
      const x = randomInput(prng, [3, 8]);
      const mean = x.data.reduce((a, b) => a + b, 0) / x.data.length;
      taken[mean > 0 ? 'then' : 'else']++;
      const expected = (await ortRun(model, { x }))['out']!;
      const got = runFloat(g, new Map([['x', x]])).get('out')!;
      expect(got.dims).toEqual([3, 4]);
      expect(maxDiff(got.data, expected)).toBeLessThan(1e-5);
    }
    expect(taken.then).toBeGreaterThan(0);
    expect(taken.else).toBeGreaterThan(0);
  });

  it('folds a constant condition: only the chosen branch is imported, so ops in the other need not be supported', async () => {
    const thenG = graph('then').node('Sigmoid', ['x'], ['y']).output('y', 'float32').build({ outerScope: ['x'] });
    const elseG = graph('else').node('Erf', ['x'], ['y']).output('y', 'float32').build({ outerScope: ['x'] });
    for (const flag of [true, false]) {
      const model = graph('if-const')
        .input('x', 'float32', [2, 5])
        .initializer('c', tensor('bool', [], [flag ? 1 : 0]))
        .node('If', ['c'], ['out'], { then_branch: thenG, else_branch: elseG })
        .output('out', 'float32', [2, 5])
        .model({ opset: 17 });
      expect(inlineIf(model).report).toEqual({ folded: 1, selected: 0 });
      if (!flag) {
        expect(() => importOnnx(model)).toThrow(/Erf/);
        continue;
      }
      const g = importOnnx(model);
      expect(g.ops.map((o) => o.kind)).toEqual(['sigmoid', 'identity']);
      const x = randomInput(new Prng(1), [2, 5], 3);
      expect(maxDiff(runFloat(g, new Map([['x', x]])).get('out')!.data, (await ortRun(model, { x }))['out']!)).toBeLessThan(1e-6);
    }
  });

  it('folds a condition computed from the fixed input shape (Shape, Gather, Equal) and drops that chain', async () => {
    const thenG = graph('then').node('Tanh', ['x'], ['y']).output('y', 'float32').build({ outerScope: ['x'] });
    const elseG = graph('else').node('Neg', ['x'], ['y']).output('y', 'float32').build({ outerScope: ['x'] });
    for (const width of [6, 7]) {
      const model = graph('if-shape')
        .input('x', 'float32', [2, width])
        .initializer('one', tensor('int64', [], [1n]))
        .initializer('six', tensor('int64', [], [6n]))
        .node('Shape', ['x'], ['s'])
        .node('Gather', ['s', 'one'], ['w'], { axis: 0 })
        .node('Equal', ['w', 'six'], ['c'])
        .node('If', ['c'], ['out'], { then_branch: thenG, else_branch: elseG })
        .output('out', 'float32', [2, width])
        .model({ opset: 17 });
      const g = importOnnx(model); // Shape and Gather are gone with the folded condition
      expect(g.ops.map((o) => o.kind)).toEqual([width === 6 ? 'tanh' : 'neg', 'identity']);
      const x = randomInput(new Prng(width), [2, width]);
      expect(maxDiff(runFloat(g, new Map([['x', x]])).get('out')!.data, (await ortRun(model, { x }))['out']!)).toBeLessThan(1e-6);
    }
  });

  it('inlines nested Ifs: the inner condition folds from an outer constant, the outer one selects with Where', async () => {
    const inner = (name: string, op: string): Graph =>
      graph(name).node(op, ['x'], ['t']).node('Add', ['t', 'bias'], ['y']).output('y', 'float32').build({ outerScope: ['x', 'bias', 'flag'] });
    const thenG = graph('then')
      .node('If', ['flag'], ['z'], { then_branch: inner('a', 'Sigmoid'), else_branch: inner('b', 'Exp') })
      .node('Identity', ['z'], ['y'])
      .output('y', 'float32')
      .build({ outerScope: ['x', 'bias', 'flag'] });
    const elseG = graph('else').node('Abs', ['x'], ['y']).output('y', 'float32').build({ outerScope: ['x'] });
    const model = graph('if-nested')
      .input('x', 'float32', [4])
      .initializer('bias', tensor('float32', [], [0.25]))
      .initializer('flag', tensor('bool', [], [1]))
      .initializer('lim', tensor('float32', [], [0.1]))
      .node('ReduceMax', ['x'], ['m'], { keepdims: 0 })
      .node('Less', ['m', 'lim'], ['lt'])
      .node('Not', ['lt'], ['c'])
      .node('If', ['c'], ['out'], { then_branch: thenG, else_branch: elseG })
      .output('out', 'float32', [4])
      .model({ opset: 17 });
    expect(inlineIf(model).report).toEqual({ folded: 1, selected: 1 });
    const g = importOnnx(model);
    expect(g.ops.map((o) => o.kind)).not.toContain('exp');
    const prng = new Prng(8);
    for (let t = 0; t < 8; t++) {
      const x = randomInput(prng, [4], 0.3);
      expect(maxDiff(runFloat(g, new Map([['x', x]])).get('out')!.data, (await ortRun(model, { x }))['out']!)).toBeLessThan(1e-6);
    }
    // The inlined model is itself ONNX: onnxruntime-web runs it to the same values.
    const x = randomInput(prng, [4]);
    expect(maxDiff((await ortRun(inlineIf(model).model, { x }))['out']!, (await ortRun(model, { x }))['out']!)).toBe(0);
  });

  it('runs Equal, Greater, Less, GreaterOrEqual, LessOrEqual, And, Or, Not, Where and Cast to bool like onnxruntime-web', async () => {
    const ops = ['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual'] as const;
    const b = graph('logic').input('a', 'float32', [2, 3, 4]).input('b', 'float32', [3, 1]);
    b.node('Cast', ['a'], ['ab'], { to: 9 }).node('Cast', ['b'], ['bb'], { to: 9 });
    for (const op of ops) b.node(op, ['a', 'b'], [`${op}_bool`]).node('Cast', [`${op}_bool`], [op], { to: 1 }).output(op, 'float32');
    b.node('And', ['Greater_bool', 'ab'], ['and_b']).node('Cast', ['and_b'], ['and'], { to: 1 }).output('and', 'float32');
    b.node('Or', ['Less_bool', 'bb'], ['or_b']).node('Not', ['or_b'], ['nor_b']).node('Cast', ['nor_b'], ['nor'], { to: 1 }).output('nor', 'float32');
    b.node('Where', ['GreaterOrEqual_bool', 'a', 'b'], ['where']).output('where', 'float32');
    const model = b.model({ opset: 17 });
    const g = importOnnx(model);
    const prng = new Prng(3);
    // Values on a coarse grid, so equal and unequal pairs and exact zeros all occur.
    const grid = (dims: number[]) => ({ dims, data: Float32Array.from({ length: dims.reduce((p, d) => p * d, 1) }, () => prng.int(-2, 3) / 2) });
    let trues = 0;
    for (let t = 0; t < 6; t++) {
      const inputs = { a: grid([2, 3, 4]), b: grid([3, 1]) };
      const expected = await ortRun(model, inputs);
      const got = runFloat(g, new Map(Object.entries(inputs)));
      for (const name of [...ops, 'and', 'nor', 'where']) {
        expect(got.get(name)!.dims, name).toEqual([2, 3, 4]);
        expect(Array.from(got.get(name)!.data), name).toEqual(Array.from(expected[name]!));
      }
      trues += got.get('Equal')!.data.reduce((s, v) => s + v, 0);
    }
    expect(trues).toBeGreaterThan(0);
  });

  it('quantizes both branches: the int8 executor follows float, and the bundle round-trips', async () => {
    const prng = new Prng(12);
    const model = dataDependentIf(prng);
    const g = importOnnx(model);
    const samples = Array.from({ length: 8 }, () => new Map([['x', randomInput(prng, [3, 8])]]));
    const int8 = quantizeGraph(g, samples);
    expect(int8.linears.size).toBe(2);
    const decoded = decodeInt8Model(encodeInt8Model(int8));
    expect(decoded.ops).toEqual(int8.ops);
    const kernel = await loadKernel();
    const exec = Int8Executor.create(kernel, decoded);
    for (let t = 0; t < 6; t++) {
      const x = randomInput(prng, [3, 8]);
      const expected = (await ortRun(model, { x }))['out']!;
      const got = exec.run(new Map([['x', x]])).get('out')!.data;
      expect(maxDiff(got, expected)).toBeLessThan(0.05);
    }
    exec.dispose();
  });

  it('rejects malformed Ifs with a GraphShapeError', () => {
    const one = graph('one').node('Identity', ['x'], ['y']).output('y', 'float32').build({ outerScope: ['x'] });
    const two = graph('two').node('Identity', ['x'], ['y']).node('Neg', ['x'], ['z']).output('y', 'float32').output('z', 'float32').build({ outerScope: ['x'] });
    const build = (cond: number[], elseG: Graph) => graph('bad')
      .input('x', 'float32', [2])
      .initializer('c', tensor('bool', [cond.length], cond))
      .node('If', ['c'], ['out'], { then_branch: one, else_branch: elseG })
      .output('out', 'float32')
      .model({ opset: 17 });
    expect(() => importOnnx(build([1, 0], one))).toThrow(GraphShapeError);
    expect(() => importOnnx(build([0], two))).toThrow(GraphShapeError);
    const noElse = build([1], one);
    noElse.graph.nodes[0]!.attributes = noElse.graph.nodes[0]!.attributes.filter((a) => a.name !== 'else_branch');
    expect(() => importOnnx(noElse)).toThrow(GraphShapeError);
  });
});
