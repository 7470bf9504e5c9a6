import { DEFAULT_HOP_LIMIT, MAX_HOP_LIMIT, defaultFrequencyMHz, getModemPreset, getRegion, isModemPresetName, type ModemPresetName } from '@compotastic/mesh';
import { SimError } from './errors.js';
import { checkScenarioKeys } from './scenario-keys.js';
import { LOG_DISTANCE_DEFAULTS, PATH_LOSS_MODELS, URBAN_DEFAULTS, type PathLossModelName, type PathLossParams } from './radio/propagation.js';
import { DEVICE_CLASSES, type DeviceClass } from './world/devices.js';

export type Role = 'CLIENT' | 'CLIENT_MUTE' | 'ROUTER';
export const ROLES: readonly Role[] = ['CLIENT', 'CLIENT_MUTE', 'ROUTER'];
export type RebroadcastMode = 'ALL' | 'CORE_PORTNUMS_ONLY' | 'NONE' | 'LOCAL_ONLY' | 'KNOWN_ONLY';
export const REBROADCAST_MODES: readonly RebroadcastMode[] = ['ALL', 'CORE_PORTNUMS_ONLY', 'NONE', 'LOCAL_ONLY', 'KNOWN_ONLY'];

/** A point of a path (m); the optional third value is how long to stop there (s). */
export type Waypoint = [x: number, y: number, dwellS?: number];

export interface BatteryConfig {
  enabled: boolean;
  /** Capacity, mAh (default: the device class's). */
  capacityMah?: number;
  /** Charge at start, percent; a [min, max] pair draws uniformly per node. */
  initialPct: number | [number, number];
  /** Radio listening draw added to the device's idle draw, mA. */
  rxMa: number;
  /** Levels that emit battery events, percent. */
  lowPct: number;
  criticalPct: number;
}

export interface AvailabilityConfig {
  /** Unplanned drop-outs per node per hour (0 = none). */
  churnPerHour: number;
  /** Mean time a dropped node stays down, s. */
  meanDownS: number;
  /** Fraction of nodes subject to churn. */
  fraction: number;
}

/** One roaming node of `mobility.movers`. */
export interface MoverSpec {
  node: number;
  stepM: number;
  gps: boolean;
}

export interface MobilityConfig {
  /**
   * How roaming nodes move: `random-waypoint` (walk to a random point at speedMps, pause, repeat), or `jumps`
   * (Meshtasticator's model: every exponential(meanJumpIntervalS) a jump of up to the node's step in a random direction,
   * the step drawn per node from jumpStepsM, clamped to the area).
   */
  kind: 'random-waypoint' | 'jumps';
  /** Fraction of generated nodes that roam. */
  fraction: number;
  speedMps: number;
  pauseS: number;
  /** Position update interval, s. */
  stepS: number;
  /** `jumps`: the per-node step choices (m per jump) and the mean time between jumps. */
  jumpStepsM: number[];
  meanJumpIntervalS: number;
  /**
   * Share of roaming nodes with GPS that broadcast their position (want_ack, positionPayloadBytes on POSITION_APP) once
   * they are positionDistanceM from the last broadcast and positionMinIntervalS after it, below 25% channel utilization
   * (the firmware's smart position broadcast, as Meshtasticator models it). 0 = none.
   */
  gpsFraction: number;
  /**
   * `jumps`: the roaming nodes named one by one (index among the generated nodes, its step in m, whether it has GPS),
   * instead of drawing them with fraction, jumpStepsM and gpsFraction. Meshtasticator draws them from a generator
   * seeded with the node's index, not the run's seed, so the same nodes roam at the same steps in every run.
   */
  movers: MoverSpec[] | null;
  positionDistanceM: number;
  positionMinIntervalS: number;
  positionPayloadBytes: number;
}

export interface NodeSpec {
  name?: string;
  x: number;
  y: number;
  /** Antenna height above ground, m. */
  z?: number;
  role?: Role;
  rebroadcastMode?: RebroadcastMode;
  deviceClass?: DeviceClass;
  txPowerDbm?: number;
  antennaGainDbi?: number;
  extraLossDb?: number;
  hopLimit?: number;
  batteryMah?: number;
  batteryPct?: number;
  /** Follows this path (m), then stops. */
  path?: Waypoint[];
  speedMps?: number;
  /** Starts powered off. */
  down?: boolean;
  /** Generates scenario traffic (default true). */
  traffic?: boolean;
}

