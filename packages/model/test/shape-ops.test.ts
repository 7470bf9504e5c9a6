import * as ort from 'onnxruntime-web';
import { Prng } from '@compotastic/mesh';
import { loadKernel } from '@compotastic/kernel';
import { describe, expect, it } from 'vitest';
import { runFloat } from '../src/graph/float-exec.js';
import { importOnnx, type ImportOptions } from '../src/graph/import.js';
import { GraphShapeError } from '../src/graph/ir.js';
import { graph } from '../src/onnx/builder.js';
import { decodeModel, encodeModel } from '../src/onnx/proto.js';
import { tensor } from '../src/onnx/tensor.js';
import type { Model } from '../src/onnx/types.js';
import { Int8FormatError, decodeInt8Model, encodeInt8Model } from '../src/quant/format.js';
import { Int8Executor } from '../src/quant/executor.js';
import { quantizeGraph } from '../src/quant/quantize.js';

ort.env.wasm.numThreads = 1;

type Feeds = Record<string, { dims: number[]; data: Float32Array }>;

function random(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Prng(seed);
  return Float32Array.from({ length: n }, () => rng.gaussian(0, scale));
}

const ints = (...v: number[]) => BigInt64Array.from(v.map(BigInt));

async function ortRun(model: Model, feeds: Feeds): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(encodeModel(model), { executionProviders: ['wasm'] });
  try {
    return await session.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.dims)])));
  } finally {
    await session.release();
  }
}

/** Runs the model in ONNX Runtime and on the float executor; returns each output's max abs difference (dims must match). */
async function compare(model: Model, feeds: Feeds, options?: ImportOptions): Promise<Record<string, number>> {
  const expected = await ortRun(model, feeds);
  const g = importOnnx(decodeModel(encodeModel(model)), options);
  const values = runFloat(g, new Map(Object.entries(feeds)));
  const diffs: Record<string, number> = {};
  for (const name of g.outputs) {
    const got = values.get(name) ?? g.constants.get(name)!;
    const want = expected[name]!;
    expect(got.dims, name).toEqual(want.dims.map(Number));
    const w = Array.from(want.data as ArrayLike<number | bigint>, Number);
    let m = 0;
    for (let i = 0; i < w.length; i++) m = Math.max(m, Math.abs(got.data[i]! - w[i]!));
    diffs[name] = m;
  }
  return diffs;
}

