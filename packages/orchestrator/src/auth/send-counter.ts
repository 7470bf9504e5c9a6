import { AuthError } from '../errors.js';

/** Counters reserved on disk at a time: one durable write per this many packets. */
export const COUNTER_BLOCK = 256;
const COUNTER_MAX = 0xffffffff;

/**
 * This node's packet counter. Values are reserved in blocks ahead of use and the reservation is persisted before
 * any value of the block goes out, so a crash at any point resumes above every counter that was sent.
 */
export class SendCounter {
  private next: number;
  private reserved: number;

  /** `reserved`: the persisted reservation (every lower value may have been sent). `persist` writes a new one. */
  constructor(reserved: number, private readonly persist: (reservedUpTo: number) => void) {
    this.next = reserved;
    this.reserved = reserved;
  }

  take(): number {
    if (this.next >= this.reserved) {
      if (this.next >= COUNTER_MAX) throw new AuthError('COUNTER_EXHAUSTED', 'the packet counter is used up: this node needs a new key');
      this.reserved = Math.min(COUNTER_MAX, this.next + COUNTER_BLOCK);
      this.persist(this.reserved);
    }
    return this.next++;
  }
}
