import { BATTERY_UNKNOWN, type DeltaValues, type MessageOf } from '../wire/messages.js';
import {
  type CapabilityRecord,
  DEVICE_CLASS_CODES,
  KERNEL_BUILD_CODES,
  MODEL_FAMILIES,
  accelByte,
  canonicalRecord,
  familiesMask,
  fromCode,
  packFirmwareVersion,
  roleByte,
  unpackFirmwareVersion,
} from './capability.js';

/** Everything a node advertises: the core record plus the fast-changing numbers that travel only on the mesh. */
export interface AdvertisedState {
  record: CapabilityRecord;
  /** 0..100, or 255 when unknown / no battery. */
  battery: number;
  /** Shards running or queued. */
  load: number;
  /** Channel utilization the node sees, percent. */
  channelUtil: number;
  /** How long peers should trust this without hearing from the node, s. */
  ttlS: number;
}

/**
 * The fields of `next` that differ from `prev` as peers would see them (after wire rounding). Empty when nothing
 * visible changed.
 */
export function diffStates(prev: AdvertisedState, next: AdvertisedState): DeltaValues {
  const a = canonicalRecord(prev.record);
  const b = canonicalRecord(next.record);
  const d: DeltaValues = {};
  if (prev.battery !== next.battery) d.battery = next.battery;
  if (a.freeRamKiB !== b.freeRamKiB) d.freeRamKiB = b.freeRamKiB;
  if (a.gops !== b.gops) d.gops = b.gops;
  if (prev.load !== next.load) d.load = next.load;
  if (prev.channelUtil !== next.channelUtil) d.channelUtil = next.channelUtil;
  if (accelByte(a) !== accelByte(b)) d.accel = accelByte(b);
  if (roleByte(a) !== roleByte(b)) d.roles = roleByte(b);
  if (familiesMask(a.modelFamilies) !== familiesMask(b.modelFamilies)) d.modelFamilies = familiesMask(b.modelFamilies);
  if (a.modelId !== b.modelId || a.modelVersion !== b.modelVersion) d.model = { id: b.modelId, version: b.modelVersion };
  if (a.firmwareVersion !== b.firmwareVersion) d.firmware = packFirmwareVersion(b.firmwareVersion);
  if (a.computeDrainPctPerHour !== b.computeDrainPctPerHour) d.computeDrain = b.computeDrainPctPerHour;
  if (prev.ttlS !== next.ttlS) d.ttlS = next.ttlS;
  if (a.deviceClass !== b.deviceClass) d.deviceClass = DEVICE_CLASS_CODES.indexOf(b.deviceClass);
  return d;
}

/** Apply a delta's values to a state, returning the new state (the input is not modified). */
export function applyDelta(state: AdvertisedState, v: DeltaValues, epoch: number): AdvertisedState {
  const r: CapabilityRecord = { ...state.record, epoch };
  if (v.freeRamKiB !== undefined) r.freeRamKiB = v.freeRamKiB;
  if (v.gops !== undefined) r.gops = v.gops;
  if (v.accel !== undefined) {
    r.accelerators = [...(v.accel & 1 ? ['gpu' as const] : []), ...(v.accel & 2 ? ['npu' as const] : [])];
    r.precisions = [...(v.accel & 4 ? ['int8' as const] : []), ...(v.accel & 8 ? ['fp16' as const] : []), ...(v.accel & 16 ? ['fp32' as const] : [])];
    r.onnxRuntime = (v.accel & 32) !== 0;
  }
  if (v.roles !== undefined) {
    r.kernelBuild = KERNEL_BUILD_CODES[v.roles & 3] ?? 'none';
    r.acceptsJobs = (v.roles & 4) !== 0;
    r.externalPower = (v.roles & 8) !== 0;
    r.portBlocked = (v.roles & 64) !== 0;
    r.links = { ble: (v.roles & 16) !== 0, wifi: (v.roles & 32) !== 0 };
  }
  if (v.modelFamilies !== undefined) r.modelFamilies = MODEL_FAMILIES.filter((_, i) => (v.modelFamilies as number) & (1 << i));
  if (v.model !== undefined) {
    r.modelId = v.model.id;
    r.modelVersion = v.model.version;
  }
  if (v.firmware !== undefined) r.firmwareVersion = unpackFirmwareVersion(v.firmware);
  if (v.computeDrain !== undefined) r.computeDrainPctPerHour = v.computeDrain;
  if (v.deviceClass !== undefined) r.deviceClass = fromCode(DEVICE_CLASS_CODES, v.deviceClass, 'device class');
  return {
    record: r,
    battery: v.battery ?? state.battery,
    load: v.load ?? state.load,
    channelUtil: v.channelUtil ?? state.channelUtil,
    ttlS: v.ttlS ?? state.ttlS,
  };
}

export function advertMessage(s: AdvertisedState): MessageOf<'CAP_ADVERT'> {
  return { type: 'CAP_ADVERT', record: s.record, battery: s.battery, ttlS: s.ttlS, load: s.load, channelUtil: s.channelUtil };
}

export function stateFromAdvert(m: MessageOf<'CAP_ADVERT'>): AdvertisedState {
  return { record: m.record, battery: m.battery, load: m.load, channelUtil: m.channelUtil, ttlS: m.ttlS };
}

/** Battery as a fraction for the planner: unknown counts as full only on external power. */
export function batteryPct(s: AdvertisedState): number | null {
  return s.battery === BATTERY_UNKNOWN ? null : s.battery;
}

/**
 * This node's own advertised state. Changes bump the epoch; `nextDelta` hands out what changed since the last
 * advert or delta, so only changed fields travel.
 */
export class LocalCapabilities {
  private current: AdvertisedState;
  private lastSent: AdvertisedState | null = null;

  constructor(initial: AdvertisedState) {
    this.current = { ...initial, record: canonicalRecord(initial.record) };
  }

  get state(): AdvertisedState {
    return this.current;
  }

  get epoch(): number {
    return this.current.record.epoch;
  }

  /** Change some fields; the epoch moves on only when a visible value changed. */
  update(change: Partial<Omit<AdvertisedState, 'record'>> & { record?: Partial<CapabilityRecord> }): boolean {
    const next: AdvertisedState = {
      ...this.current,
      ...change,
      record: canonicalRecord({ ...this.current.record, ...(change.record ?? {}), epoch: this.current.record.epoch }),
    };
    const delta = diffStates(this.current, next);
    if (Object.keys(delta).length === 0) return false;
    next.record.epoch = (this.current.record.epoch + 1) & 0xffff;
    this.current = next;
    return true;
  }

  /** A full advert; afterwards deltas are relative to it. */
  advert(): MessageOf<'CAP_ADVERT'> {
    this.lastSent = this.current;
    return advertMessage(this.current);
  }

  /** A delta against what was last sent (a bare heartbeat when nothing changed), or null before the first advert. */
  nextDelta(): MessageOf<'STATE_DELTA'> | null {
    if (!this.lastSent) return null;
    const values = diffStates(this.lastSent, this.current);
    const msg: MessageOf<'STATE_DELTA'> = { type: 'STATE_DELTA', baseEpoch: this.lastSent.record.epoch, epoch: this.current.record.epoch, values };
    this.lastSent = this.current;
    return msg;
  }
}
