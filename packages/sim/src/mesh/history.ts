/** How long a packet counts as seen (FLOOD_EXPIRE_TIME: 10 minutes). */
export const FLOOD_EXPIRE_MS = 10 * 60 * 1000;
/** Relayers remembered per packet (NUM_RELAYERS). */
export const NUM_RELAYERS = 3;

export interface SeenResult {
  seen: boolean;
  wasFallback: boolean;
  weWereNextHop: boolean;
}

// One record is STRIDE int32 cells: origin + 1 (0 = empty slot), id, sender, next hop, then the NUM_RELAYERS relay
// bytes heard relaying it, most recent first (0 = none). Its time lives in a parallel Float64Array.
const ORIGIN = 0;
const ID = 1;
const SENDER = 2;
const NEXT_HOP = 3;
const RELAYED = 4;
const STRIDE = RELAYED + NUM_RELAYERS;
const MIN_SLOTS = 16;

/**
 * PacketHistory: which (sender, id) pairs a node has seen in the last 10 minutes (since their latest sighting) and who
 * relayed them. As in firmware 2.6.11 a record is never dropped before it expires, however busy the mesh: a very late
 * copy is still a duplicate. Expired records are purged once the table passes its reserved size (`capacity`).
 *
 * The records sit in flat typed arrays with open addressing (linear probing, at most half full): a busy mesh holds
 * millions of records, and objects in per-node Maps are what made lookups miss the cache as the heap grew.
 */
export class PacketHistory {
  private cells = new Int32Array(MIN_SLOTS * STRIDE);
  private times = new Float64Array(MIN_SLOTS);
  private mask = MIN_SLOTS - 1;
  private count = 0;
  /** Size at which expired records are next purged (amortised; expired records count as unseen either way). */
  private purgeAt: number;
  private readonly result: SeenResult = { seen: false, wasFallback: false, weWereNextHop: false };
  private readonly ourByte: number;
  private readonly ourNum: number;

