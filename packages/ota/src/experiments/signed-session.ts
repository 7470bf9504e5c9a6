import { fnv1a32, type Prng } from '@compotastic/mesh';
import { FountainEncoder } from '../fec/fountain.js';
import { sha256 } from '../hash.js';
import type { SigningKey } from '../signing.js';
import { offerDigest, signHashes, signOffer, symbolHash } from '../transfer/auth.js';
import { MAX_HASHES_PER_MESSAGE, MAX_SYMBOL_BYTES, encodeMessage, type OfferMessage } from '../transfer/messages.js';

// A genuine signed session as an eavesdropper records it (or a test replays it): the offer, then each block's
// source symbols in runs, every run's signed HASHES ahead of its symbols.

export interface SignedSession {
  bundle: Uint8Array;
  offer: OfferMessage;
  /** The offer, then HASHES and DATA payloads in sending order. */
  messages: Uint8Array[];
}

export function signedSession(
  key: SigningKey, rng: Prng, release: { modelId: string; version: number; securityCounter: number }, bundleBytes: number,
): SignedSession {
  const bundle = rng.bytes(bundleBytes);
  const seed = rng.uint32();
  const offer = signOffer({
    type: 'offer', session: rng.int(0, 0x10000), seed, length: bundle.length, symbolSize: MAX_SYMBOL_BYTES, maxBlockSymbols: 512,
    bundleSha256: sha256(bundle), modelHash: fnv1a32(release.modelId), version: release.version, baseVersion: null, securityCounter: release.securityCounter,
  }, key);
  const encoder = new FountainEncoder(bundle, { symbolSize: offer.symbolSize, maxBlockSymbols: offer.maxBlockSymbols, seed });
  const digest = offerDigest(offer);
  const messages = [encodeMessage(offer)];
  for (const b of encoder.blocks) {
    for (let at = 0; at < b.symbols; at += MAX_HASHES_PER_MESSAGE) {
      const esis = Array.from({ length: Math.min(MAX_HASHES_PER_MESSAGE, b.symbols - at) }, (_, i) => at + i);
      const hashes = esis.map((e) => symbolHash(encoder.symbol(b.index, e)));
      messages.push(encodeMessage(signHashes(digest, { session: offer.session, block: b.index, firstEsi: at, hashes }, key)));
      for (const e of esis) messages.push(encodeMessage({ type: 'data', session: offer.session, block: b.index, esi: e, symbol: encoder.symbol(b.index, e) }));
    }
  }
  return { bundle, offer, messages };
}
