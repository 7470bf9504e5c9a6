import { Prng } from '@compotastic/mesh';
import { encodeMessage } from '../wire/messages.js';
import { tallyRejection } from '../wire/fuzz.js';
import { sampleMessages } from '../wire/samples.js';
import { Authenticator } from './authenticator.js';
import { keyPairFromPrng } from './keys.js';
import { MemoryAuthStore } from './store.js';

export interface AuthFuzzStats {
  frames: number;
  /** Mutated frames that passed authentication: each would be a forgery. */
  accepted: number;
  rejected: number;
  byCode: Record<string, number>;
  /** Anything thrown that is not a typed rejection. */
  crashes: number;
  firstCrash: string | null;
}

/**
 * Seal real messages between two nodes, mutate each sealed packet (1-3 bit flips, a truncation or an extension
 * anywhere, trailer included) and open it at the receiver: every one must be refused with a typed reason. One frame
 * in 20 is a broadcast (signature), the rest unicasts (MAC).
 */
export function fuzzAuthenticatedFrames(seed: number, frames: number): AuthFuzzStats {
  const rng = new Prng(seed);
  const a = new Authenticator({ num: 0x1001, keys: keyPairFromPrng(rng.derive('a')), store: new MemoryAuthStore() });
  const b = new Authenticator({ num: 0x2002, keys: keyPairFromPrng(rng.derive('b')), store: new MemoryAuthStore() });
  b.open(0x1001, 0xffffffff, a.seal('broadcast', Uint8Array.of(0xc1, 3, 0), true));
  a.open(0x2002, 0xffffffff, b.seal('broadcast', Uint8Array.of(0xc1, 3, 0), true));
  const stats: AuthFuzzStats = { frames: 0, accepted: 0, rejected: 0, byCode: {}, crashes: 0, firstCrash: null };
  let pool: Uint8Array[] = [];
  for (let i = 0; i < frames; i++) {
    if (pool.length === 0) pool = sampleMessages(rng).map((m) => encodeMessage(m, { maxPayload: Infinity }).subarray(0, 150));
    const payload = pool.pop() as Uint8Array;
    const broadcast = rng.intBelow(20) === 0;
    const sealed = a.seal(broadcast ? 'broadcast' : 0x2002, payload, rng.bool(0.2));
    let bad: Uint8Array = sealed.slice();
    const how = rng.intBelow(10);
    if (how === 0) bad = bad.subarray(0, rng.intBelow(bad.length));
    else if (how === 1) bad = Uint8Array.from([...bad, ...rng.bytes(1 + rng.intBelow(8))]);
    else {
      // Distinct bytes, so two flips never cancel out into the original packet.
      const at = new Set<number>();
      for (let f = 1 + rng.intBelow(3); f > 0; f--) at.add(rng.intBelow(bad.length));
      for (const i of at) bad[i] = (bad[i] as number) ^ (1 << rng.intBelow(8));
    }
    stats.frames++;
    try {
      const r = b.open(0x1001, broadcast ? 0xffffffff : 0x2002, bad);
      if (r.ok) stats.accepted++;
      else {
        stats.rejected++;
        stats.byCode[r.code] = (stats.byCode[r.code] ?? 0) + 1;
      }
    } catch (e) {
      if (!tallyRejection(stats, e)) {
        stats.crashes++;
        stats.firstCrash ??= String((e as Error).stack ?? e);
      }
    }
  }
  return stats;
}
