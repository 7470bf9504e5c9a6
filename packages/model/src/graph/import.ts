// Imports a float ONNX model into the pipeline's graph: checks every operator
// first (all unsupported ones are named in one error), converts constants to
// float32, and recognises linear layers (MatMul or Gemm with a constant weight,
// with the following constant bias Add folded in).

import { ifInliner } from './control-flow.js';
import type { Graph, Model, Node, Tensor } from '../onnx/types.js';
import { attr, floatAttr, intAttr, intsAttr, stringAttr } from './attrs.js';
import { runFloatOp } from './float-exec.js';
import {
  type BinaryOp, type FloatGraph, type FloatTensor, type GraphInput, type LinearOp, type Op, type UnaryOp, GraphShapeError, UnsupportedOpsError, opInputs, opOutputs,
} from './ir.js';
import { SHAPE_ONNX_OPS, type ShapeImportContext, importShapeNode, shapeOpUnsupportedUse } from './shape-ops.js';

/** ONNX operators (default domain unless noted) the pipeline imports. */
export const SUPPORTED_OPS = [
  'MatMul', 'Gemm', 'Add', 'Sub', 'Mul', 'Div', 'Relu', 'Gelu', 'Tanh', 'Sigmoid', 'Identity', 'Softmax',
  'LayerNormalization', 'Transpose', 'Reshape', 'Constant', 'Conv', 'MaxPool', 'LeakyRelu', 'Max', 'Min', 'Pow', 'Sqrt',
  'Log', 'Exp', 'Neg', 'Abs', 'Clip', 'ReduceMean', 'ReduceMax', 'Flatten', 'Unsqueeze', 'Squeeze', 'Concat', 'Cast',
  // If is inlined before the rest of import (./control-flow.ts); the others hold booleans as float32 0 and 1.
  'If', 'Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'And', 'Or', 'Not', 'Where',
  ...SHAPE_ONNX_OPS,
] as const;

/** ONNX tensor element type code of bool. */
const ONNX_BOOL = 9;
const COMPARISONS: Record<string, BinaryOp['kind']> = {
  Equal: 'equal', Greater: 'greater', Less: 'less', GreaterOrEqual: 'greaterorequal', LessOrEqual: 'lessorequal', And: 'and', Or: 'or',
};

export interface ImportOptions {
  /** Fixed dims of graph inputs (symbolic ones included): Shape and Size of values derived from them fold to constants. */
  inputShapes?: Record<string, number[]>;
  /** Graph inputs given a fixed value (e.g. a sample rate): they become constants and leave the inputs. */
  inputValues?: Record<string, Tensor>;
}

const SUPPORTED = new Set<string>(SUPPORTED_OPS);

function toFloat(t: Tensor): FloatTensor | undefined {
  if (t.type === 'float32') return { dims: [...t.dims], data: t.data };
  if (t.type === 'float64' || t.type === 'int32' || t.type === 'int16' || t.type === 'int8' || t.type === 'uint8' || t.type === 'uint16' || t.type === 'bool') {
    return { dims: [...t.dims], data: Float32Array.from(t.data) };
  }
  // int64 values are held as float32 like every value: exact up to 2^24 (shapes, indices, axes).
  if (t.type === 'int64' || t.type === 'uint64') return { dims: [...t.dims], data: Float32Array.from(t.data, Number) };
  return undefined;
}

/** True when any node of the graph (or of a subgraph) is Shape or Size: the import then tracks every value's dims. */
function readsShapes(g: Graph): boolean {
  return g.nodes.some((n) => n.opType === 'Shape' || n.opType === 'Size' ||
    n.attributes.some((a) => (a.type === 'graph' && readsShapes(a.value)) || (a.type === 'graphs' && a.value.some(readsShapes))));
}

function transpose2d(t: FloatTensor): FloatTensor {
  const [r, c] = t.dims as [number, number];
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j]!;
  return { dims: [c, r], data: out };
}

