import { fnv1a32, type Clock, type Prng, type TimerHandle } from '@compotastic/mesh';
import { bytesEqual } from '../bytes.js';
import { OtaError, type OtaErrorCode } from '../errors.js';
import { FlashFountainDecoder, flashDecoderLayout } from '../fec/flash-decoder.js';
import { checkFountainParams, partitionBlocks, type FountainParams } from '../fec/fountain.js';
import { sha256Source } from '../hash.js';
import type { TrustStore } from '../signing.js';
import { FlashRegion, MemoryFlash, type Flash } from '../storage/flash.js';
import type { RandomAccessSource } from '../storage/io.js';
import type { ProgressStore } from '../storage/progress.js';
import { offerDigest, symbolHash, verifyHashes, verifyOffer } from './auth.js';
import { SymbolHashStore, symbolHashBytes } from './hash-store.js';
import type { TransferLink } from './link.js';
import {
  REASON_CODES, decodeMessage, encodeMessage, type DataMessage, type EndMessage, type HashesMessage, type OfferMessage, type PollMessage,
  type ReceiverState, type TransferMessage,
} from './messages.js';

// The receiving side of a broadcast transfer. It takes an offer it wants, signed by a publisher it trusts, feeds
// every symbol whose signed hash matches to the fountain decoder (persisting the useful ones so a reboot resumes),
// answers polls after a random delay inside the poll's window, checks the reassembled bundle against the offer's
// SHA-256 and hands it to `deliver` (which verifies and installs). Symbols live on flash (the `workspace`), so RAM
// does not grow with the bundle: a few bits per symbol, the hashes of repair symbols in progress, the pending symbols. A session holds the receiver only while it is
// alive: after END, or stallTimeoutMs without progress, or when a newer signed release of the same model is
// offered, another verified offer takes over. Bad input never throws out of onMessage: it is counted and dropped.

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
  /** Publisher keys whose offers this node takes (an offer signed by any other key is dropped). */
  trust: TrustStore;
  /** Whether to take an offer: true, or the reason to decline (INCOMPATIBLE, DOWNGRADE, ...). */
  accept: (offer: OfferMessage) => OfferDecision;
  /** Receives the complete bundle (its SHA-256 matches the offer) in RAM: verify and install it. */
  deliver?: (bundle: Uint8Array, offer: OfferMessage) => DeliveryResult;
  /** Receives the complete bundle where it was decoded, on the workspace; used instead of `deliver` when given. */
  deliverStored?: (bundle: RandomAccessSource, offer: OfferMessage) => DeliveryResult;
  /**
   * Flash the receiver keeps symbols and their signed hashes on (`receiverWorkspaceBytes`); an offer that does not
   * fit is declined TOO_LARGE. Default: flash in RAM, sized per offer.
   */
  workspace?: Flash;
  /** Largest bundle this node takes (default 4 MiB). */
  maxBundleBytes?: number;
  /** Largest source block this node can decode in RAM (default 1024 symbols). */
  maxBlockSymbols?: number;
  /** A session without progress (a verified offer, HASHES or useful symbol) for this long stops holding the receiver (default 10 min). */
  stallTimeoutMs?: number;
  /** Symbols kept while their signed hashes have not arrived yet (default 32; the oldest goes first). */
  maxPendingSymbols?: number;
}

export const DEFAULT_STALL_TIMEOUT_MS = 600_000;
export const DEFAULT_MAX_PENDING_SYMBOLS = 32;

export interface ReceiverStats {
  data: number;
  useful: number;
  redundant: number;
  duplicates: number;
  /** Messages dropped, by reason. */
  dropped: Record<string, number>;
  /** Reassembled bundles whose hash did not match the offer. */
  corruptBundles: number;
  /** Symbols whose signed hash did not match: dropped alone, before the decoder. */
  forgedSymbols: number;
  /** Symbols dropped because their signed hash never came while there was room to keep them. */
  unverifiedSymbols: number;
  /** Sessions given up for a newer or live one (after END, a stall, or a newer release). */
  takeovers: number;
  statusSent: number;
}

export class TransferReceiver {
  private offer: OfferMessage | null = null;
  private decoder: FlashFountainDecoder | null = null;
  private stateValue: ReceiverState | 'idle' = 'idle';
  private reason: OtaErrorCode | 'NONE' = 'NONE';
  private declined = new Map<number, OtaErrorCode>();
  private replyTimer: TimerHandle | null = null;
  /** Who polled last: replies go to it alone. */
  private pollFrom: number | null = null;
  private received = 0;
  private first: { block: number; esi: number } | null = null;
  /** The current offer's publisher key and digest (what its HASHES are signed with and bound to). */
  private publisher: Uint8Array | null = null;
  private digest: Uint8Array | null = null;
  /** Signed symbol hashes of the current session (on the workspace, with the decoder). */
  private hashes: SymbolHashStore | null = null;
  private pending: DataMessage[] = [];
  private lastProgressMs = 0;
  /** END heard for the current session: it no longer holds the receiver (its symbols are still taken). */
  private ended = false;
  readonly stats: ReceiverStats = {
    data: 0, useful: 0, redundant: 0, duplicates: 0, dropped: {}, corruptBundles: 0, forgedSymbols: 0, unverifiedSymbols: 0, takeovers: 0, statusSent: 0,
  };