export interface PlacementConfig {
  /**
   * `connected`: uniform, each node within mean range of one placed before (Meshtasticator's rule); `meshtasticator`:
   * the same rule on the candidates Meshtasticator draws for the run's seed, so both simulators place the same mesh.
   */
  kind: 'uniform' | 'connected' | 'meshtasticator' | 'grid' | 'line' | 'clusters';
  minDistM: number;
  spacingM?: number;
  clusters?: number;
  clusterRadiusM?: number;
}

export interface TrafficConfig {
  kind: 'broadcast' | 'direct';
  /** Mean (exponential) or exact (fixed) interval between messages per sender, s. */
  periodS: number;
  distribution: 'exponential' | 'fixed';
  payloadBytes: number;
  portnum: number;
  wantAck: boolean;
  hopLimit?: number;
  startS: number;
  /** Skip a message when channel utilization is 25% or more, as the firmware's telemetry and position senders do. */
  polite: boolean;
  /** Which nodes send: all, nodes of some roles, or node indices. */
  senders: 'all' | Role[] | number[];
}

export type ScenarioEvent =
  | { atS: number; kind: 'node_down'; node: number | string; reason?: string }
  | { atS: number; kind: 'node_up'; node: number | string }
  | { atS: number; kind: 'battery_fail'; node: number | string }
  | { atS: number; kind: 'pass_through'; name?: string; deviceClass?: DeviceClass; role?: Role; path: Waypoint[]; speedMps: number; txPowerDbm?: number }
  | { atS: number; kind: 'app'; type: string; data?: unknown };

/** device.node_info_broadcast_secs' firmware default: a node announces itself every 3 hours. */
export const FIRMWARE_NODEINFO_BROADCAST_S = 10_800;

export interface ScenarioConfig {
  name: string;
  description?: string;
  seed?: number;
  /** Seconds, or a string like "30m", "1h", "90s". */
  duration: number | string;
  preset?: ModemPresetName;
  region?: string;
  hopLimit?: number;
  channelName?: string;
  area?: { widthM: number; heightM: number };
  origin?: { lat: number; lon: number };
  /**
   * Unix time (s) the simulation starts at, for rx_time, last_heard and position stamps: the wall clock when the
   * scenario is resolved, unless pinned (pin it wherever output must repeat byte for byte).
   */
  startEpochS?: number;
  nodes: {
    count?: number;
    placement?: Partial<PlacementConfig>;
    roles?: Partial<Record<Role, number>>;
    deviceClasses?: Partial<Record<DeviceClass, number>>;
    txPowerDbm?: number;
    antennaGainDbi?: number;
    heightM?: number;
    list?: NodeSpec[];
  };
  pathLoss?: Partial<PathLossParams> & { model?: PathLossModelName };
  extraLossDb?: number;
  noiseFigureDb?: number;
  /**
   * Receiver sensitivity with the scenario's preset, dBm: by default the noise floor plus the preset's SNR limit.
   * Meshtasticator takes it from a fixed table instead (lib/config.py MODEM_PRESETS, e.g. -131.5 for LONG_FAST).
   * CAD hears 3 dB below it.
   */
  sensitivityDbm?: number;
  /** The radio reports SNR no higher than this (SX126x saturates), dB. */
  snrCeilingDb?: number;
  captureThresholdDb?: number;
  /**
   * When a frame `captureThresholdDb` stronger takes the receiver over: during the locked frame's preamble only (the
   * radio's behaviour, default), or at any point of the reception (Meshtasticator's rule).
   */
  captureRule?: 'preamble' | 'anytime';
  /** Traffic outside the mesh on the channel: the chance that a channel activity check finds it busy (0). */
  interference?: { cadBusyProbability?: number };
  latency?: { processingMs?: number; clientMs?: number };
  availability?: Partial<AvailabilityConfig>;
  battery?: Partial<BatteryConfig>;
  mobility?: Partial<MobilityConfig>;
  ble?: { rangeM?: number; connectMs?: number; readMs?: number };
  traffic?: Array<Partial<TrafficConfig> & { kind: TrafficConfig['kind']; periodS: number }>;
  events?: ScenarioEvent[];
  firmware?: { corePortnumsPolicy?: '2.6-blacklist' | '2.7-whitelist'; overrideDutyCycle?: boolean; txQueueLength?: number; historySize?: number; nodeDbSize?: number; telemetryToPhoneS?: number; nodeInfoBroadcastS?: number; positionBroadcastS?: number; telemetryBroadcastS?: number };
  /** Application data (jobs, workloads...), carried through untouched. */
  app?: unknown;
}

