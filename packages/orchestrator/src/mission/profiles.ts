import { CodecError, ConfigError } from '../errors.js';
import type { JobSpec } from '../jobs/spec.js';

/**
 * Mission profiles: what a swarm is for decides which of its jobs matter most. A profile maps a job to a priority
 * class (by its kind unless the submitter names one) and gives every class its default deadline, the share of the
 * channel it may still be admitted at, and how much battery it may take from peers.
 */

/** Priority classes, most urgent first. On the wire: critical 3, urgent 2, routine 1, bulk 0. */
export const PRIORITY_CLASSES = ['critical', 'urgent', 'routine', 'bulk'] as const;
export type PriorityClass = (typeof PRIORITY_CLASSES)[number];

export const PROFILE_NAMES = ['default', 'search-and-rescue', 'environmental-monitoring'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** The kind of work a job is, as far as a profile cares: one input classified, or a batch of rows / items. */
export type JobKind = 'inference' | 'batch';

export interface ClassPolicy {
  /** Deadline for a job of this class submitted without one, ms. */
  deadlineMs: number;
  /**
   * Admit a new job of this class only while the channel utilization this node measures is below this, percent:
   * low classes give the channel up first, the top class keeps it nearly to saturation.
   */
  maxChannelUtilPct: number;
  /** Peers below this battery level get none of this class's work. */
  minPeerBatteryPct: number;
  /** No node may be left below this level by a job of this class. */
  reserveBatteryPct: number;
  /** Shards of this class give way on a worker to a more urgent shard when its queue is full. */
  preemptible: boolean;
  /**
   * Refuse a job at once (WOULD_MISS_DEADLINE) when even its best plan is expected to finish after its deadline,
   * instead of spending airtime on it until the deadline passes. Off for the top class: it is always tried.
   */
  failFast: boolean;
  /**
   * A neighbour that lacks the model may take a shard of this class and hand it on to a model holder among its own
   * neighbours (a relay): one more hop, each over a hop-by-hop transfer, instead of no worker at all when no holder
   * is in the owner's reach. Relays never hand a shard on again.
   */
  relayable: boolean;
}

/**
 * The airtime the registry's own broadcasts may take: every heartbeat and advert is flooded through the mesh, signed,
 * and on a crowded channel they are most of this layer's airtime. Unset fields keep the node's configuration.
 */
export interface BackgroundPolicy {
  heartbeatIntervalMs?: number;
  /** Channel utilization moves smaller than this send no delta, percent. */
  channelUtilDeltaStepPct?: number;
  /** Hop limit of registry broadcasts: peers further away are rarely worth their transfers (offers stop at 2). */
  discoveryHopLimit?: number;
}

export interface MissionProfile {
  name: ProfileName;
  background: BackgroundPolicy;
  /** The class of a job of each kind when the submitter names none. */
  classOfKind: Record<JobKind, PriorityClass>;
  classes: Record<PriorityClass, ClassPolicy>;
}

/** What one job carries: its swarm's profile and its class. */
export interface JobMission {
  profile: ProfileName;
  priority: PriorityClass;
}

const MIN = 60_000;

function classes(overrides: Partial<Record<PriorityClass, Partial<ClassPolicy>>> = {}): Record<PriorityClass, ClassPolicy> {
  const base: Record<PriorityClass, ClassPolicy> = {
    critical: { deadlineMs: 10 * MIN, maxChannelUtilPct: 100, minPeerBatteryPct: 10, reserveBatteryPct: 5, preemptible: false, failFast: false, relayable: false },
    urgent: { deadlineMs: 15 * MIN, maxChannelUtilPct: 75, minPeerBatteryPct: 15, reserveBatteryPct: 10, preemptible: false, failFast: true, relayable: false },
    routine: { deadlineMs: 30 * MIN, maxChannelUtilPct: 60, minPeerBatteryPct: 20, reserveBatteryPct: 10, preemptible: true, failFast: true, relayable: false },
    bulk: { deadlineMs: 60 * MIN, maxChannelUtilPct: 40, minPeerBatteryPct: 40, reserveBatteryPct: 25, preemptible: true, failFast: true, relayable: false },
  };
  for (const c of PRIORITY_CLASSES) base[c] = { ...base[c], ...overrides[c] };
  return base;
}

export const MISSION_PROFILES: Readonly<Record<ProfileName, MissionProfile>> = Object.freeze({
  // Every job alike, as a swarm that names no mission always behaved: admitted whatever the channel, tried until its
  // deadline, the node's own deadline and battery settings.
  default: { name: 'default', background: {}, classOfKind: { inference: 'routine', batch: 'routine' }, classes: classes({ routine: { maxChannelUtilPct: 100, failFast: false, preemptible: false } }) },
  // A reading classified (a person found?) is what the mission is for; map merges and batches wait.
  // Registry and job requests stay with direct neighbours; a critical shard with no model holder among them goes
  // through a neighbour that has one.
  'search-and-rescue': { name: 'search-and-rescue', background: { heartbeatIntervalMs: 20 * MIN, channelUtilDeltaStepPct: 10, discoveryHopLimit: 0 }, classOfKind: { inference: 'critical', batch: 'routine' }, classes: classes({ critical: { relayable: true } }) },
  // Nothing is life-critical and the nodes must last for weeks: readings are routine, batches bulk, batteries kept.
  'environmental-monitoring': {
    name: 'environmental-monitoring',
    background: { heartbeatIntervalMs: 30 * MIN, channelUtilDeltaStepPct: 10, discoveryHopLimit: 2 },
    classOfKind: { inference: 'routine', batch: 'bulk' },
    classes: classes({ routine: { minPeerBatteryPct: 35, reserveBatteryPct: 25 }, bulk: { minPeerBatteryPct: 50, reserveBatteryPct: 40, maxChannelUtilPct: 30 } }),
  },
});

export function missionProfile(name: string): MissionProfile {
  const p = (MISSION_PROFILES as Record<string, MissionProfile | undefined>)[name];
  if (!p) throw new ConfigError('BAD_OPTION', `unknown mission profile ${JSON.stringify(name)} (one of ${PROFILE_NAMES.join(', ')})`);
  return p;
}

export function isPriorityClass(v: unknown): v is PriorityClass {
  return typeof v === 'string' && (PRIORITY_CLASSES as readonly string[]).includes(v);
}

/** One input row (a GEMV, a model range on one item) is inference; anything with several rows or items a batch. */
export function jobKindOf(spec: JobSpec): JobKind {
  return (spec.kind === 'gemm' ? spec.m : spec.batch) === 1 ? 'inference' : 'batch';
}

/** A job's mission: the class the submitter named, or the one its profile gives its kind. */
export function resolveMission(profile: ProfileName, spec: JobSpec, priority?: PriorityClass): JobMission {
  if (priority !== undefined && !isPriorityClass(priority)) throw new ConfigError('BAD_OPTION', `unknown priority class ${JSON.stringify(priority)} (one of ${PRIORITY_CLASSES.join(', ')})`);
  return { profile, priority: priority ?? missionProfile(profile).classOfKind[jobKindOf(spec)] };
}

/**
 * The battery level below which a node stops offering itself for work at all: the lowest floor of any class of its
 * profile (the top class may still use a node the others spare; each job's own class is checked on admission), or
 * the node's own setting under the default profile.
 */
export function workBatteryFloorPct(profile: ProfileName, nodeFloorPct: number): number {
  if (profile === 'default') return nodeFloorPct;
  return Math.min(...PRIORITY_CLASSES.map((c) => missionProfile(profile).classes[c].minPeerBatteryPct));
}

/** The policy of a job's class under its profile. */
export function classPolicy(m: JobMission): ClassPolicy {
  return missionProfile(m.profile).classes[m.priority];
}

/** Higher is more urgent (the wire value). */
export function priorityRank(c: PriorityClass): number {
  return PRIORITY_CLASSES.length - 1 - PRIORITY_CLASSES.indexOf(c);
}

/** The mission byte of JOB_REQUEST and ASSIGN: bits 0-1 class (rank), bits 2-3 profile, bits 4-7 reserved (0). */
export function encodeMission(m: JobMission): number {
  const p = PROFILE_NAMES.indexOf(m.profile);
  if (p < 0 || !isPriorityClass(m.priority)) throw new CodecError('BAD_VALUE', `cannot encode mission ${JSON.stringify(m)}`);
  return priorityRank(m.priority) | (p << 2);
}

export function decodeMission(b: number): JobMission {
  if (b & 0xf0) throw new CodecError('BAD_VALUE', 'mission byte: reserved bits are set');
  const profile = PROFILE_NAMES[(b >> 2) & 3];
  if (!profile) throw new CodecError('BAD_VALUE', `mission byte: unknown profile ${(b >> 2) & 3}`);
  return { profile, priority: PRIORITY_CLASSES[PRIORITY_CLASSES.length - 1 - (b & 3)] as PriorityClass };
}
