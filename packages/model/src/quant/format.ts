// The int8 model as two parts, as an over-the-air bundle carries them: a JSON
// config (graph, scales, zero points, where each array sits) and a binary
// weights blob (int8 weights, int32 biases, float32 constants, 4-byte aligned).
// Decoding validates every field and offset: a malformed part is rejected with a
// typed error, never half-loaded.

import { ModelError } from '../errors.js';
import { type FloatTensor, type GraphInput, type Op, OP_KINDS, isGemmOp, opInputs } from '../graph/ir.js';
import type { Int8Linear, Int8Model, Int8Recurrent } from './quantize.js';
import { isShapeOp, shapeOpProblem } from '../graph/shape-ops.js';

export const INT8_FORMAT = 'compotastic-int8';
/**
 * Version 2 adds convolution, pooling, reductions and shape ops; version 3 layers with 16-bit inputs (`inputBits`).
 * Configs of versions 1 and 2 still decode.
 */
export const INT8_FORMAT_VERSION = 3;

/** A config or weights blob that is not a valid int8 model (code INT8_FORMAT). */
export class Int8FormatError extends ModelError {
  constructor(message: string) {
    super('INT8_FORMAT', message);
  }
}

interface Span {
  offset: number;
  length: number;
}

interface LinearJson {
  op: number; k: number; n: number; inputScale: number; inputZeroPoint: number; inputBits?: 16;
  weights: Span; weightScales: Span; bias: Span;
}

interface ConfigJson {
  format: string;
  version: number;
  name: string;
  inputs: GraphInput[];
  outputs: string[];
  ops: Op[];
  linears: LinearJson[];
  /** LSTM layers with int8 products (absent when there are none). */
  recurrent?: { op: number; x: LinearJson; h: LinearJson }[];
  constants: { name: string; dims: number[]; data: Span }[];
  weightsBytes: number;
}

export interface Int8ModelParts {
  config: Uint8Array;
  weights: Uint8Array;
}

/** Serializes an int8 model into its config and weights parts. */
export function encodeInt8Model(model: Int8Model): Int8ModelParts {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const put = (bytes: Uint8Array): Span => {
    const pad = (4 - (size % 4)) % 4;
    if (pad) {
      chunks.push(new Uint8Array(pad));
      size += pad;
    }
    const span = { offset: size, length: bytes.length };
    chunks.push(bytes);
    size += bytes.length;
    return span;
  };
  const bytesOf = (a: Int8Array | Int32Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
  const linear = (op: number, l: Int8Linear): LinearJson => ({
    op, k: l.k, n: l.n, inputScale: l.inputScale, inputZeroPoint: l.inputZeroPoint, ...(l.inputBits === 16 ? { inputBits: 16 as const } : {}),
    weights: put(bytesOf(l.weights)), weightScales: put(bytesOf(l.weightScales)), bias: put(bytesOf(l.bias)),
  });
  const linears = [...model.linears.entries()].sort((a, b) => a[0] - b[0]).map(([op, l]) => linear(op, l));
  const recurrent = [...(model.recurrent ?? new Map<number, Int8Recurrent>()).entries()].sort((a, b) => a[0] - b[0])
    .map(([op, r]) => ({ op, x: linear(op, r.x), h: linear(op, r.h) }));
  const constants = [...model.constants.entries()].map(([name, t]) => ({ name, dims: t.dims, data: put(bytesOf(t.data)) }));
  const weights = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    weights.set(c, at);
    at += c.length;
  }
  const config: ConfigJson = {
    format: INT8_FORMAT, version: INT8_FORMAT_VERSION, name: model.name, inputs: model.inputs, outputs: model.outputs,
    ops: model.ops, linears, ...(recurrent.length > 0 ? { recurrent } : {}), constants, weightsBytes: size,
  };
  return { config: new TextEncoder().encode(JSON.stringify(config)), weights };
}

const KINDS = new Set<string>(OP_KINDS);

function fail(why: string): never {
  throw new Int8FormatError(why);
}

function isInt(v: unknown, min = 0): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min;
}

const isInts = (v: unknown, length: number, min: number): boolean =>
  Array.isArray(v) && v.length === length && v.every((x) => isInt(x, min));
