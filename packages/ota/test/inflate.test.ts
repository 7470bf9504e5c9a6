import { Prng } from '@compotastic/mesh';
import { deflateSync } from 'fflate';
import { deflateRawSync, constants } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { RawInflater, type ByteInput } from '../src/codec/inflate.js';
import { OtaError } from '../src/errors.js';

function input(bytes: Uint8Array): ByteInput & { at: number } {
  return {
    at: 0,
    next() {
      if (this.at >= bytes.length) throw new OtaError('MALFORMED', 'truncated');
      return bytes[this.at++]!;
    },
  };
}

function inflate(compressed: Uint8Array, capacity: number): Uint8Array {
  const out = new Uint8Array(capacity);
  return out.subarray(0, new RawInflater().inflate(input(compressed), out));
}

/** Bytes shaped like a program: repeats at many distances, runs, a skewed alphabet, some noise. */
function programLike(rng: Prng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; ) {
    if (i > 16 && rng.bool(0.5)) {
      const dist = 1 + rng.int(0, Math.min(i, 32768));
      const len = Math.min(n - i, 3 + rng.int(0, 60));
      for (let k = 0; k < len; k++, i++) out[i] = out[i - dist]!;
    } else out[i++] = rng.bool(0.7) ? rng.int(0, 16) : rng.int(0, 256);
  }
  return out;
}

describe('raw inflate', () => {
  it('decodes what fflate and zlib write: stored, fixed and dynamic blocks, every level, random and structured data', () => {
    const rng = new Prng(11);
    for (const size of [0, 1, 100, 8192, 40000]) {
      for (const data of [rng.bytes(size), programLike(rng, size), new Uint8Array(size).fill(7)]) {
        for (const level of [0, 1, 6, 9] as const) expect(inflate(deflateSync(data, { level }), size)).toEqual(data);
        expect(inflate(new Uint8Array(deflateRawSync(data, { strategy: constants.Z_FIXED })), size)).toEqual(data);
        expect(inflate(new Uint8Array(deflateRawSync(data, { level: 9 })), size)).toEqual(data);
      }
    }
  });

  it('refuses output beyond its buffer, truncation and damage with MALFORMED, never anything else', () => {
    const rng = new Prng(12);
    const data = programLike(rng, 8192);
    const z = deflateSync(data, { level: 9 });
    expect(() => inflate(z, 8191)).toThrow(/more bytes than expected/);
    for (let cut = 0; cut < z.length; cut += 97) expect(() => inflate(z.subarray(0, cut), 8192)).toThrow(OtaError);
    let refused = 0;
    for (let trial = 0; trial < 300; trial++) {
      const bad = z.slice();
      const at = rng.int(0, bad.length);
      bad[at] = bad[at]! ^ (1 << rng.int(0, 8));
      try {
        const out = inflate(bad, 8192);
        if (out.length !== data.length || out.some((x, i) => x !== data[i])) refused++;
      } catch (e) {
        expect(e).toBeInstanceOf(OtaError);
        refused++;
      }
    }
    // A flipped bit almost always changes the output or breaks the stream; either way nothing but OtaError escapes.
    expect(refused).toBeGreaterThan(250);
    for (let trial = 0; trial < 200; trial++) {
      try {
        inflate(rng.bytes(rng.int(1, 400)), 4096);
      } catch (e) {
        expect(e).toBeInstanceOf(OtaError);
      }
    }
  });
});
