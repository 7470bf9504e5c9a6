import type { MessageOf } from '../wire/messages.js';
import { type AdvertisedState, applyDelta, stateFromAdvert } from './state.js';

export type PeerFreshness = 'fresh' | 'stale' | 'expired';

/** What this node knows about one peer. */
export interface PeerEntry {
  num: number;
  state: AdvertisedState | null;
  /** Last time anything was heard from the peer (any message, any link), ms. */
  lastHeardMs: number;
  /** Last full advert, ms. */
  lastAdvertMs: number;
  /** A delta arrived that did not match the known epoch: ask for a full advert. */
  needsAdvert: boolean;
  /** Hops away on the mesh (from the radio's node database or the packet header), null if unknown. */
  hops: number | null;
  /** Last SNR heard directly, dB. */
  snr: number | null;
  /** Peer is within BLE range (last proximity scan). */
  bleNear: boolean;
  /** The radio said the peer is gone: left out of planning until this time or until it is heard again, ms. */
  unreachableUntil: number;
  /** Recovery bookkeeping the planner uses as a reliability estimate. */
  leasesCompleted: number;
  leasesLost: number;
  /** Times the peer was seen to go away (silence past TTL, radio-level failures). */
  dropouts: number;
  firstSeenMs: number;
}

export interface RegistryOptions {
  /** TTL when a peer's advert does not give one, s. */
  defaultTtlS?: number;
  /** A peer silent for more than `expireAfterTtls` TTLs is forgotten. */
  expireAfterTtls?: number;
}

export type DeltaOutcome = 'applied' | 'heartbeat' | 'gap' | 'unknown-peer';

/**
 * The capability registry: peers' advertised state with TTL and staleness. Full adverts replace a peer's state;
 * state deltas apply only on top of the epoch they name, otherwise the peer is marked as needing a full advert.
 */
export class CapabilityRegistry {
  private readonly peers = new Map<number, PeerEntry>();
  private readonly defaultTtlS: number;
  private readonly expireAfterTtls: number;

  constructor(options: RegistryOptions = {}) {
    this.defaultTtlS = options.defaultTtlS ?? 900;
    this.expireAfterTtls = options.expireAfterTtls ?? 4;
  }

  private entry(num: number, now: number): PeerEntry {
    let e = this.peers.get(num);
    if (!e) {
      e = {
        num,
        state: null,
        lastHeardMs: now,
        lastAdvertMs: -Infinity,
        needsAdvert: true,
        hops: null,
        snr: null,
        bleNear: false,
        unreachableUntil: -Infinity,
        leasesCompleted: 0,
        leasesLost: 0,
        dropouts: 0,
        firstSeenMs: now,
      };
      this.peers.set(num, e);
    }
    return e;
  }

  get(num: number): PeerEntry | undefined {
    return this.peers.get(num);
  }

  all(): PeerEntry[] {
    return [...this.peers.values()].sort((a, b) => a.num - b.num);
  }

  /** Anything heard from a peer refreshes it. */
  heard(num: number, now: number, meta: { hops?: number | null; snr?: number | null } = {}): PeerEntry {
    const e = this.entry(num, now);
    if (e.unreachableUntil > now) e.unreachableUntil = -Infinity;
    else if (e.state && now - e.lastHeardMs > this.ttlMs(e)) e.dropouts++;
    e.lastHeardMs = Math.max(e.lastHeardMs, now);
    if (meta.hops !== undefined && meta.hops !== null) e.hops = meta.hops;
    if (meta.snr !== undefined && meta.snr !== null) e.snr = meta.snr;
    return e;
  }

  applyAdvert(num: number, msg: MessageOf<'CAP_ADVERT'>, now: number, meta: { hops?: number | null; snr?: number | null } = {}): PeerEntry {
    const e = this.heard(num, now, meta);
    e.state = stateFromAdvert(msg);
    e.lastAdvertMs = now;
    e.needsAdvert = false;
    return e;
  }

  applyDelta(num: number, msg: MessageOf<'STATE_DELTA'>, now: number, meta: { hops?: number | null; snr?: number | null } = {}): DeltaOutcome {
    const known = this.peers.has(num);
    const e = this.heard(num, now, meta);
    if (!known || !e.state) {
      e.needsAdvert = true;
      return 'unknown-peer';
    }
    if (e.state.record.epoch !== msg.baseEpoch) {
      // Missed an update. Delta values are absolute, so the fields carried are current; fields changed only in the
      // missed delta are not, hence the flag (a full advert clears it).
      e.state = applyDelta(e.state, msg.values, msg.epoch);
      e.needsAdvert = true;
      return 'gap';
    }
    const empty = Object.keys(msg.values).length === 0;
    if (empty && msg.epoch === msg.baseEpoch) return 'heartbeat';
    e.state = applyDelta(e.state, msg.values, msg.epoch);
    return 'applied';
  }

  /** A peer's BLE record read (a 20-byte core record and the standard battery level). */
  applyBleRead(num: number, state: AdvertisedState, now: number): PeerEntry {
    const e = this.heard(num, now);
    const prior = e.state;
    e.state = prior ? { ...prior, record: state.record, battery: state.battery } : state;
    e.lastAdvertMs = now;
    e.needsAdvert = prior === null;
    e.bleNear = true;
    return e;
  }

  setBleNeighbors(nums: readonly number[]): void {
    const near = new Set(nums);
    for (const e of this.peers.values()) e.bleNear = near.has(e.num);
  }

  ttlMs(e: PeerEntry): number {
    return (e.state?.ttlS ?? this.defaultTtlS) * 1000;
  }

  freshness(e: PeerEntry, now: number): PeerFreshness {
    const age = now - e.lastHeardMs;
    const ttl = this.ttlMs(e);
    if (age <= ttl) return e.unreachableUntil > now ? 'stale' : 'fresh';
    if (age <= ttl * this.expireAfterTtls) return 'stale';
    return 'expired';
  }

  /** Peers with a known state heard within their TTL. */
  fresh(now: number): PeerEntry[] {
    return this.all().filter((e) => e.state !== null && this.freshness(e, now) === 'fresh');
  }

  /** Forget expired peers; returns their numbers. */
  prune(now: number): number[] {
    const gone: number[] = [];
    for (const e of this.peers.values()) {
      if (this.freshness(e, now) === 'expired') {
        this.peers.delete(e.num);
        gone.push(e.num);
      }
    }
    return gone;
  }

  /**
   * The radio gave up on a packet to the peer. On a lossy mesh that may pass, so the peer sits out for `coolDownMs`
   * (or until it is heard again) rather than for good.
   */
  markUnreachable(num: number, now: number, coolDownMs = 120_000): void {
    const e = this.peers.get(num);
    if (!e) return;
    if (e.unreachableUntil <= now) e.dropouts++;
    e.unreachableUntil = now + coolDownMs;
  }

  recordLease(num: number, completed: boolean): void {
    const e = this.peers.get(num);
    if (!e) return;
    if (completed) e.leasesCompleted++;
    else e.leasesLost++;
  }

  /**
   * Mean time between failures estimate for a peer, ms: observed lifetime over observed failures, with a prior of
   * one failure per `priorMtbfMs` so new peers are neither trusted blindly nor written off.
   */
  mtbfMs(e: PeerEntry, now: number, priorMtbfMs = 2 * 3_600_000): number {
    const observed = Math.max(0, now - e.firstSeenMs);
    const failures = e.leasesLost + e.dropouts;
    return (observed + priorMtbfMs) / (failures + 1);
  }
}
