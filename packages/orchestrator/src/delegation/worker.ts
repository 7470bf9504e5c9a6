import { crc32 } from '@compotastic/mesh';
import type { TimerHandle } from '@compotastic/mesh';
import type { NodeContext } from '../context.js';
import { ExecutionError, runJob } from '../jobs/executor.js';
import { type JobMission, classPolicy, priorityRank } from '../mission/profiles.js';
import { chunksOf, InboundStream } from '../jobs/stream.js';
import { JobSpecError } from '../errors.js';
import { type JobSpec, inputBytes, memoryBytes, validateJobSpec } from '../jobs/spec.js';
import { resultBindingBytes } from '../auth/result-binding.js';
import { computeMs, jobOps } from '../scheduler/cost-model.js';
import { type MessageOf, MAX_WANT_RANGES, Reason, ResultAckStatus, Stage, Stream, dataRoom } from '../wire/messages.js';
import type { MessageMeta } from '../transport/messenger.js';

type TaskStage = 'receiving' | 'queued' | 'computing' | 'returning';

/**
 * A relayed shard's own job must end this long before the owner's deadline, to leave time for the result's last hop
 * (a small result inline, with the radio's retries).
 */
const RELAY_RETURN_MS = 45_000;

/** Input that arrives ahead of its ASSIGN is kept this long, up to this many bytes in total. */
const EARLY_CHUNK_TTL_MS = 5 * 60_000;
const EARLY_CHUNK_BUDGET = 16 * 1024;

interface Task {
  key: string;
  owner: number;
  jobId: number;
  shard: number;
  attempt: number;
  spec: JobSpec;
  /** A redundant copy: its RESULT carries our signature over the assignment. */
  redundant: boolean;
  inputCrc: number;
  link: 'lora' | 'ble';
  leaseMs: number;
  input: InboundStream;
  stage: TaskStage;
  output: Uint8Array | null;
  outputCrc: number;
  lastOwnerMs: number;
  lastDataMs: number;
  /** Last time output was re-sent on request (requests are served at most every stallMs / 2). */
  lastResendMs: number;
  /** Last time this task told its owner something (ACCEPT, PROGRESS, DATA_WANT): what renews the owner's lease. */
  lastToOwnerMs: number;
  timer: TimerHandle | null;
  /** Bumped whenever the task restarts, so a computation finishing for an older run is ignored. */
  generation: number;
  /** The job's profile and class, from its ASSIGN. */
  mission: JobMission;
  /** Handed on to a model holder this node knows instead of computed here (see ClassPolicy.relayable). */
  relay: boolean;
  /** A relayed shard's own job on the holder, while it runs. */
  relayJobId: number | null;
}

export interface WorkerStats {
  accepted: number;
  declined: Partial<Record<string, number>>;
  completed: number;
  /** Shards taken to hand on to a model holder (included in accepted). */
  relayed: number;
  failed: number;
  expired: number;
  /** Held shards given up for a more urgent one. */
  preempted: number;
}

/**
 * The worker side of delegation: admits or declines ASSIGNs (capability, memory, battery, queue), collects input
 * chunks, computes one shard at a time, streams the result back until the owner acknowledges it, and heartbeats
 * with PROGRESS. Everything here is volatile: a power loss forgets it and the owner reassigns.
 */
export class Worker {
  private readonly tasks = new Map<string, Task>();
  private readonly runQueue: Task[] = [];
  /** Input chunks that arrived before their ASSIGN (owners send input right behind it), by task key. */
  private readonly early = new Map<string, { atMs: number; chunks: Array<[number, Uint8Array]>; bytes: number }>();
  private earlyBytes = 0;
  private busy: Task | null = null;
  private generation = 0;
  readonly stats: WorkerStats = { accepted: 0, declined: {}, completed: 0, relayed: 0, failed: 0, expired: 0, preempted: 0 };
  /** Owners' deadlines from the job requests this node offered to relay, by owner and job. */
  private readonly relayDeadlines = new Map<string, number>();

  constructor(private readonly ctx: NodeContext) {}

  get load(): number {
    return this.tasks.size;
  }

  activeTasks(): Array<{ owner: number; jobId: number; shard: number; stage: TaskStage }> {
    return [...this.tasks.values()].map((t) => ({ owner: t.owner, jobId: t.jobId, shard: t.shard, stage: t.stage }));
  }