export interface ResolvedScenario {
  name: string;
  description: string;
  seed: number;
  durationMs: number;
  preset: ModemPresetName;
  region: string;
  hopLimit: number;
  channelName: string;
  frequencyMHz: number;
  area: { widthM: number; heightM: number };
  origin: { lat: number; lon: number };
  startEpochS: number;
  nodes: {
    count: number;
    placement: PlacementConfig;
    roles: Record<Role, number>;
    deviceClasses: Record<DeviceClass, number>;
    txPowerDbm: number;
    antennaGainDbi: number;
    heightM: number;
    list: NodeSpec[];
  };
  pathLoss: PathLossParams;
  extraLossDb: number;
  noiseFigureDb: number;
  /** null: derived from the noise floor. */
  sensitivityDbm: number | null;
  snrCeilingDb: number;
  captureThresholdDb: number;
  captureRule: 'preamble' | 'anytime';
  interference: { cadBusyProbability: number };
  latency: { processingMs: number; clientMs: number };
  availability: AvailabilityConfig;
  battery: BatteryConfig;
  mobility: MobilityConfig;
  ble: { rangeM: number; connectMs: number; readMs: number };
  traffic: TrafficConfig[];
  events: ScenarioEvent[];
  firmware: { corePortnumsPolicy: '2.6-blacklist' | '2.7-whitelist'; overrideDutyCycle: boolean; txQueueLength: number; historySize: number; nodeDbSize: number; telemetryToPhoneS: number; nodeInfoBroadcastS: number; positionBroadcastS: number; telemetryBroadcastS: number };
  app: unknown;
}

function fail(path: string, message: string): never {
  throw new SimError('INVALID_SCENARIO', `${path}: ${message}`);
}

