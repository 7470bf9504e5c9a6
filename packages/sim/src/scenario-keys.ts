import { SimError } from './errors.js';

/**
 * The keys a scenario may have, object by object. A key outside these is a mistake (a misspelling, or a field this
 * version does not have) that would otherwise be ignored in silence; `app` is the application's and is not checked.
 */
const NODE_SPEC = ['name', 'x', 'y', 'z', 'role', 'rebroadcastMode', 'deviceClass', 'txPowerDbm', 'antennaGainDbi', 'extraLossDb', 'hopLimit', 'batteryMah', 'batteryPct', 'path', 'speedMps', 'down', 'traffic'];
const TRAFFIC = ['kind', 'periodS', 'distribution', 'payloadBytes', 'portnum', 'wantAck', 'hopLimit', 'startS', 'polite', 'senders'];
const EVENT_KEYS: Record<string, string[]> = {
  node_down: ['atS', 'kind', 'node', 'reason'],
  node_up: ['atS', 'kind', 'node'],
  battery_fail: ['atS', 'kind', 'node'],
  pass_through: ['atS', 'kind', 'name', 'deviceClass', 'role', 'path', 'speedMps', 'txPowerDbm'],
  app: ['atS', 'kind', 'type', 'data'],
};

const OBJECTS: Record<string, string[]> = {
  '': ['name', 'description', 'seed', 'duration', 'preset', 'region', 'hopLimit', 'channelName', 'area', 'origin', 'startEpochS', 'nodes', 'pathLoss', 'extraLossDb', 'noiseFigureDb', 'sensitivityDbm', 'snrCeilingDb', 'captureThresholdDb', 'captureRule', 'interference', 'latency', 'availability', 'battery', 'mobility', 'ble', 'traffic', 'events', 'firmware', 'app'],
  area: ['widthM', 'heightM'],
  origin: ['lat', 'lon'],
  nodes: ['count', 'placement', 'roles', 'deviceClasses', 'txPowerDbm', 'antennaGainDbi', 'heightM', 'list'],
  'nodes.placement': ['kind', 'minDistM', 'spacingM', 'clusters', 'clusterRadiusM'],
  pathLoss: ['model', 'd0M', 'gamma', 'pl0Db', 'sigmaDb', 'linkOffsets', 'fastFadingSigmaDb', 'frequencyMHz'],
  interference: ['cadBusyProbability'],
  latency: ['processingMs', 'clientMs'],
  availability: ['churnPerHour', 'meanDownS', 'fraction'],
  battery: ['enabled', 'capacityMah', 'initialPct', 'rxMa', 'lowPct', 'criticalPct'],
  mobility: ['kind', 'fraction', 'speedMps', 'pauseS', 'stepS', 'jumpStepsM', 'meanJumpIntervalS', 'gpsFraction', 'movers', 'positionDistanceM', 'positionMinIntervalS', 'positionPayloadBytes'],
  ble: ['rangeM', 'connectMs', 'readMs'],
  firmware: ['corePortnumsPolicy', 'overrideDutyCycle', 'txQueueLength', 'historySize', 'nodeDbSize', 'telemetryToPhoneS', 'nodeInfoBroadcastS', 'positionBroadcastS', 'telemetryBroadcastS'],
};

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((d[i - 1]![j]! + 1), d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest of `names` to `name`, when it is close enough to be a likely misspelling. */
export function nearestName(name: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const dist = distance(name.toLowerCase(), n.toLowerCase());
    if (dist < bestD) {
      best = n;
      bestD = dist;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function refuseUnknown(path: string, value: unknown, allowed: readonly string[]): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'object' || Array.isArray(value)) throw new SimError('INVALID_SCENARIO', `${path || 'scenario'}: expected an object, got ${JSON.stringify(value)}`);
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    const at = path ? `${path}.${key}` : key;
    const near = nearestName(key, allowed);
    const hint = near ? `; did you mean ${path ? `${path}.${near}` : near}?` : ` (${path || 'a scenario'} has ${allowed.join(', ')})`;
    throw new SimError('INVALID_SCENARIO', `unknown key ${at}${hint}`);
  }
}

function lookup(root: unknown, path: string): unknown {
  let v: unknown = root;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** Throws SimError INVALID_SCENARIO for the first key a scenario does not have, naming the nearest valid one. */
export function checkScenarioKeys(scenario: unknown): void {
  for (const [path, allowed] of Object.entries(OBJECTS)) refuseUnknown(path, path ? lookup(scenario, path) : scenario, allowed);
  const s = scenario as { nodes?: { list?: unknown }; traffic?: unknown; events?: unknown };
  if (Array.isArray(s.nodes?.list)) s.nodes.list.forEach((n, i) => refuseUnknown(`nodes.list[${i}]`, n, NODE_SPEC));
  if (Array.isArray(s.traffic)) s.traffic.forEach((t, i) => refuseUnknown(`traffic[${i}]`, t, TRAFFIC));
  if (Array.isArray(s.events)) {
    s.events.forEach((e, i) => {
      const keys = e && typeof e === 'object' ? EVENT_KEYS[(e as { kind?: string }).kind ?? ''] : undefined;
      if (keys) refuseUnknown(`events[${i}]`, e, keys);
    });
  }
}