  constructor(private readonly o: ReceiverOptions) {
    if (!o.deliver && !o.deliverStored) throw new OtaError('INVALID_ARGUMENT', 'a receiver needs deliver or deliverStored');
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

  /** Independent symbols each block still needs (empty when not receiving). */
  blockNeeds(): number[] {
    return this.decoder && this.stateValue === 'receiving' ? this.decoder.needs() : [];
  }

  private drop(why: string): void {
    this.stats.dropped[why] = (this.stats.dropped[why] ?? 0) + 1;
  }

  /** Restores a transfer in progress from the store (after a reboot). */
  private resume(): void {
    let saved;
    try {
      saved = this.o.store.open();
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
    try {
      // Only a verified offer is ever stored; a key revoked since, or damaged bytes, end the transfer here.
      this.adopt(offer, verifyOffer(offer, this.o.trust));
    } catch {
      this.o.store.clear();
      this.reset();
      return;
    }
    this.stateValue = saved.state;
    this.reason = REASON_CODES[saved.reason] ?? 'NONE';
    if (saved.state !== 'receiving') return;
    try {
      this.useWorkspace(offer);
    } catch {
      this.o.store.clear();
      this.reset();
      return;
    }
    for (const s of saved.symbols()) {
      try {
        if (this.decoder!.add(s.block, s.esi, s.data) !== 'duplicate') this.received++;
      } catch {
        this.drop('bad stored symbol');
      }
    }
    if (this.decoder!.complete) this.finish();
  }

  /** Makes `offer` (verified, signed by `publisher`) the current session. */
  private adopt(offer: OfferMessage, publisher: Uint8Array): void {
    this.offer = offer;
    this.publisher = publisher;
    this.digest = offerDigest(offer);
    this.pending = [];
    this.ended = false;
    this.lastProgressMs = this.o.clock.now();
  }

  private reset(): void {
    this.offer = null;
    this.publisher = null;
    this.digest = null;
    this.decoder = null;
    this.stateValue = 'idle';
    this.hashes = null;
    this.pending = [];
  }

  /** Erases the workspace for `offer`: a fresh decoder and hash store (TOO_LARGE when it does not fit). */
  private useWorkspace(offer: OfferMessage): void {
    const params = fountainParams(offer);
    const workspace = this.o.workspace ?? new MemoryFlash(receiverWorkspaceBytes(params, 4096));
    const need = receiverWorkspaceBytes(params, workspace.sectorSize);
    if (workspace.length < need) throw new OtaError('TOO_LARGE', `the transfer needs ${need} bytes of flash workspace, ${workspace.length} are available`);
    const decoderBytes = flashDecoderLayout(params, workspace.sectorSize).bytes;
    this.decoder = new FlashFountainDecoder(params, new FlashRegion(workspace, 0, decoderBytes));
    this.hashes = new SymbolHashStore(new FlashRegion(workspace, decoderBytes, need - decoderBytes), this.decoder.blocks);
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
      case 'hashes':
        return this.onHashes(m);
      case 'end':
        return this.onEnd(m);
      case 'status':
        return;
    }
  }

  /** Whether the current session may give way to the verified offer `m`. */
  private holds(m: OfferMessage): boolean {
    const cur = this.offer;
    if (!cur || this.stateValue !== 'receiving' || !this.decoder || this.received === 0) return false;
    if (this.ended || this.o.clock.now() - this.lastProgressMs >= (this.o.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS)) return false;
    const newer = m.modelHash === cur.modelHash
      && (m.securityCounter > cur.securityCounter || (m.securityCounter === cur.securityCounter && m.version > cur.version));
    return !newer;
  }

  private onOffer(m: OfferMessage): void {
    if (this.offer && this.offer.session === m.session) {
      if (!bytesEqual(encodeMessage(this.offer), encodeMessage(m))) this.drop('conflicting offer');
      return;
    }
    if (this.declined.has(m.session)) return;
    let publisher: Uint8Array;
    try {
      // Verified before it can displace, lock or cost anything.
      publisher = verifyOffer(m, this.o.trust);
    } catch (e) {
      this.drop(e instanceof OtaError ? e.code : 'BAD_SIGNATURE');
      return;
    }
    if (this.holds(m)) {
      // Busy with a live transfer: a second session waits until this one ends, stalls, or is superseded.
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
    try {
      checkFountainParams(fountainParams(m));
      if (this.o.workspace && this.o.workspace.length < receiverWorkspaceBytes(fountainParams(m), this.o.workspace.sectorSize)) {
        throw new OtaError('TOO_LARGE', 'the transfer does not fit the flash workspace');
      }
    } catch (e) {
      this.declined.set(m.session, e instanceof OtaError ? e.code : 'MALFORMED');
      return;
    }
    if (this.stateValue === 'receiving' && this.received > 0) this.stats.takeovers++;
    this.adopt(m, publisher);
    this.useWorkspace(m);
    this.received = 0;
    this.first = null;
    this.stateValue = 'receiving';
    this.reason = 'NONE';
    this.o.store.begin(encodeMessage(m));
  }

  private onEnd(m: EndMessage): void {
    if (this.offer?.session !== m.session || this.stateValue !== 'receiving') return;
    // END is not signed: it only releases the hold, so a forged one lets another signed offer in but loses nothing.
    this.ended = true;
  }

  private onHashes(m: HashesMessage): void {
    if (!this.offer || m.session !== this.offer.session) return this.drop('unknown session');
    if (this.stateValue !== 'receiving' || !this.decoder) return;
    const done = this.blockDone(m.block);
    if (done === null) return this.drop('BAD_FRAGMENT');
    if (done) return; // nothing left to check in this block: not worth a verification
    const known = this.hashes!;
    if (m.hashes.every((h, i) => bytesEqual(known.get(m.block, m.firstEsi + i) ?? new Uint8Array(0), h))) return; // a repeat
    if (!verifyHashes(this.digest!, m, this.publisher!)) return this.drop('BAD_SIGNATURE');
    m.hashes.forEach((h, i) => known.set(m.block, m.firstEsi + i, h));
    this.lastProgressMs = this.o.clock.now();
    const waiting = this.pending;
    this.pending = [];
    for (const d of waiting) {
      if (this.stateValue !== 'receiving') break;
      if (d.block === m.block && d.esi >= m.firstEsi && d.esi < m.firstEsi + m.hashes.length) this.addVerified(d);
      else this.pending.push(d);
    }
  }

  private onData(m: DataMessage): void {
    const offer = this.offer;
    if (!offer || m.session !== offer.session) return this.drop('unknown session');
    if (this.stateValue !== 'receiving' || !this.decoder) return;
    this.stats.data++;
    if (m.symbol.length !== offer.symbolSize) return this.drop('BAD_FRAGMENT');
    const done = this.blockDone(m.block);
    if (done === null) return this.drop('BAD_FRAGMENT');
    if (done) {
      this.stats.redundant++;
      return;
    }
    if (!this.hashes!.get(m.block, m.esi)) {
      // Its HASHES was lost or is yet to come: keep a few symbols for it, never trust one without it.
      this.pending.push({ ...m, symbol: m.symbol.slice() });
      if (this.pending.length > (this.o.maxPendingSymbols ?? DEFAULT_MAX_PENDING_SYMBOLS)) {
        this.pending.shift();
        this.stats.unverifiedSymbols++;
      }
      return;
    }
    this.addVerified(m);
  }

  /** Whether a block of the current session is decoded; null if it has no such block. */
  private blockDone(block: number): boolean | null {
    try {
      return this.decoder!.block(block).complete;
    } catch {
      return null;
    }
  }

  /** Adds a symbol whose signed hash is known: dropped alone when it does not match. */
  private addVerified(m: DataMessage): void {
    const decoder = this.decoder;
    if (!decoder) return;
    if (!bytesEqual(symbolHash(m.symbol), this.hashes!.get(m.block, m.esi)!)) {
      this.stats.forgedSymbols++;
      return this.drop('forged symbol');
    }
    let r: 'useful' | 'redundant' | 'duplicate';
    try {
      r = decoder.add(m.block, m.esi, m.symbol);
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
    this.lastProgressMs = this.o.clock.now();
    if (decoder.block(m.block).complete) {
      // Decoded: its hashes and waiting symbols are of no more use (this keeps RAM to the blocks in progress).
      this.hashes!.forget(m.block);
      this.pending = this.pending.filter((d) => d.block !== m.block);
    }
    try {
      this.o.store.append({ block: m.block, esi: m.esi, data: m.symbol });
    } catch {
      this.drop('progress not saved');
    }
    if (decoder.complete) this.finish();
  }

  private finish(): void {
    const offer = this.offer!;
    const bundle = this.decoder!.data();
    if (!bytesEqual(sha256Source(bundle), offer.bundleSha256)) {
      // Every symbol matched its signed hash, so only a broken publisher gets here: start the transfer over.
      this.stats.corruptBundles++;
      this.useWorkspace(offer);
      this.received = 0;
      this.first = null;
      this.o.store.begin(encodeMessage(offer));
      return;
    }
    let result: DeliveryResult;
    try {
      result = this.o.deliverStored ? this.o.deliverStored(bundle, offer) : this.o.deliver!(bundle.read(0, bundle.length), offer);
    } catch (e) {
      result = { ok: false, code: e instanceof OtaError ? e.code : 'INVALID_STATE', message: String(e) };
    }
    this.decoder = null;
    this.hashes = null;
    this.pending = [];
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

function fountainParams(offer: OfferMessage): FountainParams {
  return { dataLength: offer.length, symbolSize: offer.symbolSize, maxBlockSymbols: offer.maxBlockSymbols, seed: offer.seed };
}

/** Flash a receiver needs for a transfer: the decoder's symbols and dense rows, then the signed symbol hashes. */
export function receiverWorkspaceBytes(params: FountainParams, sectorSize: number): number {
  return flashDecoderLayout(params, sectorSize).bytes + symbolHashBytes(partitionBlocks(params), sectorSize);
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