describe('shape and tensor ops against ONNX Runtime', () => {
  const x = { dims: [2, 3, 8], data: random(48, 1, 2) };

  const shapeGraph = (dims: (number | null)[]) => graph('shapes')
    .input('x', 'float32', dims)
    .initializer('pads', tensor('int64', [6], ints(0, 1, 2, 0, 0, 3)))
    .initializer('edgePads', tensor('int64', [6], ints(0, 0, 1, 1, 0, 2)))
    .initializer('cval', tensor('float32', [], Float32Array.of(-7)))
    .initializer('s_starts', tensor('int64', [1], ints(1)))
    .initializer('s_ends', tensor('int64', [1], ints(-1)))
    .initializer('s_axes', tensor('int64', [1], ints(2)))
    .initializer('s_steps', tensor('int64', [1], ints(2)))
    .initializer('r_starts', tensor('int64', [2], ints(-1, 9)))
    .initializer('r_ends', tensor('int64', [2], ints(-9223372036854775807n as unknown as number, 0)))
    .initializer('r_axes', tensor('int64', [2], ints(1, -1)))
    .initializer('r_steps', tensor('int64', [2], ints(-1, -3)))
    .initializer('idx', tensor('int64', [2, 2], ints(0, 2, -1, 1)))
    .initializer('two', tensor('int64', [1], ints(2)))
    .node('Pad', ['x', 'pads'], ['reflected'], { mode: 'reflect' })
    .node('Pad', ['x', 'edgePads'], ['edged'], { mode: 'edge' })
    .node('Pad', ['x', 'pads', 'cval'], ['constPadded'])
    .node('Slice', ['reflected', 's_starts', 's_ends', 's_axes', 's_steps'], ['sliced'])
    .node('Slice', ['x', 'r_starts', 'r_ends', 'r_axes', 'r_steps'], ['reversed'])
    .node('Gather', ['x', 'idx'], ['gathered'], { axis: 1 })
    .node('Shape', ['x'], ['shape'])
    .node('Gather', ['shape', 'two'], ['last'], { axis: 0 })
    .node('ConstantOfShape', ['shape'], ['halves'], { value: tensor('float32', [1], Float32Array.of(0.5)) })
    .node('Add', ['x', 'halves'], ['shifted'])
    .node('Size', ['x'], ['size'])
    .node('Cast', ['size'], ['sizeF'], { to: 1 })
    .node('Cast', ['last'], ['lastF'], { to: 1 })
    .node('Mul', ['x', 'sizeF'], ['scaled'])
    .node('Cast', ['x'], ['xInt'], { to: 7 })
    .node('Cast', ['xInt'], ['truncated'], { to: 1 })
    .node('Cast', ['x'], ['xBool'], { to: 9 })
    .node('Cast', ['xBool'], ['nonZero'], { to: 1 })
    .output('reflected').output('edged').output('constPadded').output('sliced').output('reversed').output('gathered')
    .output('shifted').output('scaled').output('lastF').output('truncated').output('nonZero')
    .model({ opset: 17 });

  it('Pad (reflect, edge, constant), Slice (steps, negative, clamped), Gather, Shape, Size, ConstantOfShape, Cast match exactly', async () => {
    const diffs = await compare(shapeGraph([2, 3, 8]), { x });
    for (const [name, d] of Object.entries(diffs)) expect(d, name).toBe(0);
  });

  it('folds Shape and Size to constants when the dims are fixed, and runs them when they are not', async () => {
    const fixed = importOnnx(decodeModel(encodeModel(shapeGraph([2, 3, 8]))));
    expect(fixed.ops.map((o) => o.kind)).not.toContain('shape');
    expect(fixed.ops.map((o) => o.kind)).not.toContain('constantofshape');
    expect(fixed.constants.get('lastF')!.data[0]).toBe(8);
    const symbolic = importOnnx(decodeModel(encodeModel(shapeGraph([null, 3, null]))));
    expect(symbolic.ops.map((o) => o.kind)).toContain('shape');
    const given = importOnnx(decodeModel(encodeModel(shapeGraph([null, 3, null]))), { inputShapes: { x: [2, 3, 8] } });
    expect(given.ops.map((o) => o.kind)).not.toContain('shape');
    const diffs = await compare(shapeGraph([null, 3, null]), { x });
    for (const [name, d] of Object.entries(diffs)) expect(d, name).toBe(0);
    // Another batch through the runtime Shape path.
    const x2 = { dims: [1, 3, 5], data: random(15, 2) };
    const diffs2 = await compare(shapeGraph([null, 3, null]), { x: x2 });
    for (const [name, d] of Object.entries(diffs2)) expect(d, name).toBe(0);
  });

  it('folds a chain of constant ops at import (the padding spec Silero builds from Slice, Transpose and Reshape)', async () => {
    const m = graph('fold')
      .input('x', 'float32', [1, 10])
      .initializer('base', tensor('int64', [2], ints(0, 3)))
      .initializer('n', tensor('int64', [1], ints(2)))
      .initializer('rs', tensor('int64', [2], ints(-1, 2)))
      .initializer('st', tensor('int64', [1], ints(-1)))
      .initializer('en', tensor('int64', [1], ints(-9223372036854775807n as unknown as number)))
      .initializer('ax', tensor('int64', [1], ints(0)))
      .initializer('flat', tensor('int64', [1], ints(-1)))
      .node('ConstantOfShape', ['n'], ['zeros'], { value: tensor('int64', [1], ints(0)) })
      .node('Concat', ['base', 'zeros'], ['spec'], { axis: 0 })
      .node('Reshape', ['spec', 'rs'], ['pairs'])
      .node('Slice', ['pairs', 'st', 'en', 'ax', 'st'], ['rev'])
      .node('Transpose', ['rev'], ['t'], { perm: [1, 0] })
      .node('Reshape', ['t', 'flat'], ['padsF'])
      .node('Cast', ['padsF'], ['pads'], { to: 7 })
      .node('Pad', ['x', 'pads'], ['y'], { mode: 'reflect' })
      .output('y')
      .model({ opset: 17 });
    const g = importOnnx(decodeModel(encodeModel(m)));
    expect(g.ops.map((o) => o.kind)).toEqual(['pad']);
    const diffs = await compare(m, { x: { dims: [1, 10], data: random(10, 3) } });
    expect(diffs['y']).toBe(0);
  });

  it('rejects bad uses with typed errors', () => {
    const bad = graph('bad').input('x', 'float32', [2, 3])
      .initializer('idx', tensor('int64', [1], ints(5)))
      .node('Gather', ['x', 'idx'], ['y'], { axis: 1 }).output('y').model({ opset: 17 });
    const g = importOnnx(decodeModel(encodeModel(bad)));
    expect(() => runFloat(g, new Map([['x', { dims: [2, 3], data: new Float32Array(6) }]]))).toThrow(GraphShapeError);
    const wrap = graph('wrap').input('x', 'float32', [2, 3])
      .initializer('pads', tensor('int64', [4], ints(0, 3, 0, 0)))
      .node('Pad', ['x', 'pads'], ['y'], { mode: 'reflect' }).output('y').model({ opset: 17 });
    const g2 = importOnnx(decodeModel(encodeModel(wrap)));
    expect(() => runFloat(g2, new Map([['x', { dims: [2, 3], data: new Float32Array(6) }]]))).toThrow(GraphShapeError);
    const wrapMode = graph('wrapmode').input('x', 'float32', [2, 3])
      .initializer('pads', tensor('int64', [4], ints(0, 1, 0, 0)))
      .node('Pad', ['x', 'pads'], ['y'], { mode: 'wrap' }).output('y').model({ opset: 19 });
    expect(() => importOnnx(decodeModel(encodeModel(wrapMode)))).toThrow(/Pad with mode=wrap/);
  });
});