  /**
   * Whether this node takes new work now, and why not. Sizes are checked before anything is reserved: a spec over
   * MAX_JOB_BYTES, or needing more memory than is free after the shards already held, is refused; so is an owner
   * that already holds maxTasksPerOwner shards here. A shard this node cannot run is taken as a relay when its class
   * allows it and a model holder it knows is expected to finish it in time; it holds only the input and result here.
   */
  admission(spec: JobSpec, owner: number | null = null, mission: JobMission | null = null, redundant = false): { ok: true; relayEtaMs: number | null } | { ok: false; reason: number } {
    const cfg = this.ctx.config;
    // A mission's class carries its battery policy: the top class may still use a node the routine ones spare.
    const minBattery = mission && mission.profile !== 'default' ? classPolicy(mission).minPeerBatteryPct : cfg.acceptBatteryPct;
    const state = this.ctx.local.state;
    const battery = this.ctx.host.batteryPct();
    try {
      validateJobSpec(spec);
    } catch (e) {
      if (e instanceof JobSpecError) return { ok: false, reason: e.code === 'TOO_LARGE' ? Reason.TOO_LARGE : Reason.BAD_INPUT };
      throw e;
    }
    if (battery !== null && !state.record.externalPower && battery < minBattery) return { ok: false, reason: Reason.LOW_BATTERY };
    if (!state.record.acceptsJobs) return { ok: false, reason: Reason.NOT_ACCEPTING };
    let relayEtaMs: number | null = null;
    if (!this.ctx.executor.supports(spec)) {
      // A redundant copy is a vote of this node's own: it is never handed on.
      const relayable = mission !== null && owner !== null && !redundant && classPolicy(mission).relayable;
      relayEtaMs = relayable ? this.ctx.relayEtaMs?.(spec, mission, owner) ?? null : null;
      if (relayEtaMs === null) return { ok: false, reason: spec.kind === 'model' || (spec.kind === 'gemm' && spec.weights !== 'inline') ? Reason.MODEL_MISSING : Reason.UNSUPPORTED };
    }
    if (Math.ceil((relayEtaMs === null ? memoryBytes(spec) : inputBytes(spec)) / 1024) > this.ctx.host.freeRamKiB() - this.heldKiB()) return { ok: false, reason: Reason.NO_MEMORY };
    if (this.tasks.size >= cfg.maxTasks) return { ok: false, reason: Reason.BUSY };
    if (owner !== null && [...this.tasks.values()].filter((t) => t.owner === owner).length >= cfg.maxTasksPerOwner) return { ok: false, reason: Reason.OWNER_QUOTA };
    return { ok: true, relayEtaMs };
  }

  /** Memory the shards held here take, KiB. */
  private heldKiB(): number {
    let bytes = 0;
    for (const t of this.tasks.values()) bytes += t.relay ? inputBytes(t.spec) : memoryBytes(t.spec);
    return Math.ceil(bytes / 1024);
  }

  /** Expected time to finish a job here (queue included), ms. */
  etaMs(spec: JobSpec): number {
    const ops = jobOps(spec, spec.kind === 'model' ? this.ctx.modelProfile?.(spec.modelId, spec.modelVersion) : undefined) ?? 0;
    const sim = this.ctx.host.computeTimeMs?.(spec, ops);
    const one = sim ?? computeMs(ops, this.ctx.local.state.record.gops);
    return Math.round(one * (1 + this.runQueue.length + (this.busy ? 1 : 0)));
  }

  handle(from: number, msg: MessageOf<'ASSIGN' | 'DATA' | 'DATA_WANT' | 'RESULT_ACK' | 'CANCEL' | 'JOB_REQUEST'>, meta: MessageMeta): void {
    switch (msg.type) {
      case 'ASSIGN':
        return this.onAssign(from, msg, meta);
      case 'DATA':
        return this.onData(from, msg);
      case 'DATA_WANT':
        return this.onDataWant(from, msg);
      case 'RESULT_ACK':
        return this.onResultAck(from, msg);
      case 'CANCEL':
        return this.onCancel(from, msg);
      case 'JOB_REQUEST':
        return this.onJobRequest(from, msg, meta);
    }
  }

