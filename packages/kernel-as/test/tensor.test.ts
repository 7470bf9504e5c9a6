// Tensors in the kernel's memory: a quantize -> GEMM -> requantize pipeline over them gives
// the bytes the copying API gives, on every build; handles survive memory growth; freed,
// reset or foreign tensors fail with typed errors; scopes and failed calls leak nothing.
import { describe, expect, it } from 'vitest';
import {
  type Kernel, type RequantParams, ShapeError, StaleHandleError, TypeMismatchError, ValueRangeError, WasmTensor, loadKernel,
} from '../src/index.js';
import { BUILDS, allKernels, randomBytes, rng } from './helpers.js';

const M = 5, K = 37, N = 19;
const SCALE = 1 / 16, ZERO_POINT = 131;

function floats(n: number, seed: number): Float32Array {
  const next = rng(seed);
  return Float32Array.from({ length: n }, () => ((next() % 20001) - 10000) / 1000);
}

function inputs(kernel: Kernel) {
  const x = floats(M * K, 7);
  const b = randomBytes(K * N, 8, true) as Int8Array;
  const bias = Int32Array.from(randomBytes(N, 9, true), (v) => v * 50);
  const packed = kernel.packWeights(b, K, N, 3);
  const params: RequantParams = kernel.requantParams({
    inputScale: SCALE, weightScale: 0.02, outputScale: 0.5, outputZeroPoint: -4, outputType: 'int8',
  });
  return { x, bias, packed, params };
}

/** The pipeline through the copying API: every stage's result copied out and back in. */
function copying(kernel: Kernel) {
  const { x, bias, packed, params } = inputs(kernel);
  const q = kernel.quantizeLinear(x, { scale: SCALE, zeroPoint: ZERO_POINT, type: 'uint8' });
  const acc = kernel.matmulInteger(q, M, packed, ZERO_POINT);
  const y = kernel.requantize(acc, M, N, params, bias);
  packed.dispose();
  return { q, acc, y };
}

/** The same pipeline over tensors that stay in the kernel's memory. */
function inPlace(kernel: Kernel) {
  const { x, bias, packed, params } = inputs(kernel);
  const result = kernel.scope(() => {
    const tx = kernel.tensor('float32', [M, K], x);
    const q = kernel.quantizeLinearTensor(tx, { scale: SCALE, zeroPoint: ZERO_POINT, type: 'uint8' });
    const acc = kernel.matmulIntegerTensor(q, packed, ZERO_POINT);
    const y = kernel.requantizeTensor(acc, params, bias);
    return { q: q.data.slice(), acc: acc.data.slice(), y: y.toTensor() };
  });
  packed.dispose();
  return result;
}

