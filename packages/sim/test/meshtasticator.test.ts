import { getModemPreset, timeOnAirMs } from '@compotastic/mesh';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtinScenario, MESHTASTICATOR_REACHABILITY_PCT, measureMeshtasticatorReachability, resolveScenario, type ReachabilityMeasurement } from '../src/index.js';
import { of, traced } from './helpers.js';

// The scenario expresses Meshtasticator's default configuration (lib/config.py): 10 connected nodes in 15 x 15 km,
// 3GPP suburban macro at 1 m, per-link offsets of sd 3 dB, LONG_FAST at 30 dBm, one want_ack broadcast per node every
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
    expect(sc.mobility).toMatchObject({ kind: 'jumps', fraction: 0.3, jumpStepsM: [96, 390, 1500], meanJumpIntervalS: 60, gpsFraction: 0.3, positionDistanceM: 100, positionMinIntervalS: 30 });
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

  describe('over the reference seeds', () => {
    let r: ReachabilityMeasurement;
    beforeAll(() => {
      r = measureMeshtasticatorReachability([...MESHTASTICATOR_REACHABILITY_PCT.seeds]);
    });

    it('gives the recorded figures for each seed (the simulator is deterministic)', () => {
      // Recorded from this simulator, not from Meshtasticator: re-record them deliberately when the model changes.
      expect(r.reachabilityPct).toEqual([90.18, 89.49, 78.99, 71.87, 73.05, 83.33, 81.42, 84.15, 65.3, 59.88]);
      expect(r.messages).toEqual([198, 166, 156, 175, 195, 180, 189, 190, 195, 221]);
      expect(r.transmissions).toEqual([1080, 819, 834, 937, 979, 1012, 1174, 1033, 828, 1106]);
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
