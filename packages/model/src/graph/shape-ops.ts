// Shape and tensor ops (Shape, Size, Gather, Slice, Pad, ConstantOfShape, Cast to
// integer types) and the LSTM, as Silero VAD's graph uses them. Every
// value is held as float32, so integer values (shapes, indices) are exact up to
// 2^24; Cast to an integer type truncates toward zero. At import an op whose inputs are all constants is evaluated
// once and becomes a constant (the import's generic folding), and Shape and
// Size fold to constants when the input's dims are known.

import { type FloatTensor, GraphShapeError, UnsupportedOpsError } from './ir.js';
import { attr, floatAttr, intAttr, intsAttr, stringAttr } from './attrs.js';
import type { Node, Tensor } from '../onnx/types.js';

export interface ShapeOfOp {
  kind: 'shape' | 'size';
  input: string;
  output: string;
  /** Shape only: the dims [start, end) (ONNX opset 15), end absent for all. */
  start?: number;
  end?: number;
}

export interface GatherOp {
  kind: 'gather';
  input: string;
  indices: string;
  output: string;
  axis: number;
}

export interface SliceOp {
  kind: 'slice';
  input: string;
  output: string;
  starts: number[];
  ends: number[];
  axes: number[];
  steps: number[];
}

export interface PadOp {
  kind: 'pad';
  input: string;
  output: string;
  /** ONNX layout: every axis' begin pad, then every axis' end pad. */
  pads: number[];
  mode: 'constant' | 'reflect' | 'edge';
  value: number;
}

export interface ConstantOfShapeOp {
  kind: 'constantofshape';
  input: string;
  output: string;
  value: number;
}

/** Cast to an integer type: truncation toward zero (Cast to bool is the importer's `tobool`). */
export interface CastOp {
  kind: 'cast';
  input: string;
  output: string;
  to: 'int';
}

/** ONNX LSTM, layout 0, default activations, no peepholes; gates in ONNX order i, o, f, c. */
export interface LstmOp {
  kind: 'lstm';
  /** X [seq, batch, input]. */
  input: string;
  /** Y [seq, directions, batch, hidden]. */
  output: string;
  outputH?: string;
  outputC?: string;
  /** W [directions, 4*hidden, input], R [directions, 4*hidden, hidden], B [directions, 8*hidden]. */
  w: string;
  r: string;
  b?: string;
  initialH?: string;
  initialC?: string;
  hiddenSize: number;
  direction: 'forward' | 'reverse';
}

export type ShapeOp = ShapeOfOp | GatherOp | SliceOp | PadOp | ConstantOfShapeOp | CastOp | LstmOp;

export const SHAPE_OP_KINDS: readonly ShapeOp['kind'][] = ['shape', 'size', 'gather', 'slice', 'pad', 'constantofshape', 'cast', 'lstm'];
const KINDS = new Set<string>(SHAPE_OP_KINDS);

export function isShapeOp(op: { kind: string }): op is ShapeOp {
  return KINDS.has(op.kind);
}

/** ONNX operators this module imports. */
export const SHAPE_ONNX_OPS = ['Shape', 'Size', 'Gather', 'Slice', 'Pad', 'ConstantOfShape', 'LSTM'] as const;

/** ONNX element type codes Cast may target: float32, float64 (both held as float32), integers, bool. */
const CAST_FLOAT = new Set([1, 11]);
const CAST_INT = new Set([2, 3, 4, 5, 6, 7, 12, 13]);
const CAST_BOOL = 9;

export function shapeOpInputs(op: ShapeOp): string[] {
  switch (op.kind) {
    case 'gather':
      return [op.input, op.indices];
    case 'lstm':
      return [op.input, op.w, op.r, ...[op.b, op.initialH, op.initialC].filter((n): n is string => !!n)];
    default:
      return [op.input];
  }
}

export function shapeOpOutputs(op: ShapeOp): string[] {
  return op.kind === 'lstm' ? [op.output, ...[op.outputH, op.outputC].filter((n): n is string => !!n)] : [op.output];
}