/** Describes why a supported operator is used in a way the pipeline cannot run, or undefined. */
function unsupportedUse(node: Node, opset: number): string | undefined {
  const domain = node.domain ?? '';
  if (domain !== '' && domain !== 'ai.onnx' && !(node.opType === 'Gelu' && domain === 'com.microsoft')) {
    return `${node.opType} (domain ${domain})`;
  }
  if (node.opType === 'Gemm' && intAttr(node, 'transA', 0) !== 0) return 'Gemm with transA=1';
  if (node.opType === 'Softmax' && opset < 13) return `Softmax (opset ${opset} flattening semantics)`;
  if (node.opType === 'Conv' || node.opType === 'MaxPool') {
    const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
    if (autoPad !== 'NOTSET' && autoPad !== 'VALID') return `${node.opType} with auto_pad=${autoPad}`;
    if (node.opType === 'Conv' && intAttr(node, 'group', 1) !== 1) return 'Conv with group != 1';
    if (node.opType === 'MaxPool' && intAttr(node, 'ceil_mode', 0) !== 0) return 'MaxPool with ceil_mode=1';
    if (node.opType === 'MaxPool' && node.outputs.filter(Boolean).length > 1) return 'MaxPool with an indices output';
    const ks = intsAttr(node, 'kernel_shape');
    if (ks && ks.length !== 1 && ks.length !== 2) return `${node.opType} over ${ks.length} spatial dims`;
    if (node.opType === 'MaxPool' && !ks) return 'MaxPool without kernel_shape';
    if (node.opType === 'MaxPool' && (intsAttr(node, 'dilations') ?? []).some((d) => d !== 1)) return 'MaxPool with dilations';
  }
  if ((node.opType === 'Max' || node.opType === 'Min') && node.inputs.length !== 2) return `${node.opType} with ${node.inputs.length} inputs`;
  const shapeUse = shapeOpUnsupportedUse(node);
  if (shapeUse) return shapeUse;
  if ((node.opType === 'ReduceMean' || node.opType === 'ReduceMax') && intAttr(node, 'noop_with_empty_axes', 0) !== 0) {
    return `${node.opType} with noop_with_empty_axes=1`;
  }
  if (node.opType === 'Gelu') {
    const approx = stringAttr(node, 'approximate', 'none');
    if (approx !== 'none' && approx !== 'tanh') return `Gelu (approximate=${approx})`;
  }
  return undefined;
}

/** Conv/MaxPool pads as [top, left, bottom, right] (a 1-D op pads only left and right). */
function pads4(node: Node, spatialRank: 1 | 2): [number, number, number, number] {
  const p = intsAttr(node, 'pads');
  if (!p) return [0, 0, 0, 0];
  if (p.length !== 2 * spatialRank || p.some((v) => v < 0)) throw new GraphShapeError(`${node.opType} pads [${p.join(', ')}] do not fit ${spatialRank} spatial dims`);
  return spatialRank === 1 ? [0, p[0]!, 0, p[1]!] : [p[0]!, p[1]!, p[2]!, p[3]!];
}

