// A small run of the adversarial suite (the full one is `pnpm attacks`): every compute attack, one seed, eight
// nodes of which two are malicious, on the simulator's mesh.
import { loadKernel } from '@compotastic/kernel';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMPUTE_ATTACKS, runComputeAttacks, type AttackReport } from '../src/attacks/index.js';
import { KernelExecutor } from '../src/jobs/executor.js';
import { simWorld } from '../scripts/sim-world.mjs';

let reports: AttackReport[];

beforeAll(async () => {
  const kernel = await loadKernel({ build: 'scalar' });
  reports = await runComputeAttacks({ world: simWorld, executor: new KernelExecutor(kernel), seed: 8, nodes: 8, fractions: [0.3], jobsPerOwner: 2 });
}, 600_000);

describe('compute attacks in the simulator', () => {
  it('runs every attack and the adversary really tried', () => {
    expect(reports.map((r) => r.attack)).toEqual([...COMPUTE_ATTACKS]);
    for (const r of reports) expect(r.tried, r.attack).toBeGreaterThan(0);
  });

  it('accepts no forgery, no replay and no wrong result', () => {
    for (const r of reports) {
      expect({ attack: r.attack, forgeries: r.forgeriesAccepted, replays: r.replaysAccepted, wrong: r.wrongResultsAccepted }).toEqual({ attack: r.attack, forgeries: 0, replays: 0, wrong: 0 });
      expect(r.rejected, r.attack).toBe(r.tried);
    }
  });

  it('still completes honest jobs under attack', () => {
    for (const r of reports) {
      expect(r.baselineJobsCompleted, r.attack).toBeGreaterThan(0);
      expect(r.jobsCompleted, r.attack).toBeGreaterThan(0);
    }
  });
});
