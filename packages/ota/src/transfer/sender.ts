import type { Clock, TimerHandle } from '@compotastic/mesh';
import { fnv1a32 } from '@compotastic/mesh';
import { OtaError } from '../errors.js';
import { sha256 } from '../hash.js';
import { FountainEncoder, MAX_ESI, partitionBlocks, type SourceBlock } from '../fec/fountain.js';
import { symbolsToSend } from '../fec/sizing.js';
import type { Manifest } from '../manifest.js';
import type { SigningKey } from '../signing.js';
import { offerDigest, signHashes, signOffer, symbolHash } from './auth.js';
import type { TransferLink } from './link.js';
import {
  MAX_HASHES_PER_MESSAGE, MAX_SYMBOL_BYTES, decodeMessage, encodeMessage, type DataMessage, type OfferMessage, type ReceiverState, type StatusMessage,
  type TransferMessage,
} from './messages.js';
import type { PacingPolicy } from './pacing.js';

// One sender broadcasting a bundle to any number of receivers. Round 0 sends the offer and every source symbol
// (plus optional up-front repair); then a poll asks receivers how many independent symbols each block still
// lacks. The next round sends fresh repair symbols, enough that the worst receiver (its need and its observed loss)
// completes with the configured confidence, and polls again, until every expected receiver is done or the round
// limit is reached. Repair symbols are new each time, so one symbol fills a different gap at every receiver.
// The offer is signed with the publisher's key, and every symbol's truncated hash goes out, signed, in a HASHES
// message ahead of its run of symbols and once more half-way through the run (so one lost HASHES costs no symbols).

export interface SenderOptions {
  bundle: Uint8Array;
  /** The bundle's manifest: model, version, base and counter go into the offer so receivers can decline early. */
  manifest: Pick<Manifest, 'modelId' | 'version' | 'baseVersion' | 'securityCounter'>;
  /** The publisher's key: it signs the offer and the symbol hashes; receivers trust its public key. */
  key: SigningKey;
  link: TransferLink;
  clock: Clock;
  pacer: PacingPolicy;
  /** Airtime in ms of a packet carrying `payloadBytes` (e.g. from the modem preset). */
  airtimeMs: (payloadBytes: number) => number;
  session: number;
  seed: number;
  symbolSize?: number;
  maxBlockSymbols?: number;
  /** Nodes expected to take the bundle; without it the sender stops after rounds in which nobody still needs data. */
  receivers?: readonly number[];
  /** Repair symbols sent with the sources, as a fraction of each block (default 0). */
  initialRedundancy?: number;
  /** Probability each receiver completes from one repair round (default 0.9). */
  confidence?: number;
  /** How long receivers may spread their replies to a poll (default: room for every reply twice over, >= 10 s). */
  pollWindowMs?: number;
  maxRounds?: number;
  /** The transfer ends, incomplete, when the link refuses every packet for this long (default 10 min). */
  maxRefusedMs?: number;
  /** Called once when the transfer ends. */
  onDone?: (report: SenderReport) => void;
}

export interface ReceiverReport {
  node: number;
  state: ReceiverState | 'silent';
  reason: string;
  received: number;
}

export interface SenderReport {
  session: number;
  complete: boolean;
  rounds: number;
  sourceSymbols: number;
  repairSymbols: number;
  controlMessages: number;
  /** Signed HASHES messages sent (each run's twice), and their airtime, ms (part of airtimeMs). */
  hashMessages: number;
  hashAirtimeMs: number;
  /** Packets the link refused (radio queue full) and the sender sent again later. */
  refusals: number;
  /**
   * Packets the link took that the radio then refused (so they never went on air), as far as known when the transfer
   * ended: counted by links that learn it later (`TransferLink.stats`), 0 for others. The fountain code made up for them.
   */
  dropped: number;
  /** Own airtime spent, ms (packets handed to the radio, dropped ones included). */
  airtimeMs: number;
  durationMs: number;
  receivers: ReceiverReport[];
}

interface PeerView {
  state: ReceiverState | 'silent';
  reason: string;
  received: number;
  needs: Map<number, number> | null;
  /** Symbols sent between this peer's first symbol and its last report. */
  sentAtReport: number;
  lastRound: number;
}

