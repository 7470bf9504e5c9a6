import { fnv1a32, type Clock, type Prng, type TimerHandle } from '@compotastic/mesh';
import { bytesEqual } from '../bytes.js';
import { OtaError, type OtaErrorCode } from '../errors.js';
import { FountainDecoder } from '../fec/fountain.js';
import { sha256 } from '../hash.js';
import type { ProgressStore } from '../storage/progress.js';
import type { TransferLink } from './link.js';
import {
  REASON_CODES, decodeMessage, encodeMessage, type DataMessage, type OfferMessage, type PollMessage, type ReceiverState, type TransferMessage,
} from './messages.js';

// The receiving side of a broadcast transfer. It takes an offer it wants, feeds every symbol to the fountain
// decoder (persisting the useful ones so a reboot resumes), answers polls after a random delay inside the poll's
// window, checks the reassembled bundle against the offer's SHA-256 and hands it to `deliver` (which verifies and
// installs). Bad input never throws out of onMessage: it is counted and dropped.

export type OfferDecision = true | OtaErrorCode;

export interface DeliveryResult {
  ok: boolean;
  code?: OtaErrorCode;
  message?: string;
}

export interface ReceiverOptions {
  nodeId: number;
  link: TransferLink;
  clock: Clock;
  /** Seeded PRNG for reply jitter. */
  rng: Prng;
  store: ProgressStore;
  /** Whether to take an offer: true, or the reason to decline (INCOMPATIBLE, DOWNGRADE, ...). */
  accept: (offer: OfferMessage) => OfferDecision;
  /** Receives the complete bundle (its SHA-256 matches the offer): verify and install it. */
  deliver: (bundle: Uint8Array, offer: OfferMessage) => DeliveryResult;
  /** Largest bundle this node takes (default 4 MiB). */
  maxBundleBytes?: number;
  /** Largest source block this node can decode in RAM (default 1024 symbols). */
  maxBlockSymbols?: number;
}

export interface ReceiverStats {
  data: number;
  useful: number;
  redundant: number;
  duplicates: number;
  /** Messages dropped, by reason. */
  dropped: Record<string, number>;
  /** Reassembled bundles whose hash did not match the offer. */
  corruptBundles: number;
  statusSent: number;
}

export class TransferReceiver {
  private offer: OfferMessage | null = null;
  private decoder: FountainDecoder | null = null;
  private stateValue: ReceiverState | 'idle' = 'idle';
  private reason: OtaErrorCode | 'NONE' = 'NONE';
  private declined = new Map<number, OtaErrorCode>();
  private replyTimer: TimerHandle | null = null;
  /** Who polled last: replies go to it alone. */
  private pollFrom: number | null = null;
  private received = 0;
  private first: { block: number; esi: number } | null = null;
  readonly stats: ReceiverStats = { data: 0, useful: 0, redundant: 0, duplicates: 0, dropped: {}, corruptBundles: 0, statusSent: 0 };

  constructor(private readonly o: ReceiverOptions) {
    this.resume();
  }

  get state(): ReceiverState | 'idle' {
    return this.stateValue;
  }

  get rejectReason(): OtaErrorCode | 'NONE' {
    return this.reason;
  }

  get session(): number | null {
    return this.offer?.session ?? null;
  }

  /** Independent symbols still missing (0 when complete or idle). */
  get needed(): number {
    return this.decoder && this.stateValue === 'receiving' ? this.decoder.needed : 0;
  }

  private drop(why: string): void {
    this.stats.dropped[why] = (this.stats.dropped[why] ?? 0) + 1;
  }

  /** Restores a transfer in progress from the store (after a reboot). */
  private resume(): void {
    let saved;
    try {
      saved = this.o.store.load();
    } catch {
      saved = null;
    }
    if (!saved) return;
    let offer: TransferMessage;
    try {
      offer = decodeMessage(saved.offer);
    } catch {
      this.o.store.clear();
      return;
    }
    if (offer.type !== 'offer') return this.o.store.clear();
    this.offer = offer;
    this.stateValue = saved.state;
    this.reason = REASON_CODES[saved.reason] ?? 'NONE';
    if (saved.state !== 'receiving') return;
    this.decoder = this.newDecoder(offer);
    for (const s of saved.symbols) {
      try {
        if (this.decoder.add(s.block, s.esi, s.data) !== 'duplicate') this.received++;
      } catch {
        this.drop('bad stored symbol');
      }
    }
    if (this.decoder.complete) this.finish();
  }

  private newDecoder(offer: OfferMessage): FountainDecoder {
    return new FountainDecoder({ dataLength: offer.length, symbolSize: offer.symbolSize, maxBlockSymbols: offer.maxBlockSymbols, seed: offer.seed });
  }

  /** Feed every payload that arrives on the transfer's port. */
  onMessage(from: number, payload: Uint8Array): void {
    let m: TransferMessage;
    try {
      m = decodeMessage(payload);
    } catch (e) {
      this.drop(e instanceof OtaError ? e.code : 'MALFORMED');
      return;
    }
    switch (m.type) {
      case 'offer':
        return this.onOffer(m);
      case 'data':
        return this.onData(m);
      case 'poll':
        return this.onPoll(from, m);
      case 'end':
      case 'status':
        return;
    }
  }