describe('tensors in the kernel memory', () => {
  it('quantize -> GEMM -> requantize in place equals the copying API, bit for bit, on every build', async () => {
    const kernels = await allKernels();
    const results = kernels.map((k) => {
      const used = k.arenaUsed;
      const ref = copying(k);
      const got = inPlace(k);
      expect(k.arenaUsed).toBe(used);
      expect(got.y.type).toBe('int8');
      expect(got.y.dims).toEqual([M, N]);
      expect(got.q).toEqual(ref.q);
      expect(got.acc).toEqual(ref.acc);
      expect(got.y.data).toEqual(ref.y);
      return got;
    });
    // Not a degenerate case: the output spans several values.
    expect(new Set(results[0]!.y.data).size).toBeGreaterThan(8);
    for (const r of results.slice(1)) {
      expect(r.q).toEqual(results[0]!.q);
      expect(r.acc).toEqual(results[0]!.acc);
      expect(r.y.data).toEqual(results[0]!.y.data);
    }
  });

  it('writes into a given output tensor, and checks its type and size', async () => {
    for (const k of await allKernels()) {
      k.scope(() => {
        const x = k.tensor('float32', [4], [0.5, -1, 2, 100]);
        const out = k.tensor('int8', [4]);
        expect(k.quantizeLinearTensor(x, { scale: 0.5, type: 'int8' }, out)).toBe(out);
        expect(Array.from(out.data)).toEqual([1, -2, 4, 127]);
        expect(() => k.quantizeLinearTensor(x, { scale: 0.5, type: 'uint8' }, out)).toThrow(TypeMismatchError);
        expect(() => k.quantizeLinearTensor(x, { scale: 0.5, type: 'int8' }, k.tensor('int8', [5]))).toThrow(ShapeError);
        expect(() => k.quantizeLinearTensor(out, { scale: 0.5 })).toThrow(TypeMismatchError);
      });
    }
  });

  it('dequantizes uint8, int8 and int32 tensors to what the copying API gives, per tensor and per axis', async () => {
    const u8 = randomBytes(3 * 40, 21, false) as Uint8Array;
    const i8 = Int8Array.from(u8);
    const i32 = Int32Array.from(u8, (v, i) => (v - 128) * (i + 1) * 1000);
    const axisScales = [0.5, 0.031, 7];
    for (const k of await allKernels()) {
      k.scope(() => {
        const cases = [
          { t: k.tensor('uint8', [3, 40], u8), x: u8, options: { scale: 0.037, zeroPoint: 201 } },
          { t: k.tensor('int8', [3, 40], i8), x: i8, options: { scale: axisScales, zeroPoint: [-128, 0, 127], axis: 0 } },
          { t: k.tensor('int32', [3, 40], i32), x: i32, options: { scale: 1e-3 } },
        ];
        for (const { t, x, options } of cases) {
          const y = k.dequantizeLinearTensor(t, options);
          expect(y.type).toBe('float32');
          expect(y.dims).toEqual([3, 40]);
          expect(Array.from(y.data), `${k.build} ${t.type}`).toEqual(Array.from(k.dequantizeLinear(x, { ...options, dims: [3, 40] })));
        }
        const out = k.tensor('float32', [3, 40]);
        expect(k.dequantizeLinearTensor(cases[0]!.t, cases[0]!.options, out)).toBe(out);
        expect(() => k.dequantizeLinearTensor(cases[0]!.t, cases[0]!.options, k.tensor('float32', [5]))).toThrow(ShapeError);
        expect(() => k.dequantizeLinearTensor(cases[0]!.t, cases[0]!.options, k.tensor('int32', [3, 40]))).toThrow(TypeMismatchError);
        expect(() => k.dequantizeLinearTensor(out, { scale: 1 })).toThrow(TypeMismatchError);
        expect(() => k.dequantizeLinearTensor(cases[1]!.t, { scale: [1, 2] , axis: 0 })).toThrow(ShapeError);
      });
    }
  });

  it('keeps a tensor valid across memory growth: views are taken again from the new buffer', async () => {
    const k = await loadKernel({ build: 'simd' });
    const t = k.tensor('int32', [3], [7, -8, 9]);
    const before = t.data;
    const pages = k.exports.memory.buffer.byteLength;
    const big = k.tensor('uint8', [4 << 20]);
    expect(k.exports.memory.buffer.byteLength).toBeGreaterThan(pages);
    expect(before.length).toBe(0); // detached by the growth
    expect(Array.from(t.data)).toEqual([7, -8, 9]);
    big.free();
    t.free();
    expect(k.arenaUsed).toBe(0);
  });

  it('refuses freed, reset and foreign tensors with typed errors', async () => {
    const [a, b] = [await loadKernel({ build: 'scalar' }), await loadKernel({ build: 'scalar' })];
    const t = a.tensor('float32', [2], [1, 2]);
    t.free();
    expect(t.freed).toBe(true);
    expect(() => t.data).toThrow(StaleHandleError);
    expect(() => a.quantizeLinearTensor(t, { scale: 1 })).toThrow(StaleHandleError);
    const u = a.tensor('float32', [2], [1, 2]);
    expect(() => b.quantizeLinearTensor(u, { scale: 1 })).toThrow(StaleHandleError);
    a.reset();
    expect(() => u.toTensor()).toThrow(StaleHandleError);
    expect(() => a.quantizeLinearTensor(Float32Array.of(1) as unknown as WasmTensor, { scale: 1 })).toThrow(TypeMismatchError);
    expect(() => a.tensor('uint8', [2], [1, 256])).toThrow(ValueRangeError);
    expect(() => a.tensor('uint8', [2], [1])).toThrow(ShapeError);
  });

  it('frees what a scope made unless it is returned, and what a failed call made', async () => {
    for (const build of BUILDS) {
      const k = await loadKernel({ build });
      const kept = k.scope(() => {
        const x = k.tensor('float32', [8], floats(8, 1));
        k.tensor('int32', [100]);
        return k.quantizeLinearTensor(x, { scale: 0.25 });
      });
      expect(kept.freed).toBe(false);
      const used = k.arenaUsed;
      const acc = k.tensor('int32', [2, 3]);
      const bad: RequantParams = { multipliers: Int32Array.of(2 ** 30), shifts: Int32Array.of(0), zeroPoint: 300, type: 'uint8' };
      expect(() => k.requantizeTensor(acc, bad)).toThrow(ValueRangeError);
      acc.free();
      expect(k.arenaUsed).toBe(used);
      expect(() => k.scope(() => {
        k.tensor('float32', [64]);
        throw new Error('inside');
      })).toThrow('inside');
      expect(k.arenaUsed).toBe(used);
      kept.free();
      expect(k.arenaUsed).toBe(0);
    }
  });
});

