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

export function sha256Stream(): Sha256Stream {
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

/** SHA-256 of everything in a source, read `chunk` bytes at a time (an image on flash never comes into RAM whole). */
export function sha256Source(src: RandomAccessSource, chunk = 1024): Uint8Array {
  const h = sha256Stream();
  for (let at = 0; at < src.length; at += chunk) h.update(src.read(at, Math.min(chunk, src.length - at)));
  return h.digest();
}
