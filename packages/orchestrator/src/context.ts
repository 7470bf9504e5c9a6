import type { Clock, Prng } from '@compotastic/mesh';
import type { Authenticator } from './auth/authenticator.js';
import type { Reputation } from './auth/reputation.js';
import type { Executor } from './jobs/executor.js';
import type { JobSpec } from './jobs/spec.js';
import type { CapabilityRegistry } from './registry/registry.js';
import type { LocalCapabilities } from './registry/state.js';
import type { ModelProfile } from './scheduler/cost-model.js';
import type { LinkPath } from './scheduler/links.js';
import { DEFAULT_PLAN_POLICY, type PlanPolicy } from './scheduler/planner.js';
import { type JobMission, type ProfileName, missionProfile } from './mission/profiles.js';
import type { Messenger } from './transport/messenger.js';

/** The device the orchestrator runs on: time, power, memory, and hooks a simulator uses. */
export interface NodeHost {
  clock: Clock;
  /** Battery 0..100, or null on external power or when unknown. */
  batteryPct(): number | null;
  /** Memory free for jobs, KiB. */
  freeRamKiB(): number;
  /**
   * How long a job takes on this device. Simulated devices return the modelled time (the result is still computed
   * for real); real devices return null and the measured time counts.
   */
  computeTimeMs?(spec: JobSpec, ops: number | null): number | null;
  /** Charge compute energy to the battery. */
  chargeCompute?(ms: number): void;
  /** Application events for a trace or log. */
  report?(type: string, data: Record<string, unknown>): void;
}

export interface OrchestratorConfig {
  /** Meshtastic port (default PRIVATE_APP, 256). */
  portnum: number;
  /** Liveness heartbeat (an empty state delta) when nothing else was broadcast, ms. */
  heartbeatIntervalMs: number;
  /** Full capability advert, ms. */
  advertIntervalMs: number;
  /** State deltas no more often than this, except when a battery threshold is crossed, ms. */
  deltaMinIntervalMs: number;
  /** Battery changes smaller than this do not by themselves trigger a delta, percent. */
  batteryDeltaStepPct: number;
  /** Channel utilization changes smaller than this do not by themselves trigger a delta, percent (1: any change). */
  channelUtilDeltaStepPct: number;
  /** First advert after start is delayed by up to this much (so a swarm does not transmit at once), ms. */
  startJitterMs: number;
  /** Hop limit for registry broadcasts (null: the radio's). */
  discoveryHopLimit: number | null;
  /** Answer a newcomer's advert with ours when it is at most this many hops away. */
  advertReplyHops: number;
  /**
   * How many of the willing workers that hear a newcomer answer it, on average: each answers with probability this
   * over the willing workers it knows, so the replies stay bounded as the mesh grows (every one of N answering is N
   * unicasts, each flooded, per newcomer). The rest reach it with their periodic adverts.
   */
  advertRepliers: number;
  /** Worker: progress report (lease heartbeat) interval, ms. */
  progressIntervalMs: number;
  /**
   * A gap in incoming data this long triggers a DATA_WANT, ms (and a DATA_WANT is served at most every half of it).
   * Longer than one packet's retries on a busy LoRa channel (the radio's three retransmissions, with two packets in
   * flight): asking sooner makes the sender repeat chunks that are still on their way.
   */
  stallMs: number;
  /** Lease a worker keeps without hearing from the owner, s. */
  leaseS: number;
  /** Owner: silence from a worker this long loses its lease, ms. */
  leaseSilenceMs: number;
  /** Owner: ASSIGN unanswered this long counts as declined, ms. */
  acceptTimeoutMs: number;
  maxAttemptsPerShard: number;
  /** Wait before re-planning a shard that found no taker, ms (doubles up to 8x). */
  retryBackoffMs: number;
  /** Deadline for jobs submitted without one, ms. */
  defaultDeadlineMs: number;
  /** Worker: take no new work below this battery level, percent. */
  acceptBatteryPct: number;
  /** Worker: hand back running work below this battery level, percent. */
  abortBatteryPct: number;
  /** Worker: shards held at once. */
  maxTasks: number;
  /** Run every shard on two peers when a peer is not trusted, and accept matching results only. */
  redundancy: 'none' | 'untrusted';
  /**
   * Peers whose results are taken without a second copy when redundancy is on. Only authenticated peers can be
   * trusted, whatever this says; by default nobody is.
   */
  trusted: (num: number) => boolean;
  /** Worker: shards held at once for one owner (so one owner cannot fill the queue). */
  maxTasksPerOwner: number;
  /** Worker: the longest lease it grants, whatever the ASSIGN asks for, s. */
  maxLeaseS: number;
  /** Window for offers after a JOB_REQUEST, ms. */
  offerWindowMs: number;
  /** Answer a JOB_REQUEST only from owners at most this many relays away (each relay multiplies the cost). */
  offerMaxHops: number;
  /**
   * Send the input right behind the ASSIGN instead of waiting for ACCEPT. It saves a round trip, but on a busy LoRa
   * channel it costs more: the input's packets hold the owner's half-duplex radio just when the ACCEPT comes back, and
   * they go to workers that never got the ASSIGN. Off by default.
   */
  eagerInput: boolean;
  plan: PlanPolicy;
  /**
   * The swarm's mission profile: the class of jobs submitted without one, and every class's default deadline,
   * admission ceiling and battery policy. 'default' keeps the settings above for every job.
   */
  profile: ProfileName;
}

