import { describe, expect, it } from 'vitest';
import { Prng } from '@compotastic/mesh';
import {
  BUILTIN_SCENARIOS,
  EventQueue,
  JsonlTrace,
  Scheduler,
  SimError,
  Simulation,
  applyOverrides,
  builtinScenario,
  parseDurationMs,
  resolveScenario,
  runScenario,
  type ScenarioConfig,
} from '../src/index.js';
import { jsonlRun } from './helpers.js';

describe('event queue and scheduler', () => {
  it('orders by time, then by insertion, and skips cancelled events', () => {
    const q = new EventQueue();
    const order: string[] = [];
    const push = (t: number, name: string) => q.push(t, () => order.push(name));
    push(5, 'a');
    push(1, 'b');
    const c = push(3, 'c');
    push(3, 'd');
    push(1, 'e');
    q.cancel(c);
    expect(q.size).toBe(4);
    for (let ev = q.pop(); ev; ev = q.pop()) ev.fn?.(ev.arg);
    expect(order).toEqual(['b', 'e', 'd', 'a']);
  });

  it('stays ordered under random load', () => {
    const q = new EventQueue();
    const rng = new Prng(1);
    for (let i = 0; i < 5000; i++) q.push(rng.uniform(0, 1000), () => {});
    let last = -1;
    let n = 0;
    for (let ev = q.pop(); ev; ev = q.pop()) {
      expect(ev.time).toBeGreaterThanOrEqual(last);
      last = ev.time;
      n++;
    }
    expect(n).toBe(5000);
  });

  it('advances simulated time and serves a Clock', () => {
    const s = new Scheduler();
    const seen: number[] = [];
    s.schedule(10, () => seen.push(s.now));
    const h = s.clock.setTimer(20, () => seen.push(-1));
    s.clock.setTimer(30, () => seen.push(s.clock.now()));
    s.clock.clearTimer(h);
    s.runUntil(100);
    expect(seen).toEqual([10, 30]);
    expect(s.now).toBe(100);
    expect(() => s.schedule(-1, () => {})).toThrow(SimError);
  });
});

