import { crc32 } from '@compotastic/mesh';
import type { TimerHandle } from '@compotastic/mesh';
import type { NodeContext } from '../context.js';
import { chunksOf, InboundStream } from '../jobs/stream.js';
import { type ShardSlice, mergeOutputs, sliceInput, sliceSpec } from '../jobs/split.js';
import { JobSpecError } from '../errors.js';
import { runJob } from '../jobs/executor.js';
import { type JobSpec, describeSpec, inputBytes, outputBytes, validateJobSpec } from '../jobs/spec.js';
import { jobOps } from '../scheduler/cost-model.js';
import type { LinkPath } from '../scheduler/links.js';
import { type Plan, type PlanKind, type PlanNode, nodeName, planJob } from '../scheduler/planner.js';
import { BATTERY_UNKNOWN, type MessageOf, MAX_WANT_RANGES, Reason, ResultAckStatus, Stream, dataRoom, reasonName } from '../wire/messages.js';
import { isLocalSendError } from '../transport/link.js';
import { resultBindingBytes } from '../auth/result-binding.js';
import type { MessageMeta } from '../transport/messenger.js';
import { type JobStore, MemoryJobStore, type PersistedJob } from './job-store.js';
import { type JobMission, type PriorityClass, classPolicy, priorityRank, resolveMission } from '../mission/profiles.js';

const DEFAULT_MISSION: JobMission = Object.freeze({ profile: 'default', priority: 'routine' });

export interface JobOutcome {
  id: number;
  tag: string | null;
  status: 'done' | 'failed';
  reason: string | null;
  output: Uint8Array | null;
  submittedMs: number;
  finishedMs: number;
  latencyMs: number;
  plan: PlanKind;
  /** Shard attempts made (1 per shard when nothing went wrong). */
  attempts: number;
  /** Nodes that produced the accepted shard results. */
  workers: number[];
  /** The job's class under its profile. */
  priority: PriorityClass;
}

export interface SubmitOptions {
  /** Absolute deadline on the node's clock, ms (default: now + config.defaultDeadlineMs). */
  deadlineMs?: number;
  /** A label carried into reports and outcomes. */
  tag?: string;
  /** The job's class (default: the one the node's mission profile gives the job's kind). */
  priority?: PriorityClass;
  /**
   * Only peers this node already knows can take it: no job request is broadcast, so no neighbour offers to relay it
   * (a relayed shard's own job, which must not be handed on again).
   */
  knownPeersOnly?: boolean;
}

type AttemptPhase = 'assigning' | 'running' | 'returning' | 'closed';

const MAX_ASSIGN_SENDS = 3;

interface Attempt {
  n: number;
  node: number;
  self: boolean;
  via: 'lora' | 'ble';
  phase: AttemptPhase;
  timer: TimerHandle | null;
  lastHeardMs: number;
  lastDataMs: number;
  inputSent: boolean;
  /** Last time input was re-sent on request (requests are served at most every stallMs / 2). */
  lastResendMs: number;
  assignSends: number;
  sendFailures: number;
  result: InboundStream | null;
  crcFailures: number;
  trusted: boolean;
}

interface ShardRun {
  index: number;
  slice: ShardSlice;
  spec: JobSpec;
  input: Uint8Array | null;
  inputCrc: number;
  done: boolean;
  attempts: Attempt[];
  /** Nodes that failed this shard or already returned a result for it: not asked again. */
  usedNodes: Set<number>;
  resultNodes: Set<number>;
  tries: number;
  retryTimer: TimerHandle | null;
  backoff: number;
  preferred: { node: number; self: boolean; via: 'lora' | 'ble' } | null;
  /** Untrusted results waiting for a matching copy, by CRC. */
  pending: Map<number, { bytes: Uint8Array; nodes: number[] }>;
  worker: number | null;
  awaitingOffers: boolean;
  lastOffersMs: number;
  /** Why the previous attempt ended (for the reassignment report). */
  lastLoss: string | null;
}

interface JobRun {
  p: PersistedJob;
  plan: Plan | null;
  shards: ShardRun[];
  deadlineTimer: TimerHandle | null;
  /** SubmitOptions.knownPeersOnly (not persisted: a relayed shard's job is volatile, as its worker side is). */
  knownPeersOnly?: boolean;
}

interface OfferRound {
  jobId: number;
  shard: number;
  offers: Array<{ from: number; etaMs: number; via: 'lora' | 'ble'; hops: number | null }>;
  timer: TimerHandle;
}

/**
 * The owner side of delegation. A submitted job is planned, cut into shards and handed out with ASSIGN; every
 * shard then lives under a lease renewed by anything the worker sends. A shard is reassigned when its worker
 * declines, reports a failure, goes silent past the lease, becomes unreachable, or drops below the battery
 * threshold. Results are checked (length for the shape, CRC-32) and idempotent: the first valid result of a shard
 * wins, later copies are acknowledged as duplicates. Every job ends done, or failed with a reason (the deadline at
 * the latest). Jobs, inputs and finished shard results are persisted in the JobStore, so a power cycle resumes them.
 */
export class Coordinator {
  private readonly jobs = new Map<number, JobRun>();
  private readonly listeners = new Set<(o: JobOutcome) => void>();
  private readonly offerRounds = new Map<number, OfferRound>();
  private suspended = true;

  constructor(private readonly ctx: NodeContext, private readonly store: JobStore = new MemoryJobStore()) {
    for (const p of store.load()) this.jobs.set(p.id, this.runFromPersisted(p));
  }