/** Imports a float ONNX model; throws UnsupportedOpsError naming every operator it cannot run. */
export function importOnnx(model: Model, options: ImportOptions = {}): FloatGraph {
  const opset = model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 1;
  const g = model.graph;
  const unsupported = new Set<string>();
  // A spliced If branch is checked when the import reaches it: ops in a branch a folded condition drops need not be supported.
  const check = (nodes: Node[]): void => {
    for (const node of nodes) {
      if (!SUPPORTED.has(node.opType)) unsupported.add(node.domain ? `${node.opType} (domain ${node.domain})` : node.opType);
      else {
        const why = unsupportedUse(node, opset);
        if (why) unsupported.add(why);
      }
    }
  };
  check(g.nodes);
  if (unsupported.size > 0) throw new UnsupportedOpsError([...unsupported].sort());

  const constants = new Map<string, FloatTensor>();
  // Integer constants (shapes, axes, indices) are float32 constants read back as numbers.
  const intConstants = { get: (name: string) => ((t) => (t ? Array.from(t.data) : undefined))(constants.get(name)) };
  const addConstant = (name: string, t: Tensor) => {
    const f = toFloat(t);
    if (f) constants.set(name, f);
  };
  for (const t of g.initializers) if (t.name) addConstant(t.name, t);
  for (const [name, t] of Object.entries(options.inputValues ?? {})) addConstant(name, t);

  const initializerNames = new Set([...g.initializers.map((t) => t.name), ...Object.keys(options.inputValues ?? {})]);
  const inputs: GraphInput[] = g.inputs
    .filter((v) => !initializerNames.has(v.name))
    .map((v) => ({ name: v.name, dims: (v.type?.shape ?? []).map((d) => (typeof d === 'number' ? d : null)) }));
  for (const input of inputs) {
    const type = g.inputs.find((v) => v.name === input.name)?.type?.elemType;
    if (type && type !== 'float32') throw new UnsupportedOpsError([`graph input ${input.name} of type ${type}`]);
  }

  const defined = new Set<string>([...inputs.map((i) => i.name), ...constants.keys()]);

  // With every input's dims known, the import runs each op once on zeros to learn the dims of its outputs.
  const shadow = new Map<string, FloatTensor>();
  if (options.inputShapes || readsShapes(g)) {
    for (const input of inputs) {
      const dims = options.inputShapes?.[input.name] ?? (input.dims.every((d) => d !== null) ? (input.dims as number[]) : undefined);
      if (dims) shadow.set(input.name, { dims: [...dims], data: new Float32Array(dims.reduce((p, d) => p * d, 1)) });
    }
  }
  const uses = new Map<string, number>();
  for (const node of g.nodes) for (const i of node.inputs) if (i) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of g.outputs) uses.set(o.name, (uses.get(o.name) ?? 0) + 1);

  const ops: Op[] = [];
  const need = (node: Node, i: number): string => {
    const name = node.inputs[i];
    if (!name) throw new GraphShapeError(`${node.opType} ${node.name ?? ''} is missing input ${i}`);
    if (!defined.has(name)) throw new GraphShapeError(`${node.opType} reads '${name}' before it is produced (graph not in topological order?)`);
    return name;
  };
  const out = (node: Node, i = 0): string => {
    const name = node.outputs[i];
    if (!name) throw new GraphShapeError(`${node.opType} has no output`);
    defined.add(name);
    return name;
  };

  // Reduce*, Squeeze and Unsqueeze take axes as an attribute in older opsets and as an optional constant input in newer ones.
  const axesOf = (node: Node): number[] | undefined => {
    if (!node.inputs[1]) return intsAttr(node, 'axes');
    const axes = intConstants.get(need(node, 1));
    if (!axes) throw new UnsupportedOpsError([`${node.opType} with non-constant axes`]);
    return axes;
  };

  const shapeContext: ShapeImportContext = {
    need, out, ints: (name) => intConstants.get(name), constant: (name, t) => constants.set(name, t),
    dimsOf: (name) => constants.get(name)?.dims ?? shadow.get(name)?.dims, push: (op) => ops.push(op),
  };
  // An op whose inputs are all constants runs once here and becomes a constant; others run on the shadow values.
  const settle = (first: number) => {
    for (let i = first; i < ops.length;) {
      const op = ops[i]!;
      const reads = opInputs(op);
      if (reads.every((n) => constants.has(n))) {
        const values = new Map<string, FloatTensor>();
        runFloatOp(op, values, constants);
        for (const [name, t] of values) constants.set(name, t);
        ops.splice(i, 1);
        continue;
      }
      if (shadow.size > 0 && reads.every((n) => constants.has(n) || shadow.has(n))) {
        try {
          runFloatOp(op, shadow, constants);
        } catch (err) {
          if (!(err instanceof GraphShapeError)) throw err;
          for (const o of opOutputs(op)) shadow.delete(o);
        }
      }
      i++;
    }
  };

  // If nodes are inlined as the import reaches them, so a condition computed from fixed shapes is already a constant.
  const inlineIf = ifInliner(model);
  for (const node of g.nodes) {
    const first = ops.length;
    importNode(node);
    settle(first);
  }

  function importNode(node: Node): void {
    switch (node.opType) {
      case 'If': {
        const cond = constants.get(need(node, 0));
        if (cond && cond.data.length !== 1) throw new GraphShapeError(`If condition '${node.inputs[0]}' has ${cond.data.length} elements, not 1`);
        const flat = inlineIf(node, cond ? cond.data[0] !== 0 : undefined);
        check(flat.nodes);
        if (unsupported.size > 0) throw new UnsupportedOpsError([...unsupported].sort());
        for (const t of flat.initializers) if (t.name) { addConstant(t.name, t); defined.add(t.name); }
        for (const n of flat.nodes) {
          const first = ops.length;
          importNode(n);
          settle(first);
        }
        break;
      }
      case 'Constant': {
        const value = attr(node, 'value');
        if (!value || value.type !== 'tensor') throw new UnsupportedOpsError(['Constant without a tensor value']);
        addConstant(out(node), value.value);
        break;
      }
      case 'MatMul': {
        const a = need(node, 0), b = need(node, 1);
        const w = constants.get(b);
        if (w && w.dims.length === 2) ops.push({ kind: 'linear', input: a, weight: b, output: out(node) });
        else ops.push({ kind: 'matmul', a, b, output: out(node) });
        break;
      }
      case 'Gemm': {
        const a = need(node, 0), bName = need(node, 1);
        const b = constants.get(bName);
        if (!b || b.dims.length !== 2) throw new UnsupportedOpsError(['Gemm with a non-constant B']);
        const alpha = floatAttr(node, 'alpha', 1), beta = floatAttr(node, 'beta', 1);
        let w = intAttr(node, 'transB', 0) ? transpose2d(b) : b;
        if (alpha !== 1) w = { dims: w.dims, data: w.data.map((v) => v * alpha) };
        const output = out(node);
        const weightName = `${output}::weight`;
        constants.set(weightName, w);
        const op: LinearOp = { kind: 'linear', input: a, weight: weightName, output };
        const cName = node.inputs[2];
        if (cName) {
          const c = constants.get(cName);
          const n = w.dims[1]!;
          if (!c || c.data.length !== n) throw new UnsupportedOpsError(['Gemm with a C that is not a constant of N values']);
          const biasName = `${op.output}::bias`;
          constants.set(biasName, { dims: [n], data: c.data.map((v) => v * beta) });
          op.bias = biasName;
        }
        ops.push(op);
        break;
      }
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div': {
        const a = need(node, 0), b = need(node, 1);
        const last = ops[ops.length - 1];
        const bias = constants.get(b);
        // Fold "linear -> Add constant bias" when the linear's output feeds only this Add.
        if (node.opType === 'Add' && last?.kind === 'linear' && !last.bias && last.output === a && uses.get(a) === 1 && bias &&
          bias.data.length === constants.get(last.weight)!.dims[1] && bias.dims.filter((d) => d !== 1).length <= 1) {
          last.bias = b;
          last.output = out(node);
          break;
        }
        const kind = node.opType.toLowerCase() as 'add' | 'sub' | 'mul' | 'div';
        ops.push({ kind, a, b, output: out(node) });
        break;
      }
      case 'Max':
      case 'Min':
      case 'Pow':
        ops.push({ kind: node.opType.toLowerCase() as 'max' | 'min' | 'pow', a: need(node, 0), b: need(node, 1), output: out(node) });
        break;
      case 'Relu':
      case 'Tanh':
      case 'Sigmoid':
      case 'Identity':
      case 'Sqrt':
      case 'Log':
      case 'Exp':
      case 'Neg':
      case 'Abs':
        ops.push({ kind: node.opType.toLowerCase() as UnaryOp['kind'], input: need(node, 0), output: out(node) });
        break;
      case 'Cast': // to float32 an identity (the executors hold every value as float32), to bool 0 or 1, to integers a shape op
        if (intAttr(node, 'to', 0) === ONNX_BOOL) ops.push({ kind: 'tobool', input: need(node, 0), output: out(node) });
        else if (!importShapeNode(node, shapeContext, opset)) ops.push({ kind: 'identity', input: need(node, 0), output: out(node) });
        break;
      case 'Not':
        ops.push({ kind: 'not', input: need(node, 0), output: out(node) });
        break;
      case 'Equal':
      case 'Greater':
      case 'Less':
      case 'GreaterOrEqual':
      case 'LessOrEqual':
      case 'And':
      case 'Or':
        ops.push({ kind: COMPARISONS[node.opType]!, a: need(node, 0), b: need(node, 1), output: out(node) });
        break;
      case 'Where':
        ops.push({ kind: 'where', cond: need(node, 0), a: need(node, 1), b: need(node, 2), output: out(node) });
        break;
      case 'LeakyRelu':
        ops.push({ kind: 'leakyrelu', input: need(node, 0), output: out(node), alpha: floatAttr(node, 'alpha', 0.01) });
        break;
      case 'Clip': {
        const input = need(node, 0);
        const bound = (i: number, attrName: string): string | undefined => {
          if (opset >= 11) return node.inputs[i] ? need(node, i) : undefined;
          const a = attr(node, attrName);
          if (!a) return undefined;
          const name = `${node.outputs[0]}::${attrName}`;
          constants.set(name, { dims: [], data: Float32Array.of(floatAttr(node, attrName, 0)) });
          return name;
        };
        const min = bound(1, 'min'), max = bound(2, 'max');
        ops.push({ kind: 'clip', input, output: out(node), ...(min ? { min } : {}), ...(max ? { max } : {}) });
        break;
      }
      case 'Conv': {
        const input = need(node, 0), weightName = need(node, 1);
        const w = constants.get(weightName);
        if (!w || (w.dims.length !== 3 && w.dims.length !== 4)) throw new UnsupportedOpsError(['Conv with a non-constant or non-1-D/2-D weight']);
        const spatialRank = (w.dims.length - 2) as 1 | 2;
        const to2d = (v: number[] | undefined, fill: number): [number, number] =>
          spatialRank === 1 ? [fill, v?.[0] ?? fill] : [v?.[0] ?? fill, v?.[1] ?? fill];
        const [cout, cin] = w.dims as [number, number];
        const kernel: [number, number] = spatialRank === 1 ? [1, w.dims[2]!] : [w.dims[2]!, w.dims[3]!];
        const output = out(node);
        const weight4 = `${output}::weight`;
        constants.set(weight4, { dims: [cout, cin, ...kernel], data: w.data });
        const biasName = node.inputs[2] || undefined;
        if (biasName && constants.get(biasName)?.data.length !== cout) throw new UnsupportedOpsError(['Conv with a bias that is not a constant of cout values']);
        ops.push({
          kind: 'conv', input, output, weight: weight4, ...(biasName ? { bias: biasName } : {}), spatialRank, kernel,
          strides: to2d(intsAttr(node, 'strides'), 1), dilations: to2d(intsAttr(node, 'dilations'), 1), pads: pads4(node, spatialRank),
        });
        break;
      }
      case 'MaxPool': {
        const ks = intsAttr(node, 'kernel_shape')!;
        if (ks.length !== 2) throw new UnsupportedOpsError(['MaxPool over 1 spatial dim']);
        ops.push({
          kind: 'maxpool', input: need(node, 0), output: out(node), kernel: [ks[0]!, ks[1]!],
          strides: ((s) => [s?.[0] ?? 1, s?.[1] ?? 1] as [number, number])(intsAttr(node, 'strides')), pads: pads4(node, 2),
        });
        break;
      }
      case 'ReduceMean':
      case 'ReduceMax': {
        const axes = axesOf(node);
        ops.push({
          kind: node.opType.toLowerCase() as 'reducemean' | 'reducemax', input: need(node, 0), output: out(node),
          ...(axes ? { axes } : {}), keepdims: intAttr(node, 'keepdims', 1) !== 0,
        });
        break;
      }
      case 'Flatten':
        ops.push({ kind: 'flatten', input: need(node, 0), output: out(node), axis: intAttr(node, 'axis', 1) });
        break;
      case 'Unsqueeze':
      case 'Squeeze': {
        const axes = axesOf(node);
        if (node.opType === 'Unsqueeze' && !axes) throw new UnsupportedOpsError(['Unsqueeze without axes']);
        ops.push({ kind: node.opType.toLowerCase() as 'unsqueeze' | 'squeeze', input: need(node, 0), output: out(node), ...(axes ? { axes } : {}) });
        break;
      }
      case 'Concat':
        ops.push({ kind: 'concat', inputs: node.inputs.map((_, i) => need(node, i)), output: out(node), axis: intAttr(node, 'axis', 0) });
        break;
      case 'Gelu':
        if (stringAttr(node, 'approximate', 'none') === 'tanh') throw new UnsupportedOpsError(['Gelu (approximate=tanh)']);
        ops.push({ kind: 'gelu', input: need(node, 0), output: out(node) });
        break;
      case 'Softmax':
        ops.push({ kind: 'softmax', input: need(node, 0), output: out(node), axis: intAttr(node, 'axis', -1) });
        break;
      case 'LayerNormalization': {
        const scale = need(node, 1);
        if (!constants.has(scale)) throw new UnsupportedOpsError(['LayerNormalization with a non-constant scale']);
        const biasName = node.inputs[2] || undefined;
        if (biasName && !constants.has(biasName)) throw new UnsupportedOpsError(['LayerNormalization with a non-constant bias']);
        ops.push({
          kind: 'layernorm', input: need(node, 0), output: out(node), axis: intAttr(node, 'axis', -1),
          epsilon: floatAttr(node, 'epsilon', 1e-5), scale, bias: biasName,
        });
        break;
      }
      case 'Transpose':
        ops.push({ kind: 'transpose', input: need(node, 0), output: out(node), perm: intsAttr(node, 'perm') });
        break;
      case 'Reshape': {
        const shapeName = need(node, 1);
        const shape = intConstants.get(shapeName);
        if (!shape) throw new UnsupportedOpsError(['Reshape with a non-constant shape']);
        if (intAttr(node, 'allowzero', 0) !== 0) throw new UnsupportedOpsError(['Reshape with allowzero=1']);
        ops.push({ kind: 'reshape', input: need(node, 0), output: out(node), shape });
        break;
      }
      default:
        importShapeNode(node, shapeContext, opset);
    }
  }
  const outputs = g.outputs.map((o) => o.name);
  for (const o of outputs) if (!defined.has(o)) throw new GraphShapeError(`graph output '${o}' is never produced`);
  // Ops whose results nothing reads (left by folded conditions) are dropped.
  const live = new Set(outputs);
  const kept: Op[] = [];
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i]!;
    if (!opOutputs(op).some((o) => live.has(o))) continue;
    kept.push(op);
    for (const n of opInputs(op)) live.add(n);
  }
  return { name: g.name, inputs, outputs, ops: kept.reverse(), constants };
}