describe('scenarios', () => {
  it('fills defaults', () => {
    const r = resolveScenario({ name: 'x', duration: '90s', nodes: { count: 3 } });
    expect(r.durationMs).toBe(90_000);
    expect(r.preset).toBe('LONG_FAST');
    expect(r.region).toBe('US');
    expect(r.hopLimit).toBe(3);
    expect(r.pathLoss).toMatchObject({ model: 'log-distance', d0M: 40, gamma: 2.08, pl0Db: 127.41, sigmaDb: 3.57 });
    expect(r.nodes.txPowerDbm).toBe(30);
    expect(r.frequencyMHz).toBeCloseTo(906.875, 6);
  });

  it('names the bad field in a typed error', () => {
    const bad: Array<[unknown, string]> = [
      [{ name: 'x', duration: '30m', preset: 'FAST', nodes: { count: 2 } }, 'preset'],
      [{ name: 'x', duration: '30m', region: 'MARS', nodes: { count: 2 } }, 'region'],
      [{ name: 'x', duration: 'soon', nodes: { count: 2 } }, 'duration'],
      [{ name: 'x', duration: '30m', nodes: { count: -1 } }, 'nodes.count'],
      [{ name: 'x', duration: '30m', nodes: { count: 2 }, pathLoss: { model: 'magic' } }, 'pathLoss.model'],
      [{ name: 'x', duration: '30m', nodes: { count: 2 }, traffic: [{ kind: 'broadcast' }] }, 'traffic[0].periodS'],
      [{ name: 'x', duration: '30m', nodes: { count: 2 }, events: [{ atS: 1, kind: 'explode' }] }, 'events[0].kind'],
      [{ name: 'x', duration: '30m', nodes: { list: [{ x: 1 }] } }, 'nodes.list[0]'],
      [{ name: 'x', duration: '30m', nodes: { count: 2, roles: { KING: 1 } } }, 'nodes.roles.KING'],
    ];
    for (const [config, field] of bad) {
      try {
        resolveScenario(config as ScenarioConfig);
        expect.unreachable(`accepted ${JSON.stringify(config)}`);
      } catch (e) {
        expect(e).toBeInstanceOf(SimError);
        expect((e as SimError).code).toBe('INVALID_SCENARIO');
        expect((e as Error).message.startsWith(field)).toBe(true);
      }
    }
  });

  it('parses durations', () => {
    expect(parseDurationMs('30m')).toBe(1_800_000);
    expect(parseDurationMs('1.5h')).toBe(5_400_000);
    expect(parseDurationMs(12)).toBe(12_000);
    expect(parseDurationMs('250ms')).toBe(250);
    expect(() => parseDurationMs('-3s')).toThrow(SimError);
  });

  it('overrides any field by dotted path without touching the original', () => {
    const base = builtinScenario('urban-canyon');
    const o = applyOverrides(base, { 'nodes.count': '12', preset: 'MEDIUM_FAST', 'pathLoss.gamma': 3.1, 'availability.churnPerHour': '0.5' });
    expect(o.nodes.count).toBe(12);
    expect(o.preset).toBe('MEDIUM_FAST');
    expect(o.pathLoss?.gamma).toBe(3.1);
    expect(o.availability?.churnPerHour).toBe(0.5);
    expect(base.nodes.count).toBe(80);
    expect(() => applyOverrides(base, { '__proto__.x': 1 })).toThrow(SimError);
    expect(() => applyOverrides(base, { 'preset.x': 1 })).toThrow(SimError);
  });

  it('carries application fields through untouched', () => {
    const s = new Simulation(builtinScenario('disaster-zone'));
    expect((s.scenario.app as { jobs: Array<{ id: string }> }).jobs.map((j) => j.id)).toEqual(['triage', 'map-merge']);
    expect(s.scenario.app).toEqual(builtinScenario('disaster-zone').app);
  });

  it('runs every built-in scenario (shortened) and reports something plausible', () => {
    for (const name of Object.keys(BUILTIN_SCENARIOS)) {
      const s = runScenario(builtinScenario(name), { overrides: { duration: '4m' } });
      expect(s.scenario).toBe(name);
      expect(s.transmissions).toBeGreaterThan(0);
      expect(s.reachabilityPct).toBeGreaterThanOrEqual(0);
      expect(s.reachabilityPct).toBeLessThanOrEqual(100);
      expect(s.perNode.length).toBe(s.nodes);
    }
  });
});

describe('determinism', () => {
  const config: ScenarioConfig = applyOverrides(builtinScenario('disaster-zone'), { duration: '20m' });
  it('the same seed gives a byte-identical trace', () => {
    const a = jsonlRun(config, 42);
    const b = jsonlRun(config, 42);
    expect(a.length).toBeGreaterThan(10_000);
    expect(b).toBe(a);
  });
  it('a different seed gives a different trace', () => {
    expect(jsonlRun(config, 43)).not.toBe(jsonlRun(config, 42));
  });
  it('every trace line is JSON with a time and a type, in time order', () => {
    const trace = new JsonlTrace();
    const sim = new Simulation(config, { seed: 1, trace: trace.sink });
    sim.run();
    let last = 0;
    const types = new Set<string>();
    for (const line of trace.lines) {
      const e = JSON.parse(line) as { t: number; ev: string };
      expect(typeof e.ev).toBe('string');
      expect(e.t).toBeGreaterThanOrEqual(last);
      last = e.t;
      types.add(e.ev);
    }
    for (const t of ['gen', 'tx_start', 'tx_end', 'rx', 'deliver', 'relay', 'drop', 'node_down', 'node_up', 'battery']) expect(types.has(t)).toBe(true);
  });
});
