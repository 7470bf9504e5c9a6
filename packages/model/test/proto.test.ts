import { describe, expect, it } from 'vitest';
import {
  type DataType, type Model, type Tensor, DATA_TYPES, ExternalDataError, ModelError, OnnxFormatError, UnsupportedOnnxError,
  attr, decodeModel, encodeModel, graph, tensor,
} from '../src/index.js';
import { rng, wireGraph, wireModel } from './helpers.js';

/** One small tensor of every supported type, with edge values. */
function sampleTensors(): Tensor[] {
  const f16 = [0x3c00, 0x7bff, 0x8000, 0xfc00, 0x7e00, 1];
  return [
    tensor('float32', [2, 3], [1.5, -0, Infinity, -Infinity, NaN, 3.4028234663852886e38]),
    tensor('uint8', [4], [0, 1, 128, 255]),
    tensor('int8', [2, 2], [-128, -1, 0, 127]),
    tensor('uint16', [3], [0, 1, 65535]),
    tensor('int16', [3], [-32768, 0, 32767]),
    tensor('int32', [3], [-2147483648, 7, 2147483647]),
    tensor('int64', [4], [-(2n ** 63n), -1n, 9007199254740993n, 2n ** 63n - 1n]),
    tensor('string', [2], ['héllo', '']),
    tensor('bool', [3], [1, 0, 1]),
    tensor('float16', [6], f16),
    tensor('float64', [2], [Math.PI, -1e300]),
    tensor('uint32', [2], [0, 4294967295]),
    tensor('uint64', [2], [0n, 2n ** 64n - 1n]),
    tensor('complex64', [2], [1, 2, 3, 4]),
    tensor('complex128', [1], [-1.25, 2.5]),
    tensor('bfloat16', [2], [0x3f80, 0xff80]),
    tensor('float8e4m3fn', [2], [0x7e, 0x01]),
    tensor('float8e4m3fnuz', [1], [0x80]),
    tensor('float8e5m2', [1], [0x7b]),
    tensor('float8e5m2fnuz', [1], [0x01]),
    tensor('uint4', [3], [0, 15, 7]),
    tensor('int4', [5], [-8, 7, -1, 0, 3]),
    tensor('float4e2m1', [2], [0xf, 0x1]),
    tensor('float32', [0, 3], []),
    tensor('int64', [], [42n]),
  ];
}

function richModel(): Model {
  const body = graph('body').input('v', 'float32', [1]).node('Neg', ['v'], ['w']).output('w', 'float32', [1]).build();
  const b = graph('all-types').input('x', 'float32', ['batch', 3, null]).output('y', 'float32').doc('graph doc');
  sampleTensors().forEach((t, i) => b.initializer(`t${i}_${t.type}`, t));
  b.node('Identity', ['x'], ['y'], {
    f: 0.25, fneg: attr.float(-2), i: 3, big: 2n ** 60n, s: 'text ✓', t: tensor('int8', [2], [-1, 1]), g: body,
    fs: [0.5, 1], is: [1, -2, 3], ss: ['a', 'b'], ts: [tensor('uint8', [1], [9])], gs: [body, body], empty: attr.ints([]),
  }, { name: 'id0' });
  b.valueInfo('y', 'float32', [1]);
  const model = b.model({ opset: { '': 21, 'com.microsoft': 1 }, producerVersion: '1.0', docString: 'doc', metadata: { k: 'v', k2: '' } });
  model.modelVersion = 7;
  model.domain = 'org.example';
  model.graph.metadata = { owner: 'bench' };
  model.functions = [Uint8Array.of(0x0a, 0x01, 0x66)];
  model.trainingInfo = [Uint8Array.of(0x12, 0x00)];
  model.graph.sparseInitializers = [Uint8Array.of(0x1a, 0x01, 0x02)];
  model.graph.quantizationAnnotations = [Uint8Array.of(0x0a, 0x01, 0x61)];
  return model;
}

