import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesEqual, concatBytes, toHex } from './bytes.js';
import { OtaError } from './errors.js';
import { sha256 } from './hash.js';

// Ed25519 over the manifest with a domain-separation prefix, so a bundle signature can never be replayed as a
// signature of anything else the same key signs. Verification is strict RFC 8032 (no ZIP-215 leniency).

export const SIGNATURE_BYTES = 64;
export const PUBLIC_KEY_BYTES = 32;
export const KEY_ID_BYTES = 8;
const DOMAIN = new TextEncoder().encode('compotastic-ota/manifest/v1\0');

export interface SigningKey {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

/** A new key pair; from a 32-byte seed when given (deterministic), otherwise from the platform's CSPRNG. */
export function generateSigningKey(seed?: Uint8Array): SigningKey {
  if (seed !== undefined && seed.length !== 32) throw new OtaError('INVALID_ARGUMENT', 'a key seed is 32 bytes');
  const { secretKey, publicKey } = ed25519.keygen(seed);
  return { secretKey, publicKey };
}

/** Short identifier of a public key carried in bundles: the first 8 bytes of its SHA-256. */
export function keyId(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== PUBLIC_KEY_BYTES) throw new OtaError('INVALID_ARGUMENT', 'an Ed25519 public key is 32 bytes');
  return sha256(publicKey).slice(0, KEY_ID_BYTES);
}

export function signManifest(manifestBytes: Uint8Array, key: SigningKey): Uint8Array {
  return signInDomain(DOMAIN, manifestBytes, key);
}

/** Ed25519 over `domain || message`: every kind of signed object has its own domain, so none passes for another. */
export function signInDomain(domain: Uint8Array, message: Uint8Array, key: SigningKey): Uint8Array {
  return ed25519.sign(concatBytes([domain, message]), key.secretKey);
}

/** Strict RFC 8032 verification of signInDomain's signature; false for any malformed input. */
export function verifyInDomain(domain: Uint8Array, message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false;
  try {
    return ed25519.verify(signature, concatBytes([domain, message]), publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** Public keys a device accepts bundles from. */
export class TrustStore {
  private readonly keys = new Map<string, Uint8Array>();

  constructor(publicKeys: Iterable<Uint8Array> = []) {
    for (const k of publicKeys) this.add(k);
  }

  add(publicKey: Uint8Array): void {
    this.keys.set(toHex(keyId(publicKey)), publicKey.slice());
  }

  find(id: Uint8Array): Uint8Array | undefined {
    return this.keys.get(toHex(id));
  }

  get size(): number {
    return this.keys.size;
  }
}

/**
 * Checks a manifest signature against the trusted key named by `id`. Throws UNKNOWN_KEY when no trusted key has that
 * id and BAD_SIGNATURE when the signature does not verify.
 */
export function verifyManifestSignature(manifestBytes: Uint8Array, signature: Uint8Array, id: Uint8Array, trust: TrustStore): void {
  const pub = trust.find(id);
  if (!pub || !bytesEqual(keyId(pub), id)) throw new OtaError('UNKNOWN_KEY', `bundle is signed by key ${toHex(id)}, which this device does not trust`);
  if (signature.length !== SIGNATURE_BYTES) throw new OtaError('BAD_SIGNATURE', 'signature has the wrong length');
  if (!verifyInDomain(DOMAIN, manifestBytes, signature, pub)) throw new OtaError('BAD_SIGNATURE', 'manifest signature does not verify');
}
