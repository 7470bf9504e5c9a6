import { Prng } from '@compotastic/mesh';
import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { DecodingBitCoder, EncodingBitCoder } from '../src/codec/bit-coder.js';
import { squash, stretch } from '../src/codec/context-mixing.js';
import { DiffByteModel } from '../src/codec/diff-model.js';
import { IntModel, SignedIntModel } from '../src/codec/int-model.js';
import { BufferByteSource, RangeDecoder, RangeEncoder } from '../src/codec/range-coder.js';
import { OtaError } from '../src/errors.js';
import { expectBytes } from './helpers.js';

describe('range coder', () => {
  it('round-trips bits at any probability, including extremes', () => {
    const rng = new Prng(1);
    const bits: number[] = [];
    const probs: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const p = rng.pick([1, 2, 100, 2048, 4000, 4094, 4095, rng.int(1, 4096)]);
      probs.push(p);
      bits.push(rng.bool(p / 4096) ? 1 : 0);
    }
    const enc = new RangeEncoder();
    bits.forEach((b, i) => enc.encode(b, probs[i]!));
    enc.encodeDirect(0xabcdef, 24);
    const out = enc.finish();
    const dec = new RangeDecoder(new BufferByteSource(out));
    const got = probs.map((p) => dec.decode(p));
    expectBytes(Uint8Array.from(got), Uint8Array.from(bits), 'decoded bits');
    expect(dec.decodeDirect(24)).toBe(0xabcdef);
  });

  it('compresses skewed bits close to their entropy', () => {
    const rng = new Prng(2);
    const enc = new RangeEncoder();
    const n = 100000;
    for (let i = 0; i < n; i++) enc.encode(rng.bool(0.02) ? 1 : 0, 82);
    const bytes = enc.finish().length;
    const entropyBytes = (n * (-(0.02 * Math.log2(0.02)) - 0.98 * Math.log2(0.98))) / 8;
    expect(bytes).toBeLessThan(entropyBytes * 1.03);
  });

  it('rejects a stream that does not start like one, and a truncated one', () => {
    expect(() => new RangeDecoder(new BufferByteSource(Uint8Array.of(1, 2, 3, 4, 5)))).toThrow(OtaError);
    const dec = new RangeDecoder(new BufferByteSource(Uint8Array.of(0, 1, 2, 3, 4)));
    expect(() => {
      for (let i = 0; i < 1000; i++) dec.decode(2048);
    }).toThrow(/truncated/);
  });
});

describe('context mixing primitives', () => {
  it('squash is monotonic and stretch inverts it', () => {
    let prev = 0;
    for (let x = -2047; x <= 2047; x++) {
      const p = squash(x);
      expect(p).toBeGreaterThanOrEqual(prev);
      prev = p;
      expect(squash(stretch(p))).toBe(p);
    }
    expect(squash(0)).toBe(2048);
  });
});

describe('integer models', () => {
  it('round-trip unsigned and signed integers across the range', () => {
    const rng = new Prng(3);
    const values = [0, 1, 2, 3, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 32 - 1];
    for (let i = 0; i < 2000; i++) values.push(rng.uint32() >>> rng.int(0, 32));
    const signed = values.map((v, i) => (i % 2 ? -Math.floor(v / 2) : Math.floor(v / 2)) || 0);
    const enc = new EncodingBitCoder();
    const um = new IntModel();
    const sm = new SignedIntModel();
    values.forEach((v, i) => {
      um.code(enc, v);
      sm.code(enc, signed[i]!);
    });
    const dec = new DecodingBitCoder(new BufferByteSource(enc.finish()));
    const um2 = new IntModel();
    const sm2 = new SignedIntModel();
    values.forEach((v, i) => {
      expect(um2.code(dec, 0)).toBe(v);
      expect(sm2.code(dec, 0)).toBe(signed[i]);
    });
  });

  it('the difference model round-trips and codes sparse data compactly', () => {
    const rng = new Prng(4);
    const n = 50000;
    const old = rng.bytes(n);
    const diff = new Uint8Array(n);
    for (let i = 0; i < n; i += rng.int(10, 60)) diff[i] = rng.pick([0x10, 0xf0, 0x20]);
    const enc = new EncodingBitCoder();
    const m = new DiffByteModel();
    for (let i = 0; i < n; i++) m.code(enc, old[i]!, diff[i]!);
    const coded = enc.finish();
    const dec = new DecodingBitCoder(new BufferByteSource(coded));
    const m2 = new DiffByteModel();
    const back = new Uint8Array(n);
    for (let i = 0; i < n; i++) back[i] = m2.code(dec, old[i]!, 0);
    expectBytes(back, diff);
    // Random positions carry ~7 bits of information per non-zero byte; the model must at least beat DEFLATE.
    expect(coded.length).toBeLessThan(deflateSync(diff, { level: 9 }).length);
  });
});
