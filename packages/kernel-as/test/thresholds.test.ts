// The thresholds ABI.md states, tested at their exact edges on every build:
// quantize_multiplier's rounding edges against an exact BigInt model, the
// multipliers requantize accepts (computed exactly), and the ranges DynamicQuantizeLinear
// refuses.
import { describe, expect, it } from 'vitest';
import { ErrorCode, ValueRangeError, type KernelExports } from '../src/index.js';
import { allKernels, rng } from './helpers.js';

// ---------------------------------------------------------------------------
// An exact model of quantize_multiplier, from ABI.md: real = mult * 2^(shift - 31) with
// mult = roundHalfEven(real * 2^(31 - shift)) in [2^30, 2^31).

type Multiplier = { status: number; mult: number; shift: number };

/** real as mantissa * 2^exponent, both exact. */
function decompose(real: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, real);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  return biased === 0 ? { mantissa: fraction, exponent: -1074 } : { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

/** roundHalfEven(mantissa * 2^e) for an integer e of any sign. */
function roundScaled(mantissa: bigint, e: number): bigint {
  if (e >= 0) return mantissa << BigInt(e);
  const d = BigInt(-e);
  const q = mantissa >> d;
  const rem = mantissa - (q << d);
  const half = 1n << (d - 1n);
  return rem > half || (rem === half && (q & 1n) === 1n) ? q + 1n : q;
}

function exactMultiplier(real: number): Multiplier {
  if (!(real > 0) || real === Infinity) return { status: ErrorCode.SCALE, mult: 0, shift: 0 };
  const { mantissa, exponent } = decompose(real);
  // real is in [2^(shift-1), 2^shift).
  let shift = mantissa.toString(2).length + exponent;
  let mult = roundScaled(mantissa, exponent + 31 - shift);
  if (mult === 1n << 31n) {
    mult = 1n << 30n;
    shift++;
  }
  if (shift > 30) return { status: ErrorCode.MULTIPLIER, mult: 0, shift: 0 };
  if (shift < -31) return { status: ErrorCode.OK, mult: 0, shift: 0 };
  return { status: ErrorCode.OK, mult: Number(mult), shift };
}

function nextAfter(x: number, direction: 1 | -1): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + BigInt(x > 0 ? direction : -direction));
  return view.getFloat64(0);
}

function kernelMultiplier(ex: KernelExports, real: number): Multiplier {
  const mark = ex.arena_mark();
  const out = ex.arena_alloc(8, 16) >>> 0;
  new Int32Array(ex.memory.buffer, out, 2).fill(0x5a5a5a5a);
  const status = ex.quantize_multiplier(real, out);
  const [mult, shift] = new Int32Array(ex.memory.buffer, out, 2);
  ex.arena_release(mark);
  return status === ErrorCode.OK ? { status, mult: mult!, shift: shift! } : { status, mult: 0, shift: 0 };
}

// The edges ABI.md names: MULTIPLIER from 2^30 - 2^-2, (0, 0) below 2^-32 - 2^-64.
const TOP = 2 ** 30 - 2 ** -2;
const BOTTOM = 2 ** -32 - 2 ** -64;

