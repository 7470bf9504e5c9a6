import type { Clock } from '@compotastic/mesh';
import { CodecError, OrchestratorError } from '../errors.js';
import { encodeForLink, Reassembler } from '../wire/fragment.js';
import { type Message, type MessageTypeName, decodeMessage, looksLikeProfile } from '../wire/messages.js';
import { SealedLink } from '../auth/sealed-link.js';
import type { Destination, PacketLink, ReceivedPacket, SendResult } from './link.js';

export type Priority = 'control' | 'bulk';

const QUEUE_FULL_RETRIES = 3;
/** Class rank of a message that belongs to no job (adverts, heartbeats, queries): routine. */
const DEFAULT_RANK = 1;
/** A low-priority packet held back by a congested channel waits this long at most before it is shed. */
export const SHED_AFTER_MS = 30_000;
/** How often a held-back packet looks at the channel again. */
const CONGESTION_RECHECK_MS = 5_000;
const QUEUE_FULL_WAIT_MS = 3000;

export interface MessageMeta {
  link: 'lora' | 'ble';
  hops: number | null;
  snr: number | null;
  relayNode: number | null;
  to: number;
}

export type MessageHandler = (from: number, msg: Message, meta: MessageMeta) => void;

export interface MessengerStats {
  sent: Partial<Record<MessageTypeName, number>>;
  received: Partial<Record<MessageTypeName, number>>;
  sendFailures: number;
  /** Low-priority messages dropped because the channel stayed congested. */
  shed: number;
  decodeErrors: number;
  foreign: number;
}

interface QueuedSend {
  link: PacketLink;
  to: Destination;
  payloads: Uint8Array[];
  wantAck: boolean;
  hopLimit: number | undefined;
  introduce: boolean;
  peerKey: Uint8Array | undefined;
  resolve: (r: SendResult) => void;
  type: MessageTypeName;
  /** Higher goes first: the job's class rank (critical 3 .. bulk 0), twice, plus one for a control message. */
  order: number;
  /** Hold back while the channel is busier than this, percent (null: never held). */
  yieldAbovePct: number | null;
  queuedMs: number;
}

export interface MessengerOptions {
  clock: Clock;
  /** Packets in flight per link (the radio's queue is small and the channel is shared). */
  maxInFlight?: number;
  onDecodeError?: (from: number, error: OrchestratorError) => void;
  /** The channel utilization this node measures, percent (the radio's telemetry); low-priority traffic yields to it. */
  channelUtilPct?: () => number;
  /**
   * Hop limit for a direct message to a peer whose distance is known (relays to it plus one spare): a unicast sent
   * with the radio's full hop limit is flooded far past its destination while no next hop is learned.
   */
  hopLimitFor?: (to: number) => number | undefined;
}

export interface SendOptions {
  via?: 'lora' | 'ble';
  wantAck?: boolean;
  priority?: Priority;
  /** The job's class rank (critical 3, urgent 2, routine 1, bulk 0; default routine): higher ranks go first. */
  rank?: number;
  /**
   * While the measured channel utilization is above this (percent), the message waits behind the rest, and after
   * SHED_AFTER_MS it is dropped (SendResult error SHED, a local failure: lost data is asked for again).
   */
  yieldAbovePct?: number;
  hopLimit?: number;
  peerKey?: Uint8Array;
}

/**
 * Encodes, fragments, queues and sends messages over the node's links, and decodes what arrives. A more urgent job's
 * messages go first, and within a class control messages jump ahead of bulk tensor data; low-priority messages yield
 * to a congested channel and are shed if it stays congested. At most `maxInFlight` packets per link wait for the
 * radio at a time, so a large transfer never floods the radio's transmit queue.
 */
export class Messenger {
  private readonly handlers = new Set<MessageHandler>();
  private readonly queues = new Map<PacketLink, { items: QueuedSend[]; inFlight: number; recheck: boolean }>();
  private readonly reassembler: Reassembler;
  private readonly unsubscribe: Array<() => void> = [];
  private msgId = 0;
  private stopped = false;
  readonly stats: MessengerStats = { sent: {}, received: {}, sendFailures: 0, shed: 0, decodeErrors: 0, foreign: 0 };

  constructor(readonly links: { lora: PacketLink; ble?: PacketLink }, private readonly options: MessengerOptions) {
    this.reassembler = new Reassembler({ clock: options.clock });
    for (const link of [links.lora, links.ble]) {
      if (!link) continue;
      this.queues.set(link, { items: [], inFlight: 0, recheck: false });
      this.unsubscribe.push(link.onPacket((p) => this.receive(link, p)));
    }
  }

