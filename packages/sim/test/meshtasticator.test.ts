import { describe, expect, it } from 'vitest';
import { measureMeshtasticatorReachability } from '../src/index.js';

describe("Meshtasticator's default scenario", () => {
  it('averaged over seeds, reaches within 10 points of its 85% reachability', () => {
    const r = measureMeshtasticatorReachability([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(r.meanReachabilityPct).toBeGreaterThan(75);
    expect(r.meanReachabilityPct).toBeLessThan(95);
    // Its usefulness (50.24%) comes out close too.
    expect(r.meanUsefulnessPct).toBeGreaterThan(35);
    expect(r.meanUsefulnessPct).toBeLessThan(65);
    // About 180 messages in 30 minutes (10 nodes, one per 100 s each).
    expect(r.meanMessages).toBeGreaterThan(140);
    expect(r.meanMessages).toBeLessThan(220);
  });
});
