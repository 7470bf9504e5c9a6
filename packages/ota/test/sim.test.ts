import { Prng } from '@compotastic/mesh';
import { Simulation } from '@compotastic/sim';
import { describe, expect, it } from 'vitest';
import type { SimulatorLike } from '../src/experiments/sim-link.js';
import { startBroadcastRollout, startUnicastRollout } from '../src/experiments/rollout.js';
import { distanceForLoss, normalQuantile, rolloutScenario } from '../src/experiments/scenario.js';

function totalAirtime(sim: Simulation): number {
  return sim.nodes.reduce((s, n) => s + sim.radioStats(n.num).txAirtimeMs, 0);
}

function runUntilDone(sim: Simulation, done: () => boolean, limitMs: number): void {
  for (let t = 600_000; !done() && t <= limitMs; t += 600_000) sim.run(t);
}

describe('rollout in the mesh simulator', () => {
  it('places receivers where fading alone loses the asked fraction', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.2)).toBeCloseTo(-0.8416212, 6);
    expect(distanceForLoss(0.3, 'LONG_FAST', 30, 6)).toBeGreaterThan(distanceForLoss(0.1, 'LONG_FAST', 30, 6));
    const sim = new Simulation(rolloutScenario({ receivers: 8, loss: 0.25, seed: 3 }) as never);
    const nums = sim.nodes.map((n) => n.num);
    let got = 0;
    // Count only the probes: the nodes' own NodeInfo and telemetry broadcasts are on air too.
    for (const n of nums.slice(1)) sim.addListener(n, { onPacket: (p, _s, _r, via) => void (via && p.portnum === 290 && got++) });
    for (let i = 0; i < 100; i++) sim.scheduler.schedule(i * 3000, () => sim.sendFromApp(nums[0]!, { portnum: 290, payload: new Uint8Array(100), hopLimit: 0 }));
    sim.run(400_000);
    expect(1 - got / 800).toBeGreaterThan(0.2);
    expect(1 - got / 800).toBeLessThan(0.3);
  });

  it('one broadcast delivers the bundle to every node for a fraction of the airtime of unicasts with want_ack', () => {
    const bundle = new Prng(1).bytes(6000);
    const airtime: Record<string, number> = {};
    for (const kind of ['broadcast', 'unicast'] as const) {
      const sim = new Simulation(rolloutScenario({ receivers: 6, loss: 0.2, seed: 11 }) as never);
      const nums = sim.nodes.map((n) => n.num);
      const o = { sender: nums[0]!, receivers: nums.slice(1), bundle, preset: 'LONG_FAST' as const, seed: 5, hopLimit: 0 };
      const mesh = sim as unknown as SimulatorLike;
      const run = kind === 'broadcast' ? startBroadcastRollout(mesh, o) : startUnicastRollout(mesh, o);
      runUntilDone(sim, () => run.progress().done, 24 * 3600_000);
      expect(run.progress()).toMatchObject({ delivered: 6, done: true });
      airtime[kind] = totalAirtime(sim);
    }
    expect(airtime['broadcast']!).toBeLessThan(airtime['unicast']! * 0.5);
  });
});