  /**
   * Job ids come from a keyed permutation of a persisted counter: unpredictable to anyone overhearing earlier ids,
   * and never repeated, even after the job store is lost (a replayed RESULT then names no job).
   */
  private allocateId(): number {
    for (;;) {
      const id = this.ctx.nextJobId();
      if (id !== 0 && !this.jobs.has(id)) return id;
    }
  }

  /** A job's name in reports: its tag, or owner and id. */
  private label(p: PersistedJob): string {
    return p.tag ?? `${nodeName(this.ctx.num)}/${p.id}`;
  }

  onJobEnd(listener: (o: JobOutcome) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Jobs this node owns, newest last. */
  list(): Array<{ id: number; tag: string | null; status: string; reason: string | null; plan: PlanKind | null; shards: number; done: number }> {
    return [...this.jobs.values()].map((j) => ({
      id: j.p.id,
      tag: j.p.tag,
      status: j.p.status,
      reason: j.p.reason,
      plan: j.plan?.kind ?? null,
      shards: j.shards.length,
      done: j.shards.filter((s) => s.done).length,
    }));
  }

  get activeJobs(): number {
    let n = 0;
    for (const j of this.jobs.values()) if (j.p.status === 'running') n++;
    return n;
  }

  private runFromPersisted(p: PersistedJob): JobRun {
    const shards = p.slices.map((slice, i) => this.makeShard(p, slice, i, null, p.outputs[i] ?? null));
    return { p, plan: null, shards, deadlineTimer: null };
  }

  private makeShard(p: PersistedJob, slice: ShardSlice, index: number, spec: JobSpec | null, output: Uint8Array | null): ShardRun {
    const shardSpec = spec ?? sliceSpec(p.spec, slice);
    // Pipeline stages after the first wait for the previous stage's output.
    let input: Uint8Array | null = null;
    if (slice.axis !== 'layers' || index === 0) input = sliceInput(p.spec, p.input, slice);
    else if (p.outputs[index - 1]) input = p.outputs[index - 1] as Uint8Array;
    return {
      index,
      slice,
      spec: shardSpec,
      input,
      inputCrc: input ? crc32(input) : 0,
      done: output !== null,
      attempts: [],
      usedNodes: new Set(),
      resultNodes: new Set(),
      tries: 0,
      retryTimer: null,
      backoff: 1,
      preferred: null,
      pending: new Map(),
      worker: null,
      awaitingOffers: false,
      lastOffersMs: -Infinity,
      lastLoss: null,
    };
  }

  /** Submit a job; returns its id. Throws JobSpecError for a malformed spec or an input of the wrong size. */
  submit(spec: JobSpec, input: Uint8Array, options: SubmitOptions = {}): number {
    validateJobSpec(spec);
    if (input.length !== inputBytes(spec)) throw new JobSpecError('BAD_SHAPE', `input has ${input.length} bytes, the job needs ${inputBytes(spec)}`);
    const now = this.ctx.clock.now();
    const mission = resolveMission(this.ctx.config.profile, spec, options.priority);
    const id = this.allocateId();
    const plan = this.plan(spec, new Set(), false, mission);
    const slices: ShardSlice[] = plan.kind === 'none' ? [{ axis: 'whole' }] : plan.assignments.map((a) => a.slice);
    const p: PersistedJob = {
      id,
      spec,
      input: input.slice(),
      submittedMs: now,
      deadlineMs: options.deadlineMs ?? now + (mission.profile === 'default' ? this.ctx.config.defaultDeadlineMs : classPolicy(mission).deadlineMs),
      status: 'running',
      reason: null,
      tag: options.tag ?? null,
      slices,
      outputs: slices.map(() => null),
      output: null,
      finishedMs: null,
      mission,
    };
    const run: JobRun = { p, plan, shards: [], deadlineTimer: null, ...(options.knownPeersOnly ? { knownPeersOnly: true } : {}) };
    run.shards = slices.map((slice, i) => {
      const a = plan.assignments[i];
      const s = this.makeShard(p, slice, i, a?.spec ?? null, null);
      if (a) s.preferred = { node: a.node, self: a.self, via: a.link === 'ble' ? 'ble' : 'lora' };
      return s;
    });
    this.jobs.set(id, run);
    this.store.save(p);
    const job = this.label(p);
    this.ctx.report('job_requested', { job, jobId: id, tag: p.tag, kind: spec.kind, spec: describeSpec(spec), deadlineMs: p.deadlineMs, profile: mission.profile, priority: mission.priority });
    this.ctx.report('job_planned', {
      job,
      jobId: id,
      kind: plan.kind,
      expectedMs: plan.expectedMs,
      explanation: plan.explanation,
      peers: [...new Set(plan.assignments.filter((a) => !a.self).map((a) => a.node))],
      assignments: plan.assignments.map((a) => ({ node: a.node, slice: a.slice, link: a.link, endMs: a.endMs })),
    });
    const refusal = this.refusal(mission, plan, p.deadlineMs - now);
    if (refusal) this.end(run, 'failed', refusal);
    else if (!this.suspended) this.startJob(run);
    return id;
  }

  /**
   * Admission control: why a job of this class is not started (null: it is). The channel the node measures must be
   * below the class's ceiling, and a class that fails fast is refused when its best plan (whose transfer times
   * include the channel's load and the region's duty cycle) would finish after its deadline.
   */
  private refusal(mission: JobMission, plan: Plan, remainingMs: number): string | null {
    const policy = classPolicy(mission);
    const util = Math.round(this.ctx.channelUtilPct());
    // A plan that stays off the LoRa channel (local, BLE) costs it nothing: only radio plans need its airtime.
    const onAir = plan.kind === 'none' || plan.assignments.some((a) => !a.self && a.link === 'lora');
    if (onAir && util > policy.maxChannelUtilPct) return `CHANNEL_BUSY: the channel is ${util}% busy, ${mission.priority} jobs are admitted up to ${policy.maxChannelUtilPct}%`;
    if (policy.failFast && plan.kind !== 'none' && plan.expectedMs > remainingMs) {
      return `WOULD_MISS_DEADLINE: the best plan (${plan.kind}) needs ${Math.round(plan.expectedMs / 1000)} s, the deadline is in ${Math.round(remainingMs / 1000)} s`;
    }
    return null;
  }

  private missionOf(run: JobRun): JobMission {
    return run.p.mission ?? DEFAULT_MISSION;
  }

  /** Send options of a job's messages: its class goes first or last; yielding classes give way to a busy channel. */
  private sendClass(run: JobRun, bulk: boolean): { rank: number; yieldAbovePct?: number } {
    const mission = this.missionOf(run);
    const policy = classPolicy(mission);
    return { rank: priorityRank(mission.priority), ...(bulk && policy.preemptible && policy.maxChannelUtilPct < 100 ? { yieldAbovePct: policy.maxChannelUtilPct } : {}) };
  }

  private startJob(run: JobRun): void {
    const now = this.ctx.clock.now();
    if (run.p.status !== 'running') return;
    if (now >= run.p.deadlineMs) {
      this.failJob(run, 'DEADLINE: passed while this node was down');
      return;
    }
    run.deadlineTimer = this.ctx.clock.setTimer(run.p.deadlineMs - now, () => {
      run.deadlineTimer = null;
      const open = run.shards.filter((s) => !s.done).map((s) => s.index);
      this.failJob(run, `DEADLINE: shard${open.length > 1 ? 's' : ''} ${open.join(', ')} unfinished`);
    });
    for (const s of run.shards) this.dispatch(run, s);
  }

  // ------------------------------------------------------------------------------------------ planning

  private planNodes(exclude: ReadonlySet<number>): { self: PlanNode & { canExecute: boolean }; peers: PlanNode[] } {
    const ctx = this.ctx;
    const now = ctx.clock.now();
    const peers: PlanNode[] = [];
    for (const e of ctx.registry.fresh(now)) {
      if (!e.state || e.num === ctx.num) continue;
      const links: LinkPath[] = ctx.pathsTo(e.num);
      const excluded = exclude.has(e.num) ? 'already tried for this shard' : ctx.reputation.isDemoted(e.num) ? 'demoted: its results lost redundant votes' : !ctx.auth.isAuthenticated(e.num) ? 'not authenticated' : undefined;
      peers.push({ num: e.num, state: e.state, links, mtbfMs: ctx.registry.mtbfMs(e, now), excluded });
    }
    const battery = ctx.host.batteryPct();
    const selfState = { ...ctx.local.state, battery: battery === null ? BATTERY_UNKNOWN : Math.round(battery) };
    return { self: { num: ctx.num, state: selfState, links: [], mtbfMs: Infinity, canExecute: true, excluded: exclude.has(ctx.num) ? 'already tried for this shard' : undefined }, peers };
  }

  private plan(spec: JobSpec, exclude: ReadonlySet<number>, single: boolean, mission: JobMission): Plan {
    const { self, peers } = this.planNodes(exclude);
    self.canExecute = this.ctx.executor.supports(spec);
    const profile = spec.kind === 'model' ? this.ctx.modelProfile?.(spec.modelId, spec.modelVersion) : undefined;
    // A mission's class sets the battery policy; the default profile keeps the node's own.
    const cls = classPolicy(mission);
    const battery = mission.profile === 'default' ? {} : { minPeerBatteryPct: cls.minPeerBatteryPct, reserveBatteryPct: cls.reserveBatteryPct };
    const base = { ...this.ctx.config.plan, ...battery };
    const policy = single ? { ...base, allowSplit: false, allowPipeline: false } : base;
    return planJob({ spec, self, peers, policy, profile });
  }

  /**
   * For relaying a shard this node cannot run: the expected time of the best single-peer plan among the peers it
   * knows (never `exclude`), ms, or null when no known peer can take it.
   */
  relayEstimateMs(spec: JobSpec, mission: JobMission, exclude: number): number | null {
    const plan = this.plan(spec, new Set([exclude]), true, mission);
    const a = plan.assignments[0];
    return plan.kind === 'none' || !a || a.self ? null : plan.expectedMs;
  }

  // ------------------------------------------------------------------------------------------ dispatch

  private live(s: ShardRun): Attempt[] {
    return s.attempts.filter((a) => a.phase !== 'closed');
  }

  private isTrusted(node: number): boolean {
    return node === this.ctx.num || this.ctx.config.redundancy === 'none' || (this.ctx.auth.isAuthenticated(node) && this.ctx.config.trusted(node));
  }

  /** Start attempts until the shard has as many as it needs (two untrusted copies when redundancy is on). */
  private dispatch(run: JobRun, s: ShardRun): void {
    if (this.suspended || run.p.status !== 'running' || s.done || s.input === null || s.retryTimer || s.awaitingOffers) return;
    const live = this.live(s);
    const want = this.wanted(s, live);
    if (live.length >= want) return;
    if (s.tries >= this.ctx.config.maxAttemptsPerShard) {
      if (live.length === 0) this.failJob(run, `NO_WORKER: shard ${s.index} failed ${s.tries} attempts`);
      return;
    }
    const exclude = new Set<number>([...s.usedNodes, ...live.map((a) => a.node)]);
    let choice = s.preferred && !exclude.has(s.preferred.node) ? s.preferred : null;
    s.preferred = null;
    if (choice && !choice.self) {
      const e = this.ctx.registry.get(choice.node);
      if (!e || this.ctx.registry.freshness(e, this.ctx.clock.now()) !== 'fresh') choice = null;
    }
    if (!choice) {
      const plan = this.plan(s.spec, exclude, true, this.missionOf(run));
      const a = plan.assignments[0];
      const remainingMs = run.p.deadlineMs - this.ctx.clock.now();
      if (plan.kind !== 'none' && classPolicy(this.missionOf(run)).failFast && plan.expectedMs > remainingMs) {
        this.failJob(run, `WOULD_MISS_DEADLINE: shard ${s.index} re-planned (${plan.kind}) needs ${Math.round(plan.expectedMs / 1000)} s, the deadline is in ${Math.round(remainingMs / 1000)} s`);
        return;
      }
      if (plan.kind === 'none' || !a) {
        this.ctx.report('no_plan', { jobId: run.p.id, shard: s.index, explanation: plan.explanation });
        // Nobody known can take it: ask the neighbourhood (rate-limited; falls back to a later re-plan).
        this.requestOffers(run, s);
        return;
      }
      choice = { node: a.node, self: a.self, via: a.link === 'ble' ? 'ble' : 'lora' };
    }
    this.startAttempt(run, s, choice.node, choice.self, choice.via);
    if (this.live(s).length < want) this.dispatch(run, s);
  }

  /** Attempts a shard needs at once: one, or two untrusted copies when redundancy is on. */
  private wanted(s: ShardRun, live: Attempt[]): number {
    return this.ctx.config.redundancy === 'none' || s.pending.size > 0 || live.some((a) => a.trusted) ? 1 : 2;
  }

  private retryLater(run: JobRun, s: ShardRun): void {
    if (s.retryTimer) return;
    const wait = this.ctx.config.retryBackoffMs * s.backoff * this.ctx.rng.uniform(0.75, 1.25);
    s.backoff = Math.min(8, s.backoff * 2);
    s.retryTimer = this.ctx.clock.setTimer(wait, () => {
      s.retryTimer = null;
      // Nodes that failed earlier may have recovered; give them another chance after a pause. Nodes that already
      // returned a result for this shard stay out (a second opinion must come from someone else).
      for (const n of [...s.usedNodes]) if (!s.resultNodes.has(n)) s.usedNodes.delete(n);
      this.dispatch(run, s);
    });
  }

  private requestOffers(run: JobRun, s: ShardRun): void {
    const now = this.ctx.clock.now();
    // One broadcast round at a time per job, and not more often than every few windows: it floods the mesh.
    if (run.knownPeersOnly || this.offerRounds.has(run.p.id) || now - s.lastOffersMs < 4 * this.ctx.config.offerWindowMs) {
      this.retryLater(run, s);
      return;
    }
    s.lastOffersMs = now;
    s.awaitingOffers = true;
    const deadlineS = Math.max(0, Math.min(0xffff, Math.round((run.p.deadlineMs - this.ctx.clock.now()) / 1000)));
    void this.ctx.messenger.send('broadcast', { type: 'JOB_REQUEST', jobId: run.p.id, spec: s.spec, deadlineS, mission: this.missionOf(run) }, { wantAck: false, hopLimit: this.ctx.config.discoveryHopLimit ?? undefined, ...this.sendClass(run, false) });
    const round: OfferRound = {
      jobId: run.p.id,
      shard: s.index,
      offers: [],
      timer: this.ctx.clock.setTimer(this.ctx.config.offerWindowMs, () => this.closeOffers(run, s, round)),
    };
    this.offerRounds.set(run.p.id, round);
  }

  private closeOffers(run: JobRun, s: ShardRun, round: OfferRound): void {
    this.offerRounds.delete(round.jobId);
    s.awaitingOffers = false;
    if (run.p.status !== 'running' || s.done || this.suspended) return;
    // A revived attempt may have taken the shard up while the offers came in.
    const live = this.live(s);
    if (live.length >= this.wanted(s, live)) return;
    const usable = round.offers.filter((o) => !s.usedNodes.has(o.from));
    // Closest first (each hop costs far more than compute on a willing peer), then the quickest.
    usable.sort((a, b) => (a.hops ?? 9) - (b.hops ?? 9) || a.etaMs - b.etaMs || a.from - b.from);
    const best = usable[0];
    if (!best) {
      this.retryLater(run, s);
      return;
    }
    this.ctx.report('offer_taken', { jobId: run.p.id, shard: s.index, node: best.from, offers: round.offers.length });
    this.startAttempt(run, s, best.from, false, best.via);
  }

  private startAttempt(run: JobRun, s: ShardRun, node: number, self: boolean, via: 'lora' | 'ble'): void {
    s.tries++;
    const now = this.ctx.clock.now();
    const a: Attempt = {
      n: s.tries & 0xff,
      node,
      self,
      via,
      phase: 'assigning',
      timer: null,
      lastHeardMs: now,
      lastDataMs: now,
      inputSent: false,
      lastResendMs: -Infinity,
      assignSends: 0,
      sendFailures: 0,
      result: null,
      crcFailures: 0,
      trusted: this.isTrusted(node),
    };
    s.attempts.push(a);
    if (self) {
      this.runLocal(run, s, a);
      return;
    }
    const previous = s.attempts.length > 1 ? s.lastLoss : null;
    this.ctx.report(previous === null ? 'job_assigned' : 'job_reassigned', {
      job: this.label(run.p),
      jobId: run.p.id,
      shard: s.index,
      attempt: a.n,
      peer: node,
      via,
      redundant: this.ctx.config.redundancy !== 'none' && !a.trusted,
      ...(previous !== null ? { reason: previous } : {}),
    });
    this.sendAssign(run, s, a);
    if (this.ctx.config.eagerInput) {
      a.inputSent = true;
      this.sendInput(run, s, a);
    }
  }

  /**
   * ASSIGN goes out up to three times (again at once when the radio gave up on it, else after half the accept
   * timeout): on a lossy mesh a lost ASSIGN or ACCEPT is common and cheap to repeat.
   */
  private sendAssign(run: JobRun, s: ShardRun, a: Attempt): void {
    a.assignSends++;
    const redundant = this.ctx.config.redundancy !== 'none' && !a.trusted;
    const assign: MessageOf<'ASSIGN'> = { type: 'ASSIGN', jobId: run.p.id, shard: s.index, attempt: a.n, leaseS: this.ctx.config.leaseS, redundant, inputCrc: s.inputCrc, mission: this.missionOf(run), spec: s.spec };
    const sentAt = this.ctx.clock.now();
    void this.ctx.messenger.send(a.node, assign, { via: a.via, ...this.sendClass(run, false) }).then((r) => {
      // A local refusal (queue full, duty cycle) says nothing about the peer: the accept timer resends.
      if (r.ok || a.phase !== 'assigning' || isLocalSendError(r.error) || a.lastHeardMs > sentAt) return;
      if (a.assignSends < MAX_ASSIGN_SENDS) this.sendAssign(run, s, a);
      else this.lost(run, s, a, `UNREACHABLE: ${r.error}`, 'unreachable');
    });
    this.arm(run, s, a, this.ctx.config.acceptTimeoutMs / 2);
  }

  private runLocal(run: JobRun, s: ShardRun, a: Attempt): void {
    const ctx = this.ctx;
    a.phase = 'running';
    ctx.report('local_compute', { jobId: run.p.id, shard: s.index });
    const input = s.input as Uint8Array;
    const ops = jobOps(s.spec, s.spec.kind === 'model' ? ctx.modelProfile?.(s.spec.modelId, s.spec.modelVersion) : undefined);
    const simulatedMs = ctx.host.computeTimeMs?.(s.spec, ops) ?? null;
    const started = ctx.clock.now();
    const finish = (out: Uint8Array | null, error: unknown): void => {
      if (a.phase === 'closed') return;
      ctx.host.chargeCompute?.(simulatedMs ?? ctx.clock.now() - started);
      if (!out) {
        this.lost(run, s, a, `LOCAL_ERROR: ${error instanceof Error ? error.message : String(error)}`, 'refused');
        return;
      }
      this.accept(run, s, a, out);
    };
    runJob(ctx.executor, s.spec, input).then(
      (out) => {
        if (simulatedMs !== null) a.timer = ctx.clock.setTimer(simulatedMs, () => finish(out, null));
        else finish(out, null);
      },
      (e: unknown) => finish(null, e),
    );
  }

  /** Lease bookkeeping: one timer per attempt, whose meaning follows the phase. */
  private arm(run: JobRun, s: ShardRun, a: Attempt, ms: number): void {
    if (a.timer) this.ctx.clock.clearTimer(a.timer);
    a.timer = this.ctx.clock.setTimer(ms, () => {
      a.timer = null;
      if (a.phase === 'closed' || run.p.status !== 'running') return;
      const now = this.ctx.clock.now();
      const cfg = this.ctx.config;
      if (a.phase === 'assigning') {
        if (a.assignSends < MAX_ASSIGN_SENDS) this.sendAssign(run, s, a);
        else this.lost(run, s, a, 'ACCEPT_TIMEOUT', 'silent');
        return;
      }
      if (now - a.lastHeardMs >= cfg.leaseSilenceMs) {
        this.lost(run, s, a, `LEASE_EXPIRED: silent for ${Math.round((now - a.lastHeardMs) / 1000)} s`, 'silent');
        return;
      }
      if (a.phase === 'returning' && a.result && !a.result.complete && now - a.lastDataMs >= cfg.stallMs) {
        const ranges = a.result.missing(MAX_WANT_RANGES);
        if (ranges.length) void this.ctx.messenger.send(a.node, { type: 'DATA_WANT', jobId: run.p.id, shard: s.index, attempt: a.n, stream: Stream.OUTPUT, ranges }, { via: a.via });
        a.lastDataMs = now;
      }
      this.arm(run, s, a, Math.min(cfg.leaseSilenceMs, cfg.stallMs));
    });
  }

  private heard(a: Attempt): void {
    a.lastHeardMs = this.ctx.clock.now();
  }

  private sendInput(run: JobRun, s: ShardRun, a: Attempt, offset = 0, length?: number): void {
    const input = s.input as Uint8Array;
    const ref = { jobId: run.p.id, shard: s.index, attempt: a.n };
    const link = a.via === 'ble' && this.ctx.messenger.links.ble ? this.ctx.messenger.links.ble : this.ctx.messenger.links.lora;
    const limit = this.ctx.chunkLimit(a.node, a.via);
    for (const [off, bytes] of chunksOf(input, (o) => Math.min(limit, dataRoom(ref, o, link.maxPayload)), offset, length ?? input.length - offset)) {
      // A lost chunk is not fatal: the worker asks again for what it misses, and the lease covers a vanished worker.
      void this.ctx.messenger.send(a.node, { type: 'DATA', ...ref, stream: Stream.INPUT, offset: off, bytes }, { via: a.via, priority: 'bulk', ...this.sendClass(run, true) }).then((r) => {
        if (a.phase === 'closed') return;
        if (r.ok) a.sendFailures = 0;
        else a.sendFailures++;
      });
    }
  }

  // ------------------------------------------------------------------------------------------ messages

  handle(from: number, msg: MessageOf<'ACCEPT' | 'DECLINE' | 'PROGRESS' | 'RESULT' | 'DATA' | 'DATA_WANT' | 'FAILURE' | 'OFFER'>, meta: MessageMeta): void {
    if (this.suspended) return;
    if (msg.type === 'OFFER') {
      const round = this.offerRounds.get(msg.jobId);
      if (round) round.offers.push({ from, etaMs: msg.etaMs, via: meta.link, hops: meta.hops });
      return;
    }
    const run = this.jobs.get(msg.jobId);
    if (!run) return;
    const s = run.shards[msg.shard];
    if (!s) return;
    if (msg.type === 'RESULT' || (msg.type === 'DATA' && msg.stream === Stream.OUTPUT)) {
      this.onResultTraffic(run, s, from, msg, meta);
      return;
    }
    const a = s.attempts.find((x) => x.node === from && x.n === msg.attempt && x.phase !== 'closed') ?? this.revive(run, s, from, msg);
    if (!a || run.p.status !== 'running') return;
    this.heard(a);
    switch (msg.type) {
      case 'ACCEPT':
        if (a.phase === 'assigning') {
          a.phase = 'running';
          this.arm(run, s, a, Math.min(this.ctx.config.leaseSilenceMs, this.ctx.config.stallMs));
        }
        if (!a.inputSent) {
          a.inputSent = true;
          this.sendInput(run, s, a);
        }
        return;
      case 'DECLINE':
        this.lost(run, s, a, `DECLINED: ${reasonName(msg.reason)}`, 'refused');
        return;
      case 'FAILURE':
        this.lost(run, s, a, `WORKER_FAILED: ${reasonName(msg.reason)}${msg.detail ? ` (${msg.detail})` : ''}`, 'refused');
        return;
      case 'PROGRESS':
        return;
      case 'DATA_WANT':
        if (msg.stream === Stream.INPUT && s.input && this.ctx.clock.now() - a.lastResendMs >= this.ctx.config.stallMs / 2) {
          a.lastResendMs = this.ctx.clock.now();
          for (const [off, len] of msg.ranges) if (off < s.input.length) this.sendInput(run, s, a, off, Math.min(len, s.input.length - off));
        }
        return;
      case 'DATA':
        return;
    }
  }

  /**
   * A worker we had given up on (its ACCEPT or our packets lost, a silence taken for a drop-out) still holds the
   * shard and says so (ACCEPT, PROGRESS, DATA_WANT): while nobody else has the shard, its attempt is taken up again
   * instead of starting over elsewhere. What it already received stays there; it asks for the rest itself.
   */
  private revive(run: JobRun, s: ShardRun, from: number, msg: { type: string; attempt: number }): Attempt | undefined {
    if (msg.type !== 'ACCEPT' && msg.type !== 'PROGRESS' && msg.type !== 'DATA_WANT') return undefined;
    if (run.p.status !== 'running' || s.done || this.live(s).length > 0) return undefined;
    const a = s.attempts.find((x) => x.node === from && x.n === msg.attempt && !x.self);
    if (!a) return undefined;
    a.phase = 'running';
    if (s.retryTimer) {
      this.ctx.clock.clearTimer(s.retryTimer);
      s.retryTimer = null;
    }
    this.ctx.report('attempt_revived', { jobId: run.p.id, shard: s.index, attempt: a.n, node: from, by: msg.type });
    this.arm(run, s, a, Math.min(this.ctx.config.leaseSilenceMs, this.ctx.config.stallMs));
    return a;
  }

  private onResultTraffic(run: JobRun, s: ShardRun, from: number, msg: MessageOf<'RESULT' | 'DATA'>, meta: MessageMeta): void {
    const ref = { jobId: run.p.id, shard: s.index, attempt: msg.attempt };
    if (s.done || run.p.status !== 'running') {
      if (msg.type === 'RESULT') void this.ctx.messenger.send(from, { type: 'RESULT_ACK', ...ref, status: ResultAckStatus.DUPLICATE }, { via: meta.link });
      return;
    }
    // Results are idempotent: a valid result from any attempt of this shard counts, even one we had given up on.
    const a = s.attempts.find((x) => x.node === from && x.n === msg.attempt);
    if (!a) return;
    if (a.phase === 'closed' && !a.result) {
      a.phase = 'returning';
      this.arm(run, s, a, this.ctx.config.stallMs);
    }
    this.heard(a);
    if (msg.type === 'RESULT') {
      const unsigned = this.redundant(a) && !this.signatureHolds(run, s, a, msg);
      if (unsigned || msg.status !== 0 || msg.length !== outputBytes(s.spec)) {
        void this.ctx.messenger.send(from, { type: 'RESULT_ACK', ...ref, status: ResultAckStatus.REJECTED }, { via: meta.link });
        this.lost(run, s, a, unsigned ? 'BAD_RESULT: no valid signature over its assignment' : `BAD_RESULT: ${msg.length} bytes, expected ${outputBytes(s.spec)}`, 'refused');
        return;
      }
      if (!a.result) a.result = new InboundStream(msg.length, msg.crc);
      else if (a.result.expectedCrc === null) a.result.expectedCrc = msg.crc;
      else if (a.result.expectedCrc !== msg.crc) a.result = new InboundStream(msg.length, msg.crc);
      if (a.phase !== 'closed') a.phase = 'returning';
      a.lastDataMs = this.ctx.clock.now();
      if (msg.inline) a.result.accept(0, msg.inline);
    } else {
      // Output chunks may overtake their RESULT header; the length is known from the spec, the CRC comes later.
      if (!a.result) a.result = new InboundStream(outputBytes(s.spec), null);
      if (a.phase !== 'closed') a.phase = 'returning';
      a.lastDataMs = this.ctx.clock.now();
      a.result.accept(msg.offset, msg.bytes);
    }
    if (!a.result.complete || a.result.expectedCrc === null) return;
    if (!a.result.verify()) {
      a.crcFailures++;
      this.ctx.report('result_corrupt', { jobId: run.p.id, shard: s.index, node: from, failures: a.crcFailures });
      if (a.crcFailures > 2) {
        void this.ctx.messenger.send(from, { type: 'RESULT_ACK', ...ref, status: ResultAckStatus.REJECTED }, { via: meta.link });
        this.lost(run, s, a, 'BAD_RESULT: checksum mismatch', 'refused');
        return;
      }
      a.result.reset();
      void this.ctx.messenger.send(from, { type: 'DATA_WANT', ...ref, stream: Stream.OUTPUT, ranges: [[0, a.result.length]] }, { via: meta.link });
      return;
    }
    const bytes = a.result.data;
    a.result = null;
    void this.ctx.messenger.send(from, { type: 'RESULT_ACK', ...ref, status: ResultAckStatus.ACCEPTED }, { via: meta.link });
    this.accept(run, s, a, bytes);
  }

  private redundant(a: Attempt): boolean {
    return this.ctx.config.redundancy !== 'none' && !a.trusted;
  }

  /**
   * A redundant copy's RESULT must carry the worker's signature over its assignment (job, shard, attempt, the CRC of
   * the input we sent) and its output, so the vote it casts can be checked by anyone holding the worker's key.
   */
  private signatureHolds(run: JobRun, s: ShardRun, a: Attempt, msg: MessageOf<'RESULT'>): boolean {
    const key = this.ctx.auth.peerKey(a.node);
    if (!msg.signature || !key) return false;
    const binding = resultBindingBytes({ owner: this.ctx.num, worker: a.node, jobId: run.p.id, shard: s.index, attempt: a.n, inputCrc: s.inputCrc, outputCrc: msg.crc, length: msg.length, workerKey: key });
    return this.ctx.auth.verify(a.node, binding, msg.signature);
  }

  /** The vote on a shard is decided: copies that matched the accepted result win, the others lose. */
  private settleVotes(s: ShardRun, winners: readonly number[]): void {
    for (const n of winners) if (n !== this.ctx.num) this.ctx.reputation.record(n, true);
    for (const entry of s.pending.values()) {
      if (entry.nodes === winners) continue;
      for (const n of entry.nodes) {
        if (n === this.ctx.num) continue;
        this.ctx.reputation.record(n, false);
        if (this.ctx.reputation.isDemoted(n)) this.ctx.report('peer_demoted', { peer: n, ...this.ctx.reputation.of(n) });
      }
    }
  }

  /** A verified result for a shard: done if trusted or matched by another copy, else wait for a second opinion. */
  private accept(run: JobRun, s: ShardRun, a: Attempt, bytes: Uint8Array): void {
    this.close(a);
    s.usedNodes.add(a.node);
    s.resultNodes.add(a.node);
    if (s.done) return;
    const crc = crc32(bytes);
    if (!a.trusted) {
      const entry = s.pending.get(crc) ?? { bytes, nodes: [] };
      // Two copies from one node (two attempts of it) are one opinion: a second node must agree.
      if (!entry.nodes.includes(a.node)) entry.nodes.push(a.node);
      s.pending.set(crc, entry);
      if (entry.nodes.length < 2) {
        this.ctx.report('result_unconfirmed', { jobId: run.p.id, shard: s.index, node: a.node, crc });
        this.dispatch(run, s);
        return;
      }
      this.settleVotes(s, entry.nodes);
    }
    for (const x of this.live(s)) {
      this.close(x);
      if (!x.self) void this.ctx.messenger.send(x.node, { type: 'CANCEL', jobId: run.p.id, shard: s.index, reason: Reason.SUPERSEDED }, { via: x.via, wantAck: false });
    }
    s.done = true;
    s.worker = a.node;
    if (s.retryTimer) {
      this.ctx.clock.clearTimer(s.retryTimer);
      s.retryTimer = null;
    }
    run.p.outputs[s.index] = bytes;
    this.store.save(run.p);
    if (!a.self) this.ctx.registry.recordLease(a.node, true);
    this.ctx.report('shard_done', { jobId: run.p.id, shard: s.index, node: a.node, attempts: s.tries });
    const next = run.shards[s.index + 1];
    if (s.slice.axis === 'layers' && next && next.input === null) {
      next.input = bytes;
      next.inputCrc = crc32(bytes);
      this.dispatch(run, next);
    }
    if (run.shards.every((x) => x.done)) this.finishJob(run);
  }

  private close(a: Attempt): void {
    if (a.timer) this.ctx.clock.clearTimer(a.timer);
    a.timer = null;
    a.phase = 'closed';
  }

  /**
   * An attempt stopped counting; hand the shard to someone. How it ended decides what follows:
   * - refused (declined, failed, bad result): that node is not asked for this shard again;
   * - silent (no ACCEPT, lease expired): the node may be fine on a lossy mesh or gone, so it is left out of planning
   *   for a lease's silence period or until it is heard again (other candidates go first), keeps a worse reliability
   *   record, and nothing is cancelled: a late result is still accepted;
   * - unreachable (the radio gave up): the node is left out of planning until it is heard again;
   * - revoked (its battery fell below the threshold): it is told to stop.
   */
  private lost(run: JobRun, s: ShardRun, a: Attempt, reason: string, kind: 'refused' | 'silent' | 'unreachable' | 'revoked'): void {
    if (a.phase === 'closed') return;
    this.close(a);
    if (kind !== 'silent') s.usedNodes.add(a.node);
    if (!a.self) {
      this.ctx.registry.recordLease(a.node, false);
      if (kind === 'unreachable') this.ctx.registry.markUnreachable(a.node, this.ctx.clock.now(), this.ctx.config.retryBackoffMs * 4);
      if (kind === 'silent') this.ctx.registry.markUnreachable(a.node, this.ctx.clock.now(), this.ctx.config.leaseSilenceMs);
      if (kind === 'revoked') void this.ctx.messenger.send(a.node, { type: 'CANCEL', jobId: run.p.id, shard: s.index, reason: Reason.LOW_BATTERY }, { via: a.via, wantAck: false });
    }
    s.lastLoss = reason;
    this.ctx.report('attempt_lost', { jobId: run.p.id, shard: s.index, attempt: a.n, node: a.node, reason });
    this.dispatch(run, s);
  }

  /** A peer's battery fell below the abort threshold, or it became unreachable: take its shards back now. */
  peerDegraded(num: number, why: string): void {
    for (const run of this.jobs.values()) {
      if (run.p.status !== 'running') continue;
      for (const s of run.shards) {
        for (const a of this.live(s)) if (a.node === num && !a.self) this.lost(run, s, a, why, 'revoked');
      }
    }
  }

  /** Whether this node has shards out with a peer (so its state changes matter right now). */
  hasWorkWith(num: number): boolean {
    for (const run of this.jobs.values()) for (const s of run.shards) if (this.live(s).some((a) => a.node === num)) return true;
    return false;
  }

  // ------------------------------------------------------------------------------------------ ends

  private finishJob(run: JobRun): void {
    let output: Uint8Array;
    try {
      output = mergeOutputs(run.p.spec, run.p.slices, run.p.outputs as Uint8Array[]);
    } catch (e) {
      this.failJob(run, `MERGE_FAILED: ${(e as Error).message}`);
      return;
    }
    if (output.length !== outputBytes(run.p.spec)) {
      this.failJob(run, `MERGE_FAILED: ${output.length} bytes, expected ${outputBytes(run.p.spec)}`);
      return;
    }
    run.p.output = output;
    this.end(run, 'done', null);
  }

  /** Gives up a running job of this node's: its workers get CANCEL, its outcome is failed CANCELLED. */
  cancel(jobId: number, why: string): void {
    const run = this.jobs.get(jobId);
    if (run) this.failJob(run, `CANCELLED: ${why}`);
  }

  private failJob(run: JobRun, reason: string): void {
    if (run.p.status !== 'running') return;
    for (const s of run.shards) {
      if (s.retryTimer) this.ctx.clock.clearTimer(s.retryTimer);
      s.retryTimer = null;
      for (const a of this.live(s)) {
        this.close(a);
        if (!a.self) void this.ctx.messenger.send(a.node, { type: 'CANCEL', jobId: run.p.id, shard: s.index, reason: Reason.CANCELLED }, { via: a.via, wantAck: false });
      }
    }
    this.end(run, 'failed', reason);
  }

  private end(run: JobRun, status: 'done' | 'failed', reason: string | null): void {
    const now = this.ctx.clock.now();
    if (run.deadlineTimer) this.ctx.clock.clearTimer(run.deadlineTimer);
    run.deadlineTimer = null;
    const round = this.offerRounds.get(run.p.id);
    if (round) {
      this.ctx.clock.clearTimer(round.timer);
      this.offerRounds.delete(run.p.id);
    }
    run.p.status = status;
    run.p.reason = reason;
    run.p.finishedMs = now;
    this.store.save(run.p);
    const outcome: JobOutcome = {
      id: run.p.id,
      tag: run.p.tag,
      status,
      reason,
      output: run.p.output,
      submittedMs: run.p.submittedMs,
      finishedMs: now,
      latencyMs: now - run.p.submittedMs,
      plan: run.plan?.kind ?? 'none',
      attempts: run.shards.reduce((n, s) => n + s.tries, 0),
      workers: run.shards.map((s) => s.worker ?? -1).filter((w) => w >= 0),
      priority: this.missionOf(run).priority,
    };
    this.ctx.report(status === 'done' ? 'job_done' : 'job_failed', {
      job: this.label(run.p),
      jobId: run.p.id,
      tag: run.p.tag,
      latencyMs: outcome.latencyMs,
      reason,
      attempts: outcome.attempts,
      workers: outcome.workers.map(nodeName),
    });
    for (const l of this.listeners) l(outcome);
  }

  // ------------------------------------------------------------------------------------------ power

  /** Power loss: timers and in-flight attempts are volatile; jobs, inputs and finished shards stay in the store. */
  suspend(): void {
    this.suspended = true;
    for (const round of this.offerRounds.values()) this.ctx.clock.clearTimer(round.timer);
    this.offerRounds.clear();
    for (const run of this.jobs.values()) {
      if (run.deadlineTimer) this.ctx.clock.clearTimer(run.deadlineTimer);
      run.deadlineTimer = null;
      for (const s of run.shards) {
        if (s.retryTimer) this.ctx.clock.clearTimer(s.retryTimer);
        s.retryTimer = null;
        s.awaitingOffers = false;
        for (const a of s.attempts) this.close(a);
      }
    }
  }

  /** Power back: resume every unfinished job from the store (deadlines that passed meanwhile fail the job). */
  resume(): void {
    this.suspended = false;
    // Attempts started before the outage stay answerable: a worker may still deliver their results.
    for (const run of this.jobs.values()) if (run.p.status === 'running') this.startJob(run);
  }
}