/** Why a Cast, Pad or LSTM node is used in a way this module cannot run, or undefined. */
export function shapeOpUnsupportedUse(node: Node): string | undefined {
  switch (node.opType) {
    case 'Cast': {
      const to = intAttr(node, 'to', 0);
      return CAST_FLOAT.has(to) || CAST_INT.has(to) || to === CAST_BOOL ? undefined : `Cast to type ${to}`;
    }
    case 'Pad': {
      const mode = stringAttr(node, 'mode', 'constant');
      if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge') return `Pad with mode=${mode}`;
      return node.inputs[3] ? 'Pad with axes' : undefined;
    }
    case 'LSTM': {
      const dir = stringAttr(node, 'direction', 'forward');
      if (dir !== 'forward' && dir !== 'reverse') return `LSTM with direction=${dir}`;
      if (intAttr(node, 'layout', 0) !== 0) return 'LSTM with layout=1';
      if (intAttr(node, 'input_forget', 0) !== 0) return 'LSTM with input_forget=1';
      if (attr(node, 'clip')) return 'LSTM with clip';
      const acts = attr(node, 'activations');
      if (acts && (acts.type !== 'strings' || acts.value.join(',').toLowerCase() !== 'sigmoid,tanh,tanh')) return 'LSTM with non-default activations';
      if (node.inputs[4]) return 'LSTM with sequence_lens';
      if (node.inputs[7]) return 'LSTM with peepholes';
      return undefined;
    }
  }
  return undefined;
}

/** What the importer lends this module for one node. */
export interface ShapeImportContext {
  need(node: Node, i: number): string;
  out(node: Node, i?: number): string;
  /** A constant input's values as numbers (int or float constants), or undefined. */
  ints(name: string): number[] | undefined;
  /** The dims of a value when known at import (constants, fixed input shapes), or undefined. */
  dimsOf(name: string): number[] | undefined;
  constant(name: string, t: FloatTensor): void;
  push(op: ShapeOp): void;
}

function count(dims: readonly number[]): number {
  return dims.reduce((p, d) => p * d, 1);
}

function scalarValue(t: Tensor | undefined, fallback: number): number {
  if (!t) return fallback;
  const v = t.data[0];
  if (v === undefined) return fallback;
  return typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : fallback;
}

function shapeSlice(dims: number[], start: number | undefined, end: number | undefined): number[] {
  const r = dims.length;
  const norm = (v: number) => Math.max(0, Math.min(r, v < 0 ? v + r : v));
  return dims.slice(norm(start ?? 0), norm(end ?? r));
}