  onMessage(handler: MessageHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Drop everything queued (power loss); queued sends resolve as failed. */
  reset(): void {
    for (const q of this.queues.values()) {
      for (const item of q.items.splice(0)) item.resolve({ ok: false, error: 'RESET' });
    }
  }

  stop(): void {
    this.stopped = true;
    this.reset();
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /**
   * Queue a message; resolves when every packet of it was accepted/acknowledged, or with the first failure. On an
   * authenticated link a unicast needs the peer's key (else NO_PEER_KEY); broadcasts, capability adverts, and control
   * messages to a peer that has not yet shown it knows our key, introduce it. `peerKey` seals for a key other than the pinned.
   */
  send(to: Destination, msg: Message, options: SendOptions = {}): Promise<SendResult> {
    const link = options.via === 'ble' && this.links.ble ? this.links.ble : this.links.lora;
    const q = this.queues.get(link);
    if (!q || this.stopped) return Promise.resolve({ ok: false, error: 'STOPPED' });
    const sealed = link instanceof SealedLink ? link : null;
    if (sealed && !options.peerKey && !sealed.canReach(to)) return Promise.resolve({ ok: false, error: 'NO_PEER_KEY' });
    // Broadcasts always introduce the key (a node that missed our advert learns it from any heartbeat); bulk data
    // rides without it: the control message in front of it (ASSIGN, RESULT) introduces it.
    // A packet sealed for a key we refuse (AUTH_REJECT) goes to a device that may know nothing of us: introduce too.
    const introduce = sealed !== null && (to === 'broadcast' || msg.type === 'CAP_ADVERT' || options.peerKey !== undefined || (msg.type !== 'DATA' && sealed.wantsIntro(to)));
    this.msgId = (this.msgId + 1) & 0xffff;
    let payloads: Uint8Array[];
    try {
      payloads = encodeForLink(msg, this.msgId, sealed ? sealed.room(to, introduce) : link.maxPayload);
    } catch (e) {
      if (e instanceof CodecError) return Promise.resolve({ ok: false, error: `ENCODE:${e.code}` });
      throw e;
    }
    return new Promise<SendResult>((resolve) => {
      const order = 2 * (options.rank ?? DEFAULT_RANK) + (options.priority === 'bulk' ? 0 : 1);
      const item: QueuedSend = {
        link, to, payloads, wantAck: options.wantAck ?? to !== 'broadcast', hopLimit: options.hopLimit ?? (to === 'broadcast' || link.kind !== 'lora' ? undefined : this.options.hopLimitFor?.(to)), introduce, peerKey: options.peerKey, resolve, type: msg.type,
        order, yieldAbovePct: options.yieldAbovePct ?? null, queuedMs: this.options.clock.now(),
      };
      // Stable insertion: behind everything of the same or a higher order, ahead of anything lower.
      let at = q.items.length;
      while (at > 0 && (q.items[at - 1] as QueuedSend).order < order) at--;
      q.items.splice(at, 0, item);
      this.pump(link);
    });
  }

  private pump(link: PacketLink): void {
    const q = this.queues.get(link);
    if (!q) return;
    const max = this.options.maxInFlight ?? 2;
    while (q.inFlight < max) {
      const item = this.next(q);
      if (!item) return;
      q.inFlight++;
      void this.transmit(item).then((r) => {
        q.inFlight--;
        if (r.ok) this.stats.sent[item.type] = (this.stats.sent[item.type] ?? 0) + 1;
        else this.stats.sendFailures++;
        item.resolve(r);
        this.pump(link);
      });
    }
  }

  /**
   * The first queued message the channel lets go now. Messages that yield to congestion stay queued behind the
   * rest, are shed once they waited SHED_AFTER_MS, and are looked at again every few seconds.
   */
  private next(q: { items: QueuedSend[]; recheck: boolean }): QueuedSend | undefined {
    const util = this.options.channelUtilPct?.() ?? 0;
    const now = this.options.clock.now();
    let held = false;
    for (let i = 0; i < q.items.length; i++) {
      const item = q.items[i] as QueuedSend;
      if (item.yieldAbovePct === null || util <= item.yieldAbovePct) {
        q.items.splice(i, 1);
        return item;
      }
      if (now - item.queuedMs >= SHED_AFTER_MS) {
        q.items.splice(i--, 1);
        this.stats.shed++;
        item.resolve({ ok: false, error: 'SHED' });
        continue;
      }
      held = true;
    }
    if (held && !q.recheck) {
      q.recheck = true;
      this.options.clock.setTimer(CONGESTION_RECHECK_MS, () => {
        q.recheck = false;
        for (const [link, x] of this.queues) if (x === q) this.pump(link);
      });
    }
    return undefined;
  }

  private async transmit(item: QueuedSend): Promise<SendResult> {
    for (const payload of item.payloads) {
      let r: SendResult = { ok: false, error: 'SEND_FAILED' };
      // A full transmit queue on a busy channel clears within seconds: wait and try again before giving up.
      for (let attempt = 0; attempt <= QUEUE_FULL_RETRIES; attempt++) {
        if (attempt > 0) await this.sleep(QUEUE_FULL_WAIT_MS * 2 ** (attempt - 1));
        if (this.stopped) return { ok: false, error: 'STOPPED' };
        try {
          const options = { wantAck: item.wantAck, hopLimit: item.hopLimit };
          r = await (item.link instanceof SealedLink ? item.link.send(item.to, payload, { ...options, introduce: item.introduce, peerKey: item.peerKey }) : item.link.send(item.to, payload, options));
        } catch (e) {
          r = { ok: false, error: (e as Error).message || 'SEND_FAILED' };
        }
        if (r.ok || r.error !== 'NO_INTERFACE') break;
      }
      if (!r.ok) return r;
    }
    return { ok: true };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.options.clock.setTimer(ms, resolve));
  }

  private receive(link: PacketLink, p: ReceivedPacket): void {
    if (this.stopped) return;
    if (!looksLikeProfile(p.payload)) {
      this.stats.foreign++;
      return;
    }
    let msg: Message | null;
    try {
      msg = decodeMessage(p.payload);
      if (msg.type === 'FRAGMENT') msg = this.reassembler.push(p.from, msg);
    } catch (e) {
      if (!(e instanceof OrchestratorError)) throw e;
      this.stats.decodeErrors++;
      this.options.onDecodeError?.(p.from, e);
      return;
    }
    if (!msg) return;
    this.stats.received[msg.type] = (this.stats.received[msg.type] ?? 0) + 1;
    const meta: MessageMeta = { link: link.kind, hops: p.hops, snr: p.snr, relayNode: p.relayNode, to: p.to };
    for (const h of this.handlers) h(p.from, msg, meta);
  }
}
