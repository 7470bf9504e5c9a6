// A small fluent builder for ONNX graphs held in memory:
//
//   const model = graph('mm')
//     .input('A', 'uint8', [1, 256])
//     .initializer('B', tensor('int8', [256, 256], weights))
//     .node('MatMulInteger', ['A', 'B'], ['Y'])
//     .output('Y', 'int32', [1, 256])
//     .model({ opset: 21 });
//
// build() checks that the graph is well formed (single assignment, every input
// defined before use, outputs produced) so a mistake surfaces here rather than
// as an opaque runtime error.

import { GraphBuildError } from '../errors.js';
import { validateTensor } from './tensor.js';
import {
  type Attribute, type DataType, type Dim, type Graph, type Int64, type Model, type Node, type Tensor, type ValueInfo, isDataType,
} from './types.js';

/** An attribute value with its ONNX type stated explicitly (see `attr`). */
export class TypedAttribute {
  constructor(readonly attribute: Omit<Attribute, 'name'>) {}
}

/** Explicit attribute types, for values whose type a plain JS value cannot tell (1.0 vs 1, empty lists). */
export const attr = {
  float: (value: number) => new TypedAttribute({ type: 'float', value }),
  floats: (value: number[]) => new TypedAttribute({ type: 'floats', value }),
  int: (value: Int64) => new TypedAttribute({ type: 'int', value }),
  ints: (value: Int64[]) => new TypedAttribute({ type: 'ints', value }),
  string: (value: string) => new TypedAttribute({ type: 'string', value }),
  strings: (value: string[]) => new TypedAttribute({ type: 'strings', value }),
};

/**
 * Plain values map to attribute types: integer numbers and bigints to int,
 * other numbers to float, strings to string, arrays element-wise (floats if
 * any element is fractional), tensors and graphs to themselves.
 */
export type AttributeInput = Int64 | string | Tensor | Graph | Int64[] | string[] | Tensor[] | Graph[] | TypedAttribute;

function isTensor(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && 'type' in v && 'dims' in v && 'data' in v;
}

function isGraph(v: unknown): v is Graph {
  return typeof v === 'object' && v !== null && 'nodes' in v && 'initializers' in v;
}

/** Converts a plain attribute value into a typed Attribute. */
export function toAttribute(name: string, value: AttributeInput): Attribute {
  const fail = (why: string) => new GraphBuildError(`attribute '${name}': ${why}`);
  if (value instanceof TypedAttribute) return { name, ...value.attribute } as Attribute;
  if (typeof value === 'bigint') return { name, type: 'int', value };
  if (typeof value === 'number') {
    if (!Number.isFinite(value) && !Number.isNaN(value)) return { name, type: 'float', value };
    return Number.isInteger(value) ? { name, type: 'int', value } : { name, type: 'float', value };
  }
  if (typeof value === 'string') return { name, type: 'string', value };
  if (isTensor(value)) {
    validateTensor(value, `attribute '${name}'`);
    return { name, type: 'tensor', value };
  }
  if (isGraph(value)) return { name, type: 'graph', value };
  if (Array.isArray(value)) {
    if (value.length === 0) throw fail('an empty list has no type; use attr.ints([]) or attr.floats([])');
    const list = value as unknown[];
    if (list.every((v) => typeof v === 'string')) return { name, type: 'strings', value: list as string[] };
    if (list.every((v) => typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v)))) {
      return { name, type: 'ints', value: list as Int64[] };
    }
    if (list.every((v) => typeof v === 'number')) return { name, type: 'floats', value: list as number[] };
    if (list.every(isTensor)) return { name, type: 'tensors', value: list as Tensor[] };
    if (list.every(isGraph)) return { name, type: 'graphs', value: list as Graph[] };
    throw fail('a list must hold values of one kind');
  }
  throw fail(`unsupported value ${String(value)}`);
}

export interface NodeOptions {
  name?: string;
  domain?: string;
}

export interface ModelOptions {
  /** Default-domain opset version, or versions by domain ('' is the default domain). Default 21. */
  opset?: number | Record<string, number>;
  /** IR version; by default the one that introduced the default-domain opset. */
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

export interface BuildOptions {
  /** Names visible from an enclosing graph (for subgraphs of If, Loop, Scan). */
  outerScope?: Iterable<string>;
}

/** The IR version that came with each default-domain opset (later opsets keep IR 11, the newest ONNX Runtime 1.2x reads). */
export function irVersionForOpset(opset: number): number {
  if (opset >= 23) return 11;
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  if (opset >= 15) return 8;
  if (opset >= 12) return 7;
  if (opset >= 11) return 6;
  if (opset >= 10) return 5;
  if (opset >= 9) return 4;
  return 3;
}

function valueInfo(name: string, type: DataType | undefined, dims: readonly Dim[] | undefined): ValueInfo {
  if (typeof name !== 'string' || name === '') throw new GraphBuildError('a value needs a non-empty name');
  const info: ValueInfo = { name };
  if (type !== undefined) {
    if (!isDataType(type)) throw new GraphBuildError(`'${name}': unknown element type '${String(type)}'`);
    info.type = { elemType: type };
    if (dims !== undefined) info.type.shape = [...dims];
  }
  return info;
}

export class GraphBuilder {
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly initializers: Tensor[] = [];
  private readonly nodes: Node[] = [];
  private readonly valueInfos: ValueInfo[] = [];
  private docString: string | undefined;

