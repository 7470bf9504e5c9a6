import { grown } from '../world/typed-arrays.js';

/** Why a signal was lost at its receiver (0: still intact). */
export const LOST_NONE = 0;
export const LOST_COLLISION = 1;
export const LOST_CAPTURED = 2;
export const LOST_BUSY_RX = 3;
export const LOST_HALF_DUPLEX = 4;

/** Trace names of the `Lost` codes, by code. */
export const LOST_REASONS: readonly string[] = ['', 'collision', 'captured', 'busy_rx', 'half_duplex'];

const MIN_ARRIVALS = 256;

/**
 * Every signal currently arriving at some receiver, as a struct of arrays: an arrival is an index, its fields sit in
 * typed arrays side by side, and finished arrivals go back on a free list. A busy mesh has millions of arrivals over
 * a run and thousands at once; as objects each one was a heap allocation that the collision loops chased pointers
 * through (arrival, then its transmission for the end time).
 *
 * The arrays are replaced when the table grows: read them after `alloc`, not across it.
 */
export class ArrivalTable {
  /** Receiver's node index. */
  rx = new Int32Array(MIN_ARRIVALS);
  /** Received power with fading, dBm. */
  power = new Float64Array(MIN_ARRIVALS);
  /** Start of the part of the frame a collision destroys (preamble minus the 5 symbols a receiver needs). */
  critical = new Float64Array(MIN_ARRIVALS);
  /** The transmission's start and end, ms. */
  start = new Float64Array(MIN_ARRIVALS);
  end = new Float64Array(MIN_ARRIVALS);
  /** 1 while the receiver is demodulating this one. */
  locked = new Uint8Array(MIN_ARRIVALS);
  /** A LOST_ code. */
  lost = new Uint8Array(MIN_ARRIVALS);
  /** Its packet's from and id. */
  from = new Float64Array(MIN_ARRIVALS);
  id = new Float64Array(MIN_ARRIVALS);
  /** The packet it was lost to (from, id), from = -1 when none. */
  lostFrom = new Float64Array(MIN_ARRIVALS);
  lostId = new Float64Array(MIN_ARRIVALS);
  /** Position in the receiver's list of arrivals while the signal lasts. */
  slot = new Int32Array(MIN_ARRIVALS);
  private free = new Int32Array(MIN_ARRIVALS);
  private freeCount = 0;
  private used = 0;

  /** A fresh arrival: intact, not locked. */
  alloc(rx: number, power: number, critical: number, start: number, end: number, from: number, id: number): number {
    let a: number;
    if (this.freeCount > 0) a = this.free[--this.freeCount] as number;
    else {
      if (this.used === this.rx.length) this.grow();
      a = this.used++;
    }
    this.rx[a] = rx;
    this.power[a] = power;
    this.critical[a] = critical;
    this.start[a] = start;
    this.end[a] = end;
    this.from[a] = from;
    this.id[a] = id;
    this.locked[a] = 0;
    this.lost[a] = LOST_NONE;
    this.lostFrom[a] = -1;
    this.lostId[a] = 0;
    this.slot[a] = -1;
    return a;
  }

  release(a: number): void {
    if (this.freeCount === this.free.length) this.free = grown(this.free, 2 * this.free.length);
    this.free[this.freeCount++] = a;
  }

  /** Marks the arrival lost (the first reason stays), to the packet (from, id) or to none (from -1). */
  lose(a: number, reason: number, from: number, id: number): void {
    if (this.lost[a] !== LOST_NONE) return;
    this.lost[a] = reason;
    this.lostFrom[a] = from;
    this.lostId[a] = id;
  }

  private grow(): void {
    const n = 2 * this.rx.length;
    this.rx = grown(this.rx, n);
    this.power = grown(this.power, n);
    this.critical = grown(this.critical, n);
    this.start = grown(this.start, n);
    this.end = grown(this.end, n);
    this.from = grown(this.from, n);
    this.id = grown(this.id, n);
    this.locked = grown(this.locked, n);
    this.lost = grown(this.lost, n);
    this.lostFrom = grown(this.lostFrom, n);
    this.lostId = grown(this.lostId, n);
    this.slot = grown(this.slot, n);
  }
}
