import { crc32, varintLength, type Clock } from '@compotastic/mesh';
import { CodecError, ReassemblyError } from '../errors.js';
import { DEFAULT_MAX_PAYLOAD, decodeMessage, encodeMessage, type Message, type MessageOf } from './messages.js';

/** FRAGMENT header: 2 profile + 2 message id + 1 index + 1 count; the first also carries length and CRC-32. */
const FRAGMENT_HEADER = 6;
export const MAX_FRAGMENTS = 255;

/** Largest message that fragmentation can carry at a given payload limit. */
export function maxFragmentedBytes(maxPayload = DEFAULT_MAX_PAYLOAD): number {
  const room = maxPayload - FRAGMENT_HEADER;
  // The first fragment also carries the total length (a varint) and the CRC-32.
  let total = room * MAX_FRAGMENTS - 4 - 1;
  while (total + varintLength(total) + 4 > room * MAX_FRAGMENTS) total--;
  return total;
}

/**
 * Encode a message for one link: a single payload when it fits, otherwise FRAGMENT payloads whose reassembly is
 * checked with a CRC-32 over the whole encoded message. `msgId` must differ between concurrent messages of a sender.
 */
export function encodeForLink(msg: Message, msgId: number, maxPayload = DEFAULT_MAX_PAYLOAD): Uint8Array[] {
  const full = encodeMessage(msg, { maxPayload: Infinity });
  if (full.length <= maxPayload) return [full];
  if (msg.type === 'FRAGMENT') throw new CodecError('TOO_LARGE', 'a fragment cannot itself be fragmented');
  return fragmentBytes(full, msgId, maxPayload);
}

export function fragmentBytes(full: Uint8Array, msgId: number, maxPayload = DEFAULT_MAX_PAYLOAD): Uint8Array[] {
  if (!Number.isInteger(msgId) || msgId < 0 || msgId > 0xffff) throw new CodecError('BAD_VALUE', `fragment message id must be 0..65535, got ${msgId}`);
  const room = maxPayload - FRAGMENT_HEADER;
  const firstRoom = room - varintLength(full.length) - 4;
  if (firstRoom < 1) throw new CodecError('BAD_VALUE', `payload limit ${maxPayload} leaves no room for fragment data`);
  const count = 1 + Math.ceil(Math.max(0, full.length - firstRoom) / room);
  if (count > MAX_FRAGMENTS) throw new CodecError('TOO_LARGE', `${full.length} bytes need ${count} fragments, over ${MAX_FRAGMENTS}`);
  const crc = crc32(full);
  const out: Uint8Array[] = [];
  let pos = 0;
  for (let index = 0; index < count; index++) {
    const take = index === 0 ? firstRoom : room;
    const chunk = full.subarray(pos, Math.min(full.length, pos + take));
    pos += chunk.length;
    const frag: MessageOf<'FRAGMENT'> = {
      type: 'FRAGMENT',
      msgId,
      index,
      count,
      totalLength: index === 0 ? full.length : null,
      crc: index === 0 ? crc : null,
      chunk,
    };
    out.push(encodeMessage(frag, { maxPayload }));
  }
  return out;
}

export interface ReassemblerOptions {
  clock: Clock;
  /** Drop a partial message this long after its first fragment (default 10 minutes: LoRa is slow). */
  timeoutMs?: number;
  /** Partial messages kept per sender / in total; the oldest is evicted first. */
  maxPerSender?: number;
  maxTotal?: number;
}

interface Partial {
  key: string;
  count: number;
  chunks: Array<Uint8Array | undefined>;
  received: number;
  totalLength: number | null;
  crc: number | null;
  firstMs: number;
}

export interface ReassemblyStats {
  completed: number;
  expired: number;
  evicted: number;
  corrupt: number;
  duplicates: number;
}

/**
 * Rebuilds fragmented messages per sender. Duplicated and reordered fragments are fine; a fragment that contradicts
 * the others, or a reassembly whose length or CRC-32 does not match, throws ReassemblyError and discards the partial.
 * Memory is bounded by the partial-message limits; nothing needs a timer (expiry is checked on arrival).
 */