function num(path: string, value: unknown, fallback: number, min = -Infinity, max = Infinity): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, `expected a number, got ${JSON.stringify(value)}`);
  if (value < min || value > max) fail(path, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function required(path: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (value === undefined || value === null) fail(path, 'is required');
  return num(path, value, 0, min, max);
}

function int(path: string, value: unknown, fallback: number, min = -Infinity, max = Infinity): number {
  const v = num(path, value, fallback, min, max);
  if (!Number.isInteger(v)) fail(path, `expected an integer, got ${v}`);
  return v;
}

function oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(path, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** Parse "90", "90s", "30m", "1.5h", "2d" or a number of seconds into milliseconds. */
export function parseDurationMs(value: number | string, path = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) fail(path, `must be a positive number of seconds, got ${value}`);
    return value * 1000;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(String(value));
  if (!m) fail(path, `cannot parse duration ${JSON.stringify(value)} (use e.g. 90s, 30m, 1h)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit] as number;
  const ms = n * factor;
  if (!(ms > 0)) fail(path, 'must be positive');
  return ms;
}

function fractions<K extends string>(path: string, value: Partial<Record<K, number>> | undefined, keys: readonly K[], fallback: K): Record<K, number> {
  const out = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  if (!value || Object.keys(value).length === 0) {
    out[fallback] = 1;
    return out;
  }
  if (typeof value !== 'object') fail(path, 'expected an object of fractions');
  let total = 0;
  for (const [k, v] of Object.entries(value)) {
    if (!(keys as readonly string[]).includes(k)) fail(`${path}.${k}`, `unknown key (expected ${keys.join(', ')})`);
    out[k as K] = num(`${path}.${k}`, v, 0, 0);
    total += out[k as K];
  }
  if (total <= 0) fail(path, 'fractions must add up to more than 0');
  for (const k of keys) out[k] /= total;
  return out;
}

function waypoints(path: string, value: unknown): Waypoint[] {
  if (!Array.isArray(value) || value.length < 1) fail(path, 'expected a list of [x, y] or [x, y, dwellS] points');
  return value.map((p, i) => {
    if (!Array.isArray(p) || p.length < 2 || p.length > 3) fail(`${path}[${i}]`, 'expected [x, y] or [x, y, dwellS]');
    const point: Waypoint = [num(`${path}[${i}][0]`, p[0], 0), num(`${path}[${i}][1]`, p[1], 0)];
    if (p.length === 3) point.push(num(`${path}[${i}][2]`, p[2], 0, 0, 86_400));
    return point;
  });
}

/** The most nodes a scenario may have (ten times the largest the benches run). */
export const MAX_NODES = 100_000;
/** The longest simulated time a scenario may ask for. */
export const MAX_DURATION_MS = 366 * 86_400_000;

/**
 * Validate a scenario and fill in every default. Throws SimError INVALID_SCENARIO naming the bad field: an unknown key
 * (with the nearest valid name), a value of the wrong type or out of its range, a missing `duration`.
 */
export function resolveScenario(input: ScenarioConfig): ResolvedScenario {
  if (!input || typeof input !== 'object' || Array.isArray(input)) fail('scenario', `expected an object, got ${Array.isArray(input) ? 'a list' : JSON.stringify(input)}`);
  checkScenarioKeys(input);
  if (input.duration === undefined || input.duration === null) fail('duration', 'is required (seconds, or e.g. "90s", "30m", "1h")');
  const durationMs = parseDurationMs(input.duration);
  if (durationMs > MAX_DURATION_MS) fail('duration', `must be at most ${MAX_DURATION_MS / 86_400_000} days, got ${input.duration}`);
  const presetName = input.preset ?? 'LONG_FAST';
  if (!isModemPresetName(presetName)) fail('preset', `unknown modem preset ${JSON.stringify(presetName)}`);
  const preset = getModemPreset(presetName);
  const regionName = input.region ?? 'US';
  let region;
  try {
    region = getRegion(regionName);
  } catch (e) {
    fail('region', (e as Error).message);
  }
  const channelName = typeof input.channelName === 'string' && input.channelName ? input.channelName : preset.displayName;
  const frequencyMHz = defaultFrequencyMHz(region, preset, channelName);
  const nodesIn = input.nodes ?? {};
  if (nodesIn.list !== undefined && !Array.isArray(nodesIn.list)) fail('nodes.list', 'expected a list of nodes');
  if ((nodesIn.list ?? []).length > MAX_NODES) fail('nodes.list', `must have at most ${MAX_NODES} nodes`);
  const list = (nodesIn.list ?? []).map((n, i) => resolveNodeSpec(`nodes.list[${i}]`, n));
  const count = int('nodes.count', nodesIn.count, list.length > 0 ? 0 : 10, 0, MAX_NODES - list.length);
  if (count + list.length < 1) fail('nodes', 'a scenario needs at least one node');
  const area = {
    widthM: num('area.widthM', input.area?.widthM, 5000, 1),
    heightM: num('area.heightM', input.area?.heightM, 5000, 1),
  };
  const placementIn = nodesIn.placement ?? {};
  const placement: PlacementConfig = {
    kind: oneOf('nodes.placement.kind', placementIn.kind, ['uniform', 'connected', 'meshtasticator', 'grid', 'line', 'clusters'] as const, 'uniform'),
    minDistM: num('nodes.placement.minDistM', placementIn.minDistM, 0, 0),
    spacingM: placementIn.spacingM === undefined ? undefined : num('nodes.placement.spacingM', placementIn.spacingM, 0, 0.01),
    clusters: placementIn.clusters === undefined ? undefined : int('nodes.placement.clusters', placementIn.clusters, 1, 1, MAX_NODES),
    clusterRadiusM: placementIn.clusterRadiusM === undefined ? undefined : num('nodes.placement.clusterRadiusM', placementIn.clusterRadiusM, 100, 0),
  };
  const model = oneOf('pathLoss.model', input.pathLoss?.model, PATH_LOSS_MODELS, 'log-distance');
  const base = model === 'urban' ? URBAN_DEFAULTS : LOG_DISTANCE_DEFAULTS;
  const pl = input.pathLoss ?? {};
  const pathLoss: PathLossParams = {
    model,
    d0M: num('pathLoss.d0M', pl.d0M, base.d0M, 1e-6),
    gamma: num('pathLoss.gamma', pl.gamma, base.gamma, 0.1, 10),
    pl0Db: num('pathLoss.pl0Db', pl.pl0Db, base.pl0Db),
    sigmaDb: num('pathLoss.sigmaDb', pl.sigmaDb, model.startsWith('3gpp') || model === 'free-space' ? 0 : base.sigmaDb, 0, 30),
    linkOffsets: oneOf('pathLoss.linkOffsets', pl.linkOffsets, ['hashed', 'meshtasticator'] as const, 'hashed'),
    fastFadingSigmaDb: num('pathLoss.fastFadingSigmaDb', pl.fastFadingSigmaDb, 0, 0, 30),
    frequencyMHz: num('pathLoss.frequencyMHz', pl.frequencyMHz, frequencyMHz, 1),
  };
  const regionPower = region.powerLimitDbm > 0 ? region.powerLimitDbm : 30;
  const batteryIn = input.battery ?? {};
  const initialPct = batteryIn.initialPct;
  let resolvedInitial: number | [number, number] = 100;
  if (Array.isArray(initialPct)) {
    resolvedInitial = [num('battery.initialPct[0]', initialPct[0], 100, 0, 100), num('battery.initialPct[1]', initialPct[1], 100, 0, 100)];
  } else if (initialPct !== undefined) resolvedInitial = num('battery.initialPct', initialPct, 100, 0, 100);
  if (input.traffic !== undefined && !Array.isArray(input.traffic)) fail('traffic', 'expected a list of traffic streams');
  if (input.events !== undefined && !Array.isArray(input.events)) fail('events', 'expected a list of events');
  if (input.mobility?.jumpStepsM !== undefined && !Array.isArray(input.mobility.jumpStepsM)) fail('mobility.jumpStepsM', 'expected a list of steps (m)');
  const traffic = (input.traffic ?? []).map((t, i) => resolveTraffic(`traffic[${i}]`, t));
  const events = (input.events ?? []).map((e, i) => resolveEvent(`events[${i}]`, e));
  const fw = input.firmware ?? {};
  return {
    name: typeof input.name === 'string' && input.name ? input.name : 'unnamed',
    description: typeof input.description === 'string' ? input.description : '',
    seed: int('seed', input.seed, 1, 0, 0xffffffff),
    durationMs,
    preset: presetName,
    region: region.name,
    hopLimit: int('hopLimit', input.hopLimit, DEFAULT_HOP_LIMIT, 0, MAX_HOP_LIMIT),
    channelName,
    frequencyMHz,
    area,
    origin: { lat: num('origin.lat', input.origin?.lat, 0, -90, 90), lon: num('origin.lon', input.origin?.lon, 0, -180, 180) },
    startEpochS: int('startEpochS', input.startEpochS, Math.floor(Date.now() / 1000), 0),
    nodes: {
      count,
      placement,
      roles: fractions('nodes.roles', nodesIn.roles, ROLES, 'CLIENT'),
      deviceClasses: fractions('nodes.deviceClasses', nodesIn.deviceClasses, DEVICE_CLASSES, 'microcontroller'),
      txPowerDbm: num('nodes.txPowerDbm', nodesIn.txPowerDbm, regionPower, -10, 40),
      antennaGainDbi: num('nodes.antennaGainDbi', nodesIn.antennaGainDbi, 0, -20, 20),
      heightM: num('nodes.heightM', nodesIn.heightM, 1, 0.01, 1000),
      list,
    },
    pathLoss,
    extraLossDb: num('extraLossDb', input.extraLossDb, 0, 0, 200),
    noiseFigureDb: num('noiseFigureDb', input.noiseFigureDb, 6, 0, 30),
    sensitivityDbm: input.sensitivityDbm === undefined || input.sensitivityDbm === null ? null : num('sensitivityDbm', input.sensitivityDbm, 0, -160, -60),
    snrCeilingDb: num('snrCeilingDb', input.snrCeilingDb, 12, -20, 40),
    captureThresholdDb: num('captureThresholdDb', input.captureThresholdDb, 6, 0, 30),
    captureRule: oneOf('captureRule', input.captureRule, ['preamble', 'anytime'] as const, 'preamble'),
    interference: { cadBusyProbability: num('interference.cadBusyProbability', input.interference?.cadBusyProbability, 0, 0, 1) },
    latency: {
      processingMs: num('latency.processingMs', input.latency?.processingMs, 0, 0, 60_000),
      clientMs: num('latency.clientMs', input.latency?.clientMs, 5, 0, 60_000),
    },
    availability: {
      churnPerHour: num('availability.churnPerHour', input.availability?.churnPerHour, 0, 0, 3600),
      meanDownS: num('availability.meanDownS', input.availability?.meanDownS, 300, 0),
      fraction: num('availability.fraction', input.availability?.fraction, 1, 0, 1),
    },
    battery: {
      enabled: batteryIn.enabled ?? false,
      capacityMah: batteryIn.capacityMah === undefined ? undefined : num('battery.capacityMah', batteryIn.capacityMah, 3000, 0.001),
      initialPct: resolvedInitial,
      rxMa: num('battery.rxMa', batteryIn.rxMa, 6, 0),
      lowPct: num('battery.lowPct', batteryIn.lowPct, 20, 0, 100),
      criticalPct: num('battery.criticalPct', batteryIn.criticalPct, 5, 0, 100),
    },
    mobility: {
      kind: oneOf('mobility.kind', input.mobility?.kind, ['random-waypoint', 'jumps'] as const, 'random-waypoint'),
      jumpStepsM: (input.mobility?.jumpStepsM ?? [96, 390, 1500]).map((v, i) => num(`mobility.jumpStepsM[${i}]`, v, 0, 0)),
      meanJumpIntervalS: num('mobility.meanJumpIntervalS', input.mobility?.meanJumpIntervalS, 60, 0.1),
      gpsFraction: num('mobility.gpsFraction', input.mobility?.gpsFraction, 0, 0, 1),
      movers: resolveMovers(input.mobility?.movers),
      positionDistanceM: num('mobility.positionDistanceM', input.mobility?.positionDistanceM, 100, 0),
      positionMinIntervalS: num('mobility.positionMinIntervalS', input.mobility?.positionMinIntervalS, 30, 0),
      positionPayloadBytes: int('mobility.positionPayloadBytes', input.mobility?.positionPayloadBytes, 40, 0, 233),
      fraction: num('mobility.fraction', input.mobility?.fraction, 0, 0, 1),
      speedMps: num('mobility.speedMps', input.mobility?.speedMps, 1.4, 0),
      pauseS: num('mobility.pauseS', input.mobility?.pauseS, 60, 0),
      stepS: num('mobility.stepS', input.mobility?.stepS, 10, 0.1),
    },
    ble: {
      rangeM: num('ble.rangeM', input.ble?.rangeM, 30, 0),
      connectMs: num('ble.connectMs', input.ble?.connectMs, 120, 0),
      readMs: num('ble.readMs', input.ble?.readMs, 30, 0),
    },
    traffic,
    events,
    firmware: {
      corePortnumsPolicy: oneOf('firmware.corePortnumsPolicy', fw.corePortnumsPolicy, ['2.6-blacklist', '2.7-whitelist'] as const, '2.6-blacklist'),
      overrideDutyCycle: fw.overrideDutyCycle ?? false,
      txQueueLength: int('firmware.txQueueLength', fw.txQueueLength, 16, 1, 1024),
      historySize: int("firmware.historySize", fw.historySize, 300, 1, 100_000),
      nodeDbSize: int('firmware.nodeDbSize', fw.nodeDbSize, 100, 1, 100_000),
      telemetryToPhoneS: int('firmware.telemetryToPhoneS', fw.telemetryToPhoneS, 60, 0, 86_400),
      // device.node_info_broadcast_secs: the firmware's default, 10800, unless set; 0 switches the announcements off
      // (Meshtasticator has none, so its scenario does).
      nodeInfoBroadcastS: fw.nodeInfoBroadcastS === 0 ? 0 : int('firmware.nodeInfoBroadcastS', fw.nodeInfoBroadcastS, FIRMWARE_NODEINFO_BROADCAST_S, 60, 365 * 86_400),
      // position.position_broadcast_secs and telemetry.device_update_interval for non-routers (routers 43200); a
      // client's setConfig / setModuleConfig overrides them per node; 0 switches them off. Device telemetry follows the
      // firmware's default, 3600. Position is off unless set (the firmware's default is 900): PositionModule sends only
      // a valid position, and a node without GPS or a fixed position (meshtasticd, most simulated nodes) has none.
      positionBroadcastS: fw.positionBroadcastS === undefined || fw.positionBroadcastS === 0 ? 0 : int('firmware.positionBroadcastS', fw.positionBroadcastS, 900, 30, 365 * 86_400),
      telemetryBroadcastS: fw.telemetryBroadcastS === 0 ? 0 : int('firmware.telemetryBroadcastS', fw.telemetryBroadcastS, 3600, 30, 365 * 86_400),
    },
    app: input.app,
  };
}

function resolveMovers(value: unknown): MoverSpec[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) fail('mobility.movers', 'expected a list of { node, stepM, gps }');
  const seen = new Set<number>();
  return value.map((m, i) => {
    const path = `mobility.movers[${i}]`;
    if (!m || typeof m !== 'object' || Array.isArray(m)) fail(path, `expected { node, stepM, gps }, got ${JSON.stringify(m)}`);
    const spec = m as Record<string, unknown>;
    for (const key of Object.keys(spec)) if (!['node', 'stepM', 'gps'].includes(key)) fail(`${path}.${key}`, 'unknown key (a mover has node, stepM, gps)');
    const node = required(`${path}.node`, spec.node, 0, MAX_NODES - 1);
    if (!Number.isInteger(node)) fail(`${path}.node`, `expected a node index, got ${node}`);
    if (seen.has(node)) fail(`${path}.node`, `node ${node} is listed twice`);
    seen.add(node);
    if (spec.gps !== undefined && typeof spec.gps !== 'boolean') fail(`${path}.gps`, `expected true or false, got ${JSON.stringify(spec.gps)}`);
    return { node, stepM: required(`${path}.stepM`, spec.stepM, 0, 100_000), gps: spec.gps === true };
  });
}

function resolveNodeSpec(path: string, n: NodeSpec): NodeSpec {
  if (!n || typeof n !== 'object') fail(path, 'expected an object');
  const out: NodeSpec = { ...n, x: num(`${path}.x`, n.x, NaN), y: num(`${path}.y`, n.y, NaN) };
  if (Number.isNaN(out.x) || Number.isNaN(out.y)) fail(path, 'x and y are required');
  if (n.role !== undefined) out.role = oneOf(`${path}.role`, n.role, ROLES, 'CLIENT');
  if (n.rebroadcastMode !== undefined) out.rebroadcastMode = oneOf(`${path}.rebroadcastMode`, n.rebroadcastMode, REBROADCAST_MODES, 'ALL');
  if (n.deviceClass !== undefined) out.deviceClass = oneOf(`${path}.deviceClass`, n.deviceClass, DEVICE_CLASSES, 'microcontroller');
  if (n.hopLimit !== undefined) out.hopLimit = int(`${path}.hopLimit`, n.hopLimit, DEFAULT_HOP_LIMIT, 0, MAX_HOP_LIMIT);
  if (n.txPowerDbm !== undefined) num(`${path}.txPowerDbm`, n.txPowerDbm, 0, -10, 40);
  if (n.path !== undefined) out.path = waypoints(`${path}.path`, n.path);
  return out;
}

function resolveTraffic(path: string, t: Partial<TrafficConfig> & { kind: string; periodS: number }): TrafficConfig {
  if (!t || typeof t !== 'object') fail(path, 'expected an object');
  let senders: TrafficConfig['senders'] = 'all';
  if (t.senders !== undefined && t.senders !== 'all') {
    if (!Array.isArray(t.senders) || t.senders.length === 0) fail(`${path}.senders`, 'expected "all" or a list of roles or node indices');
    if (typeof t.senders[0] === 'number') senders = (t.senders as number[]).map((v, i) => int(`${path}.senders[${i}]`, v, 0, 0));
    else senders = (t.senders as string[]).map((v, i) => oneOf(`${path}.senders[${i}]`, v, ROLES, 'CLIENT'));
  }
  return {
    kind: oneOf(`${path}.kind`, t.kind, ['broadcast', 'direct'] as const, 'broadcast'),
    periodS: required(`${path}.periodS`, t.periodS, 0.001),
    distribution: oneOf(`${path}.distribution`, t.distribution, ['exponential', 'fixed'] as const, 'exponential'),
    payloadBytes: int(`${path}.payloadBytes`, t.payloadBytes, 40, 0, 233),
    portnum: int(`${path}.portnum`, t.portnum, 256, 1, 511),
    wantAck: t.wantAck ?? false,
    hopLimit: t.hopLimit === undefined ? undefined : int(`${path}.hopLimit`, t.hopLimit, 3, 0, MAX_HOP_LIMIT),
    startS: num(`${path}.startS`, t.startS, 0, 0),
    polite: t.polite ?? false,
    senders,
  };
}

function resolveEvent(path: string, e: ScenarioEvent): ScenarioEvent {
  if (!e || typeof e !== 'object') fail(path, 'expected an object');
  const atS = num(`${path}.atS`, e.atS, NaN, 0);
  if (Number.isNaN(atS)) fail(`${path}.atS`, 'is required');
  switch (e.kind) {
    case 'node_down':
    case 'node_up':
    case 'battery_fail':
      if (typeof e.node !== 'number' && typeof e.node !== 'string') fail(`${path}.node`, 'expected a node index or name');
      return { ...e, atS };
    case 'pass_through':
      return {
        ...e,
        atS,
        path: waypoints(`${path}.path`, e.path),
        speedMps: num(`${path}.speedMps`, e.speedMps, 1.4, 0.001),
        deviceClass: oneOf(`${path}.deviceClass`, e.deviceClass, DEVICE_CLASSES, 'jetson'),
        role: oneOf(`${path}.role`, e.role, ROLES, 'CLIENT'),
      };
    case 'app':
      if (typeof e.type !== 'string') fail(`${path}.type`, 'expected a string');
      return { ...e, atS };
    default:
      fail(`${path}.kind`, `unknown event kind ${JSON.stringify((e as { kind: unknown }).kind)}`);
  }
}

/**
 * A scenario with its command-line overrides applied, checked the way a run checks it (every CLI calls this before it
 * writes anything or starts work). Throws SimError INVALID_SCENARIO or INVALID_OVERRIDE naming the bad field.
 */
export function validateScenario(config: unknown, overrides: Record<string, unknown> = {}): ScenarioConfig {
  if (!config || typeof config !== 'object' || Array.isArray(config)) fail('scenario', `expected an object, got ${Array.isArray(config) ? 'a list' : JSON.stringify(config)}`);
  const applied = applyOverrides(config as ScenarioConfig, overrides);
  resolveScenario(applied);
  return applied;
}

/**
 * Set values by dotted path ("nodes.count", "pathLoss.gamma") on a copy of a scenario. Values that parse as JSON are
 * used as such, otherwise as strings.
 */
export function applyOverrides(config: ScenarioConfig, overrides: Record<string, unknown>): ScenarioConfig {
  const copy = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  for (const [path, raw] of Object.entries(overrides)) {
    const keys = path.split('.');
    if (keys.some((k) => k === '' || k === '__proto__' || k === 'constructor' || k === 'prototype')) {
      throw new SimError('INVALID_OVERRIDE', `bad override path "${path}"`);
    }
    let value = raw;
    if (typeof raw === 'string') {
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
    }
    // A numeric key addresses an element of an existing array ("traffic.0.wantAck"); it cannot grow the array.
    let target: Record<string, unknown> | unknown[] = copy;
    keys.forEach((k, i) => {
      const isLast = i === keys.length - 1;
      if (Array.isArray(target)) {
        const index = Number(k);
        if (!/^\d+$/.test(k) || index >= target.length) throw new SimError('INVALID_OVERRIDE', `"${path}": ${keys.slice(0, i).join('.')} has no element ${k} (${target.length} elements)`);
        if (isLast) target[index] = value;
        else {
          const next = target[index];
          if (typeof next !== 'object' || next === null) throw new SimError('INVALID_OVERRIDE', `"${path}": element ${k} is not an object`);
          target = next as Record<string, unknown>;
        }
        return;
      }
      if (isLast) {
        target[k] = value;
        return;
      }
      const next = target[k];
      if (next === undefined || next === null) target[k] = {};
      else if (typeof next !== 'object') throw new SimError('INVALID_OVERRIDE', `"${path}": ${k} is not an object`);
      target = target[k] as Record<string, unknown> | unknown[];
    });
  }
  return copy as unknown as ScenarioConfig;
}
