// The viewer's model of the swarm, rebuilt from trace events in time order (the
// simulator's JSONL trace schema, plus the application events the compute layer
// reports). Rendering and panels read it; nothing here touches the DOM.

import { DirectDeliveryTally } from '@compotastic/sim';
import { describeFields, words } from './describe.js';
import { nodeLabel, withShortNames } from './names.js';

export interface TraceEvent {
  t: number;
  ev: string;
  [field: string]: unknown;
}

export interface NodeView {
  num: number;
  name: string;
  x: number;
  y: number;
  role: string;
  deviceClass: string;
  gops: number;
  ramMb: number;
  batteryPct: number | null;
  up: boolean;
  txPackets: number;
  rxPackets: number;
  collisions: number;
  /** Airtime of the node's own transmissions (originals and relays). */
  txAirtimeMs: number;
  /** When the node last transmitted, or null. */
  lastHeard: number | null;
  capability?: Record<string, unknown>;
}

/** The last packet one node heard from another, for link lines and the node list. */
export interface LinkView {
  sender: number;
  receiver: number;
  snr: number;
  rssi: number;
  t: number;
}

/** One message and the hops it took: every sender -> receiver reception of it. */
export interface MessageView {
  from: number;
  id: number;
  to: number;
  t: number;
  port: number;
  edges: [number, number][];
}

/** The run a trace came from, when the trace records it (a `run` event). */
export interface RunInfo {
  scenario?: string;
  seed?: number;
  durationMs?: number;
  origin?: { lat: number; lon: number };
}

/** One sample of the charts, taken every SAMPLE_MS of simulated time. */
export interface Sample {
  t: number;
  /** Mean over the nodes up of (transmit + receive airtime) / time, like the simulator's channel utilization. */
  channelUtilPct: number;
  jobsDone: number;
  /** Mean progress of every OTA receiver so far, 0 when there is no transfer. */
  otaPct: number;
}

export interface TxView {
  node: number;
  from: number;
  id: number;
  port: number;
  start: number;
  end: number;
}

export interface MarkView {
  node: number;
  t: number;
  kind: 'collision' | 'detection';
  /** The keyword a detection heard. */
  text?: string;
}

export type JobState = 'requested' | 'planned' | 'running' | 'done' | 'failed';

export interface JobView {
  id: string;
  /** The name jobs are shown by (the submitter's tag, or owner/id). */
  label: string;
  requester: number | null;
  state: JobState;
  plan?: string;
  peers: number[];
  events: string[];
  latencyMs?: number;
  startedAt: number;
}

export interface OtaView {
  id: string;
  sender: number | null;
  bytes?: number;
  progress: Map<number, number>;
  applied: Set<number>;
  failed: Map<number, string>;
}

export interface LogLine {
  t: number;
  text: string;
  kind?: 'detection' | 'warning' | 'story';
}

const MAX_LOG = 200;
/** How long a collision cross stays on the map. */
export const COLLISION_MARK_MS = 3000;
/** How long a detection marker stays on the map. */
export const DETECTION_MARK_MS = 20_000;
const MARK_MS = Math.max(COLLISION_MARK_MS, DETECTION_MARK_MS);
export const SAMPLE_MS = 60_000;
/** Messages whose route is kept (the most recent ones). */
const MAX_MESSAGES = 3000;
/** Transmissions whose airtime is kept, to charge it to their receivers. */
const MAX_AIRTIMES = 20_000;
/** Origin -> receiver hop counts kept (bounded for very large swarms). */
const MAX_HOP_PAIRS = 200_000;

/** Trace events the viewer knows and keeps out of the event log (they are counted or drawn instead). */
const QUIET_EVENTS = new Set(['gen', 'tx_start', 'tx_end', 'rx', 'collision', 'deliver', 'drop', 'move', 'node_info', 'cad_busy', 'ack', 'retransmit', 'duplicate', 'relay', 'compute', 'ble_read', 'run']);

function num(v: unknown, fallback = 0): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? fallback : String(v);
}