  private key(owner: number, jobId: number, shard: number): string {
    return `${owner}:${jobId}:${shard}`;
  }

  private send(t: Pick<Task, 'owner' | 'link'> & { mission?: JobMission }, msg: Parameters<NodeContext['messenger']['send']>[1], bulk = false): void {
    void this.ctx.messenger.send(t.owner, msg, { via: t.link, priority: bulk ? 'bulk' : 'control', ...(t.mission ? { rank: priorityRank(t.mission.priority) } : {}) });
  }

  /**
   * Make room for a more urgent shard: the least urgent pre-emptible shard held here that has not started computing
   * is handed back (FAILURE PREEMPTED; its owner reassigns it). Returns whether a slot was freed.
   */
  private preemptFor(mission: JobMission): boolean {
    const rank = priorityRank(mission.priority);
    let victim: Task | null = null;
    for (const t of this.tasks.values()) {
      if (t.stage !== 'receiving' && t.stage !== 'queued') continue;
      if (!classPolicy(t.mission).preemptible || priorityRank(t.mission.priority) >= rank) continue;
      if (!victim || priorityRank(t.mission.priority) < priorityRank(victim.mission.priority)) victim = t;
    }
    if (!victim) return false;
    this.stats.preempted++;
    this.ctx.report('shard_preempted', { owner: victim.owner, jobId: victim.jobId, shard: victim.shard, priority: victim.mission.priority, by: mission.priority });
    this.send(victim, { type: 'FAILURE', jobId: victim.jobId, shard: victim.shard, attempt: victim.attempt, reason: Reason.PREEMPTED, detail: `pre-empted by a ${mission.priority} shard` });
    this.drop(victim);
    return true;
  }

  private onJobRequest(from: number, msg: MessageOf<'JOB_REQUEST'>, meta: MessageMeta): void {
    if ((meta.hops ?? 0) > this.ctx.config.offerMaxHops) return;
    const verdict = this.admission(msg.spec, from, msg.mission);
    if (!verdict.ok) return;
    if (verdict.relayEtaMs !== null) {
      // Offer a relay only where the holder is expected to be done with time left for the result's way back.
      if (verdict.relayEtaMs + RELAY_RETURN_MS > msg.deadlineS * 1000) return;
      const now = this.ctx.clock.now();
      for (const [k, at] of this.relayDeadlines) if (at <= now) this.relayDeadlines.delete(k);
      this.relayDeadlines.set(`${from}:${msg.jobId}`, now + msg.deadlineS * 1000);
    }
    const battery = this.ctx.host.batteryPct();
    const etaMs = verdict.relayEtaMs ?? this.etaMs(msg.spec);
    const offer: MessageOf<'OFFER'> = { type: 'OFFER', jobId: msg.jobId, etaMs: Math.round(Math.min(etaMs, 0xffffffff)), battery: battery === null ? 255 : Math.round(battery), load: Math.min(255, this.tasks.size) };
    // Spread offers out so many workers answering one broadcast do not collide.
    const jitter = this.ctx.rng.uniform(0, this.ctx.config.offerWindowMs / 2);
    this.ctx.clock.setTimer(jitter, () => void this.ctx.messenger.send(from, offer, { via: meta.link }));
  }

