// ONNX ModelProto bytes <-> plain Model objects. Decoding checks everything a
// consumer relies on (tensor data against dims and type, attribute types,
// UTF-8 strings, nesting depth) and throws typed errors; encoding validates the
// objects it is given before writing anything.

import protobuf from 'protobufjs';
import { ModelError, OnnxFormatError, UnsupportedOnnxError } from '../errors.js';
import { ATTRIBUTE_TYPE, ModelProto } from './schema.js';
import { type ExternalDataResolver, type TensorStorage, type WireTensor, tensorFromWire, tensorToWire } from './tensor.js';
import {
  type Attribute, type DataType, type Dim, type Graph, type Int64, type Model, type Node, type TensorTypeInfo, type ValueInfo,
  DATA_TYPES, dataTypeOfCode, isDataType,
} from './types.js';
import { type WireInt64, toInt64, toLongLike, toSafeInteger } from './wire.js';

export interface EncodeOptions {
  /** Where numeric tensor data goes: raw_data (default, what exporters write) or the typed *_data fields. */
  tensorStorage?: TensorStorage;
}

export interface DecodeOptions {
  /** Supplies the bytes of external data files (tensors saved with data_location EXTERNAL). */
  externalData?: ExternalDataResolver;
  /** Deepest subgraph nesting accepted (default 64). */
  maxDepth?: number;
}

const DEFAULT_MAX_DEPTH = 64;

// ---------------------------------------------------------------------------
// Decoded protobuf messages (only the fields read here)

interface WireEntry { key?: string; value?: string }
interface WireDim { dim_value?: WireInt64; dim_param?: string; value?: string }
interface WireType {
  value?: string;
  tensor_type?: { elem_type?: number; shape?: { dim: WireDim[] } };
}
interface WireValueInfo { name?: string; type?: WireType; doc_string?: string }
interface WireAttribute {
  name?: string; ref_attr_name?: string; doc_string?: string; type?: number;
  f?: number; i?: WireInt64; s?: Uint8Array; t?: WireTensor; g?: WireGraph;
  floats: number[]; ints: WireInt64[]; strings: Uint8Array[]; tensors: WireTensor[]; graphs: WireGraph[];
  sparse_tensors: Uint8Array[]; type_protos: Uint8Array[];
}
interface WireNode {
  input: string[]; output: string[]; name?: string; op_type?: string; domain?: string; overload?: string;
  attribute: WireAttribute[]; doc_string?: string; metadata_props: WireEntry[];
}
interface WireGraph {
  node: WireNode[]; name?: string; initializer: WireTensor[]; sparse_initializer: Uint8Array[]; doc_string?: string;
  input: WireValueInfo[]; output: WireValueInfo[]; value_info: WireValueInfo[]; quantization_annotation: Uint8Array[];
  metadata_props: WireEntry[];
}
interface WireModel {
  ir_version?: WireInt64; opset_import: { domain?: string; version?: WireInt64 }[]; producer_name?: string;
  producer_version?: string; domain?: string; model_version?: WireInt64; doc_string?: string; graph?: WireGraph;
  metadata_props: WireEntry[]; training_info: Uint8Array[]; functions: Uint8Array[];
}

function has(m: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, key);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new OnnxFormatError('UTF8', `${what} is not valid UTF-8`);
  }
}

/**
 * protobufjs decodes string fields leniently (invalid UTF-8 becomes U+FFFD), so a damaged name or doc string would
 * decode to text that no longer encodes to the bytes it came from. This reader checks every string field strictly.
 */
class StrictUtf8Reader extends protobuf.Reader {
  override string(): string {
    return text(this.bytes(), 'a string field');
  }
}

function copies(list: Uint8Array[]): Uint8Array[] | undefined {
  return list.length > 0 ? list.map((b) => new Uint8Array(b)) : undefined;
}

function entriesToRecord(list: WireEntry[], what: string): Record<string, string> | undefined {
  if (list.length === 0) return undefined;
  const out: Record<string, string> = Object.create(null);
  for (const e of list) {
    const key = e.key ?? '';
    if (Object.prototype.hasOwnProperty.call(out, key)) throw new OnnxFormatError('DUPLICATE_KEY', `${what}: duplicate key '${key}'`);
    out[key] = e.value ?? '';
  }
  return { ...out };
}

// ---------------------------------------------------------------------------
// Decoding

class Decoder {
  private readonly maxDepth: number;

  constructor(private readonly options: DecodeOptions) {
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  }

