// Inlines ONNX If nodes before import, so the rest of the pipeline sees one
// flat graph. A condition that is a constant, or computable from initializers,
// Constant nodes and the fixed shapes of graph inputs, is folded and only the
// chosen branch is spliced in; any other condition imports both branches and
// picks each output with Where (both branches then always run). Branch-local
// values are renamed so they cannot clash with the outer graph or with each
// other; names from the enclosing scopes stay visible. Nested Ifs are inlined
// first, their conditions folded with the constants of every enclosing scope.
// The result is itself a valid ONNX model (ONNX Runtime runs it).

import type { Graph, Model, Node, Tensor } from '../onnx/types.js';
import { GraphShapeError } from './ir.js';

/** A small integer/boolean tensor the folder can compute with. */
interface Known {
  dims: number[];
  data: number[];
}

function known(t: Tensor): Known | undefined {
  if (t.data.length > 4096 || t.type === 'string' || t.type === 'complex64' || t.type === 'complex128') return undefined;
  if (t.type === 'float16' || t.type === 'bfloat16' || t.type.startsWith('float8') || t.type === 'float4e2m1') return undefined;
  return { dims: [...t.dims], data: Array.from(t.data as ArrayLike<number | bigint>, Number) };
}

function intAttr(node: Node, name: string, fallback: number): number {
  const a = node.attributes.find((x) => x.name === name);
  return a && a.type === 'int' ? Number(a.value) : fallback;
}

const COMPARE: Record<string, (x: number, y: number) => boolean> = {
  Equal: (x, y) => x === y,
  Greater: (x, y) => x > y,
  Less: (x, y) => x < y,
  GreaterOrEqual: (x, y) => x >= y,
  LessOrEqual: (x, y) => x <= y,
  And: (x, y) => x !== 0 && y !== 0,
  Or: (x, y) => x !== 0 || y !== 0,
};
const ARITH: Record<string, (x: number, y: number) => number> = { Add: (x, y) => x + y, Sub: (x, y) => x - y, Mul: (x, y) => x * y };

/** Elementwise over a scalar and a tensor, or two tensors of one shape (all a condition needs). */
function elementwise(a: Known, b: Known, f: (x: number, y: number) => number): Known | undefined {
  if (a.data.length === 1) return { dims: b.dims, data: b.data.map((y) => f(a.data[0]!, y)) };
  if (b.data.length === 1) return { dims: a.dims, data: a.data.map((x) => f(x, b.data[0]!)) };
  if (a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) return undefined;
  return { dims: a.dims, data: a.data.map((x, i) => f(x, b.data[i]!)) };
}

/** The value of a node's first output when every input it reads is known, or undefined. */
function fold(node: Node, values: Map<string, Known>, shapes: Map<string, number[]>): Known | undefined {
  if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') return undefined;
  if (node.opType === 'Constant') {
    const v = node.attributes.find((a) => a.name === 'value');
    return v && v.type === 'tensor' ? known(v.value) : undefined;
  }
  if (node.opType === 'Shape' || node.opType === 'Size') {
    const name = node.inputs[0]!;
    const dims = values.get(name)?.dims ?? shapes.get(name);
    if (!dims) return undefined;
    if (node.opType === 'Size') return { dims: [], data: [dims.reduce((p, d) => p * d, 1)] };
    const rank = dims.length;
    const clamp = (v: number) => Math.min(rank, Math.max(0, v < 0 ? v + rank : v));
    const sliced = dims.slice(clamp(intAttr(node, 'start', 0)), clamp(intAttr(node, 'end', rank)));
    return { dims: [sliced.length], data: sliced };
  }
  const args = node.inputs.map((n) => (n ? values.get(n) : undefined));
  if (args.length === 0 || args.some((a) => !a)) return undefined;
  const [a, b] = args as Known[];
  switch (node.opType) {
    case 'Identity':
      return a;
    case 'Cast': {
      const to = intAttr(node, 'to', 0);
      if (to === 9) return { dims: a!.dims, data: a!.data.map((v) => +(v !== 0)) };
      if ([6, 7, 12, 13].includes(to)) return { dims: a!.dims, data: a!.data.map(Math.trunc) };
      return to === 1 || to === 11 ? a : undefined;
    }
    case 'Not':
      return { dims: a!.dims, data: a!.data.map((v) => +(v === 0)) };
    case 'Gather': {
      if (intAttr(node, 'axis', 0) !== 0 || a!.dims.length !== 1) return undefined;
      const n = a!.dims[0]!;
      const picked = b!.data.map((i) => a!.data[i < 0 ? i + n : i]);
      if (picked.some((v) => v === undefined)) return undefined;
      return { dims: b!.dims, data: picked as number[] };
    }
    default:
      if (b && COMPARE[node.opType]) return elementwise(a!, b, (x, y) => +COMPARE[node.opType]!(x, y));
      if (b && ARITH[node.opType]) return elementwise(a!, b, ARITH[node.opType]!);
      return undefined;
  }
}

