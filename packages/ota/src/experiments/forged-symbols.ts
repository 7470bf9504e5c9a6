import { Prng } from '@compotastic/mesh';
import { bytesEqual } from '../bytes.js';
import { TrustStore } from '../signing.js';
import { MemoryProgressStore } from '../storage/progress.js';
import { decodeMessage, encodeMessage } from '../transfer/messages.js';
import { TransferReceiver } from '../transfer/receiver.js';
import { seededSigningKey } from './rollout.js';
import { signedSession } from './signed-session.js';

// What forged symbols cost a receiver: one receiver gets a signed session of `symbols` source symbols with `forged`
// symbols of random bytes slipped in at random places (each claiming the ESI of a genuine symbol still to come), and
// we count the genuine symbols it needed to rebuild the bundle. Symbols checked against their signed hashes are
// dropped alone, so the answer is the source count whatever the number of forgeries.

export interface ForgedSymbolCost {
  symbols: number;
  forged: number;
  /** Genuine symbols the receiver took before the bundle was rebuilt (Infinity if it never was). */
  genuineNeeded: number;
  forgedDropped: number;
  delivered: boolean;
}

const instantClock = { now: () => 0, setTimer: () => ({}), clearTimer: () => undefined };

export function measureForgedSymbolCost(o: { symbols: number; forged: number; seed: number }): ForgedSymbolCost {
  const rng = new Prng(o.seed);
  const key = seededSigningKey(rng.derive('key'));
  const session = signedSession(key, rng.derive('session'), { modelId: 'm', version: 2, securityCounter: 1 }, o.symbols * 225);
  let delivered = false;
  const rx = new TransferReceiver({
    nodeId: 1, link: { send: () => undefined }, clock: instantClock, rng: rng.derive('rx'), store: new MemoryProgressStore(),
    trust: new TrustStore([key.publicKey]), accept: () => true,
    deliver: (b) => {
      delivered = bytesEqual(b, session.bundle);
      return { ok: delivered };
    },
  });
  const [offer, ...rest] = session.messages;
  rx.onMessage(0, offer!);
  const dataCount = rest.filter((p) => decodeMessage(p).type === 'data').length;
  const forgedBefore = new Array<number>(dataCount).fill(0);
  for (let i = 0; i < o.forged; i++) forgedBefore[rng.int(0, dataCount)]!++;
  let genuine = 0;
  let dataSeen = 0;
  for (const p of rest) {
    const m = decodeMessage(p);
    if (m.type === 'data') {
      for (let f = forgedBefore[dataSeen++]!; f > 0; f--) rx.onMessage(0, encodeMessage({ ...m, symbol: rng.bytes(m.symbol.length) }));
      genuine++;
    }
    rx.onMessage(0, p);
    if (rx.state !== 'receiving') break;
  }
  return { symbols: o.symbols, forged: o.forged, genuineNeeded: rx.state === 'complete' ? genuine : Infinity, forgedDropped: rx.stats.forgedSymbols, delivered };
}