export class BroadcastSender {
  private readonly encoder: FountainEncoder;
  readonly blocks: SourceBlock[];
  private readonly nextEsi: number[];
  private readonly offer: OfferMessage;
  private readonly digest: Uint8Array;
  /** Per block, the symbols whose signed hashes are already queued (ESI below this). */
  private readonly hashedUpTo: number[];
  private readonly queue: TransferMessage[] = [];
  private readonly peers = new Map<number, PeerView>();
  private timer: TimerHandle | null = null;
  private phase: 'idle' | 'sending' | 'collecting' | 'done' = 'idle';
  private round = 0;
  private symbolsSent = 0;
  /** Send position of every symbol, to match a receiver's first symbol to how much was sent since. */
  private readonly sentIndex = new Map<number, number>();
  private quietRounds = 0;
  private startMs = 0;
  /** Since when the link has refused every packet (null while it takes them), and how many times in a row. */
  private refusedSince: number | null = null;
  private refusals = 0;
  private readonly stats = { sourceSymbols: 0, repairSymbols: 0, controlMessages: 0, hashMessages: 0, hashAirtimeMs: 0, airtimeMs: 0, refusals: 0 };
  private report: SenderReport | null = null;

  constructor(private readonly o: SenderOptions) {
    const symbolSize = o.symbolSize ?? MAX_SYMBOL_BYTES;
    if (symbolSize > MAX_SYMBOL_BYTES || symbolSize < 1) throw new OtaError('INVALID_ARGUMENT', `symbol size must be 1..${MAX_SYMBOL_BYTES}`);
    if (!Number.isInteger(o.session) || o.session < 0 || o.session > 0xffff) throw new OtaError('INVALID_ARGUMENT', 'session must be a u16');
    const maxBlockSymbols = o.maxBlockSymbols ?? 512;
    this.encoder = new FountainEncoder(o.bundle, { symbolSize, maxBlockSymbols, seed: o.seed });
    this.blocks = this.encoder.blocks;
    this.nextEsi = this.blocks.map((b) => b.symbols);
    this.offer = signOffer({
      type: 'offer', session: o.session, seed: o.seed, length: o.bundle.length, symbolSize, maxBlockSymbols,
      bundleSha256: sha256(o.bundle), modelHash: fnv1a32(o.manifest.modelId), version: o.manifest.version,
      baseVersion: o.manifest.baseVersion, securityCounter: o.manifest.securityCounter,
    }, o.key);
    this.digest = offerDigest(this.offer);
    this.hashedUpTo = this.blocks.map(() => 0);
    for (const n of o.receivers ?? []) this.peers.set(n, { state: 'silent', reason: 'NONE', received: 0, needs: null, sentAtReport: 0, lastRound: -1 });
  }