  model(m: WireModel): Model {
    if (!m.graph) throw new OnnxFormatError('MISSING_FIELD', 'the model has no graph');
    const model: Model = {
      irVersion: toSafeInteger(m.ir_version, 'ir_version', 'MISSING_FIELD'),
      opsetImports: m.opset_import.map((o) => ({ domain: o.domain ?? '', version: toSafeInteger(o.version, 'opset version', 'MISSING_FIELD') })),
      graph: this.graph(m.graph, 'graph', 0),
    };
    if (m.producer_name) model.producerName = m.producer_name;
    if (m.producer_version) model.producerVersion = m.producer_version;
    if (m.domain) model.domain = m.domain;
    if (has(m, 'model_version')) model.modelVersion = toSafeInteger(m.model_version, 'model_version', 'MISSING_FIELD');
    if (m.doc_string) model.docString = m.doc_string;
    const metadata = entriesToRecord(m.metadata_props, 'model metadata');
    if (metadata) model.metadata = metadata;
    const functions = copies(m.functions);
    if (functions) model.functions = functions;
    const training = copies(m.training_info);
    if (training) model.trainingInfo = training;
    return model;
  }

  graph(g: WireGraph, what: string, depth: number): Graph {
    if (depth > this.maxDepth) throw new OnnxFormatError('NESTING', `${what}: subgraphs nested deeper than ${this.maxDepth}`);
    const name = g.name ?? '';
    const where = name ? `graph '${name}'` : what;
    const graph: Graph = {
      name,
      nodes: g.node.map((n, i) => this.node(n, `${where} node ${i}`, depth)),
      inputs: g.input.map((v) => this.valueInfo(v, `${where} input`)),
      outputs: g.output.map((v) => this.valueInfo(v, `${where} output`)),
      initializers: g.initializer.map((t, i) => tensorFromWire(t, `${where} initializer ${i}`, this.options.externalData)),
      valueInfo: g.value_info.map((v) => this.valueInfo(v, `${where} value_info`)),
    };
    if (g.doc_string) graph.docString = g.doc_string;
    const metadata = entriesToRecord(g.metadata_props, `${where} metadata`);
    if (metadata) graph.metadata = metadata;
    const sparse = copies(g.sparse_initializer);
    if (sparse) graph.sparseInitializers = sparse;
    const annotations = copies(g.quantization_annotation);
    if (annotations) graph.quantizationAnnotations = annotations;
    return graph;
  }

  node(n: WireNode, what: string, depth: number): Node {
    if (!n.op_type) throw new OnnxFormatError('MISSING_FIELD', `${what} has no op_type`);
    const label = `${what} (${n.op_type}${n.name ? ` '${n.name}'` : ''})`;
    const node: Node = {
      opType: n.op_type,
      inputs: [...n.input],
      outputs: [...n.output],
      attributes: n.attribute.map((a) => this.attribute(a, label, depth)),
    };
    if (n.name) node.name = n.name;
    if (n.domain) node.domain = n.domain;
    if (n.overload) node.overload = n.overload;
    if (n.doc_string) node.docString = n.doc_string;
    const metadata = entriesToRecord(n.metadata_props, `${label} metadata`);
    if (metadata) node.metadata = metadata;
    return node;
  }

  valueInfo(v: WireValueInfo, what: string): ValueInfo {
    const info: ValueInfo = { name: v.name ?? '' };
    const label = `${what} '${info.name}'`;
    if (v.type) info.type = this.type(v.type, label);
    if (v.doc_string) info.docString = v.doc_string;
    return info;
  }

  type(t: WireType, what: string): TensorTypeInfo | undefined {
    if (t.value === undefined) return undefined;
    if (t.value !== 'tensor_type' || !t.tensor_type) throw new UnsupportedOnnxError(`${what} has a ${t.value.replace('_type', '')} type; only tensors are supported`);
    const code = t.tensor_type.elem_type ?? 0;
    const elemType = dataTypeOfCode(code);
    if (!elemType) {
      if (code === 0) throw new OnnxFormatError('TYPE', `${what} has no element type`);
      throw new UnsupportedOnnxError(`${what} has element type ${code}, which is not supported`);
    }
    const info: TensorTypeInfo = { elemType };
    const shape = t.tensor_type.shape;
    if (shape) {
      info.shape = shape.dim.map((d): Dim => {
        if (d.value === 'dim_value') return toSafeInteger(d.dim_value, `${what} shape`);
        if (d.value === 'dim_param') return d.dim_param ?? '';
        return null;
      });
    }
    return info;
  }

