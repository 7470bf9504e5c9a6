import { Prng, type TimerHandle } from '@compotastic/mesh';
import { type AdmissionCheck, Authenticator } from './auth/authenticator.js';
import { JobIdPermutation } from './auth/job-ids.js';
import { type NodeKeyPair, keyPairFromPrng, keyPairFromSecret } from './auth/keys.js';
import { Reputation } from './auth/reputation.js';
import { type AuthRejection, SealedLink } from './auth/sealed-link.js';
import { type AuthStore, MemoryAuthStore } from './auth/store.js';
import { type NodeContext, type NodeHost, type OrchestratorConfig, resolveConfig } from './context.js';
import { Coordinator, type JobOutcome, type SubmitOptions } from './delegation/coordinator.js';
import { type JobStore } from './delegation/job-store.js';
import { Worker } from './delegation/worker.js';
import { type JobMission, workBatteryFloorPct } from './mission/profiles.js';
import { OrchestratorError } from './errors.js';
import { ExecutionError, type Executor } from './jobs/executor.js';
import type { JobSpec } from './jobs/spec.js';
import type { BleAdapter } from './registry/ble.js';
import { type CapabilityRecord, decodeCapabilityRecord, encodeCapabilityRecord } from './registry/capability.js';
import { CapabilityRegistry } from './registry/registry.js';
import { type AdvertisedState, LocalCapabilities } from './registry/state.js';
import type { ModelProfile } from './scheduler/cost-model.js';
import { type LinkPath, bestDataChunk } from './scheduler/links.js';
import { nodeName } from './scheduler/planner.js';
import type { MeshLink } from './transport/link.js';
import { type MessageMeta, Messenger } from './transport/messenger.js';
import { AuthRejectReason, BATTERY_UNKNOWN, type Detection, type Message, Stream } from './wire/messages.js';

export interface OrchestratorOptions {
  host: NodeHost;
  mesh: MeshLink;
  ble?: BleAdapter;
  executor: Executor;
  /** What this node advertises (battery, load and epoch are filled in at run time). */
  capabilities: Omit<CapabilityRecord, 'epoch'>;
  /** Seed for every random choice this node makes (ids, jitter). */
  seed: number;
  config?: Partial<OrchestratorConfig>;
  store?: JobStore;
  /**
   * The node's Ed25519 identity key (32-byte secret). Without it the key is drawn from `seed`, which suits simulated
   * swarms and tests only: anyone who knows the seed holds the key.
   */
  identity?: { secretKey: Uint8Array };
  /** Where pinned peer keys, counters and reputations persist (default: memory, lost with the process). */
  authStore?: AuthStore;
  /** Swarm admission: refuse peers whose key this does not admit (e.g. no valid operator certificate). */
  admit?: AdmissionCheck;
  /** This node's swarm certificate (from `issueCertificate`), carried with its key introductions. */
  certificate?: Uint8Array;
  modelProfile?(modelId: number, modelVersion: number): ModelProfile | undefined;
  /** A neighbour that drops this layer's port was seen. */
  onRouterWarning?: (w: { kind: 'router-neighbour'; router: number; peer: null; message: string }) => void;
}

export interface OrchestratorStats {
  peersKnown: number;
  peersFresh: number;
  adverts: number;
  deltas: number;
  heartbeats: number;
  queries: number;
}

/**
 * One node of the compute layer: advertises its capabilities and keeps the registry of its peers, plans and owns
 * the jobs submitted here (Coordinator), and runs shards for others (Worker). It talks to the mesh only through a
 * MeshLink (a Meshtastic radio via @meshtastic/core's MeshDevice, real or simulated) and optionally BLE. `start()` and
 * `stop()` follow the device's power: stop forgets everything volatile, start resumes persisted jobs.
 */
export class Orchestrator {
  readonly num: number;
  readonly config: OrchestratorConfig;
  readonly registry: CapabilityRegistry;
  readonly local: LocalCapabilities;
  readonly messenger: Messenger;
  readonly coordinator: Coordinator;
  readonly worker: Worker;
  readonly auth: Authenticator;
  readonly reputation: Reputation;
  readonly stats: OrchestratorStats = { peersKnown: 0, peersFresh: 0, adverts: 0, deltas: 0, heartbeats: 0, queries: 0 };
  private readonly ctx: NodeContext;
  private readonly rng: Prng;
  private readonly timers = new Set<TimerHandle>();
  private running = false;
  private lastBroadcastMs = -Infinity;
  private startedMs = 0;
  private lastDeltaMs = -Infinity;
  private readonly lastReplyMs = new Map<number, number>();
  private deltaPending = false;
  private readonly warnedRouters = new Set<number>();
  private readonly willingToWork: boolean;
  private readonly lastRejectMs = new Map<number, number>();
  private readonly detectionListeners: ((from: number, detection: Detection, meta: MessageMeta) => void)[] = [];

