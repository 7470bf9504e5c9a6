import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ref from '../src/reference/index.js';
import { QUANT_RANGE } from '../src/tensor.js';
import { allKernels, randomBytes } from './helpers.js';

type Case = {
  m: number; k: number; n: number; aSigned: boolean; bSigned: boolean;
  aZp: 'none' | 'scalar' | 'row'; bZp: 'none' | 'scalar' | 'column'; extreme: boolean; seed: number;
};

function zpValues(kind: string, count: number, signed: boolean, seed: number): number[] | undefined {
  if (kind === 'none') return undefined;
  const bytes = randomBytes(kind === 'scalar' ? 1 : count, seed, signed);
  return Array.from(bytes);
}

function runCase(kernels: Awaited<ReturnType<typeof allKernels>>, c: Case): void {
  const a = randomBytes(c.m * c.k, c.seed, c.aSigned);
  const b = randomBytes(c.k * c.n, c.seed + 1, c.bSigned);
  if (c.extreme) {
    // Largest products: A at its maximum distance from the zero point, B at its minimum.
    a.fill(c.aSigned ? -128 : 255);
    b.fill(c.bSigned ? -128 : 0);
  }
  const aZp = zpValues(c.aZp, c.m, c.aSigned, c.seed + 2);
  const bZp = zpValues(c.bZp, c.n, c.bSigned, c.seed + 3);
  const want = ref.matmulInteger(a, b, c.m, c.k, c.n, aZp ?? [0], bZp ?? [0]);
  for (const kernel of kernels) {
    const packed = kernel.packWeights(b, c.k, c.n, bZp);
    const got = kernel.matmulInteger(a, c.m, packed, aZp);
    packed.dispose();
    expect(Array.from(got), `${kernel.build} ${JSON.stringify(c)}`).toEqual(Array.from(want));
  }
}

describe('MatMulInteger', () => {
  it('matches the reference on random shapes, types and zero points for every build', async () => {
    const kernels = await allKernels();
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 1, max: 37 }),
          k: fc.integer({ min: 1, max: 90 }),
          n: fc.integer({ min: 1, max: 29 }),
          aSigned: fc.boolean(),
          bSigned: fc.boolean(),
          aZp: fc.constantFrom('none' as const, 'scalar' as const, 'row' as const),
          bZp: fc.constantFrom('none' as const, 'scalar' as const, 'column' as const),
          extreme: fc.boolean(),
          seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        }),
        (c) => runCase(kernels, c),
      ),
      { seed: 20261124, numRuns: 150 },
    );
  });

  it('handles M=1, N=1, K=1 and K, N just off the block sizes', async () => {
    const kernels = await allKernels();
    const shapes = [
      [1, 1, 1], [1, 16, 4], [1, 17, 5], [2, 15, 3], [3, 31, 7], [1, 33, 1], [5, 1, 9], [1, 255, 1], [64, 48, 12],
      // Row blocks of 64: a full widened block followed by a short one (nibble / pair path), odd rows in both.
      [66, 40, 9], [71, 33, 6], [129, 20, 5],
    ];
    for (const [m, k, n] of shapes) {
      for (const aSigned of [false, true]) {
        runCase(kernels, { m: m!, k: k!, n: n!, aSigned, bSigned: !aSigned, aZp: 'scalar', bZp: 'column', extreme: false, seed: m! * 1000 + k! * 10 + n! });
      }
    }
  });

  it('keeps long sums exact (the relaxed build widens int16 partial sums in time)', async () => {
    const kernels = await allKernels();
    // 255 x -128 over K = 2000: partial sums far beyond int16, blocks of 8 chunks and a tail.
    for (const k of [128, 129, 2000]) {
      runCase(kernels, { m: 2, k, n: 6, aSigned: false, bSigned: true, aZp: 'none', bZp: 'none', extreme: true, seed: k });
      runCase(kernels, { m: 3, k, n: 5, aSigned: true, bSigned: true, aZp: 'scalar', bZp: 'column', extreme: false, seed: k + 7 });
      // Tall enough for the widened-panel path, odd so its one-row tail runs too.
      runCase(kernels, { m: 9, k, n: 6, aSigned: false, bSigned: true, aZp: 'none', bZp: 'none', extreme: true, seed: k + 11 });
      runCase(kernels, { m: 11, k, n: 7, aSigned: true, bSigned: false, aZp: 'row', bZp: 'scalar', extreme: true, seed: k + 13 });
    }
  });

  it('wraps like int32 arithmetic when a sum overflows, identically in every build', async () => {
    const kernels = await allKernels();
    const k = 70_000; // 255 * 128 * 70000 > 2^31
    runCase(kernels, { m: 1, k, n: 2, aSigned: false, bSigned: true, aZp: 'none', bZp: 'none', extreme: true, seed: 3 });
  });

  it('reuses packed weights across calls and rows', async () => {
    for (const kernel of await allKernels()) {
      const k = 40, n = 9;
      const b = randomBytes(k * n, 5, true) as Int8Array;
      const packed = kernel.packWeights(b, k, n, 3);
      for (let m = 1; m <= 4; m++) {
        const a = randomBytes(m * k, 10 + m, false) as Uint8Array;
        expect(Array.from(kernel.matmulInteger(a, m, packed, 128))).toEqual(Array.from(ref.matmulInteger(a, b, m, k, n, [128], [3])));
      }
      const used = kernel.arenaUsed;
      kernel.matmulInteger(randomBytes(k, 99, false), 1, packed);
      expect(kernel.arenaUsed).toBe(used); // scratch is released after every call
      packed.dispose();
      expect(kernel.arenaUsed).toBeLessThan(used);
    }
  });
});