const isAxes = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x));

/** Why an op read from a config is malformed, or undefined. */
function opProblem(op: Op): string | undefined {
  if (typeof op.output !== 'string') return 'has no output name';
  if (op.kind === 'concat' && (!Array.isArray(op.inputs) || op.inputs.length === 0)) return 'has no inputs';
  if (opInputs(op).some((n) => typeof n !== 'string')) return 'has an input that is not a name';
  if (isShapeOp(op)) return shapeOpProblem(op);
  const o = op as unknown as Record<string, unknown>;
  switch (op.kind) {
    case 'conv':
      if (op.spatialRank !== 1 && op.spatialRank !== 2) return 'has a bad spatial rank';
      if (!isInts(o.kernel, 2, 1) || !isInts(o.strides, 2, 1) || !isInts(o.dilations, 2, 1) || !isInts(o.pads, 4, 0)) return 'has a bad window';
      break;
    case 'maxpool':
      if (!isInts(o.kernel, 2, 1) || !isInts(o.strides, 2, 1) || !isInts(o.pads, 4, 0)) return 'has a bad window';
      break;
    case 'leakyrelu':
      if (typeof op.alpha !== 'number' || !Number.isFinite(op.alpha)) return 'has a bad alpha';
      break;
    case 'reducemean':
    case 'reducemax':
      if ((o.axes !== undefined && !isAxes(o.axes)) || typeof op.keepdims !== 'boolean') return 'has bad axes or keepdims';
      break;
    case 'unsqueeze':
    case 'squeeze':
      if ((op.kind === 'unsqueeze' || o.axes !== undefined) && !isAxes(o.axes)) return 'has bad axes';
      break;
    case 'flatten':
    case 'concat':
    case 'softmax':
    case 'layernorm':
      if (!isInt(op.axis, -64)) return 'has a bad axis';
      break;
    case 'reshape':
      if (!isAxes(op.shape)) return 'has a bad shape';
      break;
    case 'transpose':
      if (op.perm !== undefined && !isAxes(op.perm)) return 'has a bad perm';
      break;
  }
  return undefined;
}

