import { describe, expect, it } from 'vitest';
import { CodecError, ConfigError, JobSpecError } from '../src/errors.js';
import { type GemmSpec, outputBytes, selectTopK, validateJobSpec } from '../src/jobs/spec.js';
import { PRIORITY_CLASSES, PROFILE_NAMES, decodeMission, encodeMission, resolveConfig, resolveMission, workBatteryFloorPct, missionProfile } from '../src/index.js';

const gemv: GemmSpec = { kind: 'gemm', m: 1, k: 4, n: 5, aType: 'uint8', bType: 'int8', aZeroPoint: 0, bZeroPoint: 0, weights: 'inline' };

describe('mission profiles', () => {
  it('keeps a node on offer down to the lowest battery floor of its profile\'s classes, the node\'s own under default', () => {
    expect(workBatteryFloorPct('default', 20)).toBe(20);
    const sar = missionProfile('search-and-rescue').classes;
    expect(workBatteryFloorPct('search-and-rescue', 20)).toBe(sar.critical.minPeerBatteryPct);
    expect(workBatteryFloorPct('search-and-rescue', 20)).toBeLessThan(sar.routine.minPeerBatteryPct);
    expect(workBatteryFloorPct('environmental-monitoring', 5)).toBe(Math.min(...PRIORITY_CLASSES.map((c) => missionProfile('environmental-monitoring').classes[c].minPeerBatteryPct)));
  });

  it('derive a job\'s class from its kind by the profile, unless the submitter names one', () => {
    const batch: GemmSpec = { ...gemv, m: 8 };
    expect(resolveMission('search-and-rescue', gemv)).toEqual({ profile: 'search-and-rescue', priority: 'critical' });
    expect(resolveMission('search-and-rescue', batch).priority).toBe('routine');
    expect(resolveMission('environmental-monitoring', batch).priority).toBe('bulk');
    expect(resolveMission('default', gemv).priority).toBe('routine');
    expect(resolveMission('default', gemv, 'urgent').priority).toBe('urgent');
    expect(() => resolveMission('default', gemv, 'vip' as never)).toThrow(ConfigError);
    expect(() => resolveConfig({ profile: 'party' as never })).toThrow(ConfigError);
  });

  it('let only search-and-rescue\'s top class be relayed by a neighbour without the model', () => {
    const relayable = PROFILE_NAMES.flatMap((p) => PRIORITY_CLASSES.filter((c) => missionProfile(p).classes[c].relayable).map((c) => `${p}/${c}`));
    expect(relayable).toEqual(['search-and-rescue/critical']);
  });

  it('set the registry\'s airtime unless the node configures it', () => {
    expect(resolveConfig({ profile: 'search-and-rescue' }).discoveryHopLimit).toBe(0);
    expect(resolveConfig({ profile: 'environmental-monitoring' }).discoveryHopLimit).toBe(2);
    expect(resolveConfig({ profile: 'search-and-rescue', heartbeatIntervalMs: 5000 }).heartbeatIntervalMs).toBe(5000);
    expect(resolveConfig({}).discoveryHopLimit).toBeNull();
  });

  it('fit in one byte on the wire, and a byte with reserved bits is a typed error', () => {
    const seen = new Set<number>();
    for (const profile of PROFILE_NAMES) {
      for (const priority of PRIORITY_CLASSES) {
        const b = encodeMission({ profile, priority });
        expect(b).toBeLessThan(16);
        seen.add(b);
        expect(decodeMission(b)).toEqual({ profile, priority });
      }
    }
    expect(seen.size).toBe(PROFILE_NAMES.length * PRIORITY_CLASSES.length);
    expect(() => decodeMission(0x10)).toThrow(CodecError);
    expect(() => decodeMission(3 << 2)).toThrow(CodecError);
  });
});

describe('top-k results', () => {
  it('keep the k largest of each row with their columns, largest first, ties to the lower column', () => {
    const spec: GemmSpec = { ...gemv, m: 2, topK: 2 };
    const full = new Uint8Array(2 * 5 * 4);
    const v = new DataView(full.buffer);
    [3, -7, 9, 9, 1, -1, -2, -3, 0, -5].forEach((x, i) => v.setInt32(i * 4, x, true));
    const out = selectTopK(spec, full);
    expect(out.length).toBe(outputBytes(spec));
    const o = new DataView(out.buffer);
    const pairs = Array.from({ length: 4 }, (_, i) => [o.getUint16(i * 6, true), o.getInt32(i * 6 + 2, true)]);
    expect(pairs).toEqual([[2, 9], [3, 9], [3, 0], [0, -1]]);
  });

  it('are validated: k within 1..min(16, n)', () => {
    expect(() => validateJobSpec({ ...gemv, topK: 0 })).toThrow(JobSpecError);
    expect(() => validateJobSpec({ ...gemv, topK: 6 })).toThrow(JobSpecError);
    expect(() => validateJobSpec({ ...gemv, topK: 5 })).not.toThrow();
  });
});
