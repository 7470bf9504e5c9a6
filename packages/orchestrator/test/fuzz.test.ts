import { describe, expect, it } from 'vitest';
import { fuzzDecoder } from '../src/wire/fuzz.js';

describe('decoder fuzzing', () => {
  it('decodes or rejects with a typed error 60k random and mutated frames, never anything else', () => {
    const stats = fuzzDecoder(12345, 60_000);
    expect(stats.firstCrash).toBeNull();
    expect(stats.crashes).toBe(0);
    // The mix exercises both paths and many distinct rejection reasons.
    expect(stats.decoded).toBeGreaterThan(5_000);
    expect(stats.rejected).toBeGreaterThan(20_000);
    expect(Object.keys(stats.byCode).length).toBeGreaterThanOrEqual(7);
  });

  it('is reproducible from its seed', () => {
    const a = fuzzDecoder(7, 3000);
    const b = fuzzDecoder(7, 3000);
    expect(a).toEqual(b);
  });
});