  constructor(readonly name = 'graph') {}

  /** Declares a graph input; `dims` entries may be sizes, symbolic names or null. */
  input(name: string, type: DataType, dims?: readonly Dim[]): this {
    this.inputs.push(valueInfo(name, type, dims));
    return this;
  }

  /** Adds a constant (stored in the model, so runtimes can pre-pack it). */
  initializer(name: string, value: Tensor): this {
    if (typeof name !== 'string' || name === '') throw new GraphBuildError('an initializer needs a non-empty name');
    validateTensor(value, `initializer '${name}'`);
    this.initializers.push({ ...value, name } as Tensor);
    return this;
  }

  node(opType: string, inputs: readonly string[], outputs: readonly string[], attributes: Record<string, AttributeInput> = {}, options: NodeOptions = {}): this {
    if (typeof opType !== 'string' || opType === '') throw new GraphBuildError('a node needs an op type');
    const node: Node = {
      opType,
      inputs: [...inputs],
      outputs: [...outputs],
      attributes: Object.entries(attributes).map(([name, value]) => toAttribute(name, value)),
    };
    if (options.name !== undefined) node.name = options.name;
    if (options.domain) node.domain = options.domain;
    this.nodes.push(node);
    return this;
  }

  /** Declares a graph output (type and dims optional: runtimes infer them). */
  output(name: string, type?: DataType, dims?: readonly Dim[]): this {
    this.outputs.push(valueInfo(name, type, dims));
    return this;
  }

  /** Records the type of an intermediate value. */
  valueInfo(name: string, type: DataType, dims?: readonly Dim[]): this {
    this.valueInfos.push(valueInfo(name, type, dims));
    return this;
  }

  doc(text: string): this {
    this.docString = text;
    return this;
  }

  /** The graph, after checking single assignment and that every value is defined before use. */
  build(options: BuildOptions = {}): Graph {
    const defined = new Set<string>(options.outerScope ?? []);
    const local = new Set<string>();
    const define = (name: string, what: string) => {
      if (local.has(name)) throw new GraphBuildError(`graph '${this.name}': '${name}' is defined twice (${what})`);
      local.add(name);
      defined.add(name);
    };
    for (const v of this.inputs) define(v.name, 'input');
    for (const t of this.initializers) {
      // An initializer may also be listed as an input (a default value for it).
      if (this.inputs.some((v) => v.name === t.name)) continue;
      define(t.name!, 'initializer');
    }
    this.nodes.forEach((n, i) => {
      const label = `node ${i} (${n.opType})`;
      for (const input of n.inputs) {
        if (input !== '' && !defined.has(input)) throw new GraphBuildError(`graph '${this.name}': ${label} uses '${input}' before it is defined`);
      }
      if (n.outputs.length === 0) throw new GraphBuildError(`graph '${this.name}': ${label} has no outputs`);
      for (const output of n.outputs) if (output !== '') define(output, label);
    });
    if (this.outputs.length === 0) throw new GraphBuildError(`graph '${this.name}' has no outputs`);
    for (const v of this.outputs) {
      if (!defined.has(v.name)) throw new GraphBuildError(`graph '${this.name}': output '${v.name}' is never produced`);
    }
    const graph: Graph = {
      name: this.name,
      nodes: this.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attributes: [...n.attributes] })),
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      initializers: [...this.initializers],
      valueInfo: [...this.valueInfos],
    };
    if (this.docString !== undefined) graph.docString = this.docString;
    return graph;
  }

  /** A model around the built graph. */
  model(options: ModelOptions = {}): Model {
    const graph = this.build();
    const opsets: Record<string, number> = typeof options.opset === 'object' ? { ...options.opset } : { '': options.opset ?? 21 };
    opsets[''] ??= 21;
    for (const [domain, version] of Object.entries(opsets)) {
      if (!Number.isSafeInteger(version) || version < 1) throw new GraphBuildError(`opset '${domain}' must be a positive integer, got ${version}`);
    }
    const domains = new Set<string>();
    const collect = (g: Graph) => {
      for (const n of g.nodes) {
        domains.add(n.domain ?? '');
        for (const a of n.attributes) {
          if (a.type === 'graph') collect(a.value);
          if (a.type === 'graphs') a.value.forEach(collect);
        }
      }
    };
    collect(graph);
    for (const d of domains) if (opsets[d] === undefined) throw new GraphBuildError(`nodes use domain '${d}' but no opset was given for it`);
    const model: Model = {
      irVersion: options.irVersion ?? irVersionForOpset(opsets['']!),
      opsetImports: Object.entries(opsets).map(([domain, version]) => ({ domain, version })),
      graph,
      producerName: options.producerName ?? 'compotastic',
    };
    if (options.producerVersion !== undefined) model.producerVersion = options.producerVersion;
    if (options.docString !== undefined) model.docString = options.docString;
    if (options.metadata !== undefined) model.metadata = { ...options.metadata };
    return model;
  }
}

/** Starts a graph. */
export function graph(name?: string): GraphBuilder {
  return new GraphBuilder(name);
}
