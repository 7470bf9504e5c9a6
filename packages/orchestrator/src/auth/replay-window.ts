/** Counters a receiver remembers below the highest it accepted from a sender. */
export const REPLAY_WINDOW = 64;

/**
 * A sliding window over one sender's counter (as in IPsec, RFC 4303 §3.4.3): the highest counter accepted and a
 * bitmap of the 64 below it. A counter above the top is new; one inside the window is new once; anything older is a
 * replay. After a restart the window starts at the persisted high-water mark with every lower value taken.
 */
export class ReplayWindow {
  private seen: bigint;

  constructor(private top: number, restored = true) {
    this.seen = restored ? (1n << BigInt(REPLAY_WINDOW)) - 1n : 0n;
  }

  get highWater(): number {
    return this.top;
  }

  /** Would this counter be accepted? (Does not record it.) */
  fresh(counter: number): boolean {
    if (counter > this.top) return true;
    const back = this.top - counter;
    if (back >= REPLAY_WINDOW) return false;
    return ((this.seen >> BigInt(back)) & 1n) === 0n;
  }

  /** Record an accepted counter; returns false (and records nothing) for a replay. */
  accept(counter: number): boolean {
    if (!this.fresh(counter)) return false;
    if (counter > this.top) {
      const shift = counter - this.top;
      // Bit i stands for top - i: moving the top shifts what was seen further back.
      this.seen = shift >= REPLAY_WINDOW ? 0n : (this.seen << BigInt(shift)) & ((1n << BigInt(REPLAY_WINDOW)) - 1n);
      this.top = counter;
      this.seen |= 1n;
    } else {
      this.seen |= 1n << BigInt(this.top - counter);
    }
    return true;
  }
}