  attribute(a: WireAttribute, what: string, depth: number): Attribute {
    const name = a.name ?? '';
    const label = `${what} attribute '${name}'`;
    if (!name) throw new OnnxFormatError('ATTRIBUTE', `${what} has an attribute without a name`);
    if (a.ref_attr_name) throw new UnsupportedOnnxError(`${label} refers to function attribute '${a.ref_attr_name}'`);
    const type = has(a, 'type') && a.type !== ATTRIBUTE_TYPE.UNDEFINED ? a.type! : inferAttributeType(a, label);
    const base = { name, ...(a.doc_string ? { docString: a.doc_string } : {}) };
    const sub = (g: WireGraph, i?: number) => this.graph(g, `${label}${i === undefined ? '' : `[${i}]`}`, depth + 1);
    switch (type) {
      case ATTRIBUTE_TYPE.FLOAT: return { ...base, type: 'float', value: a.f ?? 0 };
      case ATTRIBUTE_TYPE.INT: return { ...base, type: 'int', value: toInt64(a.i ?? 0) };
      case ATTRIBUTE_TYPE.STRING: return { ...base, type: 'string', value: text(a.s ?? new Uint8Array(0), label) };
      case ATTRIBUTE_TYPE.TENSOR:
        if (!a.t) throw new OnnxFormatError('ATTRIBUTE', `${label} is a tensor attribute without a tensor`);
        return { ...base, type: 'tensor', value: tensorFromWire(a.t, label, this.options.externalData) };
      case ATTRIBUTE_TYPE.GRAPH:
        if (!a.g) throw new OnnxFormatError('ATTRIBUTE', `${label} is a graph attribute without a graph`);
        return { ...base, type: 'graph', value: sub(a.g) };
      case ATTRIBUTE_TYPE.FLOATS: return { ...base, type: 'floats', value: [...a.floats] };
      case ATTRIBUTE_TYPE.INTS: return { ...base, type: 'ints', value: a.ints.map(toInt64) };
      case ATTRIBUTE_TYPE.STRINGS: return { ...base, type: 'strings', value: a.strings.map((s, i) => text(s, `${label}[${i}]`)) };
      case ATTRIBUTE_TYPE.TENSORS:
        return { ...base, type: 'tensors', value: a.tensors.map((t, i) => tensorFromWire(t, `${label}[${i}]`, this.options.externalData)) };
      case ATTRIBUTE_TYPE.GRAPHS: return { ...base, type: 'graphs', value: a.graphs.map((g, i) => sub(g, i)) };
      case ATTRIBUTE_TYPE.SPARSE_TENSOR:
      case ATTRIBUTE_TYPE.SPARSE_TENSORS:
      case ATTRIBUTE_TYPE.TYPE_PROTO:
      case ATTRIBUTE_TYPE.TYPE_PROTOS:
        throw new UnsupportedOnnxError(`${label} has attribute type ${type} (sparse tensors and type protos are not supported)`);
      default:
        throw new OnnxFormatError('ATTRIBUTE', `${label} has unknown attribute type ${type}`);
    }
  }
}

/** IR version 1 attributes carry no type: the one value field that is set decides. */
function inferAttributeType(a: WireAttribute, what: string): number {
  const present: number[] = [];
  if (has(a, 'f')) present.push(ATTRIBUTE_TYPE.FLOAT);
  if (has(a, 'i')) present.push(ATTRIBUTE_TYPE.INT);
  if (has(a, 's')) present.push(ATTRIBUTE_TYPE.STRING);
  if (has(a, 't')) present.push(ATTRIBUTE_TYPE.TENSOR);
  if (has(a, 'g')) present.push(ATTRIBUTE_TYPE.GRAPH);
  if (a.floats.length) present.push(ATTRIBUTE_TYPE.FLOATS);
  if (a.ints.length) present.push(ATTRIBUTE_TYPE.INTS);
  if (a.strings.length) present.push(ATTRIBUTE_TYPE.STRINGS);
  if (a.tensors.length) present.push(ATTRIBUTE_TYPE.TENSORS);
  if (a.graphs.length) present.push(ATTRIBUTE_TYPE.GRAPHS);
  if (present.length !== 1) throw new OnnxFormatError('ATTRIBUTE', `${what} has no type and ${present.length === 0 ? 'no value' : 'several values'}`);
  return present[0]!;
}

