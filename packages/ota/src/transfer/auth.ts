import { bytesEqual, toHex } from '../bytes.js';
import { OtaError } from '../errors.js';
import { sha256 } from '../hash.js';
import { type SigningKey, type TrustStore, keyId, signInDomain, verifyInDomain } from '../signing.js';
import {
  SYMBOL_HASH_BYTES, encodeMessage, hashesSignedBytes, offerSignedBytes, type HashesMessage, type OfferMessage,
} from './messages.js';

// Authentication of a broadcast transfer. The publisher signs the offer (every field a receiver acts on: bundle
// hash, size, symbol geometry, model, version, base, security counter), and signs, run by run, the truncated
// SHA-256 of every symbol it sends, bound to that offer. A receiver thus checks each symbol alone before it enters
// the decoder, and nobody without a trusted key can start, redirect or poison a transfer.

const OFFER_DOMAIN = new TextEncoder().encode('compotastic-ota/offer/v2\0');
const HASHES_DOMAIN = new TextEncoder().encode('compotastic-ota/hashes/v2\0');

export type UnsignedOffer = Omit<OfferMessage, 'keyId' | 'signature'>;

/** The offer, signed by the publisher's key. */
export function signOffer(offer: UnsignedOffer, key: SigningKey): OfferMessage {
  const withKey = { ...offer, keyId: keyId(key.publicKey) };
  return { ...withKey, signature: signInDomain(OFFER_DOMAIN, offerSignedBytes(withKey), key) };
}

/**
 * The trusted public key that signed `offer`. Throws UNKNOWN_KEY when no trusted key has its key id and BAD_SIGNATURE
 * when the signature does not verify.
 */
export function verifyOffer(offer: OfferMessage, trust: TrustStore): Uint8Array {
  const pub = trust.find(offer.keyId);
  if (!pub || !bytesEqual(keyId(pub), offer.keyId)) throw new OtaError('UNKNOWN_KEY', `offer is signed by key ${toHex(offer.keyId)}, which this node does not trust`);
  if (!verifyInDomain(OFFER_DOMAIN, offerSignedBytes(offer), offer.signature, pub)) throw new OtaError('BAD_SIGNATURE', 'offer signature does not verify');
  return pub;
}

/** What HASHES signatures are bound to: the SHA-256 of the whole signed offer. */
export function offerDigest(offer: OfferMessage): Uint8Array {
  return sha256(encodeMessage(offer));
}

/** The truncated SHA-256 a HASHES message carries for a symbol. */
export function symbolHash(symbol: Uint8Array): Uint8Array {
  return sha256(symbol).slice(0, SYMBOL_HASH_BYTES);
}

function hashesMessageBytes(digest: Uint8Array, m: Omit<HashesMessage, 'signature'>): Uint8Array {
  const body = hashesSignedBytes(m);
  const out = new Uint8Array(digest.length + body.length);
  out.set(digest);
  out.set(body, digest.length);
  return out;
}

/** Signs the hashes of a run of symbols of the offer with digest `digest`. */
export function signHashes(digest: Uint8Array, m: Omit<HashesMessage, 'signature' | 'type'>, key: SigningKey): HashesMessage {
  const unsigned = { type: 'hashes' as const, ...m };
  return { ...unsigned, signature: signInDomain(HASHES_DOMAIN, hashesMessageBytes(digest, unsigned), key) };
}

/** Whether `m` was signed by `publicKey` for the offer with digest `digest`. */
export function verifyHashes(digest: Uint8Array, m: HashesMessage, publicKey: Uint8Array): boolean {
  let message: Uint8Array;
  try {
    message = hashesMessageBytes(digest, m);
  } catch {
    return false;
  }
  return verifyInDomain(HASHES_DOMAIN, message, m.signature, publicKey);
}