describe('dynamicQuantizeLinearTensor', () => {
  /** Seeded inputs: odd lengths (vector body and scalar tail), all-equal, one-signed, tiny and empty. */
  function dqlInputs(): Float32Array[] {
    const signed = (n: number, seed: number, sign: number) => Float32Array.from(floats(n, seed), (v) => sign * Math.abs(v));
    return [
      new Float32Array(0), Float32Array.of(0), Float32Array.of(-3.5), Float32Array.of(7.25),
      floats(1, 11), floats(3, 12), floats(17, 13), floats(33, 14), floats(1001, 15), floats(4099, 16),
      new Float32Array(31).fill(2.5), new Float32Array(64).fill(-0.75), new Float32Array(9).fill(0),
      signed(257, 17, -1), signed(255, 18, 1), Float32Array.from(floats(129, 19), (v) => v * 1e-30),
    ];
  }

  it('gives the copying call\'s data, scale and zero point, bit for bit, on every build', async () => {
    const kernels = await allKernels();
    for (const x of dqlInputs()) {
      const first = kernels[0]!.dynamicQuantizeLinear(x);
      for (const k of kernels) {
        const used = k.arenaUsed;
        const want = k.dynamicQuantizeLinear(x);
        const got = k.scope(() => k.dynamicQuantizeLinearTensor(k.tensor('float32', [x.length], x)));
        expect(got.tensor.type).toBe('uint8');
        expect(got.tensor.dims).toEqual([x.length]);
        expect(Object.is(got.scale, want.scale), `${k.build} n=${x.length} scale`).toBe(true);
        expect(got.zeroPoint, `${k.build} n=${x.length}`).toBe(want.zeroPoint);
        expect(got.tensor.data, `${k.build} n=${x.length}`).toEqual(want.data);
        // The builds agree with each other too.
        expect(want).toEqual(first);
        got.tensor.free();
        expect(k.arenaUsed).toBe(used);
      }
    }
    // Not degenerate: a random input spans the byte range, and all-equal or one-signed inputs pin the zero point.
    const k = kernels[0]!;
    expect(new Set(k.dynamicQuantizeLinear(floats(1001, 15)).data).size).toBeGreaterThan(200);
    expect(k.dynamicQuantizeLinear(Float32Array.from(floats(257, 17), (v) => -Math.abs(v))).zeroPoint).toBe(255);
    expect(k.dynamicQuantizeLinear(new Float32Array(31).fill(2.5)).zeroPoint).toBe(0);
  });

  it('keeps the tensor dims, writes into a given uint8 output, and checks its type and size', async () => {
    for (const k of await allKernels()) {
      k.scope(() => {
        const x = k.tensor('float32', [2, 3], [-1, 0, 1, 2, 3, 4]);
        const made = k.dynamicQuantizeLinearTensor(x);
        expect(made.tensor.dims).toEqual([2, 3]);
        const out = k.tensor('uint8', [6]);
        const r = k.dynamicQuantizeLinearTensor(x, out);
        expect(r.tensor).toBe(out);
        expect(Array.from(out.data)).toEqual(Array.from(made.tensor.data));
        expect(r.scale).toBe(Math.fround(5 / 255));
        expect(r.zeroPoint).toBe(51);
        expect(() => k.dynamicQuantizeLinearTensor(x, k.tensor('int8', [6]))).toThrow(TypeMismatchError);
        expect(() => k.dynamicQuantizeLinearTensor(x, k.tensor('float32', [6]))).toThrow(TypeMismatchError);
        expect(() => k.dynamicQuantizeLinearTensor(x, k.tensor('uint8', [5]))).toThrow(ShapeError);
        expect(() => k.dynamicQuantizeLinearTensor(out)).toThrow(TypeMismatchError);
        expect(() => k.dynamicQuantizeLinearTensor(Float32Array.of(1) as unknown as WasmTensor)).toThrow(TypeMismatchError);
      });
    }
  });

  it('throws the copying call\'s ValueRangeError on NaN, infinities and scale-less ranges, leaking nothing and writing nothing', async () => {
    for (const k of await allKernels()) {
      const cases: Float32Array[] = [];
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const at of [2, 23, 40]) { // in the vector body and in the scalar tail
          const x = floats(41, 20);
          x[at] = bad;
          cases.push(x);
        }
      }
      cases.push(Float32Array.of(3e38, -3e38), Float32Array.of(127 * 2 ** -149));
      for (const x of cases) {
        let copying: unknown;
        try {
          k.dynamicQuantizeLinear(x);
        } catch (err) {
          copying = err;
        }
        expect(copying, `${k.build} [${Array.from(x.slice(0, 3))}...]`).toBeInstanceOf(ValueRangeError);
        const used = k.arenaUsed;
        k.scope(() => {
          const tx = k.tensor('float32', [x.length], x);
          const before = k.arenaUsed;
          expect(() => k.dynamicQuantizeLinearTensor(tx)).toThrow(ValueRangeError);
          expect(() => k.dynamicQuantizeLinearTensor(tx)).toThrow((copying as Error).message);
          expect(k.arenaUsed).toBe(before); // the output it made is freed again
          const out = k.tensor('uint8', [x.length], new Array<number>(x.length).fill(0xee));
          expect(() => k.dynamicQuantizeLinearTensor(tx, out)).toThrow(ValueRangeError);
          expect(out.freed).toBe(false);
          expect(Array.from(out.data)).toEqual(new Array<number>(x.length).fill(0xee));
        });
        expect(k.arenaUsed).toBe(used);
      }
    }
  });

  it('refuses freed, reset and foreign tensors, as input or output, with StaleHandleError', async () => {
    const [a, b] = [await loadKernel({ build: 'simd' }), await loadKernel({ build: 'simd' })];
    const x = a.tensor('float32', [4], [1, -2, 3, -4]);
    const out = a.tensor('uint8', [4]);
    expect(() => b.dynamicQuantizeLinearTensor(x)).toThrow(StaleHandleError);
    expect(() => a.dynamicQuantizeLinearTensor(x, b.tensor('uint8', [4]))).toThrow(StaleHandleError);
    out.free();
    expect(() => a.dynamicQuantizeLinearTensor(x, out)).toThrow(StaleHandleError);
    x.free();
    expect(() => a.dynamicQuantizeLinearTensor(x)).toThrow(StaleHandleError);
    expect(a.arenaUsed).toBe(0);
    const y = a.tensor('float32', [2], [1, 2]);
    const r = a.dynamicQuantizeLinearTensor(y);
    a.reset();
    expect(() => a.dynamicQuantizeLinearTensor(y)).toThrow(StaleHandleError);
    expect(() => r.tensor.data).toThrow(StaleHandleError);
  });

  it('feeds matmulIntegerTensor and requantizeTensor in place: the copying pipeline\'s bytes', async () => {
    for (const k of await allKernels()) {
      const { x, bias, packed, params } = inputs(k);
      const dq = k.dynamicQuantizeLinear(x);
      const want = k.requantize(k.matmulInteger(dq.data, M, packed, dq.zeroPoint), M, N, params, bias);
      const used = k.arenaUsed;
      const y = k.scope(() => {
        const tx = k.tensor('float32', [M, K], x);
        const q = k.dynamicQuantizeLinearTensor(tx);
        const acc = k.matmulIntegerTensor(q.tensor, packed, q.zeroPoint);
        return k.requantizeTensor(acc, params, bias);
      });
      expect(y.freed).toBe(false);
      expect(y.data, k.build).toEqual(want);
      expect(new Set(y.data).size).toBeGreaterThan(8);
      y.free();
      expect(k.arenaUsed).toBe(used);
      packed.dispose();
    }
  });
});
