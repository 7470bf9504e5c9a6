// Choosing a layer's activation range by least quantization error: rare
// extremes are clipped when that lowers the error, never when it raises it.
import { Prng } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { activationParams, clippedRange, quantizationError, strideSample } from '../src/quant/quantize.js';

/** Seeded values: mostly small (a sum of uniforms), with a few large ones. */
function heavyTailed(prng: Prng, n: number, outliers: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (prng.float() + prng.float() + prng.float() - 1.5) * 2;
  for (let i = 0; i < outliers; i++) out[prng.intBelow(n)] = (prng.float() < 0.5 ? -1 : 1) * (4 + 4 * prng.float());
  return out;
}

function fullRange(v: Float32Array): { min: number; max: number } {
  let min = 0, max = 0;
  for (const x of v) { min = Math.min(min, x); max = Math.max(max, x); }
  return { min, max };
}

describe('clippedRange', () => {
  it('clips a few extremes, lowering the error below min/max', () => {
    const v = heavyTailed(new Prng(11), 20_000, 8);
    const full = fullRange(v);
    const r = clippedRange(v, full);
    expect(r.max).toBeLessThan(full.max);
    expect(r.min).toBeGreaterThan(full.min);
    expect(quantizationError(v, r)).toBeLessThan(quantizationError(v, full) * 0.99);
  });

  it('keeps the full range when nothing is worth clipping', () => {
    const v = Float32Array.from({ length: 256 }, (_, i) => i / 255); // every value on the min/max grid
    const full = fullRange(v);
    expect(quantizationError(v, full)).toBeLessThan(1e-12);
    expect(clippedRange(v, full)).toEqual(full);
  });

  it('never does worse than min/max, and keeps 0 exact', () => {
    const prng = new Prng(3);
    for (let t = 0; t < 20; t++) {
      const v = heavyTailed(prng, 2000, t % 4);
      const full = fullRange(v);
      const r = clippedRange(v, full);
      expect(quantizationError(v, r)).toBeLessThanOrEqual(quantizationError(v, full));
      const { scale, zeroPoint } = activationParams(r);
      expect((0 / scale) + zeroPoint).toBe(Math.round(zeroPoint)); // 0 maps to an integer code
      expect(r.min).toBeLessThanOrEqual(0);
      expect(r.max).toBeGreaterThanOrEqual(0);
    }
  });

  it('samples every n-th value deterministically', () => {
    const v = Float32Array.from({ length: 10_000 }, (_, i) => i);
    const s = strideSample(v, 1000);
    expect(s.length).toBe(1000);
    expect(s[0]).toBe(0);
    expect(s[1]).toBe(10);
    expect(strideSample(v.subarray(0, 5), 1000)).toEqual(v.subarray(0, 5));
  });
});
