import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hkdf } from '@noble/hashes/hkdf.js';

const ROUNDS = 4;
const INFO = new TextEncoder().encode('compotastic job ids v1');

/**
 * Job ids: a keyed permutation of a never-repeating counter. The key comes from the node's secret, so ids cannot be
 * predicted from what went over the air; the permutation (a 4-round Feistel network over 32 bits, HMAC-SHA256 round
 * function) maps distinct counters to distinct ids, so an id is never reused while the counter only grows.
 */
export class JobIdPermutation {
  private readonly key: Uint8Array;

  constructor(nodeSecret: Uint8Array) {
    this.key = hkdf(sha256, nodeSecret, undefined, INFO, 32);
  }

  private round(r: number, half: number): number {
    const msg = new Uint8Array([r, half & 0xff, half >>> 8]);
    const h = hmac(sha256, this.key, msg);
    return ((h[0] as number) | ((h[1] as number) << 8)) & 0xffff;
  }

  /** The id for one counter value (a bijection on u32). */
  idFor(counter: number): number {
    let left = (counter >>> 16) & 0xffff;
    let right = counter & 0xffff;
    for (let r = 0; r < ROUNDS; r++) {
      const next = left ^ this.round(r, right);
      left = right;
      right = next;
    }
    return ((left << 16) | right) >>> 0;
  }
}