describe('LSTM against ONNX Runtime', () => {
  const lstmModel = (direction: string, withState: boolean, hidden = 5, input = 6) => {
    const g = graph('lstm')
      .input('x', 'float32', [4, 2, input])
      .initializer('W', tensor('float32', [1, 4 * hidden, input], random(4 * hidden * input, 11, 0.4)))
      .initializer('R', tensor('float32', [1, 4 * hidden, hidden], random(4 * hidden * hidden, 12, 0.4)))
      .initializer('B', tensor('float32', [1, 8 * hidden], random(8 * hidden, 13, 0.3)));
    if (withState) g.input('h0', 'float32', [1, 2, hidden]).input('c0', 'float32', [1, 2, hidden]);
    return g
      .node('LSTM', ['x', 'W', 'R', 'B', '', withState ? 'h0' : '', withState ? 'c0' : ''], ['Y', 'Y_h', 'Y_c'], { hidden_size: hidden, direction })
      .output('Y').output('Y_h').output('Y_c')
      .model({ opset: 17 });
  };
  const feeds = (hidden = 5, input = 6): Feeds => ({
    x: { dims: [4, 2, input], data: random(8 * input, 21, 1.5) },
    h0: { dims: [1, 2, hidden], data: random(2 * hidden, 22, 0.5) },
    c0: { dims: [1, 2, hidden], data: random(2 * hidden, 23, 0.5) },
  });

  for (const direction of ['forward', 'reverse']) {
    it(`${direction}, with an initial state: Y, Y_h and Y_c within 1e-5`, async () => {
      const diffs = await compare(lstmModel(direction, true), feeds());
      expect(Object.keys(diffs)).toEqual(['Y', 'Y_h', 'Y_c']);
      for (const [name, d] of Object.entries(diffs)) expect(d, name).toBeLessThan(1e-5);
    });
  }

  it('starts from zeros without an initial state', async () => {
    const x = feeds()['x']!;
    const diffs = await compare(lstmModel('forward', false), { x });
    for (const [name, d] of Object.entries(diffs)) expect(d, name).toBeLessThan(1e-5);
  });

  it('runs its matrix products in int8 on the kernel close to float, and carries through the int8 format', async () => {
    const kernel = await loadKernel();
    const g = importOnnx(decodeModel(encodeModel(lstmModel('forward', true))));
    const inputs = new Map(Object.entries(feeds()));
    const q = quantizeGraph(g, inputs);
    expect(q.recurrent?.size).toBe(1);
    expect(q.constants.has('W')).toBe(false); // the float weights are not in the bundle
    const float = runFloat(g, inputs);
    const exec = Int8Executor.create(kernel, q);
    const got = exec.run(inputs);
    for (const name of ['Y', 'Y_h', 'Y_c']) {
      const a = float.get(name)!.data, b = got.get(name)!.data;
      let m = 0;
      for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
      expect(m, name).toBeGreaterThan(0);
      expect(m, name).toBeLessThan(0.05);
    }
    const floatLstm = quantizeGraph(g, inputs, { lstm: 'float' });
    expect(floatLstm.recurrent).toBeUndefined();
    const parts = encodeInt8Model(q);
    const decoded = decodeInt8Model(parts);
    expect(decoded.ops[0]).toEqual(q.ops[0]);
    const again = Int8Executor.create(kernel, decoded);
    expect(Array.from(again.run(inputs).get('Y')!.data)).toEqual(Array.from(got.get('Y')!.data));
    again.dispose();
    exec.dispose();
    const mutate = (f: (cfg: { ops: { hiddenSize: number }[]; recurrent: { op: number; h: { weights: { offset: number } } }[] }) => void) => {
      const cfg = JSON.parse(new TextDecoder().decode(parts.config));
      f(cfg);
      return () => decodeInt8Model({ config: new TextEncoder().encode(JSON.stringify(cfg)), weights: parts.weights });
    };
    expect(mutate((c) => { c.ops[0]!.hiddenSize = 0; })).toThrow(/hidden size/);
    expect(mutate((c) => { c.ops[0]!.hiddenSize = 4; })).toThrow(/do not fit hidden size/);
    expect(mutate((c) => { c.recurrent[0]!.op = 7; })).toThrow(/does not point at an LSTM/);
    expect(mutate((c) => { c.recurrent[0]!.h.weights.offset = parts.weights.length; })).toThrow(Int8FormatError);
  });

  it('rejects what it does not implement by name', () => {
    expect(() => importOnnx(decodeModel(encodeModel(lstmModel('bidirectional', false))))).toThrow(/LSTM with direction=bidirectional/);
  });
});
