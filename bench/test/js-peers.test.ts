// The plain-JS peer must compute exactly what the kernels compute, or the
// "vs JS" ratios compare different work.
import { loadKernel } from '@compotastic/kernel';
import * as ref from '@compotastic/kernel/reference';
import { describe, expect, it } from 'vitest';
import { jsApplyPatch, jsDeltaDecode, jsDeltaEncode, jsDequantize, jsDynamicQuantize, jsGemm, jsPackB, jsQuantize } from '../src/peers/js.js';
import { Prng } from '@compotastic/mesh';
import { floats, quantFloats, randomBytes } from '../src/peers/data.js';

describe('plain-JS peer', () => {
  it('jsGemm matches the reference MatMulInteger on odd shapes and zero points', () => {
    const rng = new Prng(3);
    for (let trial = 0; trial < 40; trial++) {
      const m = rng.int(1, 6), k = rng.int(1, 71), n = rng.int(1, 14);
      const signedA = trial % 2 === 0;
      const a = randomBytes(m * k, trial + 1, signedA);
      const b = randomBytes(k * n, trial + 100, trial % 3 === 0);
      const aZp = signedA ? rng.int(-128, 128) : rng.intBelow(256);
      const bZp = b instanceof Int8Array ? rng.int(-128, 128) : rng.intBelow(256);
      const y = jsGemm(a, m, jsPackB(b, k, n, bZp), aZp);
      expect(Array.from(y), `${m}x${k}x${n}`).toEqual(Array.from(ref.matmulInteger(a, b, m, k, n, [aZp], [bZp])));
    }
  });

  it('quantization matches the reference (ties, saturation, both types)', () => {
    const x = quantFloats(5000, 9);
    for (const [scale, zp, type] of [[1 / 32, 128, 'uint8'], [0.1, -3, 'int8'], [1 / 32, 0, 'int8']] as const) {
      const expected = ref.quantizeLinear(x, [scale], [zp], type, { axisLen: x.length, inner: 1, mode: 'tensor' });
      expect(Array.from(jsQuantize(x, scale, zp, type))).toEqual(expected);
    }
    expect(Array.from(jsQuantize(Float32Array.of(NaN, Infinity, -Infinity), 1, 10))).toEqual([10, 255, 0]);
    const f = floats(5000, 10);
    const d = jsDynamicQuantize(f), r = ref.dynamicQuantizeLinear(f);
    expect([d.scale, d.zeroPoint]).toEqual([r.scale, r.zeroPoint]);
    expect(Array.from(d.data)).toEqual(r.data);
    const positive = jsDynamicQuantize(Float32Array.of(1, 2, 3));
    expect(positive.zeroPoint).toBe(ref.dynamicQuantizeLinear([1, 2, 3]).zeroPoint);
    expect(() => jsDynamicQuantize(Float32Array.of(1, NaN, Infinity))).toThrow(RangeError);
    const q = randomBytes(3000, 4, false) as Uint8Array;
    expect(jsDequantize(q, 0.05, 128)).toEqual(ref.dequantizeLinear(q, [0.05], [128], { axisLen: q.length, inner: 1, mode: 'tensor' }));
  });

  it('deltas match the reference for aligned and unaligned views of any length', () => {
    const a = randomBytes(1031, 5, false) as Uint8Array, b = randomBytes(1031, 6, false) as Uint8Array;
    for (const [start, end] of [[0, 1031], [1, 1031], [3, 17], [0, 0], [4, 9]] as const) {
      const x = a.subarray(start, end), y = b.subarray(start, end);
      const delta = jsDeltaEncode(x, y);
      expect(delta).toEqual(ref.deltaEncode(x, y, 'sub'));
      expect(jsDeltaDecode(x, delta)).toEqual(y);
    }
  });

  it('applies patches exactly as the kernel does and rejects ones that do not fit', async () => {
    const k = await loadKernel({ build: 'simd' });
    const old = randomBytes(20000, 7, false) as Uint8Array;
    const next = old.slice(100, 15000);
    for (let i = 0; i < next.length; i += 97) next[i] = 7;
    const ops = k.diff(old, next);
    const streams = k.buildPatch(old, next, ops);
    expect(jsApplyPatch(old, ops, streams.diff, streams.extra)).toEqual(next);
    expect(() => jsApplyPatch(old.subarray(0, 50), ops, streams.diff, streams.extra)).toThrow(RangeError);
    expect(() => jsApplyPatch(old, Int32Array.of(0, 5, 0), new Uint8Array(0), new Uint8Array(4))).toThrow(RangeError);
  });
});