/** Decodes ONNX ModelProto bytes. Throws a ModelError subclass for anything malformed or unsupported. */
export function decodeModel(bytes: Uint8Array, options: DecodeOptions = {}): Model {
  if (!(bytes instanceof Uint8Array)) throw new OnnxFormatError('PROTOBUF', 'decodeModel takes a Uint8Array');
  let wire: WireModel;
  try {
    wire = ModelProto.decode(new StrictUtf8Reader(bytes)) as unknown as WireModel;
  } catch (err) {
    if (err instanceof ModelError) throw err;
    throw new OnnxFormatError('PROTOBUF', `not a valid ONNX model: ${(err as Error).message}`, { cause: err });
  }
  try {
    return new Decoder(options).model(wire);
  } catch (err) {
    if (err instanceof ModelError) throw err;
    // Deeply nested or otherwise hostile input can exhaust the stack.
    if (err instanceof RangeError) throw new OnnxFormatError('NESTING', `cannot decode the model: ${err.message}`, { cause: err });
    throw err;
  }
}

// ---------------------------------------------------------------------------
// Encoding

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new OnnxFormatError('MISSING_FIELD', `${what} must be a string`);
  return v;
}

function recordToEntries(r: Record<string, string> | undefined, what: string): WireEntry[] | undefined {
  if (r === undefined) return undefined;
  return Object.entries(r).map(([key, value]) => ({ key, value: str(value, `${what} '${key}'`) }));
}

function int64(v: unknown, what: string): number | { low: number; high: number } {
  if (typeof v === 'bigint') return toLongLike(v);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  throw new OnnxFormatError('ATTRIBUTE', `${what} must be an integer, got ${String(v)}`);
}

class Encoder {
  constructor(private readonly storage: TensorStorage) {}

  model(model: Model): Record<string, unknown> {
    if (typeof model !== 'object' || model === null) throw new OnnxFormatError('MISSING_FIELD', 'encodeModel takes a Model object');
    if (!Number.isSafeInteger(model.irVersion) || model.irVersion < 0) throw new OnnxFormatError('MISSING_FIELD', `irVersion must be a non-negative integer, got ${model.irVersion}`);
    if (!model.graph) throw new OnnxFormatError('MISSING_FIELD', 'the model has no graph');
    const out: Record<string, unknown> = {
      ir_version: model.irVersion,
      opset_import: (model.opsetImports ?? []).map((o) => {
        if (!Number.isSafeInteger(o.version)) throw new OnnxFormatError('MISSING_FIELD', `opset version must be an integer, got ${o.version}`);
        return { domain: str(o.domain ?? '', 'opset domain'), version: o.version };
      }),
      graph: this.graph(model.graph, 0),
    };
    if (model.producerName !== undefined) out.producer_name = str(model.producerName, 'producerName');
    if (model.producerVersion !== undefined) out.producer_version = str(model.producerVersion, 'producerVersion');
    if (model.domain !== undefined) out.domain = str(model.domain, 'domain');
    if (model.modelVersion !== undefined) out.model_version = int64(model.modelVersion, 'modelVersion');
    if (model.docString !== undefined) out.doc_string = str(model.docString, 'docString');
    const metadata = recordToEntries(model.metadata, 'model metadata');
    if (metadata) out.metadata_props = metadata;
    if (model.functions) out.functions = model.functions;
    if (model.trainingInfo) out.training_info = model.trainingInfo;
    return out;
  }

  graph(g: Graph, depth: number): Record<string, unknown> {
    if (depth > DEFAULT_MAX_DEPTH) throw new OnnxFormatError('NESTING', `subgraphs nested deeper than ${DEFAULT_MAX_DEPTH}`);
    const where = `graph '${g.name}'`;
    const out: Record<string, unknown> = {
      name: str(g.name, 'graph name'),
      node: g.nodes.map((n, i) => this.node(n, `${where} node ${i}`, depth)),
      initializer: g.initializers.map((t, i) => tensorToWire(t, this.storage, `${where} initializer ${t.name ?? i}`)),
      input: g.inputs.map((v) => this.valueInfo(v, `${where} input`)),
      output: g.outputs.map((v) => this.valueInfo(v, `${where} output`)),
      value_info: (g.valueInfo ?? []).map((v) => this.valueInfo(v, `${where} value_info`)),
    };
    if (g.docString !== undefined) out.doc_string = str(g.docString, 'graph docString');
    const metadata = recordToEntries(g.metadata, `${where} metadata`);
    if (metadata) out.metadata_props = metadata;
    if (g.sparseInitializers) out.sparse_initializer = g.sparseInitializers;
    if (g.quantizationAnnotations) out.quantization_annotation = g.quantizationAnnotations;
    return out;
  }