  private onAssign(from: number, m: MessageOf<'ASSIGN'>, meta: MessageMeta): void {
    const now = this.ctx.clock.now();
    const key = this.key(from, m.jobId, m.shard);
    const existing = this.tasks.get(key);
    if (existing) {
      // The owner re-sent (our ACCEPT was lost) or reassigned the same shard to us: keep the work, adopt the attempt.
      existing.attempt = Math.max(existing.attempt, m.attempt);
      existing.lastOwnerMs = now;
      existing.lastToOwnerMs = now;
      this.send(existing, { type: 'ACCEPT', jobId: m.jobId, shard: m.shard, attempt: existing.attempt, etaMs: this.etaMs(existing.spec) });
      if (existing.stage === 'returning') this.sendResult(existing);
      return;
    }
    let verdict = this.admission(m.spec, from, m.mission, m.redundant);
    if (!verdict.ok && verdict.reason === Reason.BUSY && this.preemptFor(m.mission)) verdict = this.admission(m.spec, from, m.mission, m.redundant);
    if (!verdict.ok) {
      const name = Object.entries(Reason).find(([, v]) => v === verdict.reason)?.[0] ?? String(verdict.reason);
      this.stats.declined[name] = (this.stats.declined[name] ?? 0) + 1;
      this.ctx.report('decline', { owner: from, jobId: m.jobId, shard: m.shard, attempt: m.attempt, reason: name });
      this.send({ owner: from, link: meta.link }, { type: 'DECLINE', jobId: m.jobId, shard: m.shard, attempt: m.attempt, reason: verdict.reason });
      return;
    }
    const task: Task = {
      key,
      owner: from,
      jobId: m.jobId,
      shard: m.shard,
      attempt: m.attempt,
      spec: m.spec,
      redundant: m.redundant,
      inputCrc: m.inputCrc,
      link: meta.link,
      leaseMs: Math.min(m.leaseS, this.ctx.config.maxLeaseS) * 1000,
      input: new InboundStream(inputBytes(m.spec), m.inputCrc),
      stage: 'receiving',
      output: null,
      outputCrc: 0,
      lastOwnerMs: now,
      lastDataMs: now,
      lastResendMs: -Infinity,
      lastToOwnerMs: now,
      timer: null,
      generation: ++this.generation,
      mission: m.mission,
      relay: verdict.relayEtaMs !== null,
      relayJobId: null,
    };
    this.tasks.set(key, task);
    this.stats.accepted++;
    if (task.relay) this.stats.relayed++;
    const early = this.early.get(key);
    if (early) {
      this.early.delete(key);
      this.earlyBytes -= early.bytes;
      for (const [off, bytes] of early.chunks) task.input.accept(off, bytes);
    }
    this.ctx.loadChanged();
    this.ctx.report('accept', { owner: from, jobId: m.jobId, shard: m.shard, attempt: m.attempt, ...(task.relay ? { relay: true } : {}) });
    this.send(task, { type: 'ACCEPT', jobId: m.jobId, shard: m.shard, attempt: m.attempt, etaMs: this.etaMs(m.spec) });
    this.arm(task);
    this.inputProgress(task);
  }

  private arm(task: Task): void {
    if (task.timer) this.ctx.clock.clearTimer(task.timer);
    const jitter = this.ctx.rng.uniform(0.8, 1.2);
    task.timer = this.ctx.clock.setTimer(this.ctx.config.progressIntervalMs * jitter, () => this.tick(task));
  }

  /** Lease heartbeat: report progress, ask for missing input, re-offer an unacknowledged result, or give up. */
  private tick(task: Task): void {
    task.timer = null;
    if (this.tasks.get(task.key) !== task) return;
    const now = this.ctx.clock.now();
    if (now - task.lastOwnerMs > task.leaseMs) {
      this.stats.expired++;
      this.ctx.report('lease_expired', { owner: task.owner, jobId: task.jobId, shard: task.shard });
      this.drop(task);
      return;
    }
    if (this.checkBattery()) return;
    const ref = { jobId: task.jobId, shard: task.shard, attempt: task.attempt };
    if (task.stage === 'receiving' && now - task.lastDataMs >= this.ctx.config.stallMs) {
      const ranges = task.input.missing(MAX_WANT_RANGES);
      if (ranges.length) this.send(task, { type: 'DATA_WANT', ...ref, stream: Stream.INPUT, ranges });
      task.lastToOwnerMs = now;
    } else if (task.stage === 'receiving' && now - task.lastDataMs < this.ctx.config.progressIntervalMs && now - task.lastToOwnerMs < this.ctx.config.leaseSilenceMs / 2) {
      // The owner is sending the input and heard from us well within its lease: a heartbeat now would only compete
      // with its chunks for its half-duplex radio.
    } else if (task.stage === 'returning') {
      // Unacknowledged: repeat the header only; the owner asks for the chunks it misses.
      this.sendResult(task, true);
    } else {
      const stage = task.stage === 'receiving' ? Stage.RECEIVING : task.stage === 'queued' ? Stage.QUEUED : Stage.COMPUTING;
      const pct = task.stage === 'receiving' ? Math.floor((task.input.received / Math.max(1, task.input.length)) * 100) : task.stage === 'queued' ? 0 : 50;
      this.send(task, { type: 'PROGRESS', ...ref, stage, pct, etaMs: this.etaMs(task.spec) });
      task.lastToOwnerMs = now;
    }
    this.arm(task);
  }

