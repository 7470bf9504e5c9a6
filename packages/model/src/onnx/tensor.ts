// Dense tensors: the `tensor()` factory, validation, and conversion to and
// from TensorProto (raw_data or the typed *_data fields).

import { ExternalDataError, OnnxFormatError, UnsupportedOnnxError } from '../errors.js';
import { DATA_LOCATION_EXTERNAL } from './schema.js';
import { DATA_TYPES, dataTypeOfCode, isDataType, type DataType, type Tensor, type TensorData, type TensorDataOf } from './types.js';
import { type LongLike, type WireInt64, toBigInt, toLongLike, toSafeInteger } from './wire.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type NumericType = Exclude<DataType, 'string'>;
type TypedCtor = { new (n: number): Exclude<TensorData, Uint8Array[]>; readonly BYTES_PER_ELEMENT: number };

const ARRAY_OF: Readonly<Record<NumericType, TypedCtor>> = {
  float32: Float32Array, uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, int32: Int32Array,
  int64: BigInt64Array, bool: Uint8Array, float16: Uint16Array, float64: Float64Array, uint32: Uint32Array,
  uint64: BigUint64Array, complex64: Float32Array, complex128: Float64Array, bfloat16: Uint16Array,
  float8e4m3fn: Uint8Array, float8e4m3fnuz: Uint8Array, float8e5m2: Uint8Array, float8e5m2fnuz: Uint8Array,
  uint4: Uint8Array, int4: Int8Array, float4e2m1: Uint8Array,
};

/** Value ranges a typed array does not enforce by itself (and the int32_data range of each small type). */
const INT_RANGE: Partial<Record<NumericType, readonly [number, number]>> = {
  uint8: [0, 255], int8: [-128, 127], uint16: [0, 65535], int16: [-32768, 32767], int32: [-2147483648, 2147483647],
  bool: [0, 1], float16: [0, 65535], bfloat16: [0, 65535], float8e4m3fn: [0, 255], float8e4m3fnuz: [0, 255],
  float8e5m2: [0, 255], float8e5m2fnuz: [0, 255], uint4: [0, 15], int4: [-8, 7], float4e2m1: [0, 15],
};

const FOUR_BIT = new Set<DataType>(['uint4', 'int4', 'float4e2m1']);

/** Number of elements for dims; rejects negative, fractional or overflowing dims. */
export function elementCount(dims: readonly number[], what = 'tensor'): number {
  let n = 1;
  for (const d of dims) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new OnnxFormatError('DIMS', `${what}: invalid dims [${dims.join(', ')}]`);
    }
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) throw new OnnxFormatError('DIMS', `${what}: dims [${dims.join(', ')}] hold too many elements`);
  }
  return n;
}

/** Bytes of raw_data for `count` elements of `type`. */
export function rawByteLength(type: NumericType, count: number): number {
  return FOUR_BIT.has(type) ? Math.ceil(count / 2) : count * DATA_TYPES[type].size;
}

function checkRange(type: NumericType, data: ArrayLike<number>, what: string): void {
  const range = INT_RANGE[type];
  if (!range) return;
  const [lo, hi] = range;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(v >= lo && v <= hi) || !Number.isInteger(v)) {
      throw new OnnxFormatError('TENSOR_DATA', `${what}: element ${i} (${v}) is not a valid ${type} value`);
    }
  }
}

/** Checks that a tensor object is consistent: known type, valid dims, data of the right class, length and range. */
export function validateTensor(t: Tensor, what = 'tensor'): void {
  if (typeof t !== 'object' || t === null) throw new OnnxFormatError('TENSOR_DATA', `${what} is not a tensor object`);
  if (!isDataType(t.type)) throw new OnnxFormatError('TYPE', `${what}: unknown element type '${String(t.type)}'`);
  if (!Array.isArray(t.dims)) throw new OnnxFormatError('DIMS', `${what}: dims must be an array`);
  const count = elementCount(t.dims, what) * DATA_TYPES[t.type].lanes;
  if (t.type === 'string') {
    if (!Array.isArray(t.data) || t.data.some((s) => !(s instanceof Uint8Array))) {
      throw new OnnxFormatError('TENSOR_DATA', `${what}: string data must be an array of Uint8Array`);
    }
  } else {
    const Ctor = ARRAY_OF[t.type];
    if (!(t.data instanceof Ctor)) throw new OnnxFormatError('TENSOR_DATA', `${what}: ${t.type} data must be a ${Ctor.name}`);
    if (Ctor === Uint8Array || Ctor === Int8Array) checkRange(t.type, t.data as Uint8Array, what);
  }
  if (t.data.length !== count) {
    throw new OnnxFormatError('TENSOR_DATA', `${what}: dims [${t.dims.join(', ')}] need ${count} values, got ${t.data.length}`);
  }
}

