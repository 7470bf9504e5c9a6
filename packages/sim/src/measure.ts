import { builtinScenario } from './scenarios/index.js';
import { applyOverrides, type ScenarioConfig } from './scenario.js';
import { Simulation } from './simulation.js';

const perf = globalThis.performance;

export interface ThroughputMeasurement {
  nodes: number;
  simulatedS: number;
  events: number;
  wallMs: number;
  /** Scheduler events (transmission starts and ends, timers...) per wall second. */
  eventsPerSecond: number;
  /** Signals handed to receivers; each is processed at its start and at its end inside the batch events. */
  arrivals: number;
  /** (scheduler events + 2 x arrivals) per wall second: the rate a per-receiver event simulator would report. */
  receiverEventsPerSecond: number;
  transmissions: number;
  reachabilityPct: number;
}

/** A uniform mesh with periodic broadcasts, sized so density stays about constant as nodes grow. */
export function throughputScenario(nodes: number, duration: string | number): ScenarioConfig {
  const side = Math.round(Math.sqrt(nodes) * 400);
  return {
    name: `throughput-${nodes}`,
    duration,
    preset: 'LONG_FAST',
    region: 'US',
    area: { widthM: side, heightM: side },
    nodes: { count: nodes, txPowerDbm: 22, heightM: 1.5 },
    pathLoss: { model: 'log-distance' },
    traffic: [{ kind: 'broadcast', periodS: 600, payloadBytes: 40 }],
  };
}

function timeRun(config: ScenarioConfig, seed: number): ThroughputMeasurement {
  const t0 = perf.now();
  const sim = new Simulation(config, { seed });
  sim.run();
  const wallMs = perf.now() - t0;
  const s = sim.summary();
  return {
    nodes: s.nodes,
    simulatedS: s.durationS,
    events: s.events,
    wallMs: Math.round(wallMs),
    eventsPerSecond: Math.round(s.events / (wallMs / 1000)),
    arrivals: sim.arrivalsProcessed,
    receiverEventsPerSecond: Math.round((s.events + 2 * sim.arrivalsProcessed) / (wallMs / 1000)),
    transmissions: s.transmissions,
    reachabilityPct: s.reachabilityPct,
  };
}

/** Events per wall-clock second on a mid-size mesh (wall time includes building the mesh). */
export function measureEventsPerSecond(nodes = 200, duration: string | number = '1h', seed = 1): ThroughputMeasurement {
  return timeRun(throughputScenario(nodes, duration), seed);
}

/** Wall time for `nodes` nodes over one simulated hour (the target is 1000 nodes in 30 s or less). */
export function measureNodeHour(nodes = 1000, seed = 1): ThroughputMeasurement {
  return timeRun(throughputScenario(nodes, '1h'), seed);
}

export interface ReachabilityMeasurement {
  seeds: number[];
  /** Per-seed figures, in the order of `seeds`. */
  reachabilityPct: number[];
  usefulnessPct: number[];
  messages: number[];
  transmissions: number[];
  meanReachabilityPct: number;
  /** Sample standard deviation of the per-seed reachability (0 for one seed): the spread between random meshes. */
  sdReachabilityPct: number;
  meanUsefulnessPct: number;
  meanCollisions: number;
  meanMessages: number;
  meanTransmissions: number;
}

/**
 * Meshtasticator's reachability on its default configuration, the mean over seeds 1-10 of its discrete-event
 * simulator at 10 nodes: with its moving nodes (its default, as `meshtasticator-default`), and with movement off
 * (MESHTASTICATOR_MOVEMENT_OFF). Compare means over the same seeds, never one seed against a mean. The seeds do not
 * give the two simulators the same meshes (each draws its own placement), so a 10-seed mean carries the spread
 * between random meshes: about sd / sqrt(10), 3 to 4 points here.
 */
export const MESHTASTICATOR_REACHABILITY_PCT = { seeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], movingNodes: 72.7, movementOff: 75.7 } as const;

/** The override that stops every node of `meshtasticator-default` moving (Meshtasticator's MOVEMENT_ENABLED = False). */
export const MESHTASTICATOR_MOVEMENT_OFF: Readonly<Record<string, unknown>> = { 'mobility.movers': [] };

/** The Meshtasticator default scenario averaged over seeds (by default seeds 1-10, the seeds of MESHTASTICATOR_REACHABILITY_PCT). */
export function measureMeshtasticatorReachability(seeds: number[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], overrides?: Record<string, unknown>): ReachabilityMeasurement {
  const base = builtinScenario('meshtasticator-default');
  const config = overrides ? applyOverrides(base, overrides) : base;
  const reach: number[] = [];
  const useful: number[] = [];
  const messages: number[] = [];
  const transmissions: number[] = [];
  let collisions = 0;
  for (const seed of seeds) {
    const sim = new Simulation(config, { seed });
    sim.run();
    const s = sim.summary();
    reach.push(s.reachabilityPct);
    useful.push(s.usefulnessPct);
    messages.push(s.messages);
    transmissions.push(s.transmissions);
    collisions += s.collisions;
  }
  const n = Math.max(1, seeds.length);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / n;
  const meanReach = mean(reach);
  const sdReach = seeds.length > 1 ? Math.sqrt(reach.reduce((a, r) => a + (r - meanReach) ** 2, 0) / (seeds.length - 1)) : 0;
  return {
    seeds,
    reachabilityPct: reach,
    usefulnessPct: useful,
    messages,
    transmissions,
    meanReachabilityPct: Math.round(meanReach * 100) / 100,
    sdReachabilityPct: Math.round(sdReach * 100) / 100,
    meanUsefulnessPct: Math.round(mean(useful) * 100) / 100,
    meanCollisions: Math.round((collisions / n) * 10) / 10,
    meanMessages: Math.round(mean(messages) * 10) / 10,
    meanTransmissions: Math.round(mean(transmissions) * 10) / 10,
  };
}