/** Decodes and validates an int8 model from its parts. */
export function decodeInt8Model(parts: Int8ModelParts): Int8Model {
  let cfg: ConfigJson;
  try {
    cfg = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(parts.config)) as ConfigJson;
  } catch (err) {
    throw new Int8FormatError(`config is not UTF-8 JSON: ${(err as Error).message}`);
  }
  if (typeof cfg !== 'object' || cfg === null) fail('config is not an object');
  if (cfg.format !== INT8_FORMAT) fail(`config format '${String(cfg.format)}' is not ${INT8_FORMAT}`);
  if (cfg.version !== INT8_FORMAT_VERSION && cfg.version !== 1 && cfg.version !== 2) fail(`config version ${String(cfg.version)} is not supported`);
  if (cfg.weightsBytes !== parts.weights.length) fail(`weights are ${parts.weights.length} bytes, the config expects ${String(cfg.weightsBytes)}`);
  if (!Array.isArray(cfg.ops) || !Array.isArray(cfg.linears) || !Array.isArray(cfg.constants) || !Array.isArray(cfg.inputs) || !Array.isArray(cfg.outputs)) {
    fail('config misses ops, linears, constants, inputs or outputs');
  }
  for (const [i, op] of cfg.ops.entries()) {
    if (typeof op !== 'object' || op === null || !KINDS.has((op as Op).kind)) fail(`op ${i} has an unknown kind`);
    const problem = opProblem(op);
    if (problem) fail(`op ${i} (${op.kind}) ${problem}`);
  }
  const buf = parts.weights;
  const view = <T>(span: Span, elem: number, Ctor: { new (b: ArrayBuffer, o: number, n: number): T }, count: number, what: string): T => {
    if (typeof span !== 'object' || span === null || !isInt(span.offset) || !isInt(span.length)) fail(`${what}: bad span`);
    if (span.offset % 4 !== 0 && elem === 4) fail(`${what}: misaligned`);
    if (span.length !== count * elem) fail(`${what}: ${span.length} bytes, expected ${count * elem}`);
    if (span.offset + span.length > buf.length) fail(`${what}: runs past the weights`);
    // A fresh, aligned copy. Not buf.slice(): on a Node Buffer that is a view whose .buffer is the whole file.
    const copy = new Uint8Array(span.length);
    copy.set(buf.subarray(span.offset, span.offset + span.length));
    return new Ctor(copy.buffer, 0, count);
  };
  const readLinear = (l: LinearJson, what: string): Int8Linear => {
    if (typeof l !== 'object' || l === null) fail(`${what}: not an object`);
    if (!isInt(l.k, 1) || !isInt(l.n, 1)) fail(`${what}: bad shape`);
    if (!(l.inputScale > 0) || !Number.isFinite(l.inputScale)) fail(`${what}: bad input scale`);
    if (l.inputBits !== undefined && (l.inputBits !== 16 || cfg.version < 3)) fail(`${what}: bad input bits`);
    if (!isInt(l.inputZeroPoint) || l.inputZeroPoint > (l.inputBits === 16 ? 65535 : 255)) fail(`${what}: bad input zero point`);
    return {
      k: l.k, n: l.n, inputScale: l.inputScale, inputZeroPoint: l.inputZeroPoint, ...(l.inputBits === 16 ? { inputBits: 16 as const } : {}),
      weights: view(l.weights, 1, Int8Array, l.k * l.n, `${what} weights`),
      weightScales: view(l.weightScales, 4, Float32Array, l.n, `${what} scales`),
      bias: view(l.bias, 4, Int32Array, l.n, `${what} bias`),
    };
  };
  const linears = new Map<number, Int8Linear>();
  for (const [i, l] of cfg.linears.entries()) {
    if (!isInt(l.op) || l.op >= cfg.ops.length || !isGemmOp(cfg.ops[l.op]!)) fail(`linear ${i} does not point at a linear or conv op`);
    if (!isInt(l.k, 1) || !isInt(l.n, 1)) fail(`linear ${i}: bad shape`);
    const target = cfg.ops[l.op]!;
    if (target.kind === 'conv' && l.k % (target.kernel[0] * target.kernel[1]) !== 0) fail(`linear ${i}: K ${l.k} does not fit the conv window`);
    if (linears.has(l.op)) fail(`linear ${i}: op ${l.op} quantized twice`);
    linears.set(l.op, readLinear(l, `linear ${i}`));
  }
  const recurrent = new Map<number, Int8Recurrent>();
  if (cfg.recurrent !== undefined && !Array.isArray(cfg.recurrent)) fail('config recurrent is not a list');
  for (const [i, r] of (cfg.recurrent ?? []).entries()) {
    const target = isInt(r?.op) && r.op < cfg.ops.length ? cfg.ops[r.op]! : undefined;
    if (!target || target.kind !== 'lstm') fail(`recurrent ${i} does not point at an LSTM op`);
    if (recurrent.has(r.op)) fail(`recurrent ${i}: op ${r.op} quantized twice`);
    const x = readLinear(r.x, `recurrent ${i} x`), h = readLinear(r.h, `recurrent ${i} h`);
    const g4 = 4 * target.hiddenSize;
    if (x.n !== g4 || h.n !== g4 || h.k !== target.hiddenSize) fail(`recurrent ${i}: shapes do not fit hidden size ${target.hiddenSize}`);
    recurrent.set(r.op, { x, h });
  }
  cfg.ops.forEach((op, i) => {
    if (isGemmOp(op) && !linears.has(i)) fail(`op ${i} is ${op.kind} but has no int8 weights`);
  });
  const constants = new Map<string, FloatTensor>();
  for (const [i, c] of cfg.constants.entries()) {
    if (typeof c.name !== 'string' || !Array.isArray(c.dims) || !c.dims.every((d) => isInt(d))) fail(`constant ${i}: bad name or dims`);
    const count = c.dims.reduce((p, d) => p * d, 1);
    constants.set(c.name, { dims: c.dims, data: view(c.data, 4, Float32Array, count, `constant ${c.name}`) });
  }
  return { name: String(cfg.name), inputs: cfg.inputs, outputs: cfg.outputs, ops: cfg.ops, linears, ...(recurrent.size > 0 ? { recurrent } : {}), constants };
}
