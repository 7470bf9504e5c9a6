import { Prng } from '@compotastic/mesh';
import { KERNEL_BUILDS, loadBuildBytes, loadKernel, type Kernel } from '@compotastic/kernel';
import { beforeAll, describe, expect, it } from 'vitest';
import { OtaError } from '../src/errors.js';
import { applyPatch } from '../src/patch/apply.js';
import { createPatch } from '../src/patch/encode.js';
import { kernel, pair } from './helpers.js';

// The kernel's context-mixing decoder against the TypeScript one: every build must rebuild exactly the bytes the
// TypeScript decoder does, and refuse exactly the patches it refuses.

const kernels: Kernel[] = [];
let encoder: Kernel;
beforeAll(async () => {
  encoder = await kernel();
  for (const build of KERNEL_BUILDS) kernels.push(await loadKernel({ build }));
});

function outcome(patch: Uint8Array, old: Uint8Array, k?: Kernel): Uint8Array | string {
  try {
    return applyPatch(patch, old, k ? { kernel: k } : {});
  } catch (e) {
    if (!(e instanceof OtaError)) throw e;
    return e.code;
  }
}

function expectSameAsTypeScript(patch: Uint8Array, old: Uint8Array): Uint8Array | string {
  const ts = outcome(patch, old);
  for (const k of kernels) expect(outcome(patch, old, k)).toEqual(ts);
  return ts;
}

describe('kernel patch decoder', () => {
  it('rebuilds linked-program releases and random edits exactly like the TypeScript decoder, in every build', () => {
    for (const seed of [1, 2, 3]) {
      const { old, next } = pair(seed);
      expect(expectSameAsTypeScript(createPatch(encoder, old, next).patch, old)).toEqual(next);
    }
    const rng = new Prng(7);
    for (let trial = 0; trial < 12; trial++) {
      const old = rng.bytes(rng.int(1, 6000));
      const next = old.slice(rng.int(0, 50));
      for (let e = rng.int(0, 40); e > 0; e--) next[rng.int(0, next.length)] = rng.int(0, 256);
      const grown = new Uint8Array([...next, ...rng.bytes(rng.int(0, 300))]);
      expect(expectSameAsTypeScript(createPatch(encoder, old, grown).patch, old)).toEqual(grown);
    }
  });

  it('rebuilds sparse differences at and across 16-byte group and 1024-byte run edges like the TypeScript decoder', () => {
    // Long zero stretches make group flags; differences on group edges, inside groups and on the kernel's run
    // boundaries make groups that are not all zero, and ops whose add regions end mid-group.
    const rng = new Prng(11);
    for (let trial = 0; trial < 4; trial++) {
      const old = rng.bytes(rng.int(20000, 40000));
      const next = old.slice();
      for (const at of [15, 16, 17, 31, 1008, 1023, 1024, 1025, 2047, 2048]) next[at] = next[at]! ^ (1 << rng.int(0, 8));
      for (let at = 3000; at < next.length; at += rng.int(9, 400)) next[at] = (next[at]! + rng.int(1, 256)) & 0xff;
      expect(expectSameAsTypeScript(createPatch(encoder, old, next).patch, old)).toEqual(next);
    }
  });

  it('rebuilds relocation-like differences (repeated values, pairs a few bytes apart) like the TypeScript decoder', () => {
    // The same three old bytes before a difference make its pred known, so equal differences take the equals-pred
    // flag; pairs of non-zero bytes 3..20 apart put the distance of two on every position of a group, so groups for
    // the rest of a group come at every length, and some of them are not all zero.
    const rng = new Prng(12);
    for (let trial = 0; trial < 4; trial++) {
      const old = rng.bytes(rng.int(20000, 40000));
      const next = old.slice();
      const shift = rng.int(1, 256);
      for (let at = 64; at + 8 < old.length; at += rng.int(3, 21)) {
        if (rng.int(0, 2) === 0) {
          old[at - 3] = 0xe8;
          old[at - 2] = 0x10;
          old[at - 1] = 0x20;
          next.set(old.subarray(at - 3, at), at - 3);
          next[at] = (old[at]! + shift) & 0xff;
        } else {
          next[at] = (old[at]! + rng.int(1, 256)) & 0xff;
          next[at + 1] = (old[at + 1]! + 1) & 0xff;
        }
      }
      const { patch, stats } = createPatch(encoder, old, next);
      expect(stats.diffBytes).toBeGreaterThan(old.length / 2);
      expect(expectSameAsTypeScript(patch, old)).toEqual(next);
    }
  });

  it('rebuilds a real compiled module (one kernel build from another) like the TypeScript decoder', async () => {
    const [a, b] = await Promise.all([loadBuildBytes('scalar'), loadBuildBytes('simd')]);
    const old = new Uint8Array(a);
    const next = new Uint8Array(b);
    expect(expectSameAsTypeScript(createPatch(encoder, old, next).patch, old)).toEqual(next);
  });

  it('refuses damaged and truncated patches exactly where the TypeScript decoder does', () => {
    const { old, next } = pair(4);
    const patch = createPatch(encoder, old, next).patch;
    const rng = new Prng(8);
    let refused = 0;
    for (let trial = 0; trial < 40; trial++) {
      const bad = patch.slice();
      const at = rng.int(0, bad.length);
      bad[at] = bad[at]! ^ (1 << rng.int(0, 8));
      if (typeof expectSameAsTypeScript(bad, old) === 'string') refused++;
    }
    for (const cut of [patch.length - 1, Math.floor(patch.length / 2), 60]) {
      if (typeof expectSameAsTypeScript(patch.subarray(0, cut), old) === 'string') refused++;
    }
    expect(refused).toBeGreaterThan(35);
  });
});
