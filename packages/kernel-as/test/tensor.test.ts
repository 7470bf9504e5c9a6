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