  node(n: Node, what: string, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {
      op_type: str(n.opType, `${what} opType`),
      input: n.inputs.map((s) => str(s, `${what} input`)),
      output: n.outputs.map((s) => str(s, `${what} output`)),
      attribute: (n.attributes ?? []).map((a) => this.attribute(a, `${what} (${n.opType})`, depth)),
    };
    if (n.name !== undefined) out.name = str(n.name, `${what} name`);
    if (n.domain) out.domain = str(n.domain, `${what} domain`);
    if (n.overload) out.overload = str(n.overload, `${what} overload`);
    if (n.docString !== undefined) out.doc_string = str(n.docString, `${what} docString`);
    const metadata = recordToEntries(n.metadata, `${what} metadata`);
    if (metadata) out.metadata_props = metadata;
    return out;
  }

  valueInfo(v: ValueInfo, what: string): Record<string, unknown> {
    const out: Record<string, unknown> = { name: str(v.name, `${what} name`) };
    if (v.type) {
      if (!isDataType(v.type.elemType)) throw new OnnxFormatError('TYPE', `${what} '${v.name}': unknown element type '${String(v.type.elemType)}'`);
      const tensorType: Record<string, unknown> = { elem_type: DATA_TYPES[v.type.elemType as DataType].code };
      if (v.type.shape) {
        tensorType.shape = {
          dim: v.type.shape.map((d) => {
            if (d === null) return {};
            if (typeof d === 'string') return { dim_param: d };
            if (Number.isSafeInteger(d)) return { dim_value: d };
            throw new OnnxFormatError('DIMS', `${what} '${v.name}': invalid dimension ${String(d)}`);
          }),
        };
      }
      out.type = { tensor_type: tensorType };
    }
    if (v.docString !== undefined) out.doc_string = str(v.docString, `${what} docString`);
    return out;
  }

  attribute(a: Attribute, what: string, depth: number): Record<string, unknown> {
    const label = `${what} attribute '${a.name}'`;
    const out: Record<string, unknown> = { name: str(a.name, `${what} attribute name`) };
    if (!a.name) throw new OnnxFormatError('ATTRIBUTE', `${what} has an attribute without a name`);
    if (a.docString !== undefined) out.doc_string = str(a.docString, `${label} docString`);
    const enc = new TextEncoder();
    const num = (v: unknown): number => {
      if (typeof v !== 'number') throw new OnnxFormatError('ATTRIBUTE', `${label} must hold numbers`);
      return v;
    };
    switch (a.type) {
      case 'float': out.type = ATTRIBUTE_TYPE.FLOAT; out.f = num(a.value); break;
      case 'int': out.type = ATTRIBUTE_TYPE.INT; out.i = int64(a.value, label); break;
      case 'string': out.type = ATTRIBUTE_TYPE.STRING; out.s = enc.encode(str(a.value, label)); break;
      case 'tensor': out.type = ATTRIBUTE_TYPE.TENSOR; out.t = tensorToWire(a.value, this.storage, label); break;
      case 'graph': out.type = ATTRIBUTE_TYPE.GRAPH; out.g = this.graph(a.value, depth + 1); break;
      case 'floats': out.type = ATTRIBUTE_TYPE.FLOATS; out.floats = a.value.map(num); break;
      case 'ints': out.type = ATTRIBUTE_TYPE.INTS; out.ints = a.value.map((v: Int64) => int64(v, label)); break;
      case 'strings': out.type = ATTRIBUTE_TYPE.STRINGS; out.strings = a.value.map((s) => enc.encode(str(s, label))); break;
      case 'tensors': out.type = ATTRIBUTE_TYPE.TENSORS; out.tensors = a.value.map((t, i) => tensorToWire(t, this.storage, `${label}[${i}]`)); break;
      case 'graphs': out.type = ATTRIBUTE_TYPE.GRAPHS; out.graphs = a.value.map((g) => this.graph(g, depth + 1)); break;
      default:
        throw new OnnxFormatError('ATTRIBUTE', `${label} has unknown type '${String((a as { type: unknown }).type)}'`);
    }
    return out;
  }
}

/** Serializes a model to ONNX ModelProto bytes. */
export function encodeModel(model: Model, options: EncodeOptions = {}): Uint8Array {
  const storage = options.tensorStorage ?? 'raw';
  if (storage !== 'raw' && storage !== 'typed') throw new OnnxFormatError('TENSOR_DATA', `tensorStorage must be 'raw' or 'typed', got ${String(storage)}`);
  const wire = new Encoder(storage).model(model);
  const buf = ModelProto.encode(wire).finish();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