  constructor(private readonly options: OrchestratorOptions) {
    const { host, mesh } = options;
    this.num = mesh.nodeNum;
    this.config = resolveConfig(options.config);
    this.rng = new Prng(options.seed >>> 0);
    this.registry = new CapabilityRegistry({ defaultTtlS: this.ttlS() });
    this.willingToWork = options.capabilities.acceptsJobs;
    this.local = new LocalCapabilities(this.currentState({ ...options.capabilities, epoch: 0 }));
    const keys: NodeKeyPair = options.identity ? keyPairFromSecret(options.identity.secretKey) : keyPairFromPrng(this.rng.derive('identity'));
    this.auth = new Authenticator({ num: this.num, keys, store: options.authStore ?? new MemoryAuthStore(), admit: options.admit, certificate: options.certificate });
    this.reputation = new Reputation(this.auth.durable);
    const jobIds = new JobIdPermutation(keys.secretKey);
    const onReject = (r: AuthRejection): void => this.onAuthReject(r);
    const ble = options.ble?.link;
    this.messenger = new Messenger(
      { lora: new SealedLink(mesh, this.auth, onReject), ble: ble ? new SealedLink(ble, this.auth, onReject) : undefined },
      {
        clock: host.clock,
        onDecodeError: (from, e) => this.report('decode_error', { from, code: e.code, message: e.message }),
        channelUtilPct: () => mesh.facts().channelUtilPct,
        hopLimitFor: (to) => this.dmHopLimit(to),
      },
    );
    this.ctx = {
      num: this.num,
      host,
      clock: host.clock,
      rng: this.rng.derive('delegation'),
      config: this.config,
      messenger: this.messenger,
      registry: this.registry,
      local: this.local,
      executor: options.executor,
      auth: this.auth,
      reputation: this.reputation,
      nextJobId: () => jobIds.idFor(this.auth.uniqueValue()),
      pathsTo: (num) => this.pathsTo(num),
      chunkLimit: (num, via) => this.chunkLimit(num, via),
      channelUtilPct: () => mesh.facts().channelUtilPct,
      modelProfile: options.modelProfile,
      report: (type, data) => this.report(type, data),
      loadChanged: () => this.refreshState(false),
      relayEtaMs: (spec, mission, exclude) => this.coordinator.relayEstimateMs(spec, mission, exclude),
      relayShard: (spec, input, mission, deadlineMs, origin) => this.relayShard(spec, input, mission, deadlineMs, origin),
      cancelRelay: (jobId) => this.coordinator.cancel(jobId, 'the relayed shard left this node'),
    };
    this.worker = new Worker(this.ctx);
    this.coordinator = new Coordinator(this.ctx, options.store);
    this.messenger.onMessage((from, msg, meta) => this.onMessage(from, msg, meta));
  }

  private ttlS(): number {
    return Math.min(0xffff, Math.round((3 * this.config.heartbeatIntervalMs) / 1000 + 120));
  }

  private report(type: string, data: Record<string, unknown>): void {
    this.options.host.report?.(type, { node: this.num, ...data });
  }

  get isRunning(): boolean {
    return this.running;
  }

  // ---------------------------------------------------------------------------------------------- lifecycle

  /** Power on: schedule the first advert, periodic state upkeep, and resume persisted jobs. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedMs = this.options.host.clock.now();
    this.refreshState(true);
    this.after(this.rng.uniform(0, this.config.startJitterMs), () => this.broadcastAdvert());
    this.every(this.config.deltaMinIntervalMs, () => this.upkeep());
    if (this.options.ble) this.every(Math.min(this.config.deltaMinIntervalMs, 60_000), () => this.bleScan());
    this.coordinator.resume();
  }

  /** Power off: everything volatile goes (timers, worker shards, queued packets); persisted jobs stay. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    for (const t of this.timers) this.options.host.clock.clearTimer(t);
    this.timers.clear();
    this.coordinator.suspend();
    this.worker.reset();
    this.messenger.reset();
  }

  /** Stop for good and detach from the links. */
  close(): void {
    this.stop();
    this.messenger.stop();
    this.options.ble?.close();
  }