describe('ONNX protobuf round trip', () => {
  for (const storage of ['raw', 'typed'] as const) {
    it(`keeps every data type, attribute kind and field (${storage} tensor storage)`, () => {
      const model = richModel();
      const decoded = decodeModel(encodeModel(model, { tensorStorage: storage }));
      expect(decoded).toEqual(model);
      // NaN and -0 survive bit for bit.
      const f = decoded.graph.initializers[0]!.data as Float32Array;
      expect(Object.is(f[1], -0)).toBe(true);
      expect(Number.isNaN(f[4])).toBe(true);
      // Encoding is deterministic and stable under a second round trip.
      expect(encodeModel(decoded, { tensorStorage: storage })).toEqual(encodeModel(model, { tensorStorage: storage }));
    });
  }

  it('writes packed repeated fields as ONNX does (float_data as one length-delimited run)', () => {
    const model = graph('p').input('x', 'float32', [2]).initializer('c', tensor('float32', [2], [1, 2]))
      .node('Add', ['x', 'c'], ['y']).output('y').model();
    const bytes = encodeModel(model, { tensorStorage: 'typed' });
    // field 4 (float_data), wire type 2, length 8, then the two floats.
    const needle = [0x22, 0x08, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40];
    const at = bytes.findIndex((_, i) => needle.every((b, j) => bytes[i + j] === b));
    expect(at).toBeGreaterThan(0);
  });

  it('decodes typed fields written unpacked and IR-1 attributes without a type', () => {
    const bytes = wireModel({
      ir_version: 3,
      opset_import: [{ domain: '', version: 9 }],
      graph: wireGraph({
        initializer: [{ name: 'c', dims: [2], data_type: 7, int64_data: [5, { low: -1, high: -1 }] }],
        node: [{ op_type: 'Identity', input: ['x'], output: ['y'], attribute: [{ name: 'alpha', f: 0.5 }, { name: 'axes', ints: [1, 2] }] }],
      }),
    });
    const m = decodeModel(bytes);
    expect(m.graph.initializers[0]!.data).toEqual(BigInt64Array.of(5n, -1n));
    expect(m.graph.nodes[0]!.attributes).toEqual([
      { name: 'alpha', type: 'float', value: 0.5 },
      { name: 'axes', type: 'ints', value: [1, 2] },
    ]);
    expect(m.graph.inputs[0]!.type).toEqual({ elemType: 'float32', shape: [2] });
    expect(m.opsetImports).toEqual([{ domain: '', version: 9 }]);
  });

  it('resolves external data through the resolver and reports it missing otherwise', () => {
    const file = Uint8Array.of(9, 9, 9, 9, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40);
    const bytes = wireModel({
      ir_version: 8,
      graph: wireGraph({
        initializer: [{
          name: 'w', dims: [2], data_type: 1, data_location: 1,
          external_data: [{ key: 'location', value: 'w.bin' }, { key: 'offset', value: '4' }, { key: 'length', value: '8' }],
        }],
      }),
    });
    const m = decodeModel(bytes, { externalData: (loc) => (loc === 'w.bin' ? file : new Uint8Array(0)) });
    expect(m.graph.initializers[0]!.data).toEqual(Float32Array.of(1, 2));
    expect(() => decodeModel(bytes)).toThrow(ExternalDataError);
    expect(() => decodeModel(bytes, { externalData: () => file.subarray(0, 6) })).toThrow(/outside/);
    expect(() => decodeModel(bytes, { externalData: () => { throw new Error('ENOENT'); } })).toThrow(ExternalDataError);
  });
});

