/** How long a packet counts as seen (FLOOD_EXPIRE_TIME: 10 minutes). */
export const FLOOD_EXPIRE_MS = 10 * 60 * 1000;
/** Relayers remembered per packet (NUM_RELAYERS). */
export const NUM_RELAYERS = 3;

export interface SeenResult {
  seen: boolean;
  wasFallback: boolean;
  weWereNextHop: boolean;
}

// One record is 24 bytes: four int32 cells, origin + 1 (0 = empty slot), id, sender, and one cell packing the next
// hop (bits 0-7) and the NUM_RELAYERS relay bytes heard relaying it, most recent first (bits 8-15, 16-23, 24-31;
// 0 = none), as the firmware keeps them (uint8 next_hop and relayed_by); then its time, a float64 over the same
// buffer. A probe reads one place in memory, not two arrays.
const ORIGIN = 0;
const ID = 1;
const SENDER = 2;
const HOPS = 3;
/** int32 cells per record, and float64 cells per record (the time is the third). */
const STRIDE = 6;
const TIME_STRIDE = 3;
const TIME = 2;
const MIN_SLOTS = 16;

/**
 * PacketHistory: which (sender, id) pairs a node has seen in the last 10 minutes (since their latest sighting) and who
 * relayed them. As in firmware 2.6.11 a record is never dropped before it expires, however busy the mesh: a very late
 * copy is still a duplicate. Expired records are purged once the table passes its reserved size (`capacity`), and
 * whenever the table fills: it doubles only if the records still live need the room.
 *
 * The records sit in one flat buffer with open addressing (linear probing, at most half full): a busy mesh holds
 * millions of records, and objects in per-node Maps are what made lookups miss the cache as the heap grew.
 */
export class PacketHistory {
  private cells = new Int32Array(MIN_SLOTS * STRIDE);
  private times = new Float64Array(this.cells.buffer);
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
    this.times = new Float64Array(this.cells.buffer);
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

  private get slots(): number {
    return this.mask + 1;
  }

  private time(slot: number): number {
    return this.times[slot * TIME_STRIDE + TIME] as number;
  }

  /** Rebuild the table with `slots` slots, keeping only records that have not expired at nowMs. */
  private rebuild(slots: number, nowMs: number): void {
    const oldCells = this.cells;
    const oldTimes = this.times;
    const oldSlots = this.slots;
    const cells = new Int32Array(slots * STRIDE);
    const times = new Float64Array(cells.buffer);
    const mask = slots - 1;
    let count = 0;
    for (let s = 0; s < oldSlots; s++) {
      const at = s * STRIDE;
      if (oldCells[at + ORIGIN] === 0 || nowMs - (oldTimes[s * TIME_STRIDE + TIME] as number) >= FLOOD_EXPIRE_MS) continue;
      const d = this.freeSlot(cells, mask, (oldCells[at + ORIGIN] as number) - 1, oldCells[at + ID] as number);
      cells.set(oldCells.subarray(at, at + STRIDE), d * STRIDE);
      count++;
    }
    this.cells = cells;
    this.times = times;
    this.mask = mask;
    this.count = count;
  }

  /** Records that have not expired at nowMs. */
  private liveCount(nowMs: number): number {
    const cells = this.cells;
    const times = this.times;
    let live = 0;
    for (let s = 0, n = this.slots; s < n; s++) {
      if (cells[s * STRIDE + ORIGIN] !== 0 && nowMs - (times[s * TIME_STRIDE + TIME] as number) < FLOOD_EXPIRE_MS) live++;
    }
    return live;
  }

  /** The table is half full: purge the expired records, doubling it only when the live ones fill a quarter or more. */
  private makeRoom(nowMs: number): void {
    const slots = this.slots;
    this.rebuild(4 * (this.liveCount(nowMs) + 1) > slots ? 2 * slots : slots, nowMs);
  }

  /** clearExpiredRecentPackets. */
  private purgeExpired(nowMs: number): void {
    this.rebuild(this.slots, nowMs);
    this.purgeAt = Math.max(Math.floor(this.capacity * 0.9), 2 * this.count);
  }

  private relayedBy(slot: number, relayer: number): boolean {
    const hops = this.cells[slot * STRIDE + HOPS] as number;
    return ((hops >>> 8) & 0xff) === relayer || ((hops >>> 16) & 0xff) === relayer || hops >>> 24 === relayer;
  }

  /** Slot of a record for (origin, id) that has not expired, or -1. */
  private findLive(origin: number, id: number, nowMs: number): number {
    const s = this.lookup(origin, id | 0);
    return s >= 0 && nowMs - this.time(s) < FLOOD_EXPIRE_MS ? s : -1;
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
    const expired = slot >= 0 && nowMs - this.time(slot) >= FLOOD_EXPIRE_MS;
    const cells = this.cells;
    if (slot >= 0 && !expired) {
      const at = slot * STRIDE;
      const nextHop = (cells[at + HOPS] as number) & 0xff;
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
      const at = slot * STRIDE + HOPS;
      const hops = cells[at] as number;
      cells[at] = (hops & 0xff) | ((relayNode & 0xff) << 8) | ((hops << 8) & 0xffff0000);
      this.times[slot * TIME_STRIDE + TIME] = nowMs;
      return result;
    }
    if (slot < 0) {
      if (2 * (this.count + 1) > this.slots) this.makeRoom(nowMs);
      slot = this.freeSlot(this.cells, this.mask, p.origin, id);
      this.count++;
    }
    const c = this.cells;
    const at = slot * STRIDE;
    c[at + ORIGIN] = p.origin + 1;
    c[at + ID] = id;
    c[at + SENDER] = p.from | 0;
    c[at + HOPS] = (p.nextHop & 0xff) | ((relayNode & 0xff) << 8);
    this.times[slot * TIME_STRIDE + TIME] = nowMs;
    if (this.count > this.purgeAt) this.purgeExpired(nowMs);
    return result;
  }

  wasRelayer(relayer: number, id: number, origin: number, nowMs: number): boolean {
    if (relayer === 0) return false;
    const s = this.findLive(origin, id, nowMs);
    return s >= 0 && this.relayedBy(s, relayer | 0);
  }
}