  private after(ms: number, fn: () => void): void {
    const h = this.options.host.clock.setTimer(ms, () => {
      this.timers.delete(h);
      if (this.running) fn();
    });
    this.timers.add(h);
  }

  private every(ms: number, fn: () => void): void {
    const tick = (): void => {
      fn();
      this.after(ms * this.rng.uniform(0.9, 1.1), tick);
    };
    this.after(ms * this.rng.uniform(0.5, 1.0), tick);
  }

  // ---------------------------------------------------------------------------------------------- jobs

  submit(spec: JobSpec, input: Uint8Array, options?: SubmitOptions): number {
    return this.coordinator.submit(spec, input, options);
  }

  onJobEnd(listener: (o: JobOutcome) => void): () => void {
    return this.coordinator.onJobEnd(listener);
  }

  /** A shard taken as a relay runs as our own job, on peers we know, and its output answers the owner's shard. */
  private relayShard(spec: JobSpec, input: Uint8Array, mission: JobMission, deadlineMs: number, origin: { owner: number; jobId: number }): { jobId: number; output: Promise<Uint8Array> } {
    // The job may end inside submit (refused at admission), before its id is known.
    const endedEarly = new Map<number, JobOutcome>();
    let id: number | null = null;
    let settle: (o: JobOutcome) => void = (o) => void endedEarly.set(o.id, o);
    const off = this.coordinator.onJobEnd((o) => {
      if (id === null) endedEarly.set(o.id, o);
      else if (o.id === id) settle(o);
    });
    try {
      id = this.coordinator.submit(spec, input, { deadlineMs, priority: mission.priority, tag: `relay ${origin.owner.toString(16)}/${origin.jobId}`, knownPeersOnly: true });
    } catch (e) {
      off();
      throw e;
    }
    const jobId = id;
    const output = new Promise<Uint8Array>((resolve, reject) => {
      settle = (o) => {
        off();
        if (o.status === 'done' && o.output) resolve(o.output);
        else reject(new ExecutionError('ENGINE', `relayed job ${o.id} failed: ${o.reason ?? 'no result'}`));
      };
      const early = endedEarly.get(jobId);
      if (early) settle(early);
    });
    return { jobId, output };
  }

  // ---------------------------------------------------------------------------------------------- own state

  private currentState(record: CapabilityRecord): AdvertisedState {
    const host = this.options.host;
    const battery = host.batteryPct();
    const facts = this.options.mesh.facts();
    const lowBattery = battery !== null && !record.externalPower && battery < workBatteryFloorPct(this.config.profile, this.config.acceptBatteryPct);
    // A radio that drops our port could be assigned work but would never hear about it.
    return {
      record: { ...record, freeRamKiB: host.freeRamKiB(), acceptsJobs: this.willingToWork && !lowBattery && !facts.portBlocked, portBlocked: facts.portBlocked },
      battery: battery === null ? BATTERY_UNKNOWN : Math.max(0, Math.min(100, Math.round(battery))),
      load: Math.min(255, this.worker?.load ?? 0),
      channelUtil: Math.max(0, Math.min(100, Math.round(facts.channelUtilPct))),
      ttlS: this.ttlS(),
    };
  }

  /**
   * Fold the device's current numbers into the advertised state. Small battery moves are held back; crossing the
   * accept threshold (which flips acceptsJobs) is sent at once so owners stop choosing this node.
   */
  private refreshState(force: boolean): void {
    const prev = this.local.state;
    const next = this.currentState(prev.record);
    const step = this.config.batteryDeltaStepPct;
    if (!force && prev.battery !== BATTERY_UNKNOWN && next.battery !== BATTERY_UNKNOWN && Math.abs(next.battery - prev.battery) < step && next.record.acceptsJobs === prev.record.acceptsJobs) {
      next.battery = prev.battery;
    }
    // Channel utilization moves all the time; a delta for every point of it would flood the mesh every few minutes.
    if (!force && Math.abs(next.channelUtil - prev.channelUtil) < this.config.channelUtilDeltaStepPct) next.channelUtil = prev.channelUtil;
    const urgent = next.record.acceptsJobs !== prev.record.acceptsJobs;
    if (this.local.update(next)) this.deltaPending = true;
    if (urgent && this.running) this.sendDelta();
  }

  /**
   * Change what this node advertises about itself (e.g. a model installed over the air). Peers learn it from a state
   * delta sent at once.
   */
  updateCapabilities(record: Partial<Omit<CapabilityRecord, 'epoch'>>): void {
    if (!this.local.update({ record })) return;
    this.deltaPending = true;
    if (this.running) this.sendDelta();
  }