  private onOffer(m: OfferMessage): void {
    if (this.offer && this.offer.session === m.session) {
      if (!bytesEqual(this.offer.bundleSha256, m.bundleSha256)) this.drop('conflicting offer');
      return;
    }
    if (this.declined.has(m.session)) return;
    if (this.stateValue === 'receiving' && this.decoder && this.received > 0) {
      // Busy with another transfer: a second session waits until this one ends.
      this.drop('busy');
      return;
    }
    let decision: OfferDecision = this.o.accept(m);
    if (decision === true) {
      if (m.length > (this.o.maxBundleBytes ?? 4 * 1024 * 1024)) decision = 'TOO_LARGE';
      else if (m.maxBlockSymbols > (this.o.maxBlockSymbols ?? 1024)) decision = 'TOO_LARGE';
    }
    if (decision !== true) {
      this.declined.set(m.session, decision);
      return;
    }
    let decoder: FountainDecoder;
    try {
      decoder = this.newDecoder(m);
    } catch (e) {
      this.declined.set(m.session, e instanceof OtaError ? e.code : 'MALFORMED');
      return;
    }
    this.offer = m;
    this.decoder = decoder;
    this.received = 0;
    this.first = null;
    this.stateValue = 'receiving';
    this.reason = 'NONE';
    this.o.store.begin(encodeMessage(m));
  }

  private onData(m: DataMessage): void {
    const offer = this.offer;
    if (!offer || m.session !== offer.session) return this.drop('unknown session');
    if (this.stateValue !== 'receiving' || !this.decoder) return;
    this.stats.data++;
    if (m.symbol.length !== offer.symbolSize) return this.drop('BAD_FRAGMENT');
    let r: 'useful' | 'redundant' | 'duplicate';
    try {
      r = this.decoder.add(m.block, m.esi, m.symbol);
    } catch (e) {
      return this.drop(e instanceof OtaError ? e.code : 'BAD_FRAGMENT');
    }
    if (r === 'duplicate') {
      this.stats.duplicates++;
      return;
    }
    this.received++;
    this.first ??= { block: m.block, esi: m.esi };
    if (r === 'redundant') {
      this.stats.redundant++;
      return;
    }
    this.stats.useful++;
    try {
      this.o.store.append({ block: m.block, esi: m.esi, data: m.symbol });
    } catch {
      this.drop('progress not saved');
    }
    if (this.decoder.complete) this.finish();
  }

  private finish(): void {
    const offer = this.offer!;
    const bundle = this.decoder!.data();
    if (!bytesEqual(sha256(bundle), offer.bundleSha256)) {
      // Some symbol was corrupted (there is no way to tell which): start the transfer over.
      this.stats.corruptBundles++;
      this.decoder = this.newDecoder(offer);
      this.received = 0;
      this.first = null;
      this.o.store.begin(encodeMessage(offer));
      return;
    }
    let result: DeliveryResult;
    try {
      result = this.o.deliver(bundle, offer);
    } catch (e) {
      result = { ok: false, code: e instanceof OtaError ? e.code : 'INVALID_STATE', message: String(e) };
    }
    this.decoder = null;
    this.stateValue = result.ok ? 'complete' : 'rejected';
    this.reason = result.ok ? 'NONE' : (result.code ?? 'INVALID_STATE');
    try {
      this.o.store.finish(result.ok ? 'complete' : 'rejected', Math.max(0, REASON_CODES.indexOf(this.reason)));
    } catch {
      this.drop('progress not saved');
    }
  }

  private onPoll(from: number, m: PollMessage): void {
    const mine = this.offer?.session === m.session;
    const declined = this.declined.get(m.session);
    if (!mine && declined === undefined) return;
    if (m.done.includes(this.o.nodeId)) return;
    if (this.replyTimer) return;
    this.pollFrom = from;
    const delay = this.o.rng.uniform(0, Math.max(1, m.windowMs));
    this.replyTimer = this.o.clock.setTimer(delay, () => {
      this.replyTimer = null;
      this.sendStatus(m.session, m.round, declined);
    });
  }

  private sendStatus(session: number, round: number, declined: OtaErrorCode | undefined): void {
    const receiving = this.stateValue === 'receiving' && this.decoder !== null && this.offer?.session === session;
    const needs = receiving ? this.decoder!.needs().map((need, block) => ({ block, need })).filter((n) => n.need > 0) : [];
    const state: ReceiverState = declined !== undefined ? 'declined' : (this.stateValue as ReceiverState);
    const reason = declined ?? this.reason;
    this.o.link.send(encodeMessage({ type: 'status', session, round, state, reason, received: this.received, first: this.first, needs }), this.pollFrom ?? undefined);
    this.stats.statusSent++;
  }
}

/** What a device has installed, as its capability record tells. */
export interface InstalledVersion {
  modelId: string;
  version: number;
  /** The anti-rollback floor (confirmed security counter). */
  securityFloor: number;
}

/**
 * The usual offer policy: take a newer release of the installed model whose counter is not below the floor, as a
 * full bundle or a delta against exactly the installed version. Saves the airtime of downloading what install would
 * refuse; install still checks the signed manifest.
 */
export function acceptOfferFor(installed: InstalledVersion): (offer: OfferMessage) => OfferDecision {
  const modelHash = fnv1a32(installed.modelId);
  return (offer) => {
    if (offer.modelHash !== modelHash) return 'INCOMPATIBLE';
    if (offer.securityCounter < installed.securityFloor || offer.version <= installed.version) return 'DOWNGRADE';
    if (offer.baseVersion !== null && offer.baseVersion !== installed.version) return 'BASE_MISMATCH';
    return true;
  };
}
