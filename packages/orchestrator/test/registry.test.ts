import { describe, expect, it } from 'vitest';
import type { CapabilityRecord } from '../src/registry/capability.js';
import { CapabilityRegistry } from '../src/registry/registry.js';
import { type AdvertisedState, LocalCapabilities, applyDelta, diffStates } from '../src/registry/state.js';
import { decodeMessage, encodeMessage, type MessageOf } from '../src/wire/messages.js';

const record: CapabilityRecord = {
  deviceClass: 'microcontroller',
  accelerators: [],
  precisions: ['int8'],
  onnxRuntime: false,
  kernelBuild: 'scalar',
  acceptsJobs: true,
  externalPower: false,
  portBlocked: false,
  links: { ble: true, wifi: false },
  modelFamilies: ['gemm', 'gemv'],
  freeRamKiB: 150,
  gops: 0.05,
  firmwareVersion: '2.6.11',
  modelId: 0,
  modelVersion: 0,
  computeDrainPctPerHour: 1.33,
  epoch: 0,
};
const state: AdvertisedState = { record, battery: 80, load: 0, channelUtil: 10, ttlS: 1920 };

function wire<T extends 'CAP_ADVERT' | 'STATE_DELTA'>(m: MessageOf<T>): MessageOf<T> {
  return decodeMessage(encodeMessage(m)) as MessageOf<T>;
}

describe('state deltas', () => {
  it('carry only the fields that changed, as peers see them', () => {
    expect(diffStates(state, { ...state })).toEqual({});
    expect(diffStates(state, { ...state, battery: 75, load: 2 })).toEqual({ battery: 75, load: 2 });
    // A change below the wire's resolution is not a change.
    expect(diffStates(state, { ...state, record: { ...record, freeRamKiB: 150.4 } })).toEqual({});
    const d = diffStates(state, { ...state, record: { ...record, acceptsJobs: false, modelId: 4, modelVersion: 2, deviceClass: 'sbc' } });
    expect(Object.keys(d).sort()).toEqual(['deviceClass', 'model', 'roles']);
    const applied = applyDelta(state, d, 7);
    expect(applied.record).toMatchObject({ acceptsJobs: false, modelId: 4, modelVersion: 2, deviceClass: 'sbc', epoch: 7 });
  });

  it('LocalCapabilities bumps the epoch on visible changes only and hands out deltas against what was sent', () => {
    const local = new LocalCapabilities(state);
    expect(local.nextDelta()).toBeNull();
    const advert = local.advert();
    expect(advert.record.epoch).toBe(0);
    expect(local.update({ battery: 80 })).toBe(false);
    expect(local.nextDelta()).toEqual({ type: 'STATE_DELTA', baseEpoch: 0, epoch: 0, values: {} });
    expect(local.update({ battery: 60 })).toBe(true);
    expect(local.update({ load: 1 })).toBe(true);
    expect(local.epoch).toBe(2);
    expect(local.nextDelta()).toEqual({ type: 'STATE_DELTA', baseEpoch: 0, epoch: 2, values: { battery: 60, load: 1 } });
    expect(local.nextDelta()).toEqual({ type: 'STATE_DELTA', baseEpoch: 2, epoch: 2, values: {} });
  });
});

describe('capability registry', () => {
  it('applies adverts and in-order deltas, and flags a missed delta while keeping its values', () => {
    const reg = new CapabilityRegistry();
    const local = new LocalCapabilities(state);
    reg.applyAdvert(5, wire(local.advert()), 0, { hops: 1 });
    local.update({ battery: 50 });
    expect(reg.applyDelta(5, wire(local.nextDelta() as MessageOf<'STATE_DELTA'>), 1000)).toBe('applied');
    expect(reg.get(5)?.state?.battery).toBe(50);
    expect(reg.applyDelta(5, wire(local.nextDelta() as MessageOf<'STATE_DELTA'>), 2000)).toBe('heartbeat');
    local.update({ load: 3 });
    local.nextDelta(); // lost on the air
    local.update({ battery: 40 });
    expect(reg.applyDelta(5, wire(local.nextDelta() as MessageOf<'STATE_DELTA'>), 3000)).toBe('gap');
    expect(reg.get(5)).toMatchObject({ needsAdvert: true, hops: 1 });
    expect(reg.get(5)?.state?.battery).toBe(40);
    reg.applyAdvert(5, wire(local.advert()), 4000);
    expect(reg.get(5)?.state).toMatchObject({ battery: 40, load: 3 });
    expect(reg.get(5)?.needsAdvert).toBe(false);
    expect(reg.applyDelta(6, { type: 'STATE_DELTA', baseEpoch: 0, epoch: 0, values: {} }, 0)).toBe('unknown-peer');
  });

  it('tracks freshness by TTL: fresh, stale, then forgotten', () => {
    const reg = new CapabilityRegistry({ expireAfterTtls: 3 });
    reg.applyAdvert(1, { type: 'CAP_ADVERT', record, battery: 90, ttlS: 100, load: 0, channelUtil: 0 }, 0);
    expect(reg.fresh(100_000).map((e) => e.num)).toEqual([1]);
    expect(reg.freshness(reg.get(1)!, 150_000)).toBe('stale');
    expect(reg.fresh(150_000)).toEqual([]);
    reg.heard(1, 200_000);
    expect(reg.fresh(200_000)).toHaveLength(1);
    expect(reg.get(1)?.dropouts).toBe(1); // silent past its TTL once
    expect(reg.prune(200_000 + 301_000)).toEqual([1]);
    expect(reg.get(1)).toBeUndefined();
  });

  it('an unreachable peer leaves planning until heard again, and failures lower its expected lifetime', () => {
    const reg = new CapabilityRegistry();
    reg.applyAdvert(2, { type: 'CAP_ADVERT', record, battery: 90, ttlS: 600, load: 0, channelUtil: 0 }, 0);
    const before = reg.mtbfMs(reg.get(2)!, 60_000);
    reg.markUnreachable(2, 60_000, 120_000);
    reg.recordLease(2, false);
    expect(reg.fresh(60_000)).toEqual([]);
    expect(reg.fresh(179_000)).toEqual([]);
    expect(reg.fresh(181_000).map((e) => e.num)).toEqual([2]);
    expect(reg.mtbfMs(reg.get(2)!, 60_000)).toBeLessThan(before / 2);
    reg.markUnreachable(2, 200_000, 120_000);
    reg.heard(2, 210_000);
    expect(reg.fresh(210_000).map((e) => e.num)).toEqual([2]);
  });
});