/** The then or else graph of an If node. */
function branchOf(node: Node, which: 'then_branch' | 'else_branch'): Graph {
  const a = node.attributes.find((x) => x.name === which);
  if (!a || a.type !== 'graph') throw new GraphShapeError(`If ${node.name ?? ''} has no ${which} graph`);
  return a.value;
}

/** Every value name a graph (and its subgraphs) defines or reads. */
function allNames(g: Graph, into: Set<string>): Set<string> {
  for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo]) into.add(v.name);
  for (const t of g.initializers) if (t.name) into.add(t.name);
  for (const n of g.nodes) {
    for (const x of [...n.inputs, ...n.outputs]) if (x) into.add(x);
    for (const a of n.attributes) {
      if (a.type === 'graph') allNames(a.value, into);
      if (a.type === 'graphs') for (const s of a.value) allNames(s, into);
    }
  }
  return into;
}

interface Flat {
  nodes: Node[];
  initializers: Tensor[];
  /** Whether an If was folded (its condition chain may now be dead). */
  folded: boolean;
}

class Inliner {
  private counter = 0;
  folded = 0;
  selected = 0;

  /** `shallow`: Ifs nested in a spliced branch stay If nodes (renamed inside), for a caller that inlines them as it reaches them. */
  constructor(private readonly taken: Set<string>, private readonly shapes: Map<string, number[]>, private readonly shallow = false) {}

  private fresh(base: string): string {
    let name: string;
    do name = `${base}#${this.counter++}/`; while ([...this.taken].some((t) => t.startsWith(name)));
    return name;
  }

  /**
   * Flattens a graph's nodes; `values` holds the constants visible in its scope.
   * Returns the nodes and the initializers of spliced branches (not the graph's own).
   */
  flatten(g: Graph, values: Map<string, Known>, depth = 0): Flat {
    const scope = new Map(values);
    for (const t of g.initializers) {
      const k = t.name ? known(t) : undefined;
      if (k) scope.set(t.name!, k);
    }
    const nodes: Node[] = [];
    const initializers: Tensor[] = [];
    let folded = false;
    for (const node of g.nodes) {
      if (node.opType !== 'If' || ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') || (this.shallow && depth > 0)) {
        nodes.push(node);
        const v = fold(node, scope, this.shapes);
        if (v && node.outputs[0]) scope.set(node.outputs[0], v);
        continue;
      }
      const cond = node.inputs[0];
      if (!cond) throw new GraphShapeError(`If ${node.name ?? ''} has no condition`);
      const c = scope.get(cond);
      if (c && c.data.length !== 1) throw new GraphShapeError(`If condition '${cond}' has ${c.data.length} elements, not 1`);
      const label = node.name || `If_${node.outputs[0] ?? ''}`;
      branchOf(node, 'then_branch');
      branchOf(node, 'else_branch'); // ONNX requires both, even when the condition folds
      const splice = (which: 'then_branch' | 'else_branch'): string[] => {
        const branch = branchOf(node, which);
        if (branch.outputs.length !== node.outputs.length) {
          throw new GraphShapeError(`If ${label}: ${which} has ${branch.outputs.length} outputs, the node ${node.outputs.length}`);
        }
        const inner = this.flatten(branch, scope, depth + 1);
        folded ||= inner.folded;
        const prefix = this.fresh(`${label}/${which === 'then_branch' ? 'then' : 'else'}`);
        const inits = [...branch.initializers, ...inner.initializers];
        const local = new Set<string>();
        for (const t of inits) if (t.name) local.add(t.name);
        for (const n of inner.nodes) for (const o of n.outputs) if (o) local.add(o);
        const rename = (x: string) => (x && local.has(x) ? prefix + x : x);
        for (const t of inits) {
          const renamed = { ...t, name: rename(t.name!) } as Tensor;
          initializers.push(renamed);
          const k = known(renamed);
          if (k) scope.set(renamed.name!, k);
        }
        for (const [k, n] of inner.nodes.entries()) {
          const r: Node = {
            ...n, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename), name: prefix + (n.name || `node${k}`),
            attributes: n.attributes.map((a) => (a.type === 'graph' ? { ...a, value: renameFree(a.value, rename) } : a)),
          };
          nodes.push(r);
          const v = fold(r, scope, this.shapes);
          if (v && r.outputs[0]) scope.set(r.outputs[0], v);
        }
        return branch.outputs.map((o) => rename(o.name));
      };
      if (c) {
        this.folded++;
        folded = true;
        const outs = splice(c.data[0] !== 0 ? 'then_branch' : 'else_branch');
        node.outputs.forEach((o, i) => {
          if (o) nodes.push({ opType: 'Identity', inputs: [outs[i]!], outputs: [o], attributes: [], name: `${label}/out${i}` });
          const v = scope.get(outs[i]!);
          if (v && o) scope.set(o, v);
        });
      } else {
        this.selected++;
        const thenOuts = splice('then_branch'), elseOuts = splice('else_branch');
        node.outputs.forEach((o, i) => {
          if (o) nodes.push({ opType: 'Where', inputs: [cond, thenOuts[i]!, elseOuts[i]!], outputs: [o], attributes: [], name: `${label}/where${i}` });
        });
      }
    }
    return { nodes, initializers, folded };
  }
}

