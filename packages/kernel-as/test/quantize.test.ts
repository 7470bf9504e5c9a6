import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShapeError, ValueRangeError } from '../src/index.js';
import * as ref from '../src/reference/index.js';
import { allKernels, rng } from './helpers.js';

function randomFloats(n: number, seed: number, spread: number): Float32Array {
  const next = rng(seed);
  return Float32Array.from({ length: n }, () => ((next() / 2 ** 32) * 2 - 1) * spread);
}

describe('QuantizeLinear', () => {
  it('matches the reference per tensor for random data, scales of both signs and zero points', async () => {
    const kernels = await allKernels();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.boolean(),
        fc.float({ min: Math.fround(1e-4), max: 100, noNaN: true }), fc.integer({ min: -128, max: 255 }), fc.boolean(),
        (n, seed, signed, magnitude, zpRaw, negative) => {
          const scale = negative ? -magnitude : magnitude;
          const type = signed ? 'int8' : 'uint8';
          const zp = signed ? Math.max(-128, Math.min(127, zpRaw)) : Math.max(0, zpRaw);
          const x = randomFloats(n, seed, scale * 300);
          const want = ref.quantizeLinear(x, [scale], [zp], type, { axisLen: n, inner: 1, mode: 'tensor' });
          for (const k of kernels) {
            expect(Array.from(k.quantizeLinear(x, { scale, zeroPoint: zp, type })), k.build).toEqual(want);
          }
        },
      ),
      { seed: 11, numRuns: 200 },
    );
  });

  it('rounds exact ties half to even and saturates', async () => {
    const scale = 0.5;
    // x / 0.5 = k + 0.5 exactly for every k in [-140, 140): every tie, both signs, beyond the range.
    const x = Float32Array.from({ length: 280 }, (_, i) => (i - 140 + 0.5) * scale);
    for (const type of ['int8', 'uint8'] as const) {
      const zp = type === 'int8' ? 0 : 128;
      const want = ref.quantizeLinear(x, [scale], [zp], type, { axisLen: x.length, inner: 1, mode: 'tensor' });
      expect(want[140]).toBe(zp); // 0.5 -> 0
      expect(want[141]).toBe(zp + 2); // 1.5 -> 2
      for (const k of await allKernels()) expect(Array.from(k.quantizeLinear(x, { scale, zeroPoint: zp, type }))).toEqual(want);
    }
  });

  it('matches the reference for power-of-two scales, the extreme ones included', async () => {
    const kernels = await allKernels();
    // 2^-127 is subnormal and 2^127 has a subnormal reciprocal: both must still divide.
    for (const e of [-127, -126, -20, -5, 0, 3, 20, 126, 127]) {
      const scale = 2 ** e;
      const x = Float32Array.from(randomFloats(203, 500 + e, scale * 300), (v, i) => (i % 7 === 0 ? (Math.round(v / scale) + 0.5) * scale : v));
      for (const [type, zp] of [['uint8', 131], ['int8', -3]] as const) {
        const want = ref.quantizeLinear(x, [scale], [zp], type, { axisLen: x.length, inner: 1, mode: 'tensor' });
        for (const k of kernels) expect(Array.from(k.quantizeLinear(x, { scale, zeroPoint: zp, type })), `${k.build} 2^${e}`).toEqual(want);
      }
    }
  });

  it('maps NaN to the zero point and saturates infinities (documented behaviour)', async () => {
    const x = Float32Array.from([NaN, Infinity, -Infinity, -NaN, 1, ...new Array(20).fill(NaN)]);
    for (const k of await allKernels()) {
      const y = k.quantizeLinear(x, { scale: 0.1, zeroPoint: -7, type: 'int8' });
      expect(Array.from(y.subarray(0, 5))).toEqual([-7, 127, -128, -7, 3]);
      expect(Array.from(y.subarray(5)).every((v) => v === -7)).toBe(true);
    }
  });

  it('gives the same bytes in chunks with and without NaN, for extreme quotients and both scale paths', async () => {
    const kernels = await allKernels();
    // 5000 values: four full 1024-value chunks of the vector loop and a partial one, then a scalar tail.
    // Chunk 1 holds NaN, chunk 2 both infinities (their sum is NaN too), chunk 3 only finite extremes.
    const n = 5000;
    const next = rng(77);
    // 2^125: lo * scale overflows to -Infinity, so the lower clamp in x's units is none.
    // Negative scales reverse the order: the lower clamp of x / s bounds x from above.
    for (const scale of [1 / 32, 0.0731, 2 ** 20, 2 ** 125, 3 * 2 ** 124, -1 / 32, -0.0731, -(2 ** 125)]) {
      const extremes = [3.4e38, -3.4e38, 2 ** 22, -(2 ** 22), 2 ** 23, -(2 ** 23), 1.5 * 2 ** 23, -1.5 * 2 ** 23,
        -2.5 * 2 ** 23, -3 * 2 ** 23, 2 ** 24, -(2 ** 25), 255.5, -255.5, 383.5, -383.5, 127.5, -128.5].map((v) => v * scale);
      const x = Float32Array.from({ length: n }, () => ((next() / 2 ** 32) * 2 - 1) * 300 * scale);
      for (let i = 0; i < 40; i++) {
        x[3072 + ((next() >>> 0) % 1024)] = extremes[i % extremes.length]!;
        x[(next() >>> 0) % n] = extremes[(i * 7) % extremes.length]!;
      }
      x[1024 + 517] = NaN;
      x[2048 + 3] = Infinity;
      x[2048 + 900] = -Infinity;
      x[n - 2] = NaN;
      for (const [type, zp] of [['uint8', 0], ['uint8', 128], ['uint8', 255], ['int8', -128], ['int8', 0], ['int8', 127]] as const) {
        const want = ref.quantizeLinear(x, [scale], [zp], type, { axisLen: n, inner: 1, mode: 'tensor' });
        expect(want[1024 + 517]).toBe(zp);
        for (const k of kernels) {
          expect(Array.from(k.quantizeLinear(x, { scale, zeroPoint: zp, type })), `${k.build} ${scale} ${type} ${zp}`).toEqual(want);
        }
      }
    }
  });

  it('quantizes per axis along any axis of any rank, and per block', async () => {
    const kernels = await allKernels();
    const cases: { dims: number[]; axis: number; block?: number }[] = [
      { dims: [7, 5], axis: 1 }, { dims: [7, 5], axis: 0 }, { dims: [3, 4, 9], axis: 1 }, { dims: [3, 4, 9], axis: -1 },
      { dims: [2, 3, 4, 17], axis: 3 }, { dims: [6, 20], axis: 1, block: 8 }, { dims: [10, 3], axis: 0, block: 4 },
      { dims: [2, 9, 5], axis: 1, block: 3 },
    ];
    for (const [ci, c] of cases.entries()) {
      const count = c.dims.reduce((p, d) => p * d, 1);
      const axis = c.axis < 0 ? c.axis + c.dims.length : c.axis;
      const axisLen = c.dims[axis]!;
      const inner = c.dims.slice(axis + 1).reduce((p, d) => p * d, 1);
      const outer = count / (axisLen * inner);
      const params = c.block ? outer * Math.ceil(axisLen / c.block) * inner : axisLen;
      const scales = Float32Array.from({ length: params }, (_, i) => 0.01 + 0.003 * i);
      const zps = Int8Array.from({ length: params }, (_, i) => (i * 37) % 200 - 100);
      const x = randomFloats(count, 100 + ci, 2);
      const layout = { axisLen, inner, mode: c.block ? ('blocked' as const) : ('axis' as const), block: c.block };
      const want = ref.quantizeLinear(x, scales, zps, 'int8', layout);
      const wantBack = ref.dequantizeLinear(Int8Array.from(want), scales, zps, layout);
      for (const k of kernels) {
        const opts = { scale: scales, zeroPoint: zps, type: 'int8' as const, dims: c.dims, axis: c.axis, blockSize: c.block };
        const y = k.quantizeLinear(x, opts);
        expect(Array.from(y), `${k.build} ${JSON.stringify(c)}`).toEqual(want);
        expect(Array.from(k.dequantizeLinear(y as Int8Array, opts))).toEqual(Array.from(wantBack));
      }
    }
  });

  it('rejects bad scales, zero points and shapes with typed errors', async () => {
    for (const k of await allKernels()) {
      const x = new Float32Array(6);
      expect(() => k.quantizeLinear(x, { scale: 0 })).toThrow(ValueRangeError);
      expect(() => k.quantizeLinear(x, { scale: NaN })).toThrow(ValueRangeError);
      expect(() => k.quantizeLinear(x, { scale: Infinity })).toThrow(ValueRangeError);
      expect(() => k.quantizeLinear(x, { scale: 1, zeroPoint: 256 })).toThrow(ValueRangeError);
      expect(() => k.quantizeLinear(x, { scale: 1, zeroPoint: -1 })).toThrow(ValueRangeError);
      expect(() => k.quantizeLinear(x, { scale: 1, zeroPoint: 128, type: 'int8' })).toThrow(ValueRangeError);
      expect(() => k.quantizeLinear(x, { scale: 1, zeroPoint: 1.5 })).toThrow(ValueRangeError);
      expect(() => k.quantizeLinear(x, { scale: [1, 2], dims: [2, 3], axis: 1 })).toThrow(ShapeError);
      expect(() => k.quantizeLinear(x, { scale: [1, 2, 3], dims: [2, 3], axis: 2 })).toThrow(ShapeError);
      expect(() => k.quantizeLinear(x, { scale: [1, 2, 3], dims: [2, 4], axis: 1 })).toThrow(ShapeError);
      expect(() => k.quantizeLinear(x, { scale: [1, 2, 3] })).toThrow(ShapeError);
      expect(() => k.dequantizeLinear(new Uint8Array(4), { scale: NaN })).toThrow(ValueRangeError);
      expect(k.arenaUsed).toBe(0);
    }
  });
});

