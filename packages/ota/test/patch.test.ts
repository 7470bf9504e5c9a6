import { Prng } from '@compotastic/mesh';
import { deflateSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Kernel } from '@compotastic/kernel';
import { OtaError } from '../src/errors.js';
import { applyPatch, applyPatchStream, patchWorkingBytes, readPatchHeader } from '../src/patch/apply.js';
import { createPatch } from '../src/patch/encode.js';
import { BufferSink, bufferSource, type RandomAccessSource } from '../src/storage/io.js';
import { expectBytes, kernel, pair, volume } from './helpers.js';

let k: Kernel;
beforeAll(async () => {
  k = await kernel();
});

function roundTrip(old: Uint8Array, next: Uint8Array): Uint8Array {
  const { patch } = createPatch(k, old, next);
  expectBytes(applyPatch(patch, old), next);
  return patch;
}

describe('binary patch', () => {
  it('rebuilds consecutive releases of a linked program exactly, smaller than compressing the new one', () => {
    for (const seed of [1, 2, 3]) {
      const { old, next } = pair(seed);
      const patch = roundTrip(old, next);
      expect(patch.length).toBeLessThan(deflateSync(next, { level: 9 }).length / 4);
    }
  });

  it('handles empty, identical, unrelated and tiny images', () => {
    const rng = new Prng(9);
    const a = rng.bytes(5000);
    const b = rng.bytes(3000);
    roundTrip(new Uint8Array(0), a);
    roundTrip(a, new Uint8Array(0));
    roundTrip(new Uint8Array(0), new Uint8Array(0));
    const same = roundTrip(a, a.slice());
    expect(same.length).toBeLessThan(200);
    roundTrip(a, b);
    roundTrip(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4, 5));
  });

  it('applies as a stream within 64 KiB: small reads of the old image, sequential writes', () => {
    const { old, next } = pair(4, 1500, 30);
    const { patch } = createPatch(k, old, next);
    let maxRead = 0;
    const oldSrc: RandomAccessSource = {
      length: old.length,
      read(offset, n) {
        maxRead = Math.max(maxRead, n);
        return old.subarray(offset, offset + n);
      },
    };
    const sink = new BufferSink();
    let maxWrite = 0;
    const res = applyPatchStream(bufferSource(patch), oldSrc, { write: (c) => ((maxWrite = Math.max(maxWrite, c.length)), sink.write(c)) });
    expectBytes(sink.bytes(), next);
    expect(res.workingBytes).toBeLessThanOrEqual(64 * 1024);
    expect(maxRead).toBeLessThanOrEqual(8192 + 16);
    expect(maxWrite).toBeLessThanOrEqual(8192);
    expect(patchWorkingBytes(readPatchHeader(bufferSource(patch)))).toBe(res.workingBytes);
  });

  it('refuses a patch needing more memory than the budget, before writing anything', () => {
    const { old, next } = pair(5);
    const { patch } = createPatch(k, old, next, { model: { zeroBits: 16, valueBits: 16, predBits: 16 } });
    const sink = new BufferSink();
    expect(() => applyPatchStream(bufferSource(patch), bufferSource(old), sink)).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    expect(sink.length).toBe(0);
    expectBytes(applyPatch(patch, old, { memoryBudget: 1 << 20 }), next);
  });

  it('refuses patches of format versions 1 and 2 (group flags only far from differences) with UNSUPPORTED_VERSION, and unknown versions', () => {
    const { old, next } = pair(6);
    const { patch } = createPatch(k, old, next);
    expect(patch[4]).toBe(3);
    for (const version of [0, 1, 2, 4, 255]) {
      const bad = patch.slice();
      bad[4] = version;
      expect(() => applyPatch(bad, old)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_VERSION' }));
    }
  });

  it('refuses the wrong old image', () => {
    const { old, next } = pair(6);
    const { patch } = createPatch(k, old, next);
    const other = old.slice();
    other[100]! ^= 1;
    expect(() => applyPatch(patch, other)).toThrow(expect.objectContaining({ code: 'BASE_MISMATCH' }));
    expect(() => applyPatch(patch, old.subarray(1))).toThrow(expect.objectContaining({ code: 'BASE_MISMATCH' }));
  });

  it('never accepts a damaged patch: truncated, extended or with flipped bytes (seeded fuzz)', () => {
    const { old, next } = pair(7, 300, 8);
    const { patch } = createPatch(k, old, next);
    const rng = new Prng(77);
    const cases: Uint8Array[] = [patch.subarray(0, patch.length - 1), patch.subarray(0, 10), new Uint8Array(0), Uint8Array.of(...patch, 0)];
    for (let i = 0, n = volume(80, 5000); i < n; i++) {
      const m = patch.slice();
      const flips = rng.int(1, 4);
      for (let f = 0; f < flips; f++) m[rng.intBelow(m.length)] = rng.int(0, 256);
      cases.push(m);
    }
    let rejected = 0;
    for (const c of cases) {
      try {
        const out = applyPatch(c, old);
        // A flip that leaves the stream meaning the same is fine only if the output is still exact.
        expectBytes(out, next);
      } catch (e) {
        expect(e).toBeInstanceOf(OtaError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(cases.length * 0.9);
  });

  it('rejects bad options with typed errors', () => {
    expect(() => createPatch(k, new Uint8Array(1), new Uint8Array(1), { extraBlockBytes: 3 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => createPatch(k, new Uint8Array(1), new Uint8Array(1), { model: { zeroBits: 40, valueBits: 12, predBits: 12 } })).toThrow(OtaError);
  });
});