export class World {
  now = 0;
  readonly nodes = new Map<number, NodeView>();
  tx: TxView[] = [];
  marks: MarkView[] = [];
  readonly jobs = new Map<string, JobView>();
  readonly ota = new Map<string, OtaView>();
  readonly log: LogLine[] = [];
  readonly counts = { txStart: 0, rx: 0, collisions: 0, uniqueReceptions: 0, drops: 0, generated: 0, jobsDone: 0, jobsFailed: 0, otaApplied: 0, detections: 0, events: 0 };
  /** sender>receiver -> the last packet heard on that link. */
  readonly links = new Map<string, LinkView>();
  /** from:id -> the message and its receptions (the most recent MAX_MESSAGES). */
  readonly messages = new Map<string, MessageView>();
  /** node -> key of the last message it originated. */
  readonly lastMessageOf = new Map<number, string>();
  /** origin>receiver -> hops the last delivered message took. */
  readonly hops = new Map<string, number>();
  readonly samples: Sample[] = [];
  run: RunInfo = {};
  /** Direct messages sent and delivered, counted as the simulator's summary counts them. */
  readonly direct = new DirectDeliveryTally();
  private readonly airtimes = new Map<string, number>();
  private sampleAir = 0;
  private nextSample = SAMPLE_MS;

  private node(num: number): NodeView {
    let n = this.nodes.get(num);
    if (!n) {
      n = {
        num, name: '', x: 0, y: 0, role: 'CLIENT', deviceClass: 'microcontroller', gops: 0, ramMb: 0, batteryPct: null, up: true,
        txPackets: 0, rxPackets: 0, collisions: 0, txAirtimeMs: 0, lastHeard: null,
      };
      this.nodes.set(num, n);
    }
    return n;
  }

  /** A node's short name (see names.ts). */
  name(num: number | null | undefined): string {
    return nodeLabel(this, num);
  }

  private say(t: number, text: string, kind?: LogLine['kind']): void {
    this.log.push(kind ? { t, text: withShortNames(this, text), kind } : { t, text: withShortNames(this, text) });
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
  }

  /** The sample of the minute that ends at `t`, from what it has seen so far (`elapsed` ms of it). */
  private sampleAt(t: number, elapsed: number): Sample {
    let up = 0;
    for (const n of this.nodes.values()) if (n.up) up++;
    let progress = 0, receivers = 0;
    for (const o of this.ota.values()) for (const p of o.progress.values()) { progress += p; receivers++; }
    return {
      t,
      channelUtilPct: up && elapsed > 0 ? Math.round((10000 * this.sampleAir) / (elapsed * up)) / 100 : 0,
      jobsDone: this.counts.jobsDone,
      otaPct: receivers ? Math.round((10 * progress) / receivers) / 10 : 0,
    };
  }

  /** Closes the chart samples up to time t. */
  private sampleUpTo(t: number): void {
    while (t >= this.nextSample) {
      this.samples.push(this.sampleAt(this.nextSample, SAMPLE_MS));
      this.sampleAir = 0;
      this.nextSample += SAMPLE_MS;
    }
  }

  /** The closed samples and the minute in progress: what the charts draw. */
  chartSamples(): Sample[] {
    this.sampleUpTo(this.now); // minutes without events close too
    const start = this.nextSample - SAMPLE_MS;
    return this.now > start ? [...this.samples, this.sampleAt(this.now, this.now - start)] : this.samples;
  }

