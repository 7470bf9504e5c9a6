import type { LearnedPosition, LearnedUser } from '../modules/firmware-modules.js';
import { grown } from '../world/typed-arrays.js';

/** One node as the node DB knows it (a copy: change it through the NodeDb's methods). */
export interface NodeDbEntry {
  num: number;
  /** From the node's NodeInfo, once heard. */
  user?: LearnedUser;
  /** From the node's Position packets, once heard. */
  position?: LearnedPosition;
  lastHeardMs: number;
  snr: number;
  hopsAway: number;
  nextHop: number;
}

const MIN_ENTRIES = 8;
const NONE = -1;

/**
 * A node's NodeDB: the nodes it has heard, in order of recency as the firmware keeps it (an entry refreshed after more
 * than a minute moves to the back; when full, the front one is forgotten).
 *
 * Every field lives in its own typed array indexed by entry (struct of arrays); the entries are dense (an evicted
 * entry's place goes to the newcomer), a doubly linked list through `prev`/`next` keeps the recency order, and an
 * open-addressed table (linear probing, backward-shift deletion, at most half full) maps a node number to its entry.
 * A mesh of 100,000 nodes holds millions of entries: as objects in per-node Maps they were what missed the cache.
 */
export class NodeDb {
  private nums = new Int32Array(MIN_ENTRIES);
  private heard = new Float64Array(MIN_ENTRIES);
  private snrs = new Float64Array(MIN_ENTRIES);
  private hops = new Int32Array(MIN_ENTRIES);
  private hopsNext = new Int32Array(MIN_ENTRIES);
  private prev = new Int32Array(MIN_ENTRIES);
  private next = new Int32Array(MIN_ENTRIES);
  /** Learned users and positions, by entry; most entries have none for long. */
  private users: (LearnedUser | undefined)[] = [];
  private positions: (LearnedPosition | undefined)[] = [];
  /** Entry + 1 per hash slot (0 = empty). */
  private table = new Int32Array(2 * MIN_ENTRIES);
  private count = 0;
  private head = NONE;
  private tail = NONE;