  private broadcastAdvert(): void {
    this.refreshState(true);
    this.stats.adverts++;
    this.lastBroadcastMs = this.options.host.clock.now();
    this.deltaPending = false;
    this.publishBle();
    const advert = this.local.advert();
    this.report('capability', { ...advert.record, battery: advert.battery, load: advert.load, channelUtil: advert.channelUtil });
    void this.messenger.send('broadcast', advert, { wantAck: false, hopLimit: this.config.discoveryHopLimit ?? undefined });
    this.after(this.config.advertIntervalMs * this.rng.uniform(0.9, 1.1), () => this.broadcastAdvert());
  }

  private sendDelta(): void {
    const delta = this.local.nextDelta();
    if (!delta) return;
    const now = this.options.host.clock.now();
    this.lastBroadcastMs = now;
    this.lastDeltaMs = now;
    this.deltaPending = false;
    if (Object.keys(delta.values).length === 0) this.stats.heartbeats++;
    else this.stats.deltas++;
    this.publishBle();
    void this.messenger.send('broadcast', delta, { wantAck: false, hopLimit: this.config.discoveryHopLimit ?? undefined });
  }

  /** Periodic: fold in device numbers, send a delta or a heartbeat when due, prune the registry, check battery. */
  private upkeep(): void {
    const now = this.options.host.clock.now();
    this.refreshState(false);
    this.worker.checkBattery();
    if (this.deltaPending && now - this.lastDeltaMs >= this.config.deltaMinIntervalMs) this.sendDelta();
    else if (now - this.lastBroadcastMs >= this.config.heartbeatIntervalMs) this.sendDelta();
    this.registry.prune(now);
    this.stats.peersKnown = this.registry.all().length;
    this.stats.peersFresh = this.registry.fresh(now).length;
  }

  private publishBle(): void {
    const ble = this.options.ble;
    if (!ble) return;
    const s = this.local.state;
    ble.publish(encodeCapabilityRecord(s.record), s.battery);
  }

  private bleScan(): void {
    const ble = this.options.ble;
    if (!ble) return;
    const near = ble.scan().filter((n) => n !== this.num);
    this.registry.setBleNeighbors(near);
    const now = this.options.host.clock.now();
    for (const peer of near) {
      // The GATT record is not authenticated, but it only informs planning: every message to the peer is sealed for
      // its pinned key (none yet: NO_PEER_KEY), so a spoofed record cannot draw work to another device.
      const e = this.registry.get(peer);
      if (e && e.state && now - e.lastAdvertMs < this.config.advertIntervalMs) continue;
      ble.read(peer).then(
        (r) => {
          if (!this.running) return;
          try {
            const record = decodeCapabilityRecord(r.record);
            const prior = this.registry.get(peer)?.state;
            this.registry.applyBleRead(peer, { record, battery: r.battery, load: prior?.load ?? 0, channelUtil: prior?.channelUtil ?? 0, ttlS: prior?.ttlS ?? this.ttlS() }, this.options.host.clock.now());
            this.registry.setBleNeighbors(near);
          } catch (e) {
            if (e instanceof OrchestratorError) this.report('decode_error', { from: peer, code: e.code, message: e.message, link: 'ble' });
            else throw e;
          }
        },
        () => undefined,
      );
    }
  }

  // ---------------------------------------------------------------------------------------------- peers

  /** Links that reach a peer, with the numbers the cost model needs. */
  pathsTo(num: number): LinkPath[] {
    const paths: LinkPath[] = [];
    const e = this.registry.get(num);
    const facts = this.options.mesh.facts();
    const hops = e?.hops ?? this.options.mesh.hopsTo(num);
    const hopCount = Math.max(1, hops === null ? facts.hopLimit : hops + 1);
    paths.push({
      kind: 'lora',
      preset: facts.preset,
      hops: hopCount,
      channelUtilPct: Math.max(facts.channelUtilPct, e?.state?.channelUtil ?? 0),
      dutyCyclePct: facts.dutyCyclePct,
      txUtilPct: facts.txUtilPct,
      maxPayload: this.messenger.links.lora.maxPayload,
    });
    const ble = this.options.ble;
    if (ble && e?.bleNear) paths.push(ble.path);
    return paths;
  }