  /** Below the abort threshold: hand every shard back so the owners reassign now rather than at lease expiry. */
  checkBattery(): boolean {
    const battery = this.ctx.host.batteryPct();
    if (battery === null || this.ctx.local.state.record.externalPower || battery >= this.ctx.config.abortBatteryPct) return false;
    if (this.tasks.size === 0) return false;
    for (const t of [...this.tasks.values()]) {
      this.stats.failed++;
      this.ctx.report('shard_abandoned', { owner: t.owner, jobId: t.jobId, shard: t.shard, reason: 'LOW_BATTERY', battery });
      this.send(t, { type: 'FAILURE', jobId: t.jobId, shard: t.shard, attempt: t.attempt, reason: Reason.LOW_BATTERY, detail: `battery ${Math.round(battery)}%` });
      this.drop(t);
    }
    return true;
  }

  private onData(from: number, m: MessageOf<'DATA'>): void {
    if (m.stream !== Stream.INPUT) return;
    const key = this.key(from, m.jobId, m.shard);
    const task = this.tasks.get(key);
    if (!task) {
      this.keepEarly(key, m.offset, m.bytes);
      return;
    }
    if (task.stage !== 'receiving') return;
    const now = this.ctx.clock.now();
    task.lastOwnerMs = now;
    task.lastDataMs = now;
    task.input.accept(m.offset, m.bytes);
    this.inputProgress(task);
  }

  /** Hold a chunk for a task not assigned yet; bounded in bytes and age, oldest dropped first. */
  private keepEarly(key: string, offset: number, bytes: Uint8Array): void {
    const now = this.ctx.clock.now();
    for (const [k, e] of this.early) {
      if (now - e.atMs > EARLY_CHUNK_TTL_MS) {
        this.early.delete(k);
        this.earlyBytes -= e.bytes;
      }
    }
    if (bytes.length > EARLY_CHUNK_BUDGET) return;
    while (this.earlyBytes + bytes.length > EARLY_CHUNK_BUDGET && this.early.size > 0) {
      const [k, e] = this.early.entries().next().value as [string, { bytes: number }];
      this.early.delete(k);
      this.earlyBytes -= e.bytes;
    }
    const entry = this.early.get(key) ?? { atMs: now, chunks: [], bytes: 0 };
    entry.chunks.push([offset, bytes]);
    entry.bytes += bytes.length;
    this.earlyBytes += bytes.length;
    this.early.set(key, entry);
  }

  private inputProgress(task: Task): void {
    if (!task.input.complete) return;
    if (!task.input.verify()) {
      // Corrupted somewhere: start over rather than compute garbage.
      this.ctx.report('input_corrupt', { owner: task.owner, jobId: task.jobId, shard: task.shard });
      task.input.reset();
      this.send(task, { type: 'DATA_WANT', jobId: task.jobId, shard: task.shard, attempt: task.attempt, stream: Stream.INPUT, ranges: [[0, task.input.length]] });
      return;
    }
    if (task.relay) {
      this.startRelay(task);
      return;
    }
    task.stage = 'queued';
    // The most urgent class computes first; within a class, first come first served.
    const rank = priorityRank(task.mission.priority);
    let at = this.runQueue.length;
    while (at > 0 && priorityRank((this.runQueue[at - 1] as Task).mission.priority) < rank) at--;
    this.runQueue.splice(at, 0, task);
    this.runNext();
  }