describe('DequantizeLinear', () => {
  it('matches the reference for uint8, int8 and int32 inputs', async () => {
    const kernels = await allKernels();
    const next = rng(77);
    for (const n of [0, 1, 15, 16, 17, 100]) {
      const u8 = Uint8Array.from({ length: n }, () => next() & 255);
      const i8 = Int8Array.from(u8);
      const i32 = Int32Array.from({ length: n }, () => (next() | 0) >> 8);
      for (const k of kernels) {
        expect(Array.from(k.dequantizeLinear(u8, { scale: 0.37, zeroPoint: 201 }))).toEqual(Array.from(ref.dequantizeLinear(u8, [0.37], [201], { axisLen: n, inner: 1, mode: 'tensor' })));
        expect(Array.from(k.dequantizeLinear(i8, { scale: 3.1, zeroPoint: -5 }))).toEqual(Array.from(ref.dequantizeLinear(i8, [3.1], [-5], { axisLen: n, inner: 1, mode: 'tensor' })));
        expect(Array.from(k.dequantizeLinear(i32, { scale: 1e-3 }))).toEqual(Array.from(ref.dequantizeLinear(i32, [1e-3], undefined, { axisLen: n, inner: 1, mode: 'tensor' })));
      }
    }
  });

  it('covers every byte value against the extreme zero points of both types', async () => {
    const u8 = Uint8Array.from({ length: 256 + 13 }, (_, i) => (i * 7) & 255);
    const i8 = Int8Array.from(u8);
    for (const k of await allKernels()) {
      for (const zp of [0, 255, 128]) {
        const want = ref.dequantizeLinear(u8, [0.37], [zp], { axisLen: u8.length, inner: 1, mode: 'tensor' });
        expect(Array.from(k.dequantizeLinear(u8, { scale: 0.37, zeroPoint: zp })), `${k.build} uint8 ${zp}`).toEqual(Array.from(want));
      }
      for (const zp of [-128, 127, 0]) {
        const want = ref.dequantizeLinear(i8, [3.1], [zp], { axisLen: i8.length, inner: 1, mode: 'tensor' });
        expect(Array.from(k.dequantizeLinear(i8, { scale: 3.1, zeroPoint: zp })), `${k.build} int8 ${zp}`).toEqual(Array.from(want));
      }
    }
  });
});

