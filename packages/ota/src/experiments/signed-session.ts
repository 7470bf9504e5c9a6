import { fnv1a32, type Prng } from '@compotastic/mesh';
import { FountainEncoder } from '../fec/fountain.js';
import { sha256 } from '../hash.js';
import type { SigningKey } from '../signing.js';
import { offerDigest, signHashes, signOffer, symbolHash } from '../transfer/auth.js';
import { MAX_HASHES_PER_MESSAGE, MAX_SYMBOL_BYTES, encodeMessage, type OfferMessage } from '../transfer/messages.js';

// A genuine signed session as an eavesdropper records it (or a test replays it): the offer, then each block's
// source symbols in runs, every run's signed HASHES ahead of its symbols. `signedSessionSource` makes the payloads
// on demand, for sessions too large to hold (a receiver's memory measured while it takes a megabyte).

export interface SignedSession {
  bundle: Uint8Array;
  offer: OfferMessage;
  /** The offer, then HASHES and DATA payloads in sending order. */
  messages: Uint8Array[];
}

export interface SignedSessionSource {
  bundle: Uint8Array;
  offer: OfferMessage;
  encoder: FountainEncoder;
  /** The signed HASHES of ESIs first..first+count-1 of a block (at most 20), then their DATA payloads. */
  run(block: number, first: number, count: number): Generator<Uint8Array>;
  /** Every block's source symbols in runs, block after block, or (interleaved) one run of each block in turn as a broadcast sends them. */
  sources(interleaved?: boolean): Generator<Uint8Array>;
}

export function signedSessionSource(
  key: SigningKey, rng: Prng, release: { modelId: string; version: number; securityCounter: number }, bundleBytes: number, maxBlockSymbols = 512,
): SignedSessionSource {
  const bundle = rng.bytes(bundleBytes);
  const seed = rng.uint32();
  const offer = signOffer({
    type: 'offer', session: rng.int(0, 0x10000), seed, length: bundle.length, symbolSize: MAX_SYMBOL_BYTES, maxBlockSymbols,
    bundleSha256: sha256(bundle), modelHash: fnv1a32(release.modelId), version: release.version, baseVersion: null, securityCounter: release.securityCounter,
  }, key);
  const encoder = new FountainEncoder(bundle, { symbolSize: offer.symbolSize, maxBlockSymbols: offer.maxBlockSymbols, seed });
  const digest = offerDigest(offer);
  function* run(block: number, first: number, count: number): Generator<Uint8Array> {
    const esis = Array.from({ length: count }, (_, i) => first + i);
    const hashes = esis.map((e) => symbolHash(encoder.symbol(block, e)));
    yield encodeMessage(signHashes(digest, { session: offer.session, block, firstEsi: first, hashes }, key));
    for (const e of esis) yield encodeMessage({ type: 'data', session: offer.session, block, esi: e, symbol: encoder.symbol(block, e) });
  }
  function* sources(interleaved = false): Generator<Uint8Array> {
    if (!interleaved) {
      for (const b of encoder.blocks) {
        for (let at = 0; at < b.symbols; at += MAX_HASHES_PER_MESSAGE) yield* run(b.index, at, Math.min(MAX_HASHES_PER_MESSAGE, b.symbols - at));
      }
      return;
    }
    const longest = Math.max(...encoder.blocks.map((b) => b.symbols));
    for (let at = 0; at < longest; at += MAX_HASHES_PER_MESSAGE) {
      for (const b of encoder.blocks) if (at < b.symbols) yield* run(b.index, at, Math.min(MAX_HASHES_PER_MESSAGE, b.symbols - at));
    }
  }
  return { bundle, offer, encoder, run, sources };
}

export function signedSession(
  key: SigningKey, rng: Prng, release: { modelId: string; version: number; securityCounter: number }, bundleBytes: number,
): SignedSession {
  const s = signedSessionSource(key, rng, release, bundleBytes);
  return { bundle: s.bundle, offer: s.offer, messages: [encodeMessage(s.offer), ...s.sources()] };
}