type TensorInput<T extends DataType> =
  T extends 'string' ? readonly (string | Uint8Array)[]
    : T extends 'int64' | 'uint64' ? TensorDataOf[T] | ArrayLike<bigint | number>
      : TensorDataOf[T] | ArrayLike<number>;

/**
 * Builds a tensor, converting plain arrays to the type's typed array (strings
 * are UTF-8 encoded) and checking dims, length and value ranges.
 */
export function tensor<T extends DataType>(type: T, dims: readonly number[], data: TensorInput<T>, name?: string): Extract<Tensor, { type: T }> {
  if (!isDataType(type)) throw new OnnxFormatError('TYPE', `unknown element type '${String(type)}'`);
  let values: TensorData;
  if (type === 'string') {
    const enc = new TextEncoder();
    values = Array.from(data as readonly (string | Uint8Array)[], (s) => (typeof s === 'string' ? enc.encode(s) : s));
  } else {
    const Ctor = ARRAY_OF[type as NumericType];
    if (data instanceof Ctor) {
      values = data as TensorData;
    } else {
      const src = data as ArrayLike<number | bigint>;
      const out = new Ctor(src.length);
      const big = out instanceof BigInt64Array || out instanceof BigUint64Array;
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!;
        if (big) {
          if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new OnnxFormatError('TENSOR_DATA', `element ${i} (${v}) is not an integer`);
          (out as BigInt64Array)[i] = BigInt(v);
        } else {
          if (typeof v !== 'number') throw new OnnxFormatError('TENSOR_DATA', `element ${i} of a ${type} tensor must be a number`);
          (out as Float64Array)[i] = v;
        }
      }
      if (!big) checkRange(type as NumericType, src as ArrayLike<number>, `${type} tensor`);
      if (out instanceof BigUint64Array && Array.prototype.some.call(src, (v: number | bigint) => BigInt(v) < 0n)) {
        throw new OnnxFormatError('TENSOR_DATA', 'uint64 values must not be negative');
      }
      values = out;
    }
  }
  const t = { type, dims: [...dims], data: values } as Tensor;
  if (name !== undefined) t.name = name;
  validateTensor(t, `${type} tensor`);
  return t as Extract<Tensor, { type: T }>;
}

// ---------------------------------------------------------------------------
// Byte layout

function pack4(data: Uint8Array | Int8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / 2));
  for (let i = 0; i < data.length; i++) out[i >> 1]! |= (data[i]! & 15) << ((i & 1) * 4);
  return out;
}

function unpack4(bytes: ArrayLike<number>, count: number, signed: boolean): Uint8Array | Int8Array {
  const out = signed ? new Int8Array(count) : new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const nib = (bytes[i >> 1]! >> ((i & 1) * 4)) & 15;
    out[i] = signed && nib >= 8 ? nib - 16 : nib;
  }
  return out;
}

/** Little-endian bytes of a numeric tensor, as raw_data stores them. */
export function rawBytes(t: Exclude<Tensor, { type: 'string' }>): Uint8Array {
  if (FOUR_BIT.has(t.type)) return pack4(t.data as Uint8Array);
  const d = t.data;
  const view = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  const width = d.BYTES_PER_ELEMENT;
  if (LITTLE_ENDIAN || width === 1) return view;
  const out = new Uint8Array(view.length);
  for (let i = 0; i < view.length; i += width) for (let b = 0; b < width; b++) out[i + b] = view[i + width - 1 - b]!;
  return out;
}