export class Reassembler {
  private readonly partials = new Map<string, Partial>();
  /** Messages completed recently, so a late duplicate fragment does not start a new partial. */
  private readonly completed = new Map<string, number>();
  private readonly timeoutMs: number;
  private readonly maxPerSender: number;
  private readonly maxTotal: number;
  readonly stats: ReassemblyStats = { completed: 0, expired: 0, evicted: 0, corrupt: 0, duplicates: 0 };

  constructor(private readonly options: ReassemblerOptions) {
    this.timeoutMs = options.timeoutMs ?? 10 * 60_000;
    this.maxPerSender = options.maxPerSender ?? 8;
    this.maxTotal = options.maxTotal ?? 64;
  }

  get pending(): number {
    return this.partials.size;
  }

  /** Feed one fragment; returns the decoded message once complete, else null. */
  push(sender: number, frag: MessageOf<'FRAGMENT'>): Message | null {
    const now = this.options.clock.now();
    this.expire(now);
    const key = `${sender}:${frag.msgId}`;
    if (this.completed.has(key)) {
      this.stats.duplicates++;
      return null;
    }
    let p = this.partials.get(key);
    if (p && p.count !== frag.count) {
      this.partials.delete(key);
      this.stats.corrupt++;
      throw new ReassemblyError('FRAGMENT_MISMATCH', `fragment of message ${frag.msgId} from ${sender} says ${frag.count} parts, earlier ones said ${p.count}`);
    }
    if (!p) {
      this.makeRoom(sender);
      p = { key, count: frag.count, chunks: new Array<Uint8Array | undefined>(frag.count), received: 0, totalLength: null, crc: null, firstMs: now };
      this.partials.set(key, p);
    }
    if (p.chunks[frag.index]) {
      this.stats.duplicates++;
      return null;
    }
    p.chunks[frag.index] = frag.chunk;
    p.received++;
    if (frag.index === 0) {
      p.totalLength = frag.totalLength;
      p.crc = frag.crc;
    }
    if (p.received < p.count) return null;
    this.partials.delete(key);
    this.completed.set(key, now);
    const total = p.chunks.reduce((s, c) => s + (c as Uint8Array).length, 0);
    if (total !== p.totalLength) {
      this.stats.corrupt++;
      throw new ReassemblyError('INTEGRITY', `message ${frag.msgId} from ${sender}: reassembled ${total} bytes, expected ${p.totalLength}`);
    }
    const full = new Uint8Array(total);
    let pos = 0;
    for (const c of p.chunks) {
      full.set(c as Uint8Array, pos);
      pos += (c as Uint8Array).length;
    }
    if (crc32(full) !== p.crc) {
      this.stats.corrupt++;
      throw new ReassemblyError('INTEGRITY', `message ${frag.msgId} from ${sender}: CRC-32 mismatch`);
    }
    let msg: Message;
    try {
      msg = decodeMessage(full);
    } catch (e) {
      this.stats.corrupt++;
      throw e;
    }
    if (msg.type === 'FRAGMENT') {
      this.stats.corrupt++;
      throw new ReassemblyError('BAD_VALUE', `message ${frag.msgId} from ${sender}: a fragment may not contain a fragment`);
    }
    this.stats.completed++;
    return msg;
  }

  private expire(now: number): void {
    for (const [key, at] of this.completed) {
      if (now - at <= this.timeoutMs && this.completed.size <= 4 * this.maxTotal) break;
      this.completed.delete(key);
    }
    for (const [key, p] of this.partials) {
      if (now - p.firstMs > this.timeoutMs) {
        this.partials.delete(key);
        this.stats.expired++;
      }
    }
  }

  private makeRoom(sender: number): void {
    const prefix = `${sender}:`;
    const mine = [...this.partials.values()].filter((p) => p.key.startsWith(prefix));
    if (mine.length >= this.maxPerSender) this.evict(mine);
    if (this.partials.size >= this.maxTotal) this.evict([...this.partials.values()]);
  }

  private evict(candidates: Partial[]): void {
    let oldest: Partial | undefined;
    for (const p of candidates) if (!oldest || p.firstMs < oldest.firstMs) oldest = p;
    if (oldest) {
      this.partials.delete(oldest.key);
      this.stats.evicted++;
    }
  }
}