/** Imports a Shape, Size, Gather, Slice, Pad, ConstantOfShape, Cast (to int or bool) or LSTM node; false for any other. */
export function importShapeNode(node: Node, ctx: ShapeImportContext, opset: number): boolean {
  switch (node.opType) {
    case 'Shape':
    case 'Size': {
      const input = ctx.need(node, 0);
      const dims = ctx.dimsOf(input);
      const start = opset >= 15 && attr(node, 'start') ? intAttr(node, 'start', 0) : undefined;
      const end = opset >= 15 && attr(node, 'end') ? intAttr(node, 'end', 0) : undefined;
      const output = ctx.out(node);
      if (dims) {
        const value = node.opType === 'Size' ? { dims: [], data: Float32Array.of(count(dims)) } : ((s) => ({ dims: [s.length], data: Float32Array.from(s) }))(shapeSlice(dims, start, end));
        ctx.constant(output, value);
      } else {
        ctx.push({ kind: node.opType === 'Shape' ? 'shape' : 'size', input, output, ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) });
      }
      return true;
    }
    case 'Gather':
      ctx.push({ kind: 'gather', input: ctx.need(node, 0), indices: ctx.need(node, 1), output: ctx.out(node), axis: intAttr(node, 'axis', 0) });
      return true;
    case 'Slice': {
      const input = ctx.need(node, 0);
      let starts: number[] | undefined, ends: number[] | undefined, axes: number[] | undefined, steps: number[] | undefined;
      if (opset < 10) {
        starts = intsAttr(node, 'starts');
        ends = intsAttr(node, 'ends');
        axes = intsAttr(node, 'axes');
      } else {
        const constInput = (i: number): number[] | undefined => {
          if (!node.inputs[i]) return undefined;
          const v = ctx.ints(ctx.need(node, i));
          if (!v) throw new UnsupportedOpsError(['Slice with non-constant starts, ends, axes or steps']);
          return v;
        };
        starts = constInput(1);
        ends = constInput(2);
        axes = constInput(3);
        steps = constInput(4);
      }
      if (!starts || !ends || starts.length !== ends.length) throw new GraphShapeError('Slice needs starts and ends of one length');
      axes ??= starts.map((_, i) => i);
      steps ??= starts.map(() => 1);
      if (axes.length !== starts.length || steps.length !== starts.length) throw new GraphShapeError('Slice starts, ends, axes and steps differ in length');
      if (steps.some((s) => s === 0)) throw new GraphShapeError('Slice step 0');
      ctx.push({ kind: 'slice', input, output: ctx.out(node), starts, ends, axes, steps });
      return true;
    }
    case 'Pad': {
      const input = ctx.need(node, 0);
      const mode = stringAttr(node, 'mode', 'constant') as PadOp['mode'];
      let pads: number[] | undefined, value = 0;
      if (opset < 11) {
        pads = intsAttr(node, 'pads');
        value = floatAttr(node, 'value', 0);
      } else {
        pads = ctx.ints(ctx.need(node, 1));
        if (!pads) throw new UnsupportedOpsError(['Pad with non-constant pads']);
        if (node.inputs[2]) {
          const v = ctx.ints(ctx.need(node, 2));
          if (!v || v.length !== 1) throw new UnsupportedOpsError(['Pad with a non-constant value']);
          value = v[0]!;
        }
      }
      if (!pads || pads.length % 2 !== 0) throw new GraphShapeError('Pad needs an even number of pads');
      ctx.push({ kind: 'pad', input, output: ctx.out(node), pads, mode, value });
      return true;
    }
    case 'ConstantOfShape': {
      const v = attr(node, 'value');
      const value = v && v.type === 'tensor' ? scalarValue(v.value, 0) : 0;
      ctx.push({ kind: 'constantofshape', input: ctx.need(node, 0), output: ctx.out(node), value });
      return true;
    }
    case 'Cast': {
      const to = intAttr(node, 'to', 0);
      if (!CAST_INT.has(to)) return false; // to float an identity, to bool `tobool`: the importer's own cases
      ctx.push({ kind: 'cast', input: ctx.need(node, 0), output: ctx.out(node), to: 'int' });
      return true;
    }
    case 'LSTM': {
      const hiddenSize = intAttr(node, 'hidden_size', 0);
      if (hiddenSize <= 0) throw new GraphShapeError('LSTM needs hidden_size');
      const opt = (i: number) => (node.inputs[i] ? ctx.need(node, i) : undefined);
      const b = opt(3), initialH = opt(5), initialC = opt(6);
      const outName = (i: number) => (node.outputs[i] ? ctx.out(node, i) : undefined);
      const outputH = outName(1), outputC = outName(2);
      ctx.push({
        kind: 'lstm', input: ctx.need(node, 0), w: ctx.need(node, 1), r: ctx.need(node, 2), hiddenSize,
        direction: stringAttr(node, 'direction', 'forward') as LstmOp['direction'],
        output: node.outputs[0] ? ctx.out(node, 0) : `${node.outputs.find(Boolean) ?? node.name ?? 'lstm'}::Y`,
        ...(b ? { b } : {}), ...(initialH ? { initialH } : {}), ...(initialC ? { initialC } : {}),
        ...(outputH ? { outputH } : {}), ...(outputC ? { outputC } : {}),
      });
      return true;
    }
  }
  return false;
}

function normAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new GraphShapeError(`${what} axis ${axis} is out of range for rank ${rank}`);
  return a;
}

function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let d = dims.length - 1; d >= 0; d--) { s[d] = acc; acc *= dims[d]!; }
  return s;
}

