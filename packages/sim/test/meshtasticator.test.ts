import { getModemPreset, timeOnAirMs } from '@compotastic/mesh';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtinScenario, MESHTASTICATOR_REACHABILITY_PCT, measureMeshtasticatorReachability, resolveScenario, type ReachabilityMeasurement } from '../src/index.js';
import { of, traced } from './helpers.js';

// The scenario expresses Meshtasticator's default configuration (lib/config.py): 10 connected nodes in 15 x 15 km,
// 3GPP suburban macro at 1 m, per-link offsets of sd 3 dB, LONG_FAST at 30 dBm, one want_ack broadcast per node every
// 100 s (exponential) with 40 payload bytes (56 B on air), a 10% chance that CAD finds outside interference, capture
// by 6 dB at any time, 30 minutes. Its moving nodes are not modelled, so the reference is its movement-off mean.
// How the figures compare with Meshtasticator's (equal seeds, 1-10) is a bench figure, not a test: see `pnpm bench`.

describe("Meshtasticator's default scenario", () => {
  it('expresses its configuration', () => {
    const sc = resolveScenario(builtinScenario('meshtasticator-default'));
    expect(sc.pathLoss).toMatchObject({ model: '3gpp-suburban-macro', sigmaDb: 3 });
    expect(sc.traffic[0]).toMatchObject({ kind: 'broadcast', periodS: 100, distribution: 'exponential', wantAck: true });
    expect(sc.captureRule).toBe('anytime');
    expect(sc.interference.cadBusyProbability).toBeCloseTo(0.1, 10);
    expect(sc.firmware.nodeInfoBroadcastS).toBe(0);
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

  describe('over the reference seeds', () => {
    let r: ReachabilityMeasurement;
    beforeAll(() => {
      r = measureMeshtasticatorReachability([...MESHTASTICATOR_REACHABILITY_PCT.seeds]);
    });

    it('gives the recorded figures for each seed (the simulator is deterministic)', () => {
      // Recorded from this simulator, not from Meshtasticator: re-record them deliberately when the model changes.
      expect(r.reachabilityPct).toEqual([92.42, 91.93, 71.44, 76.71, 87.05, 97.41, 96.25, 85.67, 82.22, 84.61]);
      expect(r.messages).toEqual([192, 161, 156, 166, 181, 180, 172, 183, 195, 205]);
      expect(r.transmissions).toEqual([1071, 821, 633, 969, 1065, 963, 964, 976, 802, 1369]);
    });

    it('averages over the same seeds Meshtasticator reports, with the spread between meshes', () => {
      expect(r.seeds).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(r.meanReachabilityPct).toBeCloseTo(r.reachabilityPct.reduce((a, b) => a + b, 0) / 10, 1);
      expect(r.sdReachabilityPct).toBeGreaterThan(0);
      // 180 messages are expected: 10 nodes x 1800 s / 100 s.
      expect(Math.abs(r.meanMessages - 180)).toBeLessThan((3 * 15.1) / Math.sqrt(10));
    });
  });
});