describe('quantize_multiplier at its documented edges', () => {
  it('refuses from 2^30 - 2^-2 up and accepts just below it', async () => {
    for (const k of await allKernels()) {
      expect(kernelMultiplier(k.exports, TOP).status, k.build).toBe(ErrorCode.MULTIPLIER);
      expect(kernelMultiplier(k.exports, 2 ** 30).status).toBe(ErrorCode.MULTIPLIER);
      expect(kernelMultiplier(k.exports, nextAfter(TOP, -1))).toEqual({ status: ErrorCode.OK, mult: 2 ** 31 - 1, shift: 30 });
    }
    expect(exactMultiplier(TOP).status).toBe(ErrorCode.MULTIPLIER);
  });

  it('gives (0, 0) below 2^-32 - 2^-64 and (2^30, -31) from it up', async () => {
    for (const k of await allKernels()) {
      expect(kernelMultiplier(k.exports, BOTTOM), k.build).toEqual({ status: ErrorCode.OK, mult: 2 ** 30, shift: -31 });
      expect(kernelMultiplier(k.exports, nextAfter(BOTTOM, -1))).toEqual({ status: ErrorCode.OK, mult: 0, shift: 0 });
      expect(kernelMultiplier(k.exports, 2 ** -32)).toEqual({ status: ErrorCode.OK, mult: 2 ** 30, shift: -31 });
      expect(kernelMultiplier(k.exports, Number.MIN_VALUE)).toEqual({ status: ErrorCode.OK, mult: 0, shift: 0 });
    }
  });

  it('rounds ties to even and refuses non-positive or non-finite reals with SCALE', async () => {
    for (const k of await allKernels()) {
      // (2^30 + 0.5) * 2^-31 ties between 2^30 and 2^30 + 1: even wins; likewise 2^30 + 1.5 -> 2^30 + 2.
      expect(kernelMultiplier(k.exports, (2 ** 30 + 0.5) * 2 ** -31)).toEqual({ status: ErrorCode.OK, mult: 2 ** 30, shift: 0 });
      expect(kernelMultiplier(k.exports, (2 ** 30 + 1.5) * 2 ** -31)).toEqual({ status: ErrorCode.OK, mult: 2 ** 30 + 2, shift: 0 });
      for (const bad of [0, -0, -1, NaN, Infinity, -Infinity]) expect(kernelMultiplier(k.exports, bad).status, String(bad)).toBe(ErrorCode.SCALE);
    }
  });

  it('agrees with the exact model on seeded random reals from 2^-40 to 2^31 and at every power of two', async () => {
    const kernels = await allKernels();
    const next = rng(2024);
    const reals: number[] = [];
    for (let e = -40; e <= 31; e++) reals.push(2 ** e, nextAfter(2 ** e, -1), nextAfter(2 ** e, 1));
    for (let i = 0; i < 2000; i++) reals.push(2 ** (-40 + (next() / 2 ** 32) * 71) * (1 + next() / 2 ** 53));
    for (const real of reals) {
      const want = exactMultiplier(real);
      for (const k of kernels) expect(kernelMultiplier(k.exports, real), `${k.build} ${real}`).toEqual(want);
    }
  });
});

describe('requantize accepts any multiplier in [0, 2^31) with a shift in [-31, 30]', () => {
  /** clamp(roundHalfEven(acc * mult / 2^(31 - shift)) + zp) to int8, exactly. */
  const exact = (acc: number, mult: number, shift: number, zp: number): number => {
    const q = roundScaled(BigInt(acc) * BigInt(mult), shift - 31);
    return Math.max(-128, Math.min(127, Number(q) + zp));
  };
  const ZP = 3;
  // One accumulator of 1000 through requantize, or through qlinear_matmul as 100 x 10.
  const run = (ex: KernelExports, mult: number, shift: number, fused: boolean): number => {
    const mark = ex.arena_mark();
    const i32 = (v: number): number => {
      const p = ex.arena_alloc(4, 16) >>> 0;
      new Int32Array(ex.memory.buffer, p, 1)[0] = v;
      return p;
    };
    const acc = i32(1000), pm = i32(mult), ps = i32(shift);
    const y = ex.arena_alloc(1, 16) >>> 0;
    let status: number;
    if (fused) {
      const b = ex.arena_alloc(1, 16) >>> 0;
      new Int8Array(ex.memory.buffer)[b] = 10;
      const packed = ex.arena_alloc(ex.packed_b_size(1, 1), 16) >>> 0;
      expect(ex.pack_b(b, 1, 1, 1, 0, 0, packed)).toBe(ErrorCode.OK);
      const a = ex.arena_alloc(1, 16) >>> 0;
      new Int8Array(ex.memory.buffer)[a] = 100;
      new Uint8Array(ex.memory.buffer)[y] = 0xee;
      status = ex.qlinear_matmul(a, 1, 1, 1, 0, 0, packed, 0, pm, ps, 0, ZP, 1, y);
    } else {
      new Uint8Array(ex.memory.buffer)[y] = 0xee;
      status = ex.requantize(acc, 1, 1, 0, pm, ps, 0, ZP, 1, y);
    }
    const out = new Int8Array(ex.memory.buffer)[y]!;
    ex.arena_release(mark);
    if (status !== ErrorCode.OK) expect(out, 'nothing written on error').toBe(-18); // 0xee
    return status === ErrorCode.OK ? out : status;
  };

  it('computes normalized and non-normalized multipliers exactly, in requantize and qlinear_matmul', async () => {
    const mults = [0, 1, 3, 2 ** 29 + 1, 2 ** 30 - 1, 2 ** 30, 0.75 * 2 ** 31, 2 ** 31 - 1];
    for (const k of await allKernels()) {
      for (const fused of [false, true]) {
        for (const mult of mults) {
          for (const shift of [-31, -20, -10, -4, 0, 30]) {
            expect(run(k.exports, mult, shift, fused), `${k.build} ${mult} ${shift}`).toBe(exact(1000, mult, shift, ZP));
          }
        }
      }
    }
    // A hand-checked one: 1000 * 0.75 * 2^-10 = 0.73 -> 1, plus the zero point.
    expect(exact(1000, 0.75 * 2 ** 31, -10, ZP)).toBe(4);
  });

  it('refuses a negative multiplier or a shift outside [-31, 30] with MULTIPLIER, raw and typed', async () => {
    for (const k of await allKernels()) {
      for (const fused of [false, true]) {
        for (const mult of [-1, -(2 ** 31)]) expect(run(k.exports, mult, 0, fused), `${k.build} ${mult}`).toBe(ErrorCode.MULTIPLIER);
        for (const shift of [-32, 31, 2 ** 31 - 1]) expect(run(k.exports, 2 ** 30, shift, fused)).toBe(ErrorCode.MULTIPLIER);
      }
      const params = { multipliers: Int32Array.of(-5), shifts: Int32Array.of(0), zeroPoint: 0, type: 'int8' as const };
      expect(() => k.requantize(Int32Array.of(5), 1, 1, params)).toThrow(ValueRangeError);
      expect(() => k.requantize(Int32Array.of(5), 1, 1, { ...params, multipliers: Int32Array.of(2 ** 30), shifts: Int32Array.of(31) })).toThrow(ValueRangeError);
      expect(Array.from(k.requantize(Int32Array.of(1000), 1, 1, { ...params, multipliers: Int32Array.of(2 ** 29) }))).toEqual([exact(1000, 2 ** 29, 0, 0)]);
    }
  });
});