export function gather(x: FloatTensor, indices: FloatTensor, axis: number): FloatTensor {
  const ax = normAxis(axis, x.dims.length, 'Gather');
  const n = x.dims[ax]!;
  const outer = count(x.dims.slice(0, ax)), inner = count(x.dims.slice(ax + 1));
  const k = indices.data.length;
  const out = new Float32Array(outer * k * inner);
  for (let j = 0; j < k; j++) {
    const raw = indices.data[j]!;
    const i = raw < 0 ? raw + n : raw;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new GraphShapeError(`Gather index ${raw} is out of range for size ${n}`);
    for (let o = 0; o < outer; o++) out.set(x.data.subarray((o * n + i) * inner, (o * n + i + 1) * inner), (o * k + j) * inner);
  }
  return { dims: [...x.dims.slice(0, ax), ...indices.dims, ...x.dims.slice(ax + 1)], data: out };
}

export function slice(x: FloatTensor, op: Pick<SliceOp, 'starts' | 'ends' | 'axes' | 'steps'>): FloatTensor {
  const rank = x.dims.length;
  const start = x.dims.map(() => 0), step = x.dims.map(() => 1), size = [...x.dims];
  const seen = new Set<number>();
  op.axes.forEach((a, i) => {
    const ax = normAxis(a, rank, 'Slice');
    if (seen.has(ax)) throw new GraphShapeError(`Slice axis ${a} repeats`);
    seen.add(ax);
    const dim = x.dims[ax]!, st = op.steps[i]!;
    let s = op.starts[i]!, e = op.ends[i]!;
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (st > 0) {
      s = Math.max(0, Math.min(dim, s));
      e = Math.max(0, Math.min(dim, e));
    } else {
      s = Math.max(-1, Math.min(dim - 1, s));
      e = Math.max(-1, Math.min(dim - 1, e));
    }
    start[ax] = s;
    step[ax] = st;
    size[ax] = Math.max(0, Math.ceil((e - s) / st));
  });
  const inStrides = strides(x.dims);
  const total = count(size);
  const out = new Float32Array(total);
  for (let i = 0; i < total; i++) {
    let rem = i, off = 0;
    for (let d = rank - 1; d >= 0; d--) {
      off += (start[d]! + (rem % size[d]!) * step[d]!) * inStrides[d]!;
      rem = Math.floor(rem / size[d]!);
    }
    out[i] = x.data[off]!;
  }
  return { dims: size, data: out };
}

export function pad(x: FloatTensor, op: Pick<PadOp, 'pads' | 'mode' | 'value'>): FloatTensor {
  const rank = x.dims.length;
  if (op.pads.length !== 2 * rank) throw new GraphShapeError(`Pad has ${op.pads.length} pads for rank ${rank}`);
  const before = op.pads.slice(0, rank), dims = x.dims.map((d, i) => d + before[i]! + op.pads[rank + i]!);
  if (dims.some((d) => d < 0)) throw new GraphShapeError(`Pad [${op.pads.join(', ')}] removes more than [${x.dims.join(', ')}] holds`);
  x.dims.forEach((d, i) => {
    if (op.mode === 'reflect' && (before[i]! >= d || op.pads[rank + i]! >= d) && (before[i]! > 0 || op.pads[rank + i]! > 0)) {
      throw new GraphShapeError(`reflect Pad of ${Math.max(before[i]!, op.pads[rank + i]!)} on an axis of size ${d}`);
    }
    if (op.mode === 'edge' && d === 0 && (before[i]! > 0 || op.pads[rank + i]! > 0)) throw new GraphShapeError('edge Pad of an empty axis');
  });
  const inStrides = strides(x.dims);
  const total = count(dims);
  const out = new Float32Array(total);
  for (let i = 0; i < total; i++) {
    let rem = i, off = 0, inside = true;
    for (let d = rank - 1; d >= 0; d--) {
      const n = x.dims[d]!;
      let j = (rem % dims[d]!) - before[d]!;
      rem = Math.floor(rem / dims[d]!);
      if (j < 0 || j >= n) {
        if (op.mode === 'constant') { inside = false; break; }
        j = op.mode === 'edge' ? (j < 0 ? 0 : n - 1) : j < 0 ? -j : 2 * (n - 1) - j;
      }
      off += j * inStrides[d]!;
    }
    out[i] = inside ? x.data[off]! : op.value;
  }
  return { dims, data: out };
}

