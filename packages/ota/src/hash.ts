import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import type { RandomAccessSource } from './storage/io.js';

export const SHA256_BYTES = 32;

/** SHA-256 of a byte array. */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** Incremental SHA-256, for hashing images as they stream through storage. */
export interface Sha256Stream {
  update(data: Uint8Array): Sha256Stream;
  digest(): Uint8Array;
}

interface NodeHash {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
}
type NodeCrypto = { createHash(algorithm: 'sha256'): NodeHash };

// On a host with Node's crypto the streaming hash runs natively (apply hashes the old and the new image, twice the
// image size, and the portable hash is a quarter of apply's time); elsewhere (a browser, a device) the portable one.
const nodeCrypto = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  ?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;

/** The streaming SHA-256 written in JavaScript, the one every host can run. */
export function portableSha256Stream(): Sha256Stream {
  const h = nobleSha256.create();
  const stream: Sha256Stream = {
    update(data) {
      h.update(data);
      return stream;
    },
    digest() {
      return h.digest();
    },
  };
  return stream;
}

/** Incremental SHA-256: the host's native one when there is one, else the portable one (the same digests). */
export function sha256Stream(): Sha256Stream {
  if (!nodeCrypto) return portableSha256Stream();
  const h = nodeCrypto.createHash('sha256');
  const stream: Sha256Stream = {
    update(data) {
      h.update(data);
      return stream;
    },
    digest() {
      return new Uint8Array(h.digest());
    },
  };
  return stream;
}

/** SHA-256 of everything in a source, read `chunk` bytes at a time (an image on flash never comes into RAM whole). */
export function sha256Source(src: RandomAccessSource, chunk = 1024): Uint8Array {
  const h = sha256Stream();
  for (let at = 0; at < src.length; at += chunk) h.update(src.read(at, Math.min(chunk, src.length - at)));
  return h.digest();
}
