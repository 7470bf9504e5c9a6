import { Simulation } from '@compotastic/sim';
import { describe, expect, it } from 'vitest';
import { OTA_ATTACKS, runOtaAttacks } from '../src/attacks/index.js';
import type { SimulationLike } from '../src/experiments/airtime.js';

// A small run of the OTA attack suite: every attack, with one attacker and with a third of the nodes, must get
// nothing accepted, and every honest receiver must still get the publisher's release.

describe('OTA attack suite', () => {
  it('accepts no forgery, replay or wrong bundle, and every honest receiver completes', async () => {
    const reports = await runOtaAttacks({
      makeSimulation: (s) => new Simulation(s as never) as unknown as SimulationLike, nodes: 6, bundleBytes: 4000, seed: 3, fractions: [0.01, 0.34],
      attackIntervalMs: 10_000,
    });
    expect(reports.map((r) => r.attack)).toEqual([...OTA_ATTACKS, ...OTA_ATTACKS]);
    for (const r of reports) {
      expect(r.tried, r.attack).toBeGreaterThan(0);
      expect(r.rejected, r.attack).toBe(r.tried);
      expect([r.forgeriesAccepted, r.replaysAccepted, r.wrongResultsAccepted], r.attack).toEqual([0, 0, 0]);
      expect(r.baselineJobsCompleted).toBe(Math.round(6 * (1 - r.maliciousFraction)));
      expect(r.jobsCompleted, r.attack).toBe(r.baselineJobsCompleted);
    }
  }, 120_000);
});