  private runNext(): void {
    if (this.busy) return;
    const task = this.runQueue.shift();
    if (!task) return;
    if (this.tasks.get(task.key) !== task) {
      this.runNext();
      return;
    }
    this.busy = task;
    task.stage = 'computing';
    const generation = task.generation;
    const ctx = this.ctx;
    const ops = jobOps(task.spec, task.spec.kind === 'model' ? ctx.modelProfile?.(task.spec.modelId, task.spec.modelVersion) : undefined);
    const simulatedMs = ctx.host.computeTimeMs?.(task.spec, ops) ?? null;
    const started = ctx.clock.now();
    this.send(task, { type: 'PROGRESS', jobId: task.jobId, shard: task.shard, attempt: task.attempt, stage: Stage.COMPUTING, pct: 0, etaMs: Math.round(simulatedMs ?? 0) });
    const finish = (out: Uint8Array | null, error: unknown): void => {
      if (this.busy === task) this.busy = null;
      const spent = simulatedMs ?? ctx.clock.now() - started;
      ctx.host.chargeCompute?.(spent);
      if (this.tasks.get(task.key) === task && task.generation === generation) {
        if (out) {
          task.output = out;
          task.outputCrc = crc32(out);
          task.stage = 'returning';
          ctx.report('shard_computed', { owner: task.owner, jobId: task.jobId, shard: task.shard, ms: Math.round(spent) });
          this.sendResult(task);
        } else {
          this.stats.failed++;
          const reason = error instanceof ExecutionError ? (error.code === 'MODEL_MISSING' ? Reason.MODEL_MISSING : error.code === 'BAD_INPUT' ? Reason.BAD_INPUT : Reason.EXECUTION_ERROR) : Reason.EXECUTION_ERROR;
          const detail = error instanceof Error ? error.message : String(error);
          ctx.report('shard_error', { owner: task.owner, jobId: task.jobId, shard: task.shard, detail });
          this.send(task, { type: 'FAILURE', jobId: task.jobId, shard: task.shard, attempt: task.attempt, reason, detail });
          this.drop(task);
        }
      }
      this.runNext();
    };
    runJob(ctx.executor, task.spec, task.input.data).then(
      (out) => (simulatedMs !== null ? ctx.clock.setTimer(simulatedMs, () => finish(out, null)) : finish(out, null)),
      (e: unknown) => finish(null, e),
    );
  }

  /**
   * A relayed shard runs as a job of this node's on a holder it knows, outside the run queue (nothing computes
   * here); the owner sees a worker computing, with PROGRESS as usual, and gets the holder's result from us.
   */
  private startRelay(task: Task): void {
    const ctx = this.ctx;
    task.stage = 'computing';
    const generation = task.generation;
    const requestKey = `${task.owner}:${task.jobId}`;
    const ownerDeadlineMs = this.relayDeadlines.get(requestKey) ?? ctx.clock.now() + classPolicy(task.mission).deadlineMs;
    this.relayDeadlines.delete(requestKey);
    this.send(task, { type: 'PROGRESS', jobId: task.jobId, shard: task.shard, attempt: task.attempt, stage: Stage.COMPUTING, pct: 0, etaMs: 0 });
    const started = ctx.clock.now();
    let relayed: Promise<Uint8Array>;
    if (ctx.relayShard) {
      try {
        const job = ctx.relayShard(task.spec, task.input.data, task.mission, ownerDeadlineMs - RELAY_RETURN_MS, { owner: task.owner, jobId: task.jobId });
        task.relayJobId = job.jobId;
        relayed = job.output;
      } catch (e) {
        relayed = Promise.reject(e);
      }
    } else {
      relayed = Promise.reject(new ExecutionError('MODEL_MISSING', 'this node relays no shards'));
    }
    relayed.then(
      (out) => {
        task.relayJobId = null;
        if (this.tasks.get(task.key) !== task || task.generation !== generation) return;
        task.output = out;
        task.outputCrc = crc32(out);
        task.stage = 'returning';
        ctx.report('shard_computed', { owner: task.owner, jobId: task.jobId, shard: task.shard, ms: Math.round(ctx.clock.now() - started), relay: true });
        this.sendResult(task);
      },
      (error: unknown) => {
        task.relayJobId = null;
        if (this.tasks.get(task.key) !== task || task.generation !== generation) return;
        this.stats.failed++;
        const detail = error instanceof Error ? error.message : String(error);
        ctx.report('shard_error', { owner: task.owner, jobId: task.jobId, shard: task.shard, detail, relay: true });
        this.send(task, { type: 'FAILURE', jobId: task.jobId, shard: task.shard, attempt: task.attempt, reason: Reason.EXECUTION_ERROR, detail });
        this.drop(task);
      },
    );
  }