  /** Relays to a peer as last heard, plus one spare, within the radio's limit (undefined: unknown, the radio's). */
  private dmHopLimit(num: number): number | undefined {
    const relays = this.registry.get(num)?.hops ?? this.options.mesh.hopsTo(num);
    if (relays === null || relays === undefined) return undefined;
    return Math.min(this.options.mesh.facts().hopLimit, relays + 1);
  }

  /** Tensor bytes per DATA message to a peer: the link's limit, or less on a busy LoRa channel. */
  chunkLimit(num: number, via: 'lora' | 'ble'): number {
    if (via === 'ble') return Infinity;
    const lora = this.pathsTo(num).find((p) => p.kind === 'lora');
    return lora && lora.kind === 'lora' ? bestDataChunk(lora) : Infinity;
  }

  private onMessage(from: number, msg: Message, meta: MessageMeta): void {
    if (!this.running || from === this.num) return;
    const now = this.options.host.clock.now();
    const hops = meta.link === 'ble' ? 0 : meta.hops;
    const known = this.registry.get(from);
    const wasFresh = known !== undefined && known.state !== null && this.registry.freshness(known, now) === 'fresh';
    this.registry.heard(from, now, { hops, snr: meta.snr });
    switch (msg.type) {
      case 'CAP_ADVERT': {
        this.registry.applyAdvert(from, msg, now, { hops, snr: meta.snr });
        if (!wasFresh) this.report('peer', { peer: from, hops, via: meta.link, deviceClass: msg.record.deviceClass, gops: msg.record.gops, battery: msg.battery, acceptsJobs: msg.record.acceptsJobs });
        this.checkPeer(from, hops);
        // A node that was away for longer than our TTL, or one that just arrived while we were already running, has
        // missed our advert: answer it, if it is close. (At start-up everyone is new to everyone and the staggered
        // first adverts cover it; answering those too would flood the channel.)
        const newcomer = known === undefined && now - this.startedMs > this.config.startJitterMs;
        if (!wasFresh && (known !== undefined || newcomer) && this.willingToWork && (hops ?? 99) < this.config.advertReplyHops && this.amongRepliers(now, from)) {
          this.replyAdvert(from, meta.link);
        }
        return;
      }
      case 'STATE_DELTA': {
        const outcome = this.registry.applyDelta(from, msg, now, { hops, snr: meta.snr });
        // A nearby worker of ours whose update we missed is asked for its full record; everyone else (and unknown
        // nodes) is refreshed by the periodic advert, which costs the mesh less than a query and a reply.
        if (outcome === 'gap' && (hops ?? 99) < this.config.advertReplyHops && this.coordinator.hasWorkWith(from)) {
          this.rateLimited(from, () => {
            this.stats.queries++;
            void this.messenger.send(from, { type: 'CAP_QUERY', wantAdvert: true }, { via: meta.link });
          });
        }
        this.checkPeer(from, hops);
        return;
      }
      case 'CAP_QUERY':
        if (msg.wantAdvert) this.replyAdvert(from, meta.link);
        return;
      case 'JOB_REQUEST':
      case 'ASSIGN':
      case 'RESULT_ACK':
      case 'CANCEL':
        this.worker.handle(from, msg, meta);
        return;
      case 'DATA':
        // Input flows owner -> worker, output worker -> owner.
        if (msg.stream === Stream.INPUT) this.worker.handle(from, msg, meta);
        else this.coordinator.handle(from, msg, meta);
        return;
      case 'DATA_WANT':
        // A request for input comes from a worker; a request for output comes from an owner.
        if (msg.stream === Stream.INPUT) this.coordinator.handle(from, msg, meta);
        else this.worker.handle(from, msg, meta);
        return;
      case 'OFFER':
      case 'ACCEPT':
      case 'DECLINE':
      case 'PROGRESS':
      case 'RESULT':
      case 'FAILURE':
        this.coordinator.handle(from, msg, meta);
        return;
      case 'AUTH_REJECT':
        this.auth.forgetConfirmation(from);
        this.report('auth_rejected_by_peer', { peer: from, reason: msg.reason === AuthRejectReason.KEY_CONFLICT ? 'KEY_CONFLICT' : 'NOT_ADMITTED' });
        return;
      case 'DETECTION': {
        const { type: _type, ...detection } = msg;
        this.report('detection_heard', { peer: from, hops, ...detection });
        for (const l of this.detectionListeners) l(from, detection, meta);
        return;
      }
      case 'FRAGMENT':
        return;
    }
  }