/** A subgraph with the outer-scope names it reads renamed (names it defines itself are left alone). */
function renameFree(g: Graph, rename: (name: string) => string, bound: Set<string> = new Set()): Graph {
  const own = new Set(bound);
  for (const v of g.inputs) own.add(v.name);
  for (const t of g.initializers) if (t.name) own.add(t.name);
  for (const n of g.nodes) for (const o of n.outputs) if (o) own.add(o);
  const r = (x: string) => (x && !own.has(x) ? rename(x) : x);
  return {
    ...g,
    outputs: g.outputs.map((o) => ({ ...o, name: r(o.name) })),
    nodes: g.nodes.map((n) => ({
      ...n, inputs: n.inputs.map(r),
      attributes: n.attributes.map((a) => (a.type === 'graph' ? { ...a, value: renameFree(a.value, rename, own) } : a)),
    })),
  };
}

/**
 * Inlines If nodes one at a time, for an importer that knows more constants than
 * this module can fold (values computed from fixed shapes as it goes): each call
 * splices the branch `cond` selects (both and Where when undefined), leaving
 * nested Ifs as nodes to pass back here when the importer reaches them.
 */
export function ifInliner(model: Model): (node: Node, cond: boolean | undefined) => { nodes: Node[]; initializers: Tensor[] } {
  const inliner = new Inliner(allNames(model.graph, new Set()), new Map(), true);
  return (node, cond) => {
    const scope = new Map<string, Known>();
    if (cond !== undefined) scope.set(node.inputs[0]!, { dims: [], data: [cond ? 1 : 0] });
    const flat = inliner.flatten({ name: '', nodes: [node], inputs: [], outputs: [], initializers: [], valueInfo: [] }, scope);
    return { nodes: flat.nodes, initializers: flat.initializers };
  };
}

/** Drops nodes none of whose outputs is read by a later node or a graph output. */
function dropDead(nodes: Node[], outputs: readonly string[]): Node[] {
  const live = new Set(outputs);
  const kept: Node[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (!n.outputs.some((o) => o && live.has(o))) continue;
    kept.push(n);
    for (const x of n.inputs) if (x) live.add(x);
  }
  return kept.reverse();
}

export interface InlineReport {
  /** If nodes whose condition was folded (one branch kept). */
  folded: number;
  /** If nodes imported as both branches and Where. */
  selected: number;
}

/** Whether the graph has an If node (in the default domain) at its top level. */
export function hasIf(model: Model): boolean {
  return model.graph.nodes.some((n) => n.opType === 'If' && ((n.domain ?? '') === '' || n.domain === 'ai.onnx'));
}

/**
 * The model with every If inlined (see the module comment), and how each was
 * handled. A model without If is returned as is.
 */
export function inlineIf(model: Model): { model: Model; report: InlineReport } {
  if (!hasIf(model)) return { model, report: { folded: 0, selected: 0 } };
  const g = model.graph;
  const initNames = new Set(g.initializers.map((t) => t.name));
  const shapes = new Map<string, number[]>();
  for (const v of g.inputs) {
    const s = v.type?.shape;
    if (!initNames.has(v.name) && s && s.every((d) => typeof d === 'number')) shapes.set(v.name, s as number[]);
  }
  const inliner = new Inliner(allNames(g, new Set()), shapes);
  const flat = inliner.flatten(g, new Map());
  const nodes = flat.folded ? dropDead(flat.nodes, g.outputs.map((o) => o.name)) : flat.nodes;
  return {
    model: { ...model, graph: { ...g, nodes, initializers: [...g.initializers, ...flat.initializers] } },
    report: { folded: inliner.folded, selected: inliner.selected },
  };
}