function fromRaw(type: NumericType, raw: Uint8Array, count: number, what: string): TensorData {
  const expected = rawByteLength(type, count);
  if (raw.length !== expected) {
    throw new OnnxFormatError('TENSOR_DATA', `${what}: raw_data has ${raw.length} bytes, ${count} ${type} values need ${expected}`);
  }
  if (FOUR_BIT.has(type)) return unpack4(raw, count, type === 'int4');
  const out = new ARRAY_OF[type](count * DATA_TYPES[type].lanes);
  const bytes = new Uint8Array(out.buffer);
  const width = out.BYTES_PER_ELEMENT;
  if (LITTLE_ENDIAN || width === 1) bytes.set(raw);
  else for (let i = 0; i < raw.length; i += width) for (let b = 0; b < width; b++) bytes[i + b] = raw[i + width - 1 - b]!;
  if (type === 'bool') checkRange('bool', out as Uint8Array, what);
  return out;
}

// ---------------------------------------------------------------------------
// TensorProto

/** The fields of a TensorProto this package reads (a decoded protobufjs message). */
export interface WireTensor {
  dims: WireInt64[];
  data_type?: number;
  segment?: unknown;
  float_data: number[];
  int32_data: number[];
  string_data: Uint8Array[];
  int64_data: WireInt64[];
  name?: string;
  doc_string?: string;
  raw_data?: Uint8Array;
  external_data: { key?: string; value?: string }[];
  data_location?: number;
  double_data: number[];
  uint64_data: WireInt64[];
}

export type TensorStorage = 'raw' | 'typed';

/** A TensorProto as a plain object for protobufjs. Numeric data goes to raw_data unless `storage` is 'typed'. */
export function tensorToWire(t: Tensor, storage: TensorStorage, what = 'tensor'): Record<string, unknown> {
  validateTensor(t, what);
  const wire: Record<string, unknown> = { dims: t.dims, data_type: DATA_TYPES[t.type].code };
  if (t.name !== undefined) wire.name = t.name;
  if (t.docString !== undefined) wire.doc_string = t.docString;
  if (t.type === 'string') {
    wire.string_data = t.data;
    return wire;
  }
  if (storage === 'raw') {
    wire.raw_data = rawBytes(t);
    return wire;
  }
  const field = DATA_TYPES[t.type].field;
  if (FOUR_BIT.has(t.type)) wire[field] = pack4(t.data as Uint8Array);
  else if (t.type === 'int64') wire[field] = Array.from(t.data, (v) => toLongLike(v));
  else if (t.type === 'uint64') wire[field] = Array.from(t.data, (v) => toLongLike(v));
  else wire[field] = t.data;
  return wire;
}

/** Returns the bytes of an external file; called with the tensor's `location`. */
export type ExternalDataResolver = (location: string) => Uint8Array;

function externalBytes(m: WireTensor, resolve: ExternalDataResolver | undefined, what: string): Uint8Array {
  const entries = new Map<string, string>();
  for (const e of m.external_data) entries.set(e.key ?? '', e.value ?? '');
  const location = entries.get('location');
  if (!location) throw new ExternalDataError(`${what}: external data without a location`);
  if (!resolve) throw new ExternalDataError(`${what}: data is stored in external file '${location}'; pass an externalData resolver`);
  let file: Uint8Array;
  try {
    file = resolve(location);
  } catch (err) {
    throw new ExternalDataError(`${what}: cannot read external file '${location}': ${(err as Error).message}`);
  }
  const int = (key: string, fallback: number): number => {
    const s = entries.get(key);
    if (s === undefined) return fallback;
    const v = Number(s);
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(v)) throw new ExternalDataError(`${what}: external ${key} '${s}' is not a byte count`);
    return v;
  };
  const offset = int('offset', 0);
  const length = int('length', file.length - offset);
  if (offset + length > file.length || length < 0) {
    throw new ExternalDataError(`${what}: bytes ${offset}..${offset + length} lie outside '${location}' (${file.length} bytes)`);
  }
  return file.subarray(offset, offset + length);
}

const TYPED_FIELDS = ['float_data', 'int32_data', 'string_data', 'int64_data', 'double_data', 'uint64_data'] as const;

function own(m: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, key);
}

