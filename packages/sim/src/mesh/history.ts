/** How long a packet counts as seen (FLOOD_EXPIRE_TIME: 10 minutes). */
export const FLOOD_EXPIRE_MS = 10 * 60 * 1000;
/** Relayers remembered per packet (NUM_RELAYERS). */
export const NUM_RELAYERS = 3;

export interface PacketRecord {
  origin: number;
  sender: number;
  id: number;
  timeMs: number;
  nextHop: number;
  /** Relay bytes heard relaying this packet, most recent first; 0 = empty slot. */
  relayedBy: [number, number, number];
  /** Next record whose key hashes to the same slot. */
  next: PacketRecord | null;
}

export interface SeenResult {
  seen: boolean;
  wasFallback: boolean;
  weWereNextHop: boolean;
}

/**
 * PacketHistory: which (sender, id) pairs a node has seen in the last 10 minutes (since their latest sighting) and who
 * relayed them. As in firmware 2.6.11 a record is never dropped before it expires, however busy the mesh: a very late
 * copy is still a duplicate. Expired records are purged once the table passes its reserved size (`capacity`).
 */
export class PacketHistory {
  /** Small-integer hash -> chain of records, in first-seen order (the oldest is evicted first). */
  private readonly records = new Map<number, PacketRecord>();
  private count = 0;
  /** Size at which expired records are next purged (amortised; expired records count as unseen either way). */
  private purgeAt: number;
  private readonly result: SeenResult = { seen: false, wasFallback: false, weWereNextHop: false };

  constructor(private readonly capacity: number, private readonly ourByte: number, private readonly ourNum: number) {
    this.purgeAt = Math.max(1, Math.floor(capacity * 0.9));
  }

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.records.clear();
    this.count = 0;
    this.purgeAt = Math.max(1, Math.floor(this.capacity * 0.9));
  }

  /** clearExpiredRecentPackets. */
  private purgeExpired(nowMs: number): void {
    const expired: PacketRecord[] = [];
    for (const head of this.records.values()) {
      for (let r: PacketRecord | null = head; r; r = r.next) if (nowMs - r.timeMs >= FLOOD_EXPIRE_MS) expired.push(r);
    }
    for (const r of expired) this.remove(r);
    this.purgeAt = Math.max(Math.floor(this.capacity * 0.9), 2 * this.count);
  }

  private static slot(origin: number, id: number): number {
    // 30-bit keys stay small integers, which Maps handle fastest.
    return (Math.imul(origin + 1, 0x9e3779b1) ^ id) & 0x3fffffff;
  }

  private lookup(origin: number, id: number): PacketRecord | undefined {
    let r = this.records.get(PacketHistory.slot(origin, id));
    while (r && !(r.origin === origin && r.id === id)) r = r.next ?? undefined;
    return r;
  }

  private remove(rec: PacketRecord): void {
    const slot = PacketHistory.slot(rec.origin, rec.id);
    let head = this.records.get(slot);
    if (!head) return;
    if (head === rec) {
      if (rec.next) {
        // Keep the slot's position in first-seen order by reusing the key.
        this.records.delete(slot);
        this.records.set(slot, rec.next);
      } else this.records.delete(slot);
    } else {
      while (head.next && head.next !== rec) head = head.next;
      if (head.next === rec) head.next = rec.next;
    }
    rec.next = null;
    this.count--;
  }

  /** `origin` is the sender's simulation index: (origin, id) identifies the packet like (sender, id) does. */
  find(origin: number, id: number, nowMs: number): PacketRecord | undefined {
    const r = this.lookup(origin, id);
    if (r && nowMs - r.timeMs >= FLOOD_EXPIRE_MS) return undefined;
    return r;
  }

  /**
   * wasSeenRecently(p, withUpdate): reports whether the packet was seen, whether this copy is a next-hop sender
   * falling back to flooding, and whether we were the requested next hop; with update, records this sighting.
   * The returned object is reused by the next call.
   */
  check(p: { origin: number; from: number; id: number; nextHop: number; relayNode: number }, nowMs: number, withUpdate: boolean): SeenResult {
    const result = this.result;
    result.seen = false;
    result.wasFallback = false;
    result.weWereNextHop = false;
    if (p.id === 0) return result;
    let found = this.lookup(p.origin, p.id);
    if (found && nowMs - found.timeMs >= FLOOD_EXPIRE_MS) {
      this.remove(found);
      found = undefined;
    }
    if (found) {
      result.seen = true;
      const rb = found.relayedBy;
      if (
        found.sender !== this.ourNum &&
        found.nextHop !== 0 &&
        found.nextHop !== this.ourByte &&
        p.nextHop === 0 &&
        rb.includes(p.relayNode) &&
        !rb.includes(this.ourByte) &&
        !rb.includes(found.nextHop)
      ) {
        result.wasFallback = true;
      }
      result.weWereNextHop = found.nextHop === this.ourByte;
    }
    if (withUpdate) {
      if (found) {
        // Newest relayer first; keep the original next hop (whether we were asked originally).
        const rb = found.relayedBy;
        rb[2] = rb[1];
        rb[1] = rb[0];
        rb[0] = p.relayNode;
        found.timeMs = nowMs;
      } else {
        const rec: PacketRecord = { origin: p.origin, sender: p.from, id: p.id, timeMs: nowMs, nextHop: p.nextHop, relayedBy: [p.relayNode, 0, 0], next: null };
        const slot = PacketHistory.slot(p.origin, p.id);
        const head = this.records.get(slot);
        if (head) {
          let tail = head;
          while (tail.next) tail = tail.next;
          tail.next = rec;
        } else this.records.set(slot, rec);
        this.count++;
        if (this.count > this.purgeAt) this.purgeExpired(nowMs);
      }
    }
    return result;
  }

  wasRelayer(relayer: number, id: number, origin: number, nowMs: number): boolean {
    const r = this.find(origin, id, nowMs);
    return !!r && relayer !== 0 && r.relayedBy.includes(relayer);
  }
}