describe('malformed and unsupported models give typed errors', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['no graph', { ir_version: 8 }, 'MISSING_FIELD'],
    ['raw_data of the wrong length', { graph: wireGraph({ initializer: [{ dims: [3], data_type: 1, raw_data: new Uint8Array(8) }] }) }, 'TENSOR_DATA'],
    ['data in two fields', { graph: wireGraph({ initializer: [{ dims: [1], data_type: 1, raw_data: new Uint8Array(4), float_data: [1] }] }) }, 'TENSOR_DATA'],
    ['typed field of another type', { graph: wireGraph({ initializer: [{ dims: [1], data_type: 1, int32_data: [1] }] }) }, 'TENSOR_DATA'],
    ['int32_data out of range', { graph: wireGraph({ initializer: [{ dims: [1], data_type: 2, int32_data: [300] }] }) }, 'TENSOR_DATA'],
    ['bool bytes other than 0/1', { graph: wireGraph({ initializer: [{ dims: [1], data_type: 9, raw_data: Uint8Array.of(2) }] }) }, 'TENSOR_DATA'],
    ['dims without data', { graph: wireGraph({ initializer: [{ dims: [4], data_type: 6 }] }) }, 'TENSOR_DATA'],
    ['string tensor in raw_data', { graph: wireGraph({ initializer: [{ dims: [1], data_type: 8, raw_data: Uint8Array.of(65) }] }) }, 'TENSOR_DATA'],
    ['negative dims', { graph: wireGraph({ initializer: [{ dims: [-1], data_type: 1 }] }) }, 'DIMS'],
    ['huge dims', { graph: wireGraph({ initializer: [{ dims: [2 ** 40, 2 ** 40], data_type: 1, raw_data: new Uint8Array(4) }] }) }, 'DIMS'],
    ['no data type', { graph: wireGraph({ initializer: [{ dims: [1], raw_data: new Uint8Array(4) }] }) }, 'TYPE'],
    ['unknown data type', { graph: wireGraph({ initializer: [{ dims: [1], data_type: 99, raw_data: new Uint8Array(4) }] }) }, 'UNSUPPORTED'],
    ['segmented tensor', { graph: wireGraph({ initializer: [{ dims: [1], data_type: 1, segment: { begin: 0, end: 1 }, float_data: [1] }] }) }, 'UNSUPPORTED'],
    ['node without op_type', { graph: wireGraph({ node: [{ input: ['x'], output: ['y'] }] }) }, 'MISSING_FIELD'],
    ['attribute without a name', { graph: wireGraph({ node: [{ op_type: 'A', attribute: [{ type: 2, i: 1 }] }] }) }, 'ATTRIBUTE'],
    ['attribute with two values and no type', { graph: wireGraph({ node: [{ op_type: 'A', attribute: [{ name: 'a', i: 1, f: 1 }] }] }) }, 'ATTRIBUTE'],
    ['attribute of unknown type', { graph: wireGraph({ node: [{ op_type: 'A', attribute: [{ name: 'a', type: 42 }] }] }) }, 'ATTRIBUTE'],
    ['tensor attribute without a tensor', { graph: wireGraph({ node: [{ op_type: 'A', attribute: [{ name: 'a', type: 4 }] }] }) }, 'ATTRIBUTE'],
    ['sparse tensor attribute', { graph: wireGraph({ node: [{ op_type: 'A', attribute: [{ name: 'a', type: 11, sparse_tensor: new Uint8Array(0) }] }] }) }, 'UNSUPPORTED'],
    ['function attribute reference', { graph: wireGraph({ node: [{ op_type: 'A', attribute: [{ name: 'a', type: 2, ref_attr_name: 'p' }] }] }) }, 'UNSUPPORTED'],
    ['string attribute that is not UTF-8', { graph: wireGraph({ node: [{ op_type: 'A', attribute: [{ name: 'a', type: 3, s: Uint8Array.of(0xff, 0xfe) }] }] }) }, 'UTF8'],
    ['sequence-typed input', { graph: wireGraph({ input: [{ name: 'x', type: { sequence_type: new Uint8Array(0) } }] }) }, 'UNSUPPORTED'],
    ['input without element type', { graph: wireGraph({ input: [{ name: 'x', type: { tensor_type: {} } }] }) }, 'TYPE'],
    ['duplicate metadata keys', { graph: wireGraph(), metadata_props: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] }, 'DUPLICATE_KEY'],
  ];
  for (const [what, obj, code] of cases) {
    it(what, () => {
      const bytes = wireModel({ ir_version: 8, ...obj });
      let caught: unknown;
      try {
        decodeModel(bytes);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ModelError);
      expect((caught as ModelError).code).toBe(code);
      expect(caught instanceof UnsupportedOnnxError).toBe(code === 'UNSUPPORTED');
      expect(caught instanceof OnnxFormatError).toBe(code !== 'UNSUPPORTED');
    });
  }

  it('rejects a string field that is not valid UTF-8 (names, doc strings), with the UTF8 code', () => {
    for (const text of ['graph doc', 'id0', 'org.example']) {
      const bytes = encodeModel(richModel());
      const needle = new TextEncoder().encode(text);
      const at = Buffer.from(bytes).indexOf(Buffer.from(needle));
      expect(at).toBeGreaterThan(0);
      bytes[at + 1] = 0xff; // never valid in UTF-8; the length prefix stays right, so only the text is wrong
      expect(() => decodeModel(bytes)).toThrow(expect.objectContaining({ name: 'OnnxFormatError', code: 'UTF8' }));
    }
  });

  it('rejects bytes that are not protobuf, with the PROTOBUF code', () => {
    for (const bytes of [Uint8Array.of(0x0a, 0x05, 1), Uint8Array.of(0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f), Uint8Array.of(0x07)]) {
      expect(() => decodeModel(bytes)).toThrow(expect.objectContaining({ code: 'PROTOBUF' }));
    }
    expect(() => decodeModel('onnx' as unknown as Uint8Array)).toThrow(OnnxFormatError);
  });

  it('limits subgraph nesting', () => {
    let g: Record<string, unknown> = wireGraph();
    for (let i = 0; i < 10; i++) g = wireGraph({ node: [{ op_type: 'If', input: ['x'], output: ['y'], attribute: [{ name: 'then_branch', type: 5, g }] }] });
    const bytes = wireModel({ ir_version: 8, graph: g });
    expect(decodeModel(bytes).graph.nodes[0]!.attributes[0]!.type).toBe('graph');
    expect(() => decodeModel(bytes, { maxDepth: 5 })).toThrow(expect.objectContaining({ code: 'NESTING' }));
  });

  it('refuses to encode inconsistent model objects', () => {
    const ok = graph('g').input('x', 'float32', [1]).node('Neg', ['x'], ['y']).output('y').model();
    const broken = (mutate: (m: Model) => void) => {
      const m = structuredClone(ok);
      mutate(m);
      return () => encodeModel(m);
    };
    expect(broken((m) => m.graph.initializers.push({ type: 'float32', dims: [2], data: new Float32Array(3), name: 'c' }))).toThrow(OnnxFormatError);
    expect(broken((m) => m.graph.initializers.push({ type: 'int8', dims: [1], data: new Uint8Array(1) } as unknown as Tensor))).toThrow(/Int8Array/);
    expect(broken((m) => m.graph.initializers.push({ type: 'int4', dims: [1], data: Int8Array.of(9) }))).toThrow(/int4/);
    expect(broken((m) => m.graph.initializers.push({ type: 'half' as DataType, dims: [1], data: new Uint16Array(1) } as unknown as Tensor))).toThrow(OnnxFormatError);
    expect(broken((m) => { m.irVersion = -1; })).toThrow(OnnxFormatError);
    expect(broken((m) => { m.graph.nodes[0]!.attributes.push({ name: 'a', type: 'int', value: 1.5 }); })).toThrow(/integer/);
    expect(broken((m) => { m.graph.inputs[0]!.type = { elemType: 'float32', shape: [1.5] }; })).toThrow(OnnxFormatError);
    expect(() => encodeModel(ok, { tensorStorage: 'packed' as 'raw' })).toThrow(OnnxFormatError);
    expect(() => encodeModel(null as unknown as Model)).toThrow(OnnxFormatError);
  });
});

