import { Prng } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { portableSha256Stream, sha256, sha256Stream } from '../src/hash.js';

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('streaming SHA-256', () => {
  it('gives the standard digest of "abc" on this host and in the portable version', () => {
    const abc = new TextEncoder().encode('abc');
    const want = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(hex(sha256Stream().update(abc).digest())).toBe(want);
    expect(hex(portableSha256Stream().update(abc).digest())).toBe(want);
  });

  it('agrees with the portable hash and the one-shot hash for any split of the input', () => {
    const rng = new Prng(11);
    for (let trial = 0; trial < 20; trial++) {
      const data = rng.bytes(rng.int(0, 5000));
      const host = sha256Stream();
      const portable = portableSha256Stream();
      for (let at = 0; at < data.length; ) {
        const n = Math.min(data.length - at, rng.int(0, 700));
        host.update(data.subarray(at, at + n));
        portable.update(data.subarray(at, at + n));
        at += n;
      }
      const digest = host.digest();
      expect(digest).toBeInstanceOf(Uint8Array);
      expect(digest).toEqual(portable.digest());
      expect(digest).toEqual(sha256(data));
    }
  });
});
