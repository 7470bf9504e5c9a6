import { getModemPreset, timeOnAirMs } from '@compotastic/mesh';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyOverrides, builtinScenario, MESHTASTICATOR_MOVEMENT_OFF, MESHTASTICATOR_REACHABILITY_PCT, measureMeshtasticatorReachability, resolveScenario, type ReachabilityMeasurement } from '../src/index.js';
import { of, traced } from './helpers.js';

// The scenario expresses Meshtasticator's default configuration (lib/config.py): 10 nodes in 15 x 15 km placed and
// linked as Meshtasticator places and links them for the same seed, 3GPP suburban macro at 1 m, per-link offsets of
// sd 3 dB, a fixed sensitivity of -131.5 dBm, LONG_FAST at 30 dBm, one want_ack broadcast per node every
// 100 s (exponential) with 40 payload bytes (56 B on air), a 10% chance that CAD finds outside interference, capture
// by 6 dB at any time, 30% of nodes moving by random jumps (30% of those broadcasting their position), 30 minutes.
// How the figures compare with Meshtasticator's (equal seeds, 1-10) is a bench figure, not a test: see `pnpm bench`.

describe("Meshtasticator's default scenario", () => {
  it('expresses its configuration', () => {
    const sc = resolveScenario(builtinScenario('meshtasticator-default'));
    expect(sc.pathLoss).toMatchObject({ model: '3gpp-suburban-macro', sigmaDb: 3 });
    expect(sc.traffic[0]).toMatchObject({ kind: 'broadcast', periodS: 100, distribution: 'exponential', wantAck: true });
    expect(sc.captureRule).toBe('anytime');
    expect(sc.interference.cadBusyProbability).toBeCloseTo(0.1, 10);
    expect(sc.firmware.nodeInfoBroadcastS).toBe(0);
    // The nodes Meshtasticator moves in every run (Python's Random(node index): 30% move, 30% of those with GPS).
    expect(sc.mobility).toMatchObject({ kind: 'jumps', meanJumpIntervalS: 60, positionDistanceM: 100, positionMinIntervalS: 30 });
    expect(sc.mobility.movers).toEqual([{ node: 1, stepM: 96, gps: false }, { node: 3, stepM: 390, gps: false }, { node: 4, stepM: 390, gps: true }, { node: 8, stepM: 96, gps: false }]);
    const { sim, events } = traced(builtinScenario('meshtasticator-default'), 1);
    sim.run(5 * 60_000);
    const own = of(events, 'tx_start').filter((e) => e.node === e.from && e.port === 256);
    expect(own.length).toBeGreaterThan(0);
    // 16 header + 40 payload bytes on air, as Meshtasticator's PACKETLENGTH + HEADERLENGTH.
    for (const tx of own) {
      expect(tx.bytes).toBe(56);
      expect(tx.airtimeMs).toBeCloseTo(timeOnAirMs(getModemPreset('LONG_FAST'), 56), 3);
    }
    expect(of(events, 'retransmit').length + of(events, 'ack', { kind: 'implicit' }).length).toBeGreaterThan(0);
    expect(of(events, 'cad_busy').length).toBeGreaterThan(0);
  });

  it('moves its roaming nodes by jumps within the area, and GPS nodes broadcast their position after 100 m', () => {
    const { sim, events } = traced(builtinScenario('meshtasticator-default'), 3);
    sim.run();
    const moves = of(events, 'move');
    const movers = new Set(moves.map((e) => e.node));
    expect(movers.size).toBeGreaterThan(0);
    expect(movers.size).toBeLessThan(10);
    for (const m of moves) {
      expect(Math.abs(m.x as number)).toBeLessThanOrEqual(7500);
      expect(Math.abs(m.y as number)).toBeLessThanOrEqual(7500);
    }
    const positions = of(events, 'gen', { port: 3 });
    for (const p of positions) {
      expect(movers.has(p.node)).toBe(true);
      expect(p.wantAck).toBe(true);
    }
    // Within one node, broadcasts are at least 30 s apart.
    const byNode = new Map<number, number[]>();
    for (const p of positions) byNode.set(p.node as number, [...(byNode.get(p.node as number) ?? []), p.t as number]);
    for (const times of byNode.values()) for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(30_000);
  });

  it('moves exactly the listed nodes, at their steps, and only the GPS one broadcasts its position', () => {
    for (const seed of [2, 5]) {
      const { sim, events } = traced(builtinScenario('meshtasticator-default'), seed);
      sim.run();
      const moved = new Set(of(events, 'move').map((e) => e.node));
      expect([...moved].sort()).toEqual([1, 3, 4, 8].map((i) => sim.nodes[i]!.num).sort());
      const senders = new Set(of(events, 'gen', { port: 3 }).map((e) => e.node));
      for (const n of senders) expect(n).toBe(sim.nodes[4]!.num);
      // A walker (96 m) never jumps further than its step.
      const walker = sim.nodes[1]!.num;
      const walk = of(events, 'move', { node: walker });
      for (let i = 1; i < walk.length; i++) {
        expect(Math.hypot((walk[i]!.x as number) - (walk[i - 1]!.x as number), (walk[i]!.y as number) - (walk[i - 1]!.y as number))).toBeLessThanOrEqual(96.2);
      }
    }
    const { sim, events } = traced(applyOverrides(builtinScenario('meshtasticator-default'), { ...MESHTASTICATOR_MOVEMENT_OFF }), 2);
    sim.run(10 * 60_000);
    expect(of(events, 'move')).toHaveLength(0);
  });

  it('refuses a malformed mover list', () => {
    const bad = (movers: unknown) => () => resolveScenario({ name: 'm', duration: '1m', mobility: { kind: 'jumps', movers } } as never);
    expect(bad({})).toThrow(/mobility\.movers: expected a list/);
    expect(bad([{ node: 1.5, stepM: 10 }])).toThrow(/mobility\.movers\[0\]\.node: expected a node index/);
    expect(bad([{ node: 1, stepM: -1 }])).toThrow(/mobility\.movers\[0\]\.stepM: must be/);
    expect(bad([{ node: 1, stepM: 10 }, { node: 1, stepM: 20 }])).toThrow(/listed twice/);
    expect(bad([{ node: 1, stepM: 10, speed: 3 }])).toThrow(/mobility\.movers\[0\]\.speed: unknown key/);
    expect(bad([{ node: 1, stepM: 10, gps: 'yes' }])).toThrow(/mobility\.movers\[0\]\.gps: expected true or false/);
  });

  describe('over the reference seeds', () => {
    let r: ReachabilityMeasurement;
    beforeAll(() => {
      r = measureMeshtasticatorReachability([...MESHTASTICATOR_REACHABILITY_PCT.seeds]);
    });

    it('gives the recorded figures for each seed (the simulator is deterministic)', () => {
      // Recorded from this simulator, not from Meshtasticator: re-record them deliberately when the model changes.
      expect(r.reachabilityPct).toEqual([71.82, 87.14, 71.3, 87.51, 55.79, 77.84, 87.53, 86.52, 80.98, 89.91]);
      expect(r.messages).toEqual([205, 184, 168, 185, 192, 194, 188, 197, 215, 218]);
      expect(r.transmissions).toEqual([1105, 872, 971, 1034, 855, 1257, 1072, 999, 1099, 1250]);
    });

    it('averages over the same seeds Meshtasticator reports, with the spread between meshes', () => {
      expect(r.seeds).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(r.meanReachabilityPct).toBeCloseTo(r.reachabilityPct.reduce((a, b) => a + b, 0) / 10, 1);
      expect(r.sdReachabilityPct).toBeGreaterThan(0);
      // 180 chatter messages are expected (10 nodes x 1800 s / 100 s), plus the position broadcasts.
      expect(r.meanMessages).toBeGreaterThan(180 - (3 * 15.1) / Math.sqrt(10));
    });
  });
});
