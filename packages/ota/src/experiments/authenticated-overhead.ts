import { Prng, fnv1a32 } from '@compotastic/mesh';
import { FountainEncoder } from '../fec/fountain.js';
import { sha256 } from '../hash.js';
import { TrustStore } from '../signing.js';
import { MemoryProgressStore } from '../storage/progress.js';
import { offerDigest, signHashes, signOffer, symbolHash } from '../transfer/auth.js';
import { MAX_HASHES_PER_MESSAGE, encodeMessage } from '../transfer/messages.js';
import { TransferReceiver } from '../transfer/receiver.js';
import { overheadStats, type OverheadStats } from './fec-overhead.js';
import { seededSigningKey } from './rollout.js';

// measureFecOverhead with authentication: the symbols go out as the sender sends them, each run of 20 with its
// signed HASHES ahead of it and again half-way through, and every message (HASHES included) is lost independently.
// A symbol whose HASHES copies were both lost is dropped like a lost one, which is what authentication adds.

const instantClock = { now: () => 0, setTimer: () => ({}), clearTimer: () => undefined };

export function measureAuthenticatedFecOverhead(o: { bytes: number; loss: number; trials: number; seed: number }): OverheadStats {
  const rng = new Prng(o.seed);
  const key = seededSigningKey(rng.derive('key'));
  const trust = new TrustStore([key.publicKey]);
  const ratios: number[] = [];
  let m = 0;
  for (let t = 0; t < o.trials; t++) {
    const data = rng.bytes(o.bytes);
    const offer = signOffer({
      type: 'offer', session: t & 0xffff, seed: rng.uint32(), length: data.length, symbolSize: 225, maxBlockSymbols: 512, bundleSha256: sha256(data),
      modelHash: fnv1a32('m'), version: 2, baseVersion: null, securityCounter: 1,
    }, key);
    const enc = new FountainEncoder(data, { symbolSize: offer.symbolSize, maxBlockSymbols: offer.maxBlockSymbols, seed: offer.seed });
    const digest = offerDigest(offer);
    const rx = new TransferReceiver({
      nodeId: 1, link: { send: () => undefined }, clock: instantClock, rng: rng.derive('rx'), store: new MemoryProgressStore(), trust,
      accept: () => true, deliver: () => ({ ok: true }),
    });
    rx.onMessage(0, encodeMessage(offer));
    m = enc.blocks.reduce((n, b) => n + b.symbols, 0);
    const deliver = (payload: Uint8Array): void => {
      if (!rng.bool(o.loss)) rx.onMessage(0, payload);
    };
    let sent = 0;
    let target = 0;
    for (const b of enc.blocks) {
      // The block is decoded once the receiver holds as many independent symbols as all blocks so far have.
      target += b.symbols;
      const decoded = (): boolean => rx.state !== 'receiving' || rx.stats.useful >= target;
      for (let first = 0; !decoded(); first += MAX_HASHES_PER_MESSAGE) {
        const esis = Array.from({ length: MAX_HASHES_PER_MESSAGE }, (_, i) => first + i);
        const hashes = encodeMessage(signHashes(digest, { session: offer.session, block: b.index, firstEsi: first, hashes: esis.map((e) => symbolHash(enc.symbol(b.index, e))) }, key));
        deliver(hashes);
        for (const [i, esi] of esis.entries()) {
          if (i === MAX_HASHES_PER_MESSAGE / 2) deliver(hashes);
          sent++;
          deliver(encodeMessage({ type: 'data', session: offer.session, block: b.index, esi, symbol: enc.symbol(b.index, esi) }));
          if (decoded()) break;
        }
      }
    }
    ratios.push(sent / m);
  }
  return overheadStats(ratios, o.loss, m);
}