describe('DynamicQuantizeLinear', () => {
  it('matches the reference: scale, zero point and data', async () => {
    const kernels = await allKernels();
    const inputs = [
      new Float32Array(0), Float32Array.of(0), Float32Array.of(0, 0, 0), Float32Array.of(5), Float32Array.of(-5),
      Float32Array.of(-1, 1), randomFloats(1000, 1, 3), randomFloats(33, 2, 1e-20), Float32Array.from(randomFloats(500, 3, 50), (v) => Math.abs(v)),
      Float32Array.from(randomFloats(17, 4, 2), (v) => -Math.abs(v)),
    ];
    for (const x of inputs) {
      const want = ref.dynamicQuantizeLinear(x);
      for (const k of kernels) {
        const got = k.dynamicQuantizeLinear(x);
        expect(got.scale).toBe(want.scale);
        expect(got.zeroPoint).toBe(want.zeroPoint);
        expect(Array.from(got.data)).toEqual(want.data);
      }
    }
  });

  it('rejects NaN and infinities', async () => {
    for (const k of await allKernels()) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const x = randomFloats(40, 9, 1);
        x[23] = bad;
        expect(() => k.dynamicQuantizeLinear(x)).toThrow(ValueRangeError);
        x[23] = 0;
        x[2] = bad; // inside the SIMD body and in the scalar tail alike
        expect(() => k.dynamicQuantizeLinear(x)).toThrow(ValueRangeError);
      }
    }
  });
});
