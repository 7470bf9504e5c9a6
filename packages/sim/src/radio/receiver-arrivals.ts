import { grown } from '../world/typed-arrays.js';

const FIRST_CAPACITY = 4;

/**
 * The signals arriving at each receiver right now (ArrivalTable indices), every receiver's list a segment of one
 * shared Int32Array. Ending a transmission removes its arrival from each receiver's list; as a JS array per node
 * that read every receiver's node object and array (a cache miss each at thousands of nodes), here it is two typed
 * reads and a write. Removal swaps the last entry into the hole, as `pop` onto the slot would, so lists keep the
 * order the collision rules have always walked them in.
 */
export class ReceiverArrivals {
  /** The entries: receiver r's are `items[start(r)]` to `items[start(r) + count(r) - 1]`. Replaced when it grows. */
  items = new Int32Array(1024);
  private used = 0;
  private offset = new Int32Array(64);
  private length = new Int32Array(64);
  private capacity = new Int32Array(64);

  count(rx: number): number {
    return rx < this.length.length ? (this.length[rx] as number) : 0;
  }

  start(rx: number): number {
    return rx < this.offset.length ? (this.offset[rx] as number) : 0;
  }

  /** Appends arrival `a` to receiver `rx`'s list; returns its slot there. */
  push(rx: number, a: number): number {
    if (rx >= this.length.length) this.growReceivers(rx + 1);
    const n = this.length[rx] as number;
    if (n === this.capacity[rx]) this.growList(rx);
    this.items[(this.offset[rx] as number) + n] = a;
    this.length[rx] = n + 1;
    return n;
  }

  /**
   * Removes arrival `a` from slot `slot` of `rx`'s list by moving the last entry into it. Returns the moved entry
   * (whose slot is now `slot`), or -1 when nothing moved (it was last, or `a` is not at that slot).
   */
  removeAt(rx: number, slot: number, a: number): number {
    const n = this.count(rx);
    if (slot < 0 || slot >= n) return -1;
    const base = this.offset[rx] as number;
    if (this.items[base + slot] !== a) return -1;
    const last = this.items[base + n - 1] as number;
    this.length[rx] = n - 1;
    if (slot === n - 1) return -1;
    this.items[base + slot] = last;
    return last;
  }

  private growReceivers(n: number): void {
    const size = Math.max(n, 2 * this.length.length);
    this.offset = grown(this.offset, size);
    this.length = grown(this.length, size);
    this.capacity = grown(this.capacity, size);
  }

  /** Moves `rx`'s list to a segment twice as large at the end of the pool, compacting the pool when it is full. */
  private growList(rx: number): void {
    const want = Math.max(FIRST_CAPACITY, 2 * (this.capacity[rx] as number));
    if (this.used + want > this.items.length) this.compact(want);
    const from = this.offset[rx] as number;
    const n = this.length[rx] as number;
    this.items.copyWithin(this.used, from, from + n);
    this.offset[rx] = this.used;
    this.capacity[rx] = want;
    this.used += want;
  }

  /** Copies every list into a fresh pool with room for `extra` more entries; abandoned segments are dropped. */
  private compact(extra: number): void {
    let live = extra;
    for (let r = 0; r < this.capacity.length; r++) live += this.capacity[r] as number;
    const next = new Int32Array(Math.max(1024, 2 * live));
    let used = 0;
    for (let r = 0; r < this.capacity.length; r++) {
      const cap = this.capacity[r] as number;
      if (cap === 0) continue;
      const from = this.offset[r] as number;
      next.set(this.items.subarray(from, from + (this.length[r] as number)), used);
      this.offset[r] = used;
      used += cap;
    }
    this.items = next;
    this.used = used;
  }
}