function dimsFromValues(t: FloatTensor, what: string): number[] {
  const dims = Array.from(t.data);
  if (t.dims.length !== 1 || dims.some((d) => !Number.isInteger(d) || d < 0)) throw new GraphShapeError(`${what} shape [${dims.join(', ')}] is not a list of sizes`);
  return dims;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

export interface LstmResult {
  y: FloatTensor;
  h: FloatTensor;
  c: FloatTensor;
}

/**
 * The LSTM recurrence over X [seq, batch, input]: `preact(t, h)` gives the gate
 * pre-activations [batch, 4*hidden] (X_t W^T + H R^T + biases, gates i, o, f, c)
 * for step t from the previous hidden state h [batch, hidden]; the float op and
 * the int8 executor differ only there. Returns Y [seq, 1, batch, hidden], Y_h and Y_c [1, batch, hidden].
 */
export function lstmSteps(
  x: FloatTensor, hidden: number, direction: LstmOp['direction'], h0: FloatTensor | undefined, c0: FloatTensor | undefined,
  preact: (t: number, h: Float32Array) => ArrayLike<number>,
): LstmResult {
  if (x.dims.length !== 3) throw new GraphShapeError(`LSTM input must be [seq, batch, input], got [${x.dims.join(', ')}]`);
  const [seq, batch] = x.dims as [number, number];
  for (const [t, what] of [[h0, 'initial_h'], [c0, 'initial_c']] as const) {
    if (t && (t.dims.length !== 3 || t.dims[0] !== 1 || t.dims[1] !== batch || t.dims[2] !== hidden)) {
      throw new GraphShapeError(`LSTM ${what} is [${t.dims.join(', ')}], expected [1, ${batch}, ${hidden}]`);
    }
  }
  const h = h0 ? Float32Array.from(h0.data) : new Float32Array(batch * hidden);
  const c = c0 ? Float32Array.from(c0.data) : new Float32Array(batch * hidden);
  const y = new Float32Array(seq * batch * hidden);
  const g4 = 4 * hidden;
  for (let s = 0; s < seq; s++) {
    const t = direction === 'forward' ? s : seq - 1 - s;
    const gates = preact(t, h);
    for (let n = 0; n < batch; n++) {
      const go = n * g4, ho = n * hidden;
      for (let j = 0; j < hidden; j++) {
        const i = sigmoid(gates[go + j]!), o = sigmoid(gates[go + hidden + j]!), f = sigmoid(gates[go + 2 * hidden + j]!);
        const cn = f * c[ho + j]! + i * Math.tanh(gates[go + 3 * hidden + j]!);
        c[ho + j] = cn;
        h[ho + j] = o * Math.tanh(cn);
      }
    }
    y.set(h, t * batch * hidden);
  }
  return { y: { dims: [seq, 1, batch, hidden], data: y }, h: { dims: [1, batch, hidden], data: h }, c: { dims: [1, batch, hidden], data: c } };
}

/** ONNX LSTM over X [seq, batch, input] in float32. */
export function lstm(
  x: FloatTensor, w: FloatTensor, r: FloatTensor, b: FloatTensor | undefined, h0: FloatTensor | undefined, c0: FloatTensor | undefined,
  hidden: number, direction: LstmOp['direction'],
): LstmResult {
  if (x.dims.length !== 3) throw new GraphShapeError(`LSTM input must be [seq, batch, input], got [${x.dims.join(', ')}]`);
  const [, batch, inSize] = x.dims as [number, number, number];
  const g4 = 4 * hidden;
  const expect = (t: FloatTensor | undefined, dims: number[], what: string) => {
    if (t && (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i]))) {
      throw new GraphShapeError(`LSTM ${what} is [${t.dims.join(', ')}], expected [${dims.join(', ')}]`);
    }
  };
  expect(w, [1, g4, inSize], 'W');
  expect(r, [1, g4, hidden], 'R');
  expect(b, [1, 2 * g4], 'B');
  const gates = new Float64Array(batch * g4);
  return lstmSteps(x, hidden, direction, h0, c0, (t, h) => {
    for (let n = 0; n < batch; n++) {
      const xo = (t * batch + n) * inSize, ho = n * hidden;
      for (let g = 0; g < g4; g++) {
        let acc = b ? b.data[g]! + b.data[g4 + g]! : 0;
        const wo = g * inSize, ro = g * hidden;
        for (let k = 0; k < inSize; k++) acc += x.data[xo + k]! * w.data[wo + k]!;
        for (let k = 0; k < hidden; k++) acc += h[ho + k]! * r.data[ro + k]!;
        gates[n * g4 + g] = acc;
      }
    }
    return gates;
  });
}

