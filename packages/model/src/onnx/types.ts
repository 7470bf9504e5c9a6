// The plain objects an ONNX model decodes to: no protobuf classes, tensors as
// typed arrays chosen by their element type.

import type { Tensor as KernelTensor } from '@compotastic/kernel';

/** ONNX element types (TensorProto.DataType) by name. */
export type DataType =
  | 'float32' | 'uint8' | 'int8' | 'uint16' | 'int16' | 'int32' | 'int64' | 'string' | 'bool' | 'float16'
  | 'float64' | 'uint32' | 'uint64' | 'complex64' | 'complex128' | 'bfloat16'
  | 'float8e4m3fn' | 'float8e4m3fnuz' | 'float8e5m2' | 'float8e5m2fnuz' | 'uint4' | 'int4' | 'float4e2m1';

/**
 * How each element type is held in memory. Half, bfloat16 and 8/4-bit float
 * types keep their bit patterns; 4-bit integer types are unpacked to one value
 * per element; complex types interleave real and imaginary parts; strings are
 * the raw bytes of each element (ONNX strings are UTF-8 but not checked here).
 */
export interface TensorDataOf {
  float32: Float32Array;
  uint8: Uint8Array;
  int8: Int8Array;
  uint16: Uint16Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  string: Uint8Array[];
  bool: Uint8Array;
  float16: Uint16Array;
  float64: Float64Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  complex64: Float32Array;
  complex128: Float64Array;
  bfloat16: Uint16Array;
  float8e4m3fn: Uint8Array;
  float8e4m3fnuz: Uint8Array;
  float8e5m2: Uint8Array;
  float8e5m2fnuz: Uint8Array;
  uint4: Uint8Array;
  int4: Int8Array;
  float4e2m1: Uint8Array;
}

export type TensorData = TensorDataOf[DataType];

/** A dense tensor of any ONNX element type (the kernel's Tensor over every type); narrowing on `type` narrows `data`. */
export type Tensor = KernelTensor<TensorDataOf> & { name?: string; docString?: string };

/** One dimension of a declared shape: a size, a symbolic name, or unknown. */
export type Dim = number | string | null;

/** The type of a graph value (only tensor types are supported). */
export interface TensorTypeInfo {
  elemType: DataType;
  /** Undefined when the rank is unknown. */
  shape?: Dim[];
}

export interface ValueInfo {
  name: string;
  type?: TensorTypeInfo;
  docString?: string;
}

/** int64 attribute values: a number when it is a safe integer, a bigint otherwise. */
export type Int64 = number | bigint;

interface AttributeOf<T extends string, V> {
  name: string;
  type: T;
  value: V;
  docString?: string;
}

export type Attribute =
  | AttributeOf<'float', number>
  | AttributeOf<'int', Int64>
  | AttributeOf<'string', string>
  | AttributeOf<'tensor', Tensor>
  | AttributeOf<'graph', Graph>
  | AttributeOf<'floats', number[]>
  | AttributeOf<'ints', Int64[]>
  | AttributeOf<'strings', string[]>
  | AttributeOf<'tensors', Tensor[]>
  | AttributeOf<'graphs', Graph[]>;

export type AttributeType = Attribute['type'];

export interface Node {
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Attribute[];
  name?: string;
  /** Operator set domain; '' (or undefined) is the default ONNX domain. */
  domain?: string;
  overload?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Tensor[];
  valueInfo: ValueInfo[];
  docString?: string;
  metadata?: Record<string, string>;
  /** Serialized SparseTensorProto initializers, kept byte for byte. */
  sparseInitializers?: Uint8Array[];
  /** Serialized TensorAnnotation messages, kept byte for byte. */
  quantizationAnnotations?: Uint8Array[];
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface Model {
  irVersion: number;
  opsetImports: OpsetImport[];
  graph: Graph;
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  metadata?: Record<string, string>;
  /** Serialized FunctionProto messages, kept byte for byte. */
  functions?: Uint8Array[];
  /** Serialized TrainingInfoProto messages, kept byte for byte. */
  trainingInfo?: Uint8Array[];
}

interface DataTypeInfo {
  /** TensorProto.DataType code. */
  code: number;
  /** Bytes per element in raw_data (0.5 for 4-bit types, 0 for strings). */
  size: number;
  /** Which typed protobuf field carries the values when raw_data is not used. */
  field: 'float_data' | 'int32_data' | 'string_data' | 'int64_data' | 'double_data' | 'uint64_data';
  /** Typed-array values per element (2 for complex types). */
  lanes: number;
}

export const DATA_TYPES: Readonly<Record<DataType, DataTypeInfo>> = {
  float32: { code: 1, size: 4, field: 'float_data', lanes: 1 },
  uint8: { code: 2, size: 1, field: 'int32_data', lanes: 1 },
  int8: { code: 3, size: 1, field: 'int32_data', lanes: 1 },
  uint16: { code: 4, size: 2, field: 'int32_data', lanes: 1 },
  int16: { code: 5, size: 2, field: 'int32_data', lanes: 1 },
  int32: { code: 6, size: 4, field: 'int32_data', lanes: 1 },
  int64: { code: 7, size: 8, field: 'int64_data', lanes: 1 },
  string: { code: 8, size: 0, field: 'string_data', lanes: 1 },
  bool: { code: 9, size: 1, field: 'int32_data', lanes: 1 },
  float16: { code: 10, size: 2, field: 'int32_data', lanes: 1 },
  float64: { code: 11, size: 8, field: 'double_data', lanes: 1 },
  uint32: { code: 12, size: 4, field: 'uint64_data', lanes: 1 },
  uint64: { code: 13, size: 8, field: 'uint64_data', lanes: 1 },
  complex64: { code: 14, size: 8, field: 'float_data', lanes: 2 },
  complex128: { code: 15, size: 16, field: 'double_data', lanes: 2 },
  bfloat16: { code: 16, size: 2, field: 'int32_data', lanes: 1 },
  float8e4m3fn: { code: 17, size: 1, field: 'int32_data', lanes: 1 },
  float8e4m3fnuz: { code: 18, size: 1, field: 'int32_data', lanes: 1 },
  float8e5m2: { code: 19, size: 1, field: 'int32_data', lanes: 1 },
  float8e5m2fnuz: { code: 20, size: 1, field: 'int32_data', lanes: 1 },
  uint4: { code: 21, size: 0.5, field: 'int32_data', lanes: 1 },
  int4: { code: 22, size: 0.5, field: 'int32_data', lanes: 1 },
  float4e2m1: { code: 23, size: 0.5, field: 'int32_data', lanes: 1 },
};

const BY_CODE = new Map<number, DataType>(Object.entries(DATA_TYPES).map(([name, info]) => [info.code, name as DataType]));

/** The element type for a TensorProto.DataType code, or undefined. */
export function dataTypeOfCode(code: number): DataType | undefined {
  return BY_CODE.get(code);
}

export function isDataType(name: unknown): name is DataType {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(DATA_TYPES, name);
}