  private remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
    map.set(key, value);
    if (map.size > max) map.delete(map.keys().next().value as string);
  }

  private job(id: string, t: number): JobView {
    let j = this.jobs.get(id);
    if (!j) {
      j = { id, label: id, requester: null, state: 'requested', peers: [], events: [], startedAt: t };
      this.jobs.set(id, j);
    }
    return j;
  }

  private otaOf(id: string): OtaView {
    let o = this.ota.get(id);
    if (!o) {
      o = { id, sender: null, progress: new Map(), applied: new Set(), failed: new Map() };
      this.ota.set(id, o);
    }
    return o;
  }

  /** Applies one event (events must arrive in time order). */
  apply(e: TraceEvent): void {
    this.sampleUpTo(e.t);
    this.now = Math.max(this.now, e.t);
    this.counts.events++;
    this.direct.observe(e);
    const nodeNum = num(e.node, -1);
    switch (e.ev) {
      case 'run': {
        const o = e.origin as { lat?: unknown; lon?: unknown } | undefined;
        this.run = {
          scenario: typeof e.scenario === 'string' ? e.scenario : undefined,
          seed: typeof e.seed === 'number' ? e.seed : undefined,
          durationMs: typeof e.durationMs === 'number' ? e.durationMs : undefined,
          origin: o && typeof o.lat === 'number' && typeof o.lon === 'number' ? { lat: o.lat, lon: o.lon } : undefined,
        };
        break;
      }
      case 'node_info': {
        const n = this.node(nodeNum);
        Object.assign(n, {
          name: str(e.name, n.name), x: num(e.x), y: num(e.y), role: str(e.role, n.role), deviceClass: str(e.deviceClass, n.deviceClass),
          gops: num(e.gops), ramMb: num(e.ramMb), batteryPct: typeof e.batteryPct === 'number' ? e.batteryPct : null, up: e.up !== false,
        });
        break;
      }
      case 'node_up':
      case 'node_down': {
        const n = this.node(nodeNum);
        n.up = e.ev === 'node_up';
        if (typeof e.x === 'number') n.x = e.x;
        if (typeof e.y === 'number') n.y = e.y;
        this.say(e.t, `${this.name(nodeNum)} ${n.up ? 'is up' : 'went down'}${e.reason ? ` (${words(str(e.reason))})` : ''}`);
        break;
      }
      case 'move': {
        const n = this.node(nodeNum);
        n.x = num(e.x, n.x);
        n.y = num(e.y, n.y);
        break;
      }
      case 'battery': {
        const n = this.node(nodeNum);
        n.batteryPct = num(e.pct, n.batteryPct ?? 0);
        this.say(e.t, `${this.name(nodeNum)} battery ${words(str(e.state))} (${n.batteryPct}%)`);
        break;
      }
      case 'gen': {
        this.counts.generated++;
        const key = `${num(e.from)}:${num(e.id)}`;
        this.remember(this.messages, key, { from: num(e.from), id: num(e.id), to: num(e.to), t: e.t, port: num(e.port), edges: [] }, MAX_MESSAGES);
        this.lastMessageOf.set(nodeNum, key);
        break;
      }
      case 'tx_start': {
        this.counts.txStart++;
        const n = this.node(nodeNum);
        const airtime = num(e.airtimeMs, 100);
        n.txPackets++;
        n.txAirtimeMs += airtime;
        n.lastHeard = e.t;
        this.sampleAir += airtime;
        this.remember(this.airtimes, `${nodeNum}:${num(e.from)}:${num(e.id)}`, airtime, MAX_AIRTIMES);
        this.tx.push({ node: nodeNum, from: num(e.from), id: num(e.id), port: num(e.port), start: e.t, end: e.t + airtime });
        break;
      }
      case 'tx_end':
        this.tx = this.tx.filter((x) => !(x.node === nodeNum && x.from === e.from && x.id === e.id));
        break;
      case 'rx': {
        this.counts.rx++;
        this.node(nodeNum).rxPackets++;
        const sender = num(e.sender, num(e.from));
        this.sampleAir += this.airtimes.get(`${sender}:${num(e.from)}:${num(e.id)}`) ?? 0;
        const link = `${sender}>${nodeNum}`;
        this.links.delete(link); // re-inserted last: the map stays ordered by time heard
        this.links.set(link, { sender, receiver: nodeNum, snr: num(e.snr), rssi: num(e.rssi), t: e.t });
        this.messages.get(`${num(e.from)}:${num(e.id)}`)?.edges.push([sender, nodeNum]);
        break;
      }
      case 'collision':
        this.counts.collisions++;
        this.node(nodeNum).collisions++;
        this.marks.push({ node: nodeNum, t: e.t, kind: 'collision' });
        break;
      case 'deliver': {
        this.counts.uniqueReceptions++;
        const pair = `${num(e.from)}>${nodeNum}`;
        if (typeof e.hopsAway === 'number' && (this.hops.has(pair) || this.hops.size < MAX_HOP_PAIRS)) this.hops.set(pair, e.hopsAway);
        break;
      }
      case 'detection':
        this.detection(e, nodeNum, e);
        break;
      case 'drop':
        this.counts.drops++;
        break;
      case 'app':
        this.applyApp(e);
        break;
      default:
        if (!QUIET_EVENTS.has(e.ev)) this.sayUnknown(e);
    }
    if (this.marks.length > 0 && this.marks[0]!.t < this.now - MARK_MS) this.marks = this.marks.filter((m) => m.t >= this.now - MARK_MS);
  }

  /** A trace event of a type this viewer does not know: its fields in words. */
  private sayUnknown(e: TraceEvent): void {
    const { t: _t, ev, node, ...fields } = e;
    const who = typeof node === 'number' ? `${this.name(node)} ` : '';
    const rest = describeFields(this, fields);
    this.say(e.t, `${who}${words(ev)}${rest ? `: ${rest}` : ''}`);
  }

  /** A sensor node heard a keyword: a marker on the map and a line in the log. Fields may sit on the event or in its data. */
  private detection(e: TraceEvent, nodeNum: number, d: Record<string, unknown>): void {
    const keyword = str(d.keyword ?? d.label ?? d.class, '?');
    const score = typeof d.score === 'number' ? d.score : null;
    this.counts.detections++;
    if (nodeNum >= 0) this.marks.push({ node: nodeNum, t: e.t, kind: 'detection', text: keyword });
    this.say(e.t, `${this.name(nodeNum >= 0 ? nodeNum : null)} heard "${keyword}"${score === null ? '' : ` (score ${score.toFixed(2)})`}`, 'detection');
  }

  private applyApp(e: TraceEvent): void {
    const type = str(e.type);
    const d = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as Record<string, unknown>;
    const nodeNum = typeof e.node === 'number' ? e.node : null;
    if (nodeNum !== null) this.node(nodeNum);
    const who = this.name(nodeNum);
    if (type === 'capability' && nodeNum !== null) {
      this.node(nodeNum).capability = d;
      return;
    }
    if (type === 'detection') {
      this.detection(e, nodeNum ?? -1, { ...e, ...d });
      return;
    }
    // Bookkeeping events the panels do not show.
    if (type === 'peer' || type === 'shard_computed' || type === 'shard_done' || type === 'lease_expired') return;
    if (type === 'demo') {
      this.say(e.t, `* ${str(d.text)}`, 'story');
      return;
    }
    // Job events: the owner reports job_* and shard events, workers report accept/decline with the owner's number.
    const jobKey = (owner: number | null) => `${owner ?? '?'}:${str(d.jobId, '?')}`;
    const JOB_OWNER_EVENTS = new Set([
      'job_requested', 'job_planned', 'job_assigned', 'job_reassigned', 'offer_taken', 'attempt_lost', 'job_done', 'job_failed',
      'local_compute',
    ]);
    const JOB_WORKER_EVENTS = new Set(['accept', 'decline', 'shard_abandoned']);
    if (JOB_OWNER_EVENTS.has(type) || JOB_WORKER_EVENTS.has(type)) {
      const owner = JOB_WORKER_EVENTS.has(type) ? (typeof d.owner === 'number' ? d.owner : null) : nodeNum;
      const key = jobKey(owner);
      if (type !== 'job_requested' && !this.jobs.has(key)) return; // a job that started before the trace did
      const j = this.job(key, e.t);
      j.events.push(type);
      const peerName = (p: unknown) => (typeof p === 'number' ? this.name(p) : '?');
      switch (type) {
        case 'job_requested':
          j.requester = owner;
          j.label = str(d.tag ?? d.job, key);
          this.say(e.t, `${who} requests job ${j.label}`);
          break;
        case 'job_planned':
          j.state = 'planned';
          j.plan = withShortNames(this, str(d.explanation));
          if (Array.isArray(d.peers)) j.peers = d.peers.filter((p): p is number => typeof p === 'number');
          this.say(e.t, `job ${j.label} planned ${str(d.kind)}`);
          break;
        case 'offer_taken':
          if (typeof d.peer === 'number' && !j.peers.includes(d.peer)) j.peers.push(d.peer);
          break;
        case 'job_assigned':
        case 'job_reassigned':
          if (typeof d.peer === 'number' && !j.peers.includes(d.peer)) j.peers.push(d.peer);
          if (typeof d.peer === 'number' && d.peer !== owner) this.say(e.t, `job ${j.label} ${type === 'job_reassigned' ? 'reassigned' : 'sent'} to ${peerName(d.peer)}`);
          break;
        case 'decline':
          this.say(e.t, `${who} declines job ${j.label} (${str(d.reason)})`);
          break;
        case 'shard_abandoned':
          this.say(e.t, `${who} abandons job ${j.label} (${str(d.reason)})`);
          break;
        case 'accept':
          j.state = 'running';
          if (nodeNum !== null && !j.peers.includes(nodeNum)) j.peers.push(nodeNum);
          this.say(e.t, `${who} accepts job ${j.label}`);
          break;
        case 'local_compute':
          j.state = 'running';
          break;
        case 'attempt_lost':
          j.peers = j.peers.filter((p) => p !== d.peer);
          this.say(e.t, `job ${j.label}: lost ${peerName(d.peer)} (${str(d.reason)}), reassigning`);
          break;
        case 'job_done':
          j.state = 'done';
          j.latencyMs = typeof d.latencyMs === 'number' ? d.latencyMs : e.t - j.startedAt;
          this.counts.jobsDone++;
          this.say(e.t, `job ${j.label} done in ${(j.latencyMs / 1000).toFixed(1)} s`);
          break;
        case 'job_failed':
          j.state = 'failed';
          this.counts.jobsFailed++;
          this.say(e.t, `job ${j.label} failed: ${str(d.reason)}`);
          break;
      }
      return;
    }
    if (type.startsWith('ota_')) {
      const o = this.otaOf(str(d.bundle, '?'));
      if (type === 'ota_started') {
        o.sender = nodeNum;
        o.bytes = num(d.bytes);
        this.say(e.t, `${who} starts OTA ${o.id} (${o.bytes} B)`);
      } else if (type === 'ota_progress' && nodeNum !== null) {
        o.progress.set(nodeNum, num(d.pct));
      } else if (type === 'ota_applied' && nodeNum !== null) {
        o.progress.set(nodeNum, 100);
        o.applied.add(nodeNum);
        this.counts.otaApplied++;
        this.say(e.t, `${who} applied OTA ${o.id}`);
      } else if (type === 'ota_failed' && nodeNum !== null) {
        o.failed.set(nodeNum, str(d.reason));
        this.say(e.t, `${who} rejected OTA ${o.id}: ${str(d.reason)}`);
      } else if (type === 'ota_done') {
        this.say(e.t, `OTA ${o.id} finished: ${num(d.installed)}/${num(d.targets)} installed`);
      }
      return;
    }
    const rest = describeFields(this, d);
    this.say(e.t, `${who} ${words(type)}${rest ? `: ${rest}` : ''}`, /warn|reject|fail|error/.test(type) ? 'warning' : undefined);
  }

  /** Transmissions on air at the current time (tx_end may not have arrived yet when seeking). */
  onAir(): TxView[] {
    return this.tx.filter((x) => x.end >= this.now);
  }
}