  private sendResult(task: Task, headerOnly = false): void {
    const out = task.output;
    if (!out) return;
    const ref = { jobId: task.jobId, shard: task.shard, attempt: task.attempt };
    const link = task.link === 'ble' && this.ctx.messenger.links.ble ? this.ctx.messenger.links.ble : this.ctx.messenger.links.lora;
    const signature = task.redundant ? this.signResult(task) : null;
    const header: MessageOf<'RESULT'> = { type: 'RESULT', ...ref, status: 0, length: out.length, crc: task.outputCrc, inline: null, signature };
    // Small results ride inside the RESULT message itself.
    const inlineSize = 2 + 5 + 3 + 1 + 1 + 5 + 4 + 1 + (signature?.length ?? 0) + out.length;
    if (inlineSize <= link.maxPayload) {
      this.send(task, { ...header, inline: out });
      return;
    }
    this.send(task, header);
    if (!headerOnly) this.sendChunks(task, out, 0, out.length);
  }

  /** Our signature over what this result answers, so the owner (or anyone) can check the vote it casts. */
  private signResult(task: Task): Uint8Array {
    const out = task.output as Uint8Array;
    return this.ctx.auth.sign(resultBindingBytes({
      owner: task.owner, worker: this.ctx.num, jobId: task.jobId, shard: task.shard, attempt: task.attempt,
      inputCrc: task.inputCrc, outputCrc: task.outputCrc, length: out.length, workerKey: this.ctx.auth.publicKey,
    }));
  }

  private sendChunks(task: Task, data: Uint8Array, offset: number, length: number): void {
    const ref = { jobId: task.jobId, shard: task.shard, attempt: task.attempt };
    const link = task.link === 'ble' && this.ctx.messenger.links.ble ? this.ctx.messenger.links.ble : this.ctx.messenger.links.lora;
    const limit = this.ctx.chunkLimit(task.owner, task.link);
    for (const [off, bytes] of chunksOf(data, (o) => Math.min(limit, dataRoom(ref, o, link.maxPayload)), offset, length)) {
      this.send(task, { type: 'DATA', ...ref, stream: Stream.OUTPUT, offset: off, bytes }, true);
    }
  }

  private onDataWant(from: number, m: MessageOf<'DATA_WANT'>): void {
    const task = this.tasks.get(this.key(from, m.jobId, m.shard));
    if (!task || m.stream !== Stream.OUTPUT || !task.output) return;
    const now = this.ctx.clock.now();
    task.lastOwnerMs = now;
    if (now - task.lastResendMs < this.ctx.config.stallMs / 2) return;
    task.lastResendMs = now;
    for (const [off, len] of m.ranges) {
      if (off >= task.output.length) continue;
      this.sendChunks(task, task.output, off, Math.min(len, task.output.length - off));
    }
  }

  private onResultAck(from: number, m: MessageOf<'RESULT_ACK'>): void {
    const task = this.tasks.get(this.key(from, m.jobId, m.shard));
    if (!task) return;
    if (m.status === ResultAckStatus.REJECTED) this.stats.failed++;
    else this.stats.completed++;
    this.drop(task);
  }

  private onCancel(from: number, m: MessageOf<'CANCEL'>): void {
    for (const t of [...this.tasks.values()]) {
      if (t.owner === from && t.jobId === m.jobId && (m.shard === null || m.shard === t.shard)) {
        this.ctx.report('cancelled', { owner: from, jobId: t.jobId, shard: t.shard });
        this.drop(t);
      }
    }
  }

  private drop(task: Task): void {
    if (task.relayJobId !== null) this.ctx.cancelRelay?.(task.relayJobId);
    task.relayJobId = null;
    if (task.timer) this.ctx.clock.clearTimer(task.timer);
    task.timer = null;
    task.generation = -1;
    this.tasks.delete(task.key);
    const i = this.runQueue.indexOf(task);
    if (i >= 0) this.runQueue.splice(i, 1);
    this.ctx.loadChanged();
  }

  /** Power loss: forget everything. */
  reset(): void {
    for (const t of [...this.tasks.values()]) this.drop(t);
    this.runQueue.length = 0;
    this.busy = null;
    this.early.clear();
    this.earlyBytes = 0;
  }
}
