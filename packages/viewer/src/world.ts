// The viewer's model of the swarm, rebuilt from trace events in time order (the
// simulator's JSONL trace schema, plus the application events the compute layer
// reports). Rendering and panels read it; nothing here touches the DOM.

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
  capability?: Record<string, unknown>;
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
  kind: 'collision' | 'deliver';
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
}

const MAX_LOG = 200;
const MARK_MS = 3000;

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
  readonly counts = { txStart: 0, rx: 0, collisions: 0, delivered: 0, drops: 0, generated: 0, jobsDone: 0, jobsFailed: 0, otaApplied: 0, events: 0 };

  private node(num: number): NodeView {
    let n = this.nodes.get(num);
    if (!n) {
      n = { num, name: `!${num.toString(16)}`, x: 0, y: 0, role: 'CLIENT', deviceClass: 'microcontroller', gops: 0, ramMb: 0, batteryPct: null, up: true, txPackets: 0, rxPackets: 0, collisions: 0 };
      this.nodes.set(num, n);
    }
    return n;
  }

  private say(t: number, text: string): void {
    this.log.push({ t, text });
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
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
    this.now = Math.max(this.now, e.t);
    this.counts.events++;
    const nodeNum = num(e.node, -1);
    switch (e.ev) {
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
        this.say(e.t, `${n.name} ${n.up ? 'up' : 'down'} (${str(e.reason)})`);
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
        this.say(e.t, `${n.name} battery ${str(e.state)} (${n.batteryPct}%)`);
        break;
      }
      case 'gen':
        this.counts.generated++;
        break;
      case 'tx_start': {
        this.counts.txStart++;
        this.node(nodeNum).txPackets++;
        this.tx.push({ node: nodeNum, from: num(e.from), id: num(e.id), port: num(e.port), start: e.t, end: e.t + num(e.airtimeMs, 100) });
        break;
      }
      case 'tx_end':
        this.tx = this.tx.filter((x) => !(x.node === nodeNum && x.from === e.from && x.id === e.id));
        break;
      case 'rx':
        this.counts.rx++;
        this.node(nodeNum).rxPackets++;
        break;
      case 'collision':
        this.counts.collisions++;
        this.node(nodeNum).collisions++;
        this.marks.push({ node: nodeNum, t: e.t, kind: 'collision' });
        break;
      case 'deliver':
        this.counts.delivered++;
        break;
      case 'drop':
        this.counts.drops++;
        break;
      case 'app':
        this.applyApp(e);
        break;
    }
    if (this.marks.length > 0 && this.marks[0]!.t < this.now - MARK_MS) this.marks = this.marks.filter((m) => m.t >= this.now - MARK_MS);
  }

  private applyApp(e: TraceEvent): void {
    const type = str(e.type);
    const d = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as Record<string, unknown>;
    const nodeNum = typeof e.node === 'number' ? e.node : null;
    const who = nodeNum === null ? 'swarm' : this.node(nodeNum).name;
    if (type === 'capability' && nodeNum !== null) {
      this.node(nodeNum).capability = d;
      return;
    }
    // Bookkeeping events the panels do not show.
    if (type === 'peer' || type === 'shard_computed' || type === 'shard_done' || type === 'lease_expired') return;
    if (type === 'demo') {
      this.say(e.t, `* ${str(d.text)}`);
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
      const peerName = (p: unknown) => (typeof p === 'number' ? this.node(p).name : '?');
      switch (type) {
        case 'job_requested':
          j.requester = owner;
          j.label = str(d.tag ?? d.job, key);
          this.say(e.t, `${who} requests job ${j.label}`);
          break;
        case 'job_planned':
          j.state = 'planned';
          j.plan = str(d.explanation);
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
    this.say(e.t, `${who}: ${type}${Object.keys(d).length ? ' ' + JSON.stringify(d).slice(0, 80) : ''}`);
  }

  /** Transmissions on air at the current time (tx_end may not have arrived yet when seeking). */
  onAir(): TxView[] {
    return this.tx.filter((x) => x.end >= this.now);
  }
}
