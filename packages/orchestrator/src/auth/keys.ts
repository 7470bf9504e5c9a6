import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Prng } from '@compotastic/mesh';
import { AuthError } from '../errors.js';

/** A node's identity key: Ed25519, 32-byte secret (seed) and public key. */
export interface NodeKeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

export function keyPairFromSecret(secretKey: Uint8Array): NodeKeyPair {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) throw new AuthError('BAD_KEY', 'an Ed25519 secret key is 32 bytes');
  return { secretKey: secretKey.slice(), publicKey: ed25519.getPublicKey(secretKey) };
}

/** A key pair drawn from a seeded generator: for simulated nodes and tests, whose runs must repeat. */
export function keyPairFromPrng(rng: Prng): NodeKeyPair {
  return keyPairFromSecret(rng.bytes(32));
}

export function isValidPublicKey(key: Uint8Array): boolean {
  return key.length === PUBLIC_KEY_BYTES && ed25519.utils.isValidPublicKey(key);
}

export function sign(keys: NodeKeyPair, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, keys.secretKey);
}

export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, publicKey);
  } catch {
    return false;
  }
}

const PAIR_SALT = new TextEncoder().encode('compotastic pair key v1');

/**
 * The MAC key two nodes share: X25519 over their Ed25519 keys (converted to Montgomery form), through HKDF-SHA256
 * with both node numbers (smaller first), so the key is bound to the pair of node numbers as well as the keys.
 */
export function pairKey(own: NodeKeyPair, ownNum: number, peerPublicKey: Uint8Array, peerNum: number): Uint8Array {
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(ed25519.utils.toMontgomerySecret(own.secretKey), ed25519.utils.toMontgomery(peerPublicKey));
  } catch (e) {
    throw new AuthError('BAD_KEY', `peer ${peerNum}'s public key is not a usable Ed25519 point: ${(e as Error).message}`);
  }
  const info = new Uint8Array(8);
  const view = new DataView(info.buffer);
  view.setUint32(0, Math.min(ownNum, peerNum) >>> 0, true);
  view.setUint32(4, Math.max(ownNum, peerNum) >>> 0, true);
  return hkdf(sha256, shared, PAIR_SALT, info, 32);
}
