import type { Clock } from '@compotastic/mesh';
import { CodecError, OrchestratorError } from '../errors.js';
import { encodeForLink, Reassembler } from '../wire/fragment.js';
import { type Message, type MessageTypeName, decodeMessage, looksLikeProfile } from '../wire/messages.js';
import { SealedLink } from '../auth/sealed-link.js';
import type { Destination, PacketLink, ReceivedPacket, SendResult } from './link.js';

export type Priority = 'control' | 'bulk';

const QUEUE_FULL_RETRIES = 3;
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
}

export interface MessengerOptions {
  clock: Clock;
  /** Packets in flight per link (the radio's queue is small and the channel is shared). */
  maxInFlight?: number;
  onDecodeError?: (from: number, error: OrchestratorError) => void;
}

/**
 * Encodes, fragments, queues and sends messages over the node's links, and decodes what arrives. Control messages
 * jump ahead of bulk tensor data; at most `maxInFlight` packets per link wait for the radio at a time, so a large
 * transfer never floods the radio's transmit queue.
 */
export class Messenger {
  private readonly handlers = new Set<MessageHandler>();
  private readonly queues = new Map<PacketLink, { control: QueuedSend[]; bulk: QueuedSend[]; inFlight: number }>();
  private readonly reassembler: Reassembler;
  private readonly unsubscribe: Array<() => void> = [];
  private msgId = 0;
  private stopped = false;
  readonly stats: MessengerStats = { sent: {}, received: {}, sendFailures: 0, decodeErrors: 0, foreign: 0 };

  constructor(readonly links: { lora: PacketLink; ble?: PacketLink }, private readonly options: MessengerOptions) {
    this.reassembler = new Reassembler({ clock: options.clock });
    for (const link of [links.lora, links.ble]) {
      if (!link) continue;
      this.queues.set(link, { control: [], bulk: [], inFlight: 0 });
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
      for (const item of [...q.control.splice(0), ...q.bulk.splice(0)]) item.resolve({ ok: false, error: 'RESET' });
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
  send(to: Destination, msg: Message, options: { via?: 'lora' | 'ble'; wantAck?: boolean; priority?: Priority; hopLimit?: number; peerKey?: Uint8Array } = {}): Promise<SendResult> {
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
      const item: QueuedSend = { link, to, payloads, wantAck: options.wantAck ?? to !== 'broadcast', hopLimit: options.hopLimit, introduce, peerKey: options.peerKey, resolve, type: msg.type };
      (options.priority === 'bulk' ? q.bulk : q.control).push(item);
      this.pump(link);
    });
  }

  private pump(link: PacketLink): void {
    const q = this.queues.get(link);
    if (!q) return;
    const max = this.options.maxInFlight ?? 2;
    while (q.inFlight < max) {
      const item = q.control.shift() ?? q.bulk.shift();
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