describe('QLinearMatMul and requantization', () => {
  it('matches the integer reference exactly and the float formula within one step', async () => {
    const kernels = await allKernels();
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 1, max: 9 }),
          k: fc.integer({ min: 1, max: 70 }),
          n: fc.integer({ min: 1, max: 21 }),
          aSigned: fc.boolean(),
          ySigned: fc.boolean(),
          perChannel: fc.boolean(),
          withBias: fc.boolean(),
          seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
          aScale: fc.float({ min: Math.fround(1e-3), max: 1, noNaN: true }),
          yScale: fc.float({ min: Math.fround(1e-2), max: 10, noNaN: true }),
        }),
        (c) => {
          const a = randomBytes(c.m * c.k, c.seed, c.aSigned);
          const b = randomBytes(c.k * c.n, c.seed + 1, true) as Int8Array;
          const aZp = c.aSigned ? -3 : 121;
          const yType = c.ySigned ? 'int8' : 'uint8';
          const yZp = c.ySigned ? 5 : 130;
          const bScales = Float32Array.from({ length: c.perChannel ? c.n : 1 }, (_, i) => 0.002 + 0.001 * (i % 7));
          const bias = c.withBias ? Int32Array.from({ length: c.n }, (_, i) => (i * 977) % 4001 - 2000) : undefined;
          const acc = ref.matmulInteger(a, b, c.m, c.k, c.n, [aZp], [0]);
          const mults: number[] = [], shifts: number[] = [];
          for (const bs of bScales) {
            const q = ref.quantizeMultiplier((Math.fround(c.aScale) * bs) / Math.fround(c.yScale));
            mults.push(q.multiplier);
            shifts.push(q.shift);
          }
          const want = ref.requantize(acc, c.m, c.n, mults, shifts, yZp, yType, bias);
          for (const kernel of kernels) {
            const params = kernel.requantParams({ inputScale: c.aScale, weightScale: bScales, outputScale: c.yScale, outputZeroPoint: yZp, outputType: yType });
            expect(Array.from(params.multipliers)).toEqual(mults);
            expect(Array.from(params.shifts)).toEqual(shifts);
            const packed = kernel.packWeights(b, c.k, c.n);
            const got = kernel.qlinearMatmul(a, c.m, packed, params, { aZeroPoint: aZp, bias });
            packed.dispose();
            expect(Array.from(got), kernel.build).toEqual(want);
            const separate = kernel.requantize(acc, c.m, c.n, params, bias);
            expect(Array.from(separate)).toEqual(want);
            // The float formula ONNX Runtime uses agrees within one quantization step.
            const [lo, hi] = QUANT_RANGE[yType];
            for (let i = 0; i < want.length; i++) {
              const j = i % c.n;
              const real = (Math.fround(c.aScale) * bScales[bScales.length === 1 ? 0 : j]!) / Math.fround(c.yScale);
              const f = Math.min(hi, Math.max(lo, ref.roundHalfEven((acc[i]! + (bias ? bias[j]! : 0)) * real) + yZp));
              expect(Math.abs(f - want[i]!)).toBeLessThanOrEqual(1);
            }
          }
        },
      ),
      { seed: 7, numRuns: 60 },
    );
  });

  it('computes Q31 multipliers like the reference across magnitudes', async () => {
    const [kernel] = await allKernels();
    for (const real of [1e-12, 2 ** -33, 2 ** -31, 0.000123, 0.1, 0.5, 0.75, 1 - 2 ** -40, 1, 1.5, 1234.5, 2 ** 29]) {
      expect(kernel!.quantizeMultiplier(real), String(real)).toEqual(ref.quantizeMultiplier(real));
    }
    expect(() => kernel!.quantizeMultiplier(2 ** 31)).toThrow(/out of range/);
  });
});
