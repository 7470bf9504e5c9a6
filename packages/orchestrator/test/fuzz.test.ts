import { describe, expect, it } from 'vitest';
import { fuzzDecoder } from '../src/wire/fuzz.js';

describe('decoder fuzzing', () => {
  // 10k frames here; `pnpm fuzz` runs the thorough volume (1M frames by default).
  it('decodes or rejects with a typed error 10k random and mutated frames, never anything else', () => {
    const stats = fuzzDecoder(12345, 10_000);
    expect(stats.firstCrash).toBeNull();
    expect(stats.crashes).toBe(0);
    expect(stats.decoded + stats.rejected).toBe(10_000);
    // The mix exercises both paths: about 20% of the frames decode (1979..2091 over seeds 1..8); the band is about
    // five binomial sigmas (40 frames) either side.
    expect(stats.decoded).toBeGreaterThan(1830);
    expect(stats.decoded).toBeLessThan(2230);
    // Every way a frame can be rejected comes up.
    expect(Object.keys(stats.byCode).sort()).toEqual(['BAD_MAGIC', 'BAD_VALUE', 'BAD_VARINT', 'FRAGMENT_MISMATCH', 'INTEGRITY', 'TRAILING_BYTES', 'TRUNCATED', 'UNKNOWN_TYPE', 'UNSUPPORTED_VERSION']);
    expect(Object.values(stats.byCode).reduce((a, b) => a + b, 0)).toBe(stats.rejected);
  });

  it('is reproducible from its seed', () => {
    const a = fuzzDecoder(7, 3000);
    const b = fuzzDecoder(7, 3000);
    expect(a).toEqual(b);
    expect(fuzzDecoder(8, 3000)).not.toEqual(a); // and the seed matters
  });
});