describe('DynamicQuantizeLinear refuses ranges without a finite, non-zero float32 scale', () => {
  const F32_MAX = 3.4028234663852886e38;
  const run = (ex: KernelExports, values: number[]): { status: number; scale: number; zp: number; y: number[] } => {
    const mark = ex.arena_mark();
    const x = ex.arena_alloc(values.length * 4, 16) >>> 0;
    new Float32Array(ex.memory.buffer, x, values.length).set(values);
    const y = ex.arena_alloc(values.length, 16) >>> 0;
    const p = ex.arena_alloc(8, 16) >>> 0;
    new Uint8Array(ex.memory.buffer).fill(0xee, y, y + values.length);
    new Uint8Array(ex.memory.buffer).fill(0xee, p, p + 8);
    const status = ex.dynamic_quantize_linear(x, values.length, y, p);
    const result = {
      status,
      scale: new Float32Array(ex.memory.buffer, p, 1)[0]!,
      zp: new Uint8Array(ex.memory.buffer)[p + 4]!,
      y: Array.from(new Uint8Array(ex.memory.buffer, y, values.length)),
    };
    ex.arena_release(mark);
    return result;
  };
  const untouched = (n: number) => ({ scale: new Float32Array(new Uint8Array(4).fill(0xee).buffer)[0]!, zp: 0xee, y: new Array(n).fill(0xee) });

  it('returns RANGE, writing nothing, when max - min overflows float32 (+-3e38, and the exact edge)', async () => {
    // FLT_MAX + 2^103 is the tie between FLT_MAX and 2^128: it rounds to infinity.
    const half = 2 ** 103;
    const belowHalf = 2 ** 103 - 2 ** 79; // the float32 just below 2^103
    for (const k of await allKernels()) {
      expect(run(k.exports, [3e38, -3e38, 1]), k.build).toEqual({ status: ErrorCode.RANGE, ...untouched(3) });
      expect(run(k.exports, [F32_MAX, -half]).status).toBe(ErrorCode.RANGE);
      const ok = run(k.exports, [F32_MAX, -belowHalf]);
      expect(ok.status).toBe(ErrorCode.OK);
      expect(ok.scale).toBe(Math.fround(F32_MAX / 255));
      expect(ok.y).toEqual([255, 0]);
      expect(() => k.dynamicQuantizeLinear(Float32Array.of(3e38, -3e38))).toThrow(ValueRangeError);
      expect(() => k.dynamicQuantizeLinear(Float32Array.of(3e38, -3e38))).toThrow(/finite, non-zero float32 scale/);
    }
  });

  it('returns RANGE when the scale rounds to zero (max - min below 128 * 2^-149), identically on every build', async () => {
    const tiny = 2 ** -149;
    for (const k of await allKernels()) {
      expect(run(k.exports, [127 * tiny]), k.build).toEqual({ status: ErrorCode.RANGE, ...untouched(1) });
      expect(run(k.exports, [0, -127 * tiny]).status).toBe(ErrorCode.RANGE);
      expect(run(k.exports, [128 * tiny]), k.build).toEqual({ status: ErrorCode.OK, scale: tiny, zp: 0, y: [128] });
    }
  });
});
