import { Prng, type ModemPresetName } from '@compotastic/mesh';
import type { SimulatorLike } from './sim-link.js';
import type { SenderReport } from '../transfer/sender.js';
import { startBroadcastRollout, startUnicastRollout } from './rollout.js';
import { rolloutScenario } from './scenario.js';

/** The parts of the project's simulator the comparison drives. */
export interface SimulationLike extends SimulatorLike {
  readonly nodes: readonly { num: number }[];
  run(untilMs: number): void;
  radioStats(nodeNum: number): { txAirtimeMs: number; txPackets: number };
}

export interface AirtimeComparison {
  receivers: number;
  loss: number;
  bundleBytes: number;
  broadcast: { airtimeMs: number; delivered: number; finishedAtMs: number | null; report: SenderReport | null };
  unicast: { airtimeMs: number; delivered: number; finishedAtMs: number | null; attempts: number };
  /** Broadcast airtime over unicast airtime (the lower the better). */
  ratio: number;
}

function totalAirtime(sim: SimulationLike): number {
  return sim.nodes.reduce((s, n) => s + sim.radioStats(n.num).txAirtimeMs, 0);
}

/**
 * Delivers one random bundle to every receiver of a rollout scenario twice, on fresh simulations of the same
 * scenario and seed: by broadcast fountain transfer, then by per-node unicast with want_ack. Airtime is every node's
 * transmit time (sender, replies, ACKs, relays).
 */
export function compareRolloutAirtime(
  makeSimulation: (scenario: Record<string, unknown>) => SimulationLike,
  o: { receivers: number; loss: number; bundleBytes: number; seed: number; preset?: ModemPresetName; limitMs?: number },
): AirtimeComparison {
  const preset = o.preset ?? 'LONG_FAST';
  const bundle = new Prng(o.seed).bytes(o.bundleBytes);
  const limit = o.limitMs ?? 14 * 24 * 3600_000;
  const scenario = rolloutScenario({ receivers: o.receivers, loss: o.loss, seed: o.seed, preset, durationS: limit / 1000 });
  const run = (kind: 'broadcast' | 'unicast'): { sim: SimulationLike; progress: () => { delivered: number; done: boolean; finishedAtMs: number | null }; extra: unknown } => {
    const sim = makeSimulation(scenario);
    const nums = sim.nodes.map((n) => n.num);
    const opts = { sender: nums[0]!, receivers: nums.slice(1), bundle, preset, seed: o.seed, hopLimit: 0 };
    const r = kind === 'broadcast' ? startBroadcastRollout(sim, opts) : startUnicastRollout(sim, opts);
    for (let t = 600_000; !r.progress().done && t <= limit; t += 600_000) sim.run(t);
    return { sim, progress: r.progress, extra: 'report' in r ? r.report() : r.attempts() };
  };
  const b = run('broadcast');
  const u = run('unicast');
  const bAir = totalAirtime(b.sim);
  const uAir = totalAirtime(u.sim);
  return {
    receivers: o.receivers,
    loss: o.loss,
    bundleBytes: o.bundleBytes,
    broadcast: { airtimeMs: bAir, delivered: b.progress().delivered, finishedAtMs: b.progress().finishedAtMs, report: b.extra as SenderReport | null },
    unicast: { airtimeMs: uAir, delivered: u.progress().delivered, finishedAtMs: u.progress().finishedAtMs, attempts: u.extra as number },
    ratio: bAir / uAir,
  };
}