  constructor(private readonly capacity: number, ourByte: number, ourNum: number) {
    this.purgeAt = Math.max(1, Math.floor(capacity * 0.9));
    this.ourByte = ourByte | 0;
    this.ourNum = ourNum | 0;
  }

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.cells = new Int32Array(MIN_SLOTS * STRIDE);
    this.times = new Float64Array(MIN_SLOTS);
    this.mask = MIN_SLOTS - 1;
    this.count = 0;
    this.purgeAt = Math.max(1, Math.floor(this.capacity * 0.9));
  }

  private static hash(origin: number, id: number): number {
    const h = Math.imul(origin + 1, 0x9e3779b1) ^ id;
    return Math.imul(h ^ (h >>> 15), 0x85ebca6b) ^ (h >>> 13);
  }

  /** Slot holding (origin, id), or -1. */
  private lookup(origin: number, id: number): number {
    const cells = this.cells;
    const mask = this.mask;
    const o = origin + 1;
    for (let s = PacketHistory.hash(origin, id) & mask; ; s = (s + 1) & mask) {
      const at = s * STRIDE;
      const so = cells[at + ORIGIN] as number;
      if (so === 0) return -1;
      if (so === o && cells[at + ID] === id) return s;
    }
  }

  /** First free slot for (origin, id), which must not be present. */
  private freeSlot(cells: Int32Array, mask: number, origin: number, id: number): number {
    let s = PacketHistory.hash(origin, id) & mask;
    while (cells[s * STRIDE + ORIGIN] !== 0) s = (s + 1) & mask;
    return s;
  }

  /** Rebuild the table with `slots` slots, keeping only records that have not expired at nowMs. */
  private rebuild(slots: number, nowMs: number): void {
    const oldCells = this.cells;
    const oldTimes = this.times;
    const cells = new Int32Array(slots * STRIDE);
    const times = new Float64Array(slots);
    const mask = slots - 1;
    let count = 0;
    for (let s = 0; s < oldTimes.length; s++) {
      const at = s * STRIDE;
      if (oldCells[at + ORIGIN] === 0 || nowMs - (oldTimes[s] as number) >= FLOOD_EXPIRE_MS) continue;
      const d = this.freeSlot(cells, mask, (oldCells[at + ORIGIN] as number) - 1, oldCells[at + ID] as number);
      cells.set(oldCells.subarray(at, at + STRIDE), d * STRIDE);
      times[d] = oldTimes[s] as number;
      count++;
    }
    this.cells = cells;
    this.times = times;
    this.mask = mask;
    this.count = count;
  }

  /** clearExpiredRecentPackets. */
  private purgeExpired(nowMs: number): void {
    this.rebuild(this.times.length, nowMs);
    this.purgeAt = Math.max(Math.floor(this.capacity * 0.9), 2 * this.count);
  }

  private relayedBy(slot: number, relayer: number): boolean {
    const at = slot * STRIDE + RELAYED;
    const cells = this.cells;
    for (let i = 0; i < NUM_RELAYERS; i++) if (cells[at + i] === relayer) return true;
    return false;
  }

  /** Slot of a record for (origin, id) that has not expired, or -1. */
  private findLive(origin: number, id: number, nowMs: number): number {
    const s = this.lookup(origin, id | 0);
    return s >= 0 && nowMs - (this.times[s] as number) < FLOOD_EXPIRE_MS ? s : -1;
  }

  /**
   * wasSeenRecently(p, withUpdate): reports whether the packet was seen, whether this copy is a next-hop sender
   * falling back to flooding, and whether we were the requested next hop; with update, records this sighting.
   * `origin` is the sender's simulation index: (origin, id) identifies the packet like (sender, id) does.
   * The returned object is reused by the next call.
   */
  check(p: { origin: number; from: number; id: number; nextHop: number; relayNode: number }, nowMs: number, withUpdate: boolean): SeenResult {
    const result = this.result;
    result.seen = false;
    result.wasFallback = false;
    result.weWereNextHop = false;
    if (p.id === 0) return result;
    const id = p.id | 0;
    const relayNode = p.relayNode | 0;
    let slot = this.lookup(p.origin, id);
    // An expired record counts as unseen; a new sighting overwrites it in place.
    const expired = slot >= 0 && nowMs - (this.times[slot] as number) >= FLOOD_EXPIRE_MS;
    const cells = this.cells;
    if (slot >= 0 && !expired) {
      const at = slot * STRIDE;
      const nextHop = cells[at + NEXT_HOP] as number;
      result.seen = true;
      if (
        cells[at + SENDER] !== this.ourNum &&
        nextHop !== 0 &&
        nextHop !== this.ourByte &&
        p.nextHop === 0 &&
        this.relayedBy(slot, relayNode) &&
        !this.relayedBy(slot, this.ourByte) &&
        !this.relayedBy(slot, nextHop)
      ) {
        result.wasFallback = true;
      }
      result.weWereNextHop = nextHop === this.ourByte;
    }
    if (!withUpdate) return result;
    if (slot >= 0 && !expired) {
      // Newest relayer first; keep the original next hop (whether we were asked originally).
      const at = slot * STRIDE + RELAYED;
      for (let i = NUM_RELAYERS - 1; i > 0; i--) cells[at + i] = cells[at + i - 1] as number;
      cells[at] = relayNode;
      this.times[slot] = nowMs;
      return result;
    }
    if (slot < 0) {
      if (2 * (this.count + 1) > this.times.length) this.rebuild(2 * this.times.length, nowMs);
      slot = this.freeSlot(this.cells, this.mask, p.origin, id);
      this.count++;
    }
    const c = this.cells;
    const at = slot * STRIDE;
    c[at + ORIGIN] = p.origin + 1;
    c[at + ID] = id;
    c[at + SENDER] = p.from | 0;
    c[at + NEXT_HOP] = p.nextHop | 0;
    c[at + RELAYED] = relayNode;
    for (let i = 1; i < NUM_RELAYERS; i++) c[at + RELAYED + i] = 0;
    this.times[slot] = nowMs;
    if (this.count > this.purgeAt) this.purgeExpired(nowMs);
    return result;
  }

  wasRelayer(relayer: number, id: number, origin: number, nowMs: number): boolean {
    if (relayer === 0) return false;
    const s = this.findLive(origin, id, nowMs);
    return s >= 0 && this.relayedBy(s, relayer | 0);
  }
}