describe('tensor()', () => {
  it('checks ranges, lengths and types', () => {
    expect(() => tensor('uint8', [2], [1, 256])).toThrow(OnnxFormatError);
    expect(() => tensor('int8', [3], [1, 2])).toThrow(/need 3/);
    expect(() => tensor('bool', [1], [2])).toThrow(OnnxFormatError);
    expect(() => tensor('int64', [1], [0.5])).toThrow(OnnxFormatError);
    expect(() => tensor('uint64', [1], [-1n])).toThrow(OnnxFormatError);
    expect(() => tensor('float32', [-1], [])).toThrow(expect.objectContaining({ code: 'DIMS' }));
    expect(() => tensor('nope' as DataType, [1], [1])).toThrow(expect.objectContaining({ code: 'TYPE' }));
    const t = tensor('float32', [2], Float32Array.of(1, 2), 'w');
    expect(t.name).toBe('w');
    expect(t.data).toBeInstanceOf(Float32Array);
  });

  it('round-trips random tensors of every numeric type through raw and typed storage', () => {
    const next = rng(7);
    for (const [type, info] of Object.entries(DATA_TYPES) as [DataType, (typeof DATA_TYPES)[DataType]][]) {
      if (type === 'string') continue;
      for (let trial = 0; trial < 5; trial++) {
        const dims = [1 + (next() % 5), next() % 4];
        const count = dims[0]! * dims[1]! * info.lanes;
        const bytes = new Uint8Array(count * 16);
        for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 255;
        const t = randomTensor(type, dims, bytes, count);
        const model = graph('r').input('x', 'float32', [1]).initializer('t', t).node('Identity', ['x'], ['y']).output('y').model();
        for (const storage of ['raw', 'typed'] as const) {
          expect(decodeModel(encodeModel(model, { tensorStorage: storage })).graph.initializers[0], `${type} ${storage}`).toEqual({ ...t, name: 't' });
        }
      }
    }
  });
});

function randomTensor(type: DataType, dims: number[], bytes: Uint8Array, count: number): Tensor {
  const range: Partial<Record<DataType, [number, number]>> = { bool: [0, 1], uint4: [0, 15], int4: [-8, 7], float4e2m1: [0, 15] };
  const r = range[type];
  if (r) return tensor(type, dims, Array.from(bytes.subarray(0, count), (b) => r[0] + (b % (r[1] - r[0] + 1))) as number[]);
  const probe = tensor(type, [0], []);
  const Ctor = (probe.data as unknown as { constructor: new (b: ArrayBufferLike, o: number, n: number) => Tensor['data'] }).constructor;
  const data = new Ctor(bytes.buffer, 0, count);
  return tensor(type, dims, data as never);
}