  /** Total source symbols (the M in "M(1+e)"). */
  get sourceSymbolCount(): number {
    return this.blocks.reduce((n, b) => n + b.symbols, 0);
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  start(): void {
    if (this.phase !== 'idle') throw new OtaError('INVALID_STATE', 'sender already started');
    this.startMs = this.o.clock.now();
    this.queue.push(this.offer, this.offer);
    // Sources interleaved across blocks, so a burst of losses spreads over blocks.
    const maxM = Math.max(...this.blocks.map((b) => b.symbols));
    for (let j = 0; j < maxM; j++) {
      for (const b of this.blocks) if (j < b.symbols) this.queue.push({ type: 'data', session: this.o.session, block: b.index, esi: j, symbol: new Uint8Array(0) });
    }
    const extra = this.o.initialRedundancy ?? 0;
    if (extra > 0) this.queueRepair(this.blocks.map((b) => Math.ceil(b.symbols * extra)));
    this.queuePoll();
    this.phase = 'sending';
    this.pump();
  }

  private queueRepair(counts: number[]): void {
    const maxN = Math.max(0, ...counts);
    for (let j = 0; j < maxN; j++) {
      this.blocks.forEach((b, i) => {
        if (j < counts[i]! && this.nextEsi[i]! <= MAX_ESI) {
          this.queue.push({ type: 'data', session: this.o.session, block: b.index, esi: this.nextEsi[i]!, symbol: new Uint8Array(0) });
          this.nextEsi[i]!++;
        }
      });
    }
  }

  private pollWindow(): number {
    if (this.o.pollWindowMs !== undefined) return this.o.pollWindowMs;
    // Room for every reply ten times over keeps collisions between replies rare.
    const replies = Math.max(this.peers.size, 8);
    return Math.max(10_000, Math.ceil(replies * this.o.airtimeMs(24) * 10));
  }

  private queuePoll(): void {
    const done = [...this.peers.entries()].filter(([, p]) => p.state !== 'receiving' && p.state !== 'silent').map(([n]) => n);
    this.queue.push({ type: 'poll', session: this.o.session, round: this.round, windowMs: this.pollWindow(), done });
  }

  private pump(): void {
    this.timer = null;
    if (this.phase !== 'sending') return;
    if (this.queue[0]?.type === 'data') this.queueHashesFor(this.queue[0]);
    const next = this.queue[0];
    if (!next) {
      this.phase = 'collecting';
      this.timer = this.o.clock.setTimer(this.pollWindow() + this.o.airtimeMs(32) * 2, () => this.endRound());
      return;
    }
    const payload = this.materialize(next);
    const airtime = this.o.airtimeMs(payload.length);
    const now = this.o.clock.now();
    const wait = this.o.pacer.delayMs(now, airtime);
    if (wait > 0) {
      this.timer = this.o.clock.setTimer(wait, () => this.pump());
      return;
    }
    if (this.o.link.send(payload) === false) {
      // The radio's queue is full (a busy relay) or the radio is away: keep the packet and back off, doubling from
      // one airtime up to 30 s, so the queue drains instead of the transfer losing packets it believes were sent.
      this.refusedSince ??= now;
      if (now - this.refusedSince >= (this.o.maxRefusedMs ?? 600_000)) {
        this.finish(false);
        return;
      }
      const backoff = Math.min(30_000, airtime * 2 ** Math.min(this.refusals, 10));
      this.refusals++;
      this.stats.refusals++;
      this.timer = this.o.clock.setTimer(backoff, () => this.pump());
      return;
    }
    this.refusedSince = null;
    this.refusals = 0;
    this.queue.shift();
    this.o.pacer.sent(now, airtime);
    this.stats.airtimeMs += airtime;
    if (next.type === 'hashes') {
      this.stats.hashMessages++;
      this.stats.hashAirtimeMs += airtime;
    } else if (next.type === 'data') {
      if (!this.sentIndex.has(next.block * 0x10000 + next.esi)) this.sentIndex.set(next.block * 0x10000 + next.esi, this.symbolsSent);
      this.symbolsSent++;
      if (next.esi < this.blocks[next.block]!.symbols) this.stats.sourceSymbols++;
      else this.stats.repairSymbols++;
    } else {
      this.stats.controlMessages++;
    }
    // The radio is busy for the packet's airtime; the pacer adds any gap on top.
    this.timer = this.o.clock.setTimer(airtime, () => this.pump());
  }

  /**
   * Before the first symbol of a run goes out, its signed hashes: the run is the consecutive ESIs of the block waiting
   * in the queue (up to one HASHES message), and the HASHES goes ahead of it and again half-way through it.
   */
  private queueHashesFor(first: DataMessage): void {
    if (first.esi < this.hashedUpTo[first.block]!) return;
    const waiting = new Map<number, number>();
    this.queue.forEach((m, at) => {
      if (m.type === 'data' && m.block === first.block) waiting.set(m.esi, at);
    });
    const hashes: Uint8Array[] = [];
    while (hashes.length < MAX_HASHES_PER_MESSAGE && waiting.has(first.esi + hashes.length)) hashes.push(symbolHash(this.encoder.symbol(first.block, first.esi + hashes.length)));
    const message = signHashes(this.digest, { session: this.o.session, block: first.block, firstEsi: first.esi, hashes }, this.o.key);
    this.hashedUpTo[first.block] = first.esi + hashes.length;
    const middle = waiting.get(first.esi + Math.floor(hashes.length / 2))!;
    this.queue.splice(middle, 0, message);
    this.queue.unshift(message);
  }

  private materialize(m: TransferMessage): Uint8Array {
    if (m.type === 'data') return encodeMessage({ ...m, symbol: this.encoder.symbol(m.block, m.esi) });
    return encodeMessage(m);
  }

  /** Feed every payload that arrives on the transfer's port. Returns false for ones that are not for this sender. */
  onMessage(from: number, payload: Uint8Array): boolean {
    let m: TransferMessage;
    try {
      m = decodeMessage(payload);
    } catch {
      return false;
    }
    if (m.type !== 'status' || m.session !== this.o.session || this.phase === 'done') return false;
    this.onStatus(from, m);
    return true;
  }

  private onStatus(from: number, m: StatusMessage): void {
    let peer = this.peers.get(from);
    if (!peer) {
      if (this.o.receivers) return; // not one of ours
      peer = { state: 'silent', reason: 'NONE', received: 0, needs: null, sentAtReport: 0, lastRound: -1 };
      this.peers.set(from, peer);
    }
    peer.state = m.state;
    peer.reason = m.reason;
    peer.received = m.received;
    const firstAt = m.first ? this.sentIndex.get(m.first.block * 0x10000 + m.first.esi) : undefined;
    peer.sentAtReport = firstAt === undefined ? 0 : this.symbolsSent - firstAt;
    peer.lastRound = this.round;
    peer.needs = new Map(m.needs.map((n) => [n.block, n.need]));
  }

  private endRound(): void {
    this.timer = null;
    const receiving = [...this.peers.values()].filter((p) => p.state === 'receiving');
    const silent = [...this.peers.values()].filter((p) => p.state === 'silent' || (p.state === 'receiving' && p.lastRound !== this.round));
    const expected = this.o.receivers !== undefined;
    const allSettled = expected && [...this.peers.values()].every((p) => p.state !== 'receiving' && p.state !== 'silent');
    if (allSettled) return this.finish(true);
    if (!expected) {
      const heardNeed = receiving.some((p) => p.lastRound === this.round);
      this.quietRounds = heardNeed ? 0 : this.quietRounds + 1;
      if (this.quietRounds >= 2 && this.peers.size > 0) return this.finish(true);
    }
    this.round++;
    if (this.round >= (this.o.maxRounds ?? 30)) return this.finish(false);
    // Repair for each block: enough for the neediest receiver, given the loss it has seen.
    const counts = this.blocks.map(() => 0);
    const confidence = this.o.confidence ?? 0.9;
    // Only needs reported for this round: older ones have been served since.
    for (const p of receiving) {
      if (!p.needs || p.lastRound !== this.round - 1) continue;
      const loss = p.sentAtReport > 0 ? Math.max(0, 1 - (p.received + 1) / (p.sentAtReport + 2)) : 0.5;
      for (const [block, need] of p.needs) {
        if (block < counts.length) counts[block] = Math.max(counts[block]!, symbolsToSend(need, loss, confidence));
      }
    }
    // Receivers never heard from may have missed the offer: repeat it.
    if (silent.some((p) => p.lastRound < 0) || (!expected && this.peers.size === 0)) this.queue.push(this.offer);
    this.queueRepair(counts);
    this.queuePoll();
    this.phase = 'sending';
    this.pump();
  }

  private finish(complete: boolean): void {
    if (this.timer) this.o.clock.clearTimer(this.timer);
    this.timer = null;
    this.phase = 'done';
    try {
      this.o.link.send(encodeMessage({ type: 'end', session: this.o.session, reason: complete ? 0 : 1 }));
      this.stats.controlMessages++;
      this.stats.airtimeMs += this.o.airtimeMs(4);
    } catch {
      // The end marker is a courtesy; receivers also stop on silence.
    }
    this.report = {
      session: this.o.session,
      complete,
      rounds: this.round + 1,
      ...this.stats,
      dropped: this.o.link.stats?.dropped ?? 0,
      durationMs: this.o.clock.now() - this.startMs,
      receivers: [...this.peers.entries()].map(([node, p]) => ({ node, state: p.state, reason: p.reason, received: p.received })),
    };
    this.o.onDone?.(this.report);
  }

  /** The final report (null while running). */
  get result(): SenderReport | null {
    return this.report;
  }

  /** Stops sending at once. */
  cancel(): void {
    if (this.phase !== 'done') this.finish(false);
  }
}

export { partitionBlocks };