/** Runs a shape op, writing its output(s) into `values`. */
export function runShapeOp(op: ShapeOp, get: (name: string) => FloatTensor, values: Map<string, FloatTensor>): void {
  switch (op.kind) {
    case 'shape': {
      const dims = shapeSlice(get(op.input).dims, op.start, op.end);
      values.set(op.output, { dims: [dims.length], data: Float32Array.from(dims) });
      return;
    }
    case 'size':
      values.set(op.output, { dims: [], data: Float32Array.of(get(op.input).data.length) });
      return;
    case 'gather':
      values.set(op.output, gather(get(op.input), get(op.indices), op.axis));
      return;
    case 'slice':
      values.set(op.output, slice(get(op.input), op));
      return;
    case 'pad':
      values.set(op.output, pad(get(op.input), op));
      return;
    case 'constantofshape': {
      const dims = dimsFromValues(get(op.input), 'ConstantOfShape');
      values.set(op.output, { dims, data: new Float32Array(count(dims)).fill(op.value) });
      return;
    }
    case 'cast': {
      const x = get(op.input);
      values.set(op.output, { dims: [...x.dims], data: x.data.map(Math.trunc) });
      return;
    }
    case 'lstm': {
      const opt = (n: string | undefined) => (n ? get(n) : undefined);
      const res = lstm(get(op.input), get(op.w), get(op.r), opt(op.b), opt(op.initialH), opt(op.initialC), op.hiddenSize, op.direction);
      values.set(op.output, res.y);
      if (op.outputH) values.set(op.outputH, res.h);
      if (op.outputC) values.set(op.outputC, res.c);
      return;
    }
  }
}

const isIntList = (v: unknown, min = -Infinity): boolean => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= min);

/** Why a shape op read from a config is malformed, or undefined. */
export function shapeOpProblem(op: ShapeOp): string | undefined {
  const o = op as unknown as Record<string, unknown>;
  switch (op.kind) {
    case 'shape':
      if ((o.start !== undefined && !isIntList([o.start])) || (o.end !== undefined && !isIntList([o.end]))) return 'has a bad start or end';
      break;
    case 'gather':
      if (!isIntList([o.axis])) return 'has a bad axis';
      break;
    case 'slice': {
      const n = Array.isArray(o.starts) ? o.starts.length : -1;
      if (![o.starts, o.ends, o.axes, o.steps].every((v) => isIntList(v) && (v as number[]).length === n)) return 'has bad starts, ends, axes or steps';
      if (op.steps.includes(0)) return 'has a step of 0';
      break;
    }
    case 'pad':
      if (!isIntList(o.pads) || op.pads.length % 2 !== 0) return 'has bad pads';
      if (op.mode !== 'constant' && op.mode !== 'reflect' && op.mode !== 'edge') return 'has a bad mode';
      if (typeof op.value !== 'number') return 'has a bad value';
      break;
    case 'constantofshape':
      if (typeof op.value !== 'number') return 'has a bad value';
      break;
    case 'cast':
      if (op.to !== 'int') return 'has a bad target type';
      break;
    case 'lstm':
      if (!isIntList([o.hiddenSize], 1)) return 'has a bad hidden size';
      if (op.direction !== 'forward' && op.direction !== 'reverse') return 'has a bad direction';
      if ([o.outputH, o.outputC].some((v) => v !== undefined && typeof v !== 'string')) return 'has a bad output name';
      break;
  }
  return undefined;
}