/** Converts a decoded TensorProto into a tensor, checking its data against its dims and type. */
export function tensorFromWire(m: WireTensor, what: string, resolve?: ExternalDataResolver): Tensor {
  const label = m.name ? `${what} '${m.name}'` : what;
  const code = m.data_type ?? 0;
  const type = dataTypeOfCode(code);
  if (code === 0) throw new OnnxFormatError('TYPE', `${label} has no data type`);
  if (!type) throw new UnsupportedOnnxError(`${label} has data type ${code}, which is not supported`);
  if (m.segment !== undefined && m.segment !== null) throw new UnsupportedOnnxError(`${label} is a segment of a larger tensor`);
  const dims = m.dims.map((d) => toSafeInteger(d, `${label} dims`));
  const count = elementCount(dims, label);
  const values = count * DATA_TYPES[type].lanes;
  const typed = TYPED_FIELDS.filter((f) => m[f].length > 0);
  let raw = own(m, 'raw_data') ? m.raw_data : undefined;
  if (m.data_location === DATA_LOCATION_EXTERNAL) {
    if (raw !== undefined || typed.length > 0) throw new OnnxFormatError('TENSOR_DATA', `${label} is external but also holds data`);
    raw = externalBytes(m, resolve, label);
  }
  if (typed.length > 1 || (typed.length === 1 && raw !== undefined)) {
    throw new OnnxFormatError('TENSOR_DATA', `${label} holds data in more than one field (${[...typed, ...(raw ? ['raw_data'] : [])].join(', ')})`);
  }
  const field = typed[0];
  if (field !== undefined && field !== DATA_TYPES[type].field) {
    throw new OnnxFormatError('TENSOR_DATA', `${label}: ${field} cannot hold ${type} values`);
  }
  let data: TensorData;
  if (type === 'string') {
    if (raw !== undefined) throw new OnnxFormatError('TENSOR_DATA', `${label}: string tensors cannot use raw_data`);
    data = m.string_data.map((s) => new Uint8Array(s));
    if (data.length !== values) throw new OnnxFormatError('TENSOR_DATA', `${label}: ${values} strings expected, got ${data.length}`);
  } else if (raw !== undefined) {
    data = fromRaw(type, raw, count, label);
  } else if (field === undefined) {
    if (values !== 0) throw new OnnxFormatError('TENSOR_DATA', `${label} has dims [${dims.join(', ')}] but no data`);
    data = new ARRAY_OF[type](0);
  } else {
    data = fromTyped(type, m, field, count, label);
  }
  const t = { type, dims, data } as Tensor;
  if (m.name) t.name = m.name;
  if (m.doc_string) t.docString = m.doc_string;
  return t;
}

function fromTyped(type: NumericType, m: WireTensor, field: (typeof TYPED_FIELDS)[number], count: number, what: string): TensorData {
  const src = m[field] as ArrayLike<number | LongLike>;
  const expected = FOUR_BIT.has(type) ? Math.ceil(count / 2) : count * DATA_TYPES[type].lanes;
  if (src.length !== expected) throw new OnnxFormatError('TENSOR_DATA', `${what}: ${field} has ${src.length} values, expected ${expected}`);
  if (field === 'int32_data') {
    const ints = src as ArrayLike<number>;
    if (FOUR_BIT.has(type)) {
      checkRange('uint8', ints, `${what} (packed 4-bit)`);
      return unpack4(ints, count, type === 'int4');
    }
    checkRange(type, ints, what);
    const out = new ARRAY_OF[type](count) as Int32Array;
    out.set(ints);
    return out;
  }
  if (field === 'int64_data') return BigInt64Array.from(src as ArrayLike<WireInt64>, (v) => toBigInt(v, false));
  if (field === 'uint64_data') {
    const big = BigUint64Array.from(src as ArrayLike<WireInt64>, (v) => toBigInt(v, true));
    if (type === 'uint64') return big;
    const out = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      if (big[i]! > 0xffffffffn) throw new OnnxFormatError('TENSOR_DATA', `${what}: element ${i} does not fit uint32`);
      out[i] = Number(big[i]!);
    }
    return out;
  }
  const out = new ARRAY_OF[type](src.length) as Float64Array;
  out.set(src as ArrayLike<number>);
  return out;
}