  /**
   * Tells the mesh what this node's detector heard: one DETECTION (10 bytes before the authentication trailer),
   * broadcast and signed by default, or sealed for one listener. Never retried: a detection is news only while fresh.
   */
  sendDetection(detection: Detection, to: number | 'broadcast' = 'broadcast'): Promise<boolean> {
    return this.messenger.send(to, { type: 'DETECTION', ...detection }, { wantAck: false }).then((r) => r.ok);
  }

  /** Called for every DETECTION heard from a peer (after authentication). */
  onDetection(listener: (from: number, detection: Detection, meta: MessageMeta) => void): () => void {
    this.detectionListeners.push(listener);
    return () => {
      const i = this.detectionListeners.indexOf(listener);
      if (i >= 0) this.detectionListeners.splice(i, 1);
    };
  }

  /**
   * A packet failed authentication. A device that proved it holds a key, but not the one pinned for its number (or
   * one the swarm does not admit), is told so, sealed for the key it presented, at most once per advert interval.
   */
  private onAuthReject(r: AuthRejection): void {
    this.report('auth_reject', { from: r.from, code: r.code, message: r.message, link: r.link });
    if (!this.running || !r.presentedKey) return;
    const reason = r.code === 'KEY_CONFLICT' ? AuthRejectReason.KEY_CONFLICT : r.code === 'NOT_ADMITTED' ? AuthRejectReason.NOT_ADMITTED : null;
    if (reason === null) return;
    const now = this.options.host.clock.now();
    if (now - (this.lastRejectMs.get(r.from) ?? -Infinity) < this.config.advertIntervalMs) return;
    this.lastRejectMs.set(r.from, now);
    void this.messenger.send(r.from, { type: 'AUTH_REJECT', reason }, { via: r.link, wantAck: false, peerKey: r.presentedKey });
  }

  /** Whether we are among the few willing workers (advertRepliers on average) that answer a newcomer's advert. */
  private amongRepliers(now: number, newcomer: number): boolean {
    const willing = 1 + this.registry.fresh(now).filter((e) => e.num !== newcomer && e.state?.record.acceptsJobs).length;
    return willing <= this.config.advertRepliers || this.rng.uniform(0, willing) < this.config.advertRepliers;
  }

  private rateLimited(peer: number, fn: () => void): void {
    const now = this.options.host.clock.now();
    const last = this.lastReplyMs.get(peer) ?? -Infinity;
    if (now - last < this.config.advertIntervalMs / 2) return;
    this.lastReplyMs.set(peer, now);
    fn();
  }

  private replyAdvert(peer: number, via: 'lora' | 'ble'): void {
    this.rateLimited(peer, () => {
      this.after(this.rng.uniform(1000, 20_000), () => {
        this.refreshState(true);
        void this.messenger.send(peer, this.local.advert(), { via, wantAck: false });
      });
    });
  }

  /**
   * A peer's new state may end the work we gave it (battery below the abort threshold), and a direct neighbour whose
   * radio drops our port will not relay for us either.
   */
  private checkPeer(num: number, hops: number | null): void {
    const s = this.registry.get(num)?.state;
    if (!s) return;
    if (s.record.portBlocked && hops === 0 && !this.warnedRouters.has(num)) {
      this.warnedRouters.add(num);
      const message = `neighbour ${nodeName(num)} drops this layer's port (rebroadcast_mode CORE_PORTNUMS_ONLY): it relays none of our packets, so paths through it fail`;
      this.report('router_warning', { kind: 'router-neighbour', router: num, message });
      this.options.onRouterWarning?.({ kind: 'router-neighbour', router: num, peer: null, message });
    }
    if (!this.coordinator.hasWorkWith(num)) return;
    if (!s.record.externalPower && s.battery !== BATTERY_UNKNOWN && s.battery < this.config.abortBatteryPct) {
      this.coordinator.peerDegraded(num, `PEER_LOW_BATTERY: ${s.battery}%`);
    }
  }

  /** The radio reports a peer unreachable (routing failure on a packet to it). */
  peerUnreachable(num: number): void {
    this.registry.markUnreachable(num, this.options.host.clock.now(), this.config.retryBackoffMs * 4);
  }

  /**
   * Ask the nodes within `hopLimit` relays (0: direct neighbours) for their capability records, e.g. after arriving
   * somewhere: each answers with its advert after a random delay (rate-limited per asker).
   */
  discoverNeighbours(hopLimit = 0): Promise<boolean> {
    this.stats.queries++;
    return this.messenger.send('broadcast', { type: 'CAP_QUERY', wantAdvert: true }, { wantAck: false, hopLimit }).then((r) => r.ok);
  }
}