  /** @param maxSize entries kept at most (the firmware's MAX_NUM_NODES, the scenario's `firmware.nodeDbSize`). */
  constructor(readonly maxSize: number) {
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`node DB size must be a positive integer, got ${maxSize}`);
  }

  get size(): number {
    return this.count;
  }

  private static hash(num: number): number {
    const h = Math.imul(num | 0, 0x9e3779b1);
    return h ^ (h >>> 16);
  }

  /** Entry of node `num`, or -1. */
  private find(num: number): number {
    const key = num | 0;
    const table = this.table;
    const mask = table.length - 1;
    const nums = this.nums;
    for (let s = NodeDb.hash(key) & mask; ; s = (s + 1) & mask) {
      const e = (table[s] as number) - 1;
      if (e < 0) return NONE;
      if (nums[e] === key) return e;
    }
  }

  private insertKey(table: Int32Array, entry: number): void {
    const mask = table.length - 1;
    let s = NodeDb.hash(this.nums[entry] as number) & mask;
    while (table[s] !== 0) s = (s + 1) & mask;
    table[s] = entry + 1;
  }

  /** Removes entry's key from the hash table, shifting later members of its probe run back. */
  private removeKey(entry: number): void {
    const table = this.table;
    const mask = table.length - 1;
    let i = NodeDb.hash(this.nums[entry] as number) & mask;
    while (table[i] !== entry + 1) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; table[j] !== 0; j = (j + 1) & mask) {
      const home = NodeDb.hash(this.nums[(table[j] as number) - 1] as number) & mask;
      // Move j's key into the hole at i unless its home lies cyclically in (i, j].
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!between) {
        table[i] = table[j] as number;
        i = j;
      }
    }
    table[i] = 0;
  }

  private grow(): void {
    const n = Math.min(this.maxSize, 2 * this.nums.length);
    this.nums = grown(this.nums, n);
    this.heard = grown(this.heard, n);
    this.snrs = grown(this.snrs, n);
    this.hops = grown(this.hops, n);
    this.hopsNext = grown(this.hopsNext, n);
    this.prev = grown(this.prev, n);
    this.next = grown(this.next, n);
    let slots = this.table.length;
    while (slots < 2 * n) slots *= 2;
    if (slots !== this.table.length) {
      const table = new Int32Array(slots);
      for (let e = 0; e < this.count; e++) this.insertKey(table, e);
      this.table = table;
    }
  }

  private unlink(e: number): void {
    const p = this.prev[e] as number;
    const n = this.next[e] as number;
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
  }

  private append(e: number): void {
    this.prev[e] = this.tail;
    this.next[e] = NONE;
    if (this.tail === NONE) this.head = e;
    else this.next[this.tail] = e;
    this.tail = e;
  }

  /**
   * A packet heard from `num` (NodeDB::updateFrom): creates its entry (forgetting the least recent node when full),
   * or refreshes it, moving it to the back when last heard more than a minute ago. `hopsAway` < 0 leaves the hop
   * count as it was.
   */
  heardFrom(num: number, nowMs: number, snr: number, hopsAway: number): void {
    let e = this.find(num);
    if (e === NONE) {
      if (this.count >= this.maxSize) {
        e = this.head;
        this.unlink(e);
        this.removeKey(e);
      } else {
        if (this.count === this.nums.length) this.grow();
        e = this.count++;
      }
      this.nums[e] = num | 0;
      this.hops[e] = 0;
      this.hopsNext[e] = 0;
      this.users[e] = undefined;
      this.positions[e] = undefined;
      this.insertKey(this.table, e);
      this.append(e);
    } else if (nowMs - (this.heard[e] as number) > 60_000 && e !== this.tail) {
      this.unlink(e);
      this.append(e);
    }
    this.heard[e] = nowMs;
    this.snrs[e] = snr;
    if (hopsAway >= 0) this.hops[e] = hopsAway;
  }

  has(num: number): boolean {
    return this.find(num) !== NONE;
  }

  /** The next hop learned towards `num` (a relay's last byte), 0 when none or unknown. */
  nextHop(num: number): number {
    const e = this.find(num);
    return e === NONE ? 0 : (this.hopsNext[e] as number);
  }

  /** Sets the next hop towards a known node; an unknown node is left alone. */
  setNextHop(num: number, byte: number): void {
    const e = this.find(num);
    if (e !== NONE) this.hopsNext[e] = byte;
  }

  user(num: number): LearnedUser | undefined {
    const e = this.find(num);
    return e === NONE ? undefined : this.users[e];
  }

  /** Sets the user of a known node; an unknown node is left alone. */
  setUser(num: number, user: LearnedUser): void {
    const e = this.find(num);
    if (e !== NONE) this.users[e] = user;
  }

  /** Sets the position of a known node; an unknown node is left alone. */
  setPosition(num: number, position: LearnedPosition): void {
    const e = this.find(num);
    if (e !== NONE) this.positions[e] = position;
  }

  /** Nodes heard less than `windowMs` before `nowMs`. */
  countHeardWithin(nowMs: number, windowMs: number): number {
    let n = 0;
    const heard = this.heard;
    for (let e = 0; e < this.count; e++) if (nowMs - (heard[e] as number) < windowMs) n++;
    return n;
  }

  private entryAt(e: number): NodeDbEntry {
    const out: NodeDbEntry = {
      num: (this.nums[e] as number) >>> 0,
      lastHeardMs: this.heard[e] as number,
      snr: this.snrs[e] as number,
      hopsAway: this.hops[e] as number,
      nextHop: this.hopsNext[e] as number,
    };
    const user = this.users[e];
    const position = this.positions[e];
    if (user) out.user = user;
    if (position) out.position = position;
    return out;
  }

  /** A copy of node `num`'s entry, or undefined. */
  get(num: number): NodeDbEntry | undefined {
    const e = this.find(num);
    return e === NONE ? undefined : this.entryAt(e);
  }

  /** Copies of the entries, least recently refreshed first (the firmware's order). */
  *values(): IterableIterator<NodeDbEntry> {
    for (let e = this.head; e !== NONE; e = this.next[e] as number) yield this.entryAt(e);
  }
}