export const DEFAULT_CONFIG: OrchestratorConfig = Object.freeze({
  portnum: 256,
  heartbeatIntervalMs: 10 * 60_000,
  advertIntervalMs: 30 * 60_000,
  deltaMinIntervalMs: 5 * 60_000,
  batteryDeltaStepPct: 5,
  channelUtilDeltaStepPct: 1,
  startJitterMs: 90_000,
  discoveryHopLimit: null,
  advertReplyHops: 2,
  advertRepliers: 3,
  progressIntervalMs: 60_000,
  stallMs: 75_000,
  leaseS: 1800,
  leaseSilenceMs: 240_000,
  acceptTimeoutMs: 120_000,
  maxAttemptsPerShard: 6,
  retryBackoffMs: 30_000,
  defaultDeadlineMs: 30 * 60_000,
  acceptBatteryPct: DEFAULT_PLAN_POLICY.minPeerBatteryPct,
  abortBatteryPct: 10,
  maxTasks: 4,
  redundancy: 'none',
  trusted: () => false,
  maxTasksPerOwner: 3,
  maxLeaseS: 3600,
  offerWindowMs: 30_000,
  offerMaxHops: 2,
  eagerInput: false,
  plan: DEFAULT_PLAN_POLICY,
  profile: 'default',
});

export function resolveConfig(c: Partial<OrchestratorConfig> = {}): OrchestratorConfig {
  // The mission profile's airtime policy for registry broadcasts, unless the caller set them.
  const background = c.profile !== undefined ? missionProfile(c.profile).background : {};
  const merged: OrchestratorConfig = { ...DEFAULT_CONFIG, ...background, ...c, plan: { ...DEFAULT_CONFIG.plan, ...(c.plan ?? {}) } };
  // The planner's peer threshold and the workers' admission threshold are the same rule seen from both sides.
  if (c.acceptBatteryPct === undefined && c.plan?.minPeerBatteryPct !== undefined) merged.acceptBatteryPct = c.plan.minPeerBatteryPct;
  if (c.plan?.minPeerBatteryPct === undefined && c.acceptBatteryPct !== undefined) merged.plan.minPeerBatteryPct = c.acceptBatteryPct;
  return merged;
}

/** What the coordinator and worker share inside one node. */
export interface NodeContext {
  num: number;
  host: NodeHost;
  clock: Clock;
  rng: Prng;
  config: OrchestratorConfig;
  messenger: Messenger;
  registry: CapabilityRegistry;
  local: LocalCapabilities;
  executor: Executor;
  /** Packet authentication: peer keys, signatures, unique values. */
  auth: Authenticator;
  reputation: Reputation;
  /** A fresh job id, never used before by this node and not predictable by others. */
  nextJobId(): number;
  /** Links that reach a peer, for the cost model. */
  pathsTo(num: number): LinkPath[];
  /** Largest tensor chunk worth sending to a peer over a link now (shrinks on a busy channel). */
  chunkLimit(num: number, via: 'lora' | 'ble'): number;
  /** The channel utilization this node's radio measures now, percent (its DeviceMetrics telemetry). */
  channelUtilPct(): number;
  /** Per-layer model figures, when a model runtime provides them. */
  modelProfile?(modelId: number, modelVersion: number): ModelProfile | undefined;
  report(type: string, data: Record<string, unknown>): void;
  /** The node's load changed (shards held): re-advertise lazily. */
  loadChanged(): void;
  /**
   * Relaying a shard this node cannot run: the time the best model holder it knows (never `exclude`) is expected to
   * take over its own link, ms, or null when it knows none.
   */
  relayEtaMs?(spec: JobSpec, mission: JobMission, exclude: number): number | null;
  /**
   * Runs a relayed shard as a job of this node's, on a holder it knows (no further relay, no job request): the job's
   * id, and its output.
   */
  relayShard?(spec: JobSpec, input: Uint8Array, mission: JobMission, deadlineMs: number, origin: { owner: number; jobId: number }): { jobId: number; output: Promise<Uint8Array> };
  /** Gives up a relayed shard's own job (its owner cancelled the shard, or it left this node). */
  cancelRelay?(jobId: number): void;
}
