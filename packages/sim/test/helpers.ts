import { PortNum } from '@compotastic/mesh';
import { JsonlTrace, Simulation, type NodeSpec, type ScenarioConfig, type TraceEvent } from '../src/index.js';

/*
 * The hand-built worlds count single packets, so the firmware's periodic broadcasts (NodeInfo 30 s after boot, position
 * and device telemetry) are off in them unless a test sets them in `firmware`; the built-in scenarios keep the
 * firmware's schedule.
 */
export const QUIET_FIRMWARE = { nodeInfoBroadcastS: 0, positionBroadcastS: 0, telemetryBroadcastS: 0 };

/** Deterministic log-distance world (no shadowing) where neighbours `spacing` apart hear each other and no further. */
export function lineScenario(count: number, overrides: Partial<ScenarioConfig> = {}, specs: Partial<NodeSpec>[] = []): ScenarioConfig {
  return {
    name: 'line',
    duration: '10m',
    pathLoss: { model: 'log-distance', sigmaDb: 0 },
    ...overrides,
    firmware: { ...QUIET_FIRMWARE, ...overrides.firmware },
    nodes: {
      txPowerDbm: 30,
      list: Array.from({ length: count }, (_, i) => ({ name: `n${i}`, x: i * 1200, y: 0, ...(specs[i] ?? {}) })),
      ...(overrides.nodes ?? {}),
    },
  };
}

/** Every node within a few metres of the others. */
export function clusterScenario(count: number, specs: Partial<NodeSpec>[] = [], overrides: Partial<ScenarioConfig> = {}): ScenarioConfig {
  return {
    name: 'cluster',
    duration: '10m',
    pathLoss: { model: 'log-distance', sigmaDb: 0 },
    ...overrides,
    firmware: { ...QUIET_FIRMWARE, ...overrides.firmware },
    nodes: { list: Array.from({ length: count }, (_, i) => ({ name: `c${i}`, x: (i % 3) * 20, y: Math.floor(i / 3) * 20, ...(specs[i] ?? {}) })) },
  };
}

export function traced(config: ScenarioConfig, seed = 1): { sim: Simulation; events: TraceEvent[] } {
  const events: TraceEvent[] = [];
  const sim = new Simulation(config, { seed, trace: (e) => events.push(e) });
  return { sim, events };
}

export function jsonlRun(config: ScenarioConfig, seed: number): string {
  const trace = new JsonlTrace();
  const sim = new Simulation(config, { seed, trace: trace.sink });
  sim.run();
  return trace.text();
}

export function sendAt(sim: Simulation, atMs: number, fromIndex: number, opts: { to?: number; portnum?: number; bytes?: number; wantAck?: boolean; hopLimit?: number } = {}): { id: number; error: number } {
  const result = { id: 0, error: -1 };
  sim.scheduler.scheduleAt(atMs, () => {
    const r = sim.sendFromApp(sim.nodes[fromIndex]!.num, {
      to: opts.to,
      portnum: opts.portnum ?? PortNum.TEXT_MESSAGE_APP,
      payload: new Uint8Array(opts.bytes ?? 20),
      wantAck: opts.wantAck,
      hopLimit: opts.hopLimit,
    });
    result.id = r.id;
    result.error = r.error;
  });
  return result;
}

export function of(events: TraceEvent[], ev: string, filter: Partial<TraceEvent> = {}): TraceEvent[] {
  return events.filter((e) => e.ev === ev && Object.entries(filter).every(([k, v]) => e[k] === v));
}
