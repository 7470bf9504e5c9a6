// Activation equalization across a pair of convolutions (as in SmoothQuant and
// cross-layer equalization): between conv A and conv B, where every op in the
// chain is positively homogeneous per channel (LeakyReLU, ReLU, MaxPool, and a
// Max or Min against a scalar, which becomes a per-channel constant), the
// channel c of A's output can be divided by s_c and B's weights on input
// channel c multiplied by it without changing what the float model computes.
// Choosing s_c = m_c^alpha / w_c^(1 - alpha), with m_c the channel's largest
// activation and w_c the largest |weight| B applies to it, evens out the
// channels of B's input: one per-tensor uint8 scale then fits all of them,
// where a few wide channels otherwise set the step for the narrow ones.

import { type ConvOp, type FloatGraph, type FloatTensor, type Op, opInputs } from '../graph/ir.js';

/** One equalized pair: B's input, divided per channel by `scales` relative to the original graph. */
export interface EqualizedInput {
  /** Op index of conv B (the same index in both graphs). */
  layer: number;
  /** The value B reads. */
  value: string;
  /** Per channel divisor s_c: the equalized value is the original one divided by it. */
  scales: Float32Array;
}

/** Where a chain A -> ... -> B may be rescaled: B's op index, A's, and the ops between. */
interface Chain {
  a: number;
  b: number;
  between: number[];
}

const HOMOGENEOUS = new Set<Op['kind']>(['leakyrelu', 'relu', 'maxpool']);

/** How many ops read each value (graph outputs count as readers). */
function readers(graph: FloatGraph): Map<string, number> {
  const uses = new Map<string, number>();
  for (const op of graph.ops) for (const name of opInputs(op)) uses.set(name, (uses.get(name) ?? 0) + 1);
  for (const o of graph.outputs) uses.set(o, (uses.get(o) ?? 0) + 1);
  return uses;
}

function isScalarConstant(graph: FloatGraph, name: string): boolean {
  return graph.constants.get(name)?.data.length === 1;
}

/** The conv pairs whose connecting chain is rescalable, each value on it read once. */
function chains(graph: FloatGraph): Chain[] {
  const uses = readers(graph);
  const producer = new Map<string, number>();
  graph.ops.forEach((op, i) => {
    if ('output' in op) producer.set(op.output, i);
  });
  const out: Chain[] = [];
  graph.ops.forEach((op, b) => {
    if (op.kind !== 'conv') return;
    const between: number[] = [];
    let value = op.input;
    for (;;) {
      const p = producer.get(value);
      if (p === undefined || uses.get(value) !== 1) return;
      const q = graph.ops[p]!;
      if (q.kind === 'conv') {
        if (graph.constants.has(q.weight)) out.push({ a: p, b, between: between.reverse() });
        return;
      }
      if (HOMOGENEOUS.has(q.kind)) value = (q as { input: string }).input;
      else if ((q.kind === 'max' || q.kind === 'min') && isScalarConstant(graph, q.b)) value = q.a;
      else return;
      between.push(p);
    }
  });
  return out;
}

/** Largest |w| per input channel of a conv weight [cout, cin, kh, kw]. */
function inputChannelWeightMax(w: FloatTensor): Float64Array {
  const [cout, cin] = w.dims as [number, number];
  const inner = w.data.length / (cout * cin);
  const m = new Float64Array(cin);
  for (let o = 0; o < cout; o++) {
    for (let c = 0; c < cin; c++) {
      for (let j = 0; j < inner; j++) m[c] = Math.max(m[c]!, Math.abs(w.data[(o * cin + c) * inner + j]!));
    }
  }
  return m;
}

/**
 * The graph with every rescalable conv pair equalized, given the largest
 * activation per channel of each B's input (`channelMax`, by B's op index, from
 * calibration). The float function is unchanged up to float32 rounding; the
 * returned inputs say how each B's input now relates to the original.
 */
export function equalizeActivations(
  graph: FloatGraph, channelMax: Map<number, Float64Array>, alpha = 0.5,
): { graph: FloatGraph; inputs: EqualizedInput[] } {
  const constants = new Map(graph.constants);
  const ops = graph.ops.map((op) => ({ ...op })) as Op[];
  const inputs: EqualizedInput[] = [];
  for (const { a, b, between } of chains(graph)) {
    const opA = ops[a] as ConvOp, opB = ops[b] as ConvOp;
    const m = channelMax.get(b);
    const wA = constants.get(opA.weight), wB = constants.get(opB.weight);
    if (!m || !wA || !wB || wA.dims[0] !== wB.dims[1] || m.length !== wB.dims[1]) continue;
    const channels = m.length;
    const wMax = inputChannelWeightMax(wB);
    const raw = Float64Array.from(m, (mc, c) => (mc > 0 && wMax[c]! > 0 ? mc ** alpha / wMax[c]! ** (1 - alpha) : 1));
    // Scale so the geometric mean is 1: the per-tensor ranges stay about where they were.
    const logMean = raw.reduce((s, x) => s + Math.log(x), 0) / channels;
    const scales = Float32Array.from(raw, (x) => Math.exp(Math.log(x) - logMean));
    const perIn = wA.data.length / channels;
    constants.set(opA.weight, { dims: wA.dims, data: wA.data.map((v, i) => v / scales[Math.floor(i / perIn)]!) });
    if (opA.bias) {
      const bias = constants.get(opA.bias)!;
      constants.set(opA.bias, { dims: bias.dims, data: bias.data.map((v, c) => v / scales[c]!) });
    }
    const perOut = wB.data.length / wB.dims[0]!, perChannel = perOut / channels;
    constants.set(opB.weight, { dims: wB.dims, data: wB.data.map((v, i) => v * scales[Math.floor((i % perOut) / perChannel)]!) });
    for (const i of between) {
      const op = ops[i]!;
      if (op.kind !== 'max' && op.kind !== 'min') continue;
      // max(x / s, k / s) = max(x, k) / s for s > 0: the scalar becomes one constant per channel, broadcast over N, H, W.
      const k = constants.get(op.b)!.data[0]!;
      const name = `${op.b}::equalized@${i}`;
      constants.set(name, { dims: [1, channels, 1, 1], data: Float32Array.from(scales, (s) => k / s) });
      ops[i] = { ...op, b: name };
    }
    inputs.push({ layer: b, value: opB.input, scales });
  }
  return { graph: { ...graph, ops, constants }, inputs };
}

/** A value of the original graph as the equalized graph holds it: channel c (axis 1) divided by scales[c]. */
export function equalizedValue(t: FloatTensor, scales: Float32Array): FloatTensor {
  const channels = scales.length;
  if (t.dims[1] !== channels) return t;
  const inner = t.dims.slice(2).reduce((p, d) => p * d, 1);
  return { dims: t.dims, data: t.data.map((v, i) => v / scales[Math.floor(i / inner) % channels]!) };
}

/** Largest value per channel (axis 1) of `t`, merged into `into`. */
export function channelMaxima(t: FloatTensor, into?: Float64Array): Float64Array {
  const channels = t.dims[1] ?? 1;
  const inner = t.dims.slice(2).reduce((p, d) => p * d, 1);
  const m = into ?? new Float64Array(channels).fill(-Infinity);
  for (let i = 0; i < t.data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    if (t.data[i]! > m[c]!) m[c] = t.data[i]!;
  }
  return m;
}
