import { Prng } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { OtaError } from '../src/errors.js';
import { FountainDecoder, FountainEncoder, partitionBlocks, repairCoefficients } from '../src/fec/fountain.js';
import { gfInv, gfMul } from '../src/fec/gf256.js';
import { symbolsToSend } from '../src/fec/sizing.js';
import { expectBytes } from './helpers.js';

describe('GF(256)', () => {
  it('is a field: inverses, distributivity, associativity', () => {
    for (let a = 1; a < 256; a++) expect(gfMul(a, gfInv(a))).toBe(1);
    const rng = new Prng(1);
    for (let i = 0; i < 2000; i++) {
      const a = rng.int(0, 256), b = rng.int(0, 256), c = rng.int(0, 256);
      expect(gfMul(a, b ^ c)).toBe(gfMul(a, b) ^ gfMul(a, c));
      expect(gfMul(gfMul(a, b), c)).toBe(gfMul(a, gfMul(b, c)));
    }
  });
});

/** Symbols a receiver needs before it decodes when each one is lost with probability p (systematic order). */
function sentUntilDecoded(data: Uint8Array, p: number, rng: Prng, symbolSize = 200, maxBlock = 512): { sent: number; m: number } {
  const enc = new FountainEncoder(data, { symbolSize, maxBlockSymbols: maxBlock, seed: rng.uint32() });
  const dec = new FountainDecoder({ dataLength: data.length, symbolSize, maxBlockSymbols: maxBlock, seed: enc.params.seed });
  let sent = 0;
  enc.blocks.forEach((b) => {
    for (let esi = 0; !dec.block(b.index).complete; esi++) {
      sent++;
      if (!rng.bool(p)) dec.add(b.index, esi, enc.symbol(b.index, esi));
    }
  });
  expectBytes(dec.data(), data);
  return { sent, m: enc.blocks.reduce((n, b) => n + b.symbols, 0) };
}

describe('fountain code', () => {
  it('partitions symbols into near-equal blocks within the limit', () => {
    const blocks = partitionBlocks({ dataLength: 1000 * 225 + 1, symbolSize: 225, maxBlockSymbols: 256 });
    expect(blocks.length).toBe(4);
    expect(blocks.reduce((n, b) => n + b.symbols, 0)).toBe(1001);
    expect(Math.max(...blocks.map((b) => b.symbols)) - Math.min(...blocks.map((b) => b.symbols))).toBeLessThanOrEqual(1);
    expect(repairCoefficients(5, 0, 300, 1).length).toBe(1);
  });

  it('decodes from any M independent symbols: reordered, duplicated, repair before source', () => {
    const rng = new Prng(2);
    const data = rng.bytes(30 * 100 - 17);
    const enc = new FountainEncoder(data, { symbolSize: 100, maxBlockSymbols: 64, seed: 99 });
    const dec = new FountainDecoder({ dataLength: data.length, symbolSize: 100, maxBlockSymbols: 64, seed: 99 });
    // Half the sources, then repairs, shuffled, each delivered twice.
    const items: [number, number][] = [];
    for (let esi = 0; esi < 30; esi += 2) items.push([0, esi]);
    for (let esi = 30; esi < 50; esi++) items.push([0, esi]);
    rng.shuffle(items);
    let duplicates = 0;
    for (const [b, esi] of items) {
      dec.add(b, esi, enc.symbol(b, esi));
      if (dec.add(b, esi, enc.symbol(b, esi)) === 'duplicate') duplicates++;
    }
    expect(duplicates).toBe(items.length);
    expect(dec.complete).toBe(true);
    expectBytes(dec.data(), data);
  });

  it('reports what is still needed and ignores redundant symbols', () => {
    const data = new Prng(3).bytes(1000);
    const enc = new FountainEncoder(data, { symbolSize: 100, maxBlockSymbols: 512, seed: 1 });
    const dec = new FountainDecoder({ dataLength: 1000, symbolSize: 100, maxBlockSymbols: 512, seed: 1 });
    expect(dec.needed).toBe(10);
    for (let esi = 0; esi < 7; esi++) dec.add(0, esi, enc.symbol(0, esi));
    expect(dec.needs()).toEqual([3]);
    expect(() => dec.data()).toThrow(OtaError);
    for (let esi = 10; esi < 20 && !dec.complete; esi++) dec.add(0, esi, enc.symbol(0, esi));
    expect(dec.complete).toBe(true);
    expect(dec.add(0, 9, enc.symbol(0, 9))).toBe('redundant');
  });

  it('rejects symbols of the wrong size or out-of-range ids with BAD_FRAGMENT', () => {
    const dec = new FountainDecoder({ dataLength: 1000, symbolSize: 100, maxBlockSymbols: 512, seed: 1 });
    expect(() => dec.add(0, 0, new Uint8Array(99))).toThrow(expect.objectContaining({ code: 'BAD_FRAGMENT' }));
    expect(() => dec.add(3, 0, new Uint8Array(100))).toThrow(expect.objectContaining({ code: 'BAD_FRAGMENT' }));
    expect(() => dec.add(0, 70000, new Uint8Array(100))).toThrow(expect.objectContaining({ code: 'BAD_FRAGMENT' }));
  });

  it('mean overhead stays within 1.05/(1-p) at 0, 10 and 30% loss, for small and large transfers', () => {
    const rng = new Prng(4);
    for (const p of [0, 0.1, 0.3]) {
      for (const bytes of [2000, 65536]) {
        let sent = 0;
        let m = 0;
        const trials = bytes > 10000 ? 4 : 40;
        for (let t = 0; t < trials; t++) {
          const r = sentUntilDecoded(rng.bytes(bytes), p, rng);
          sent += r.sent;
          m += r.m;
        }
        expect(sent / m).toBeLessThanOrEqual(1.05 / (1 - p));
      }
    }
  });

  it('the same seed gives the same repair symbols; another seed different ones', () => {
    const data = new Prng(5).bytes(5000);
    const a = new FountainEncoder(data, { symbolSize: 200, maxBlockSymbols: 512, seed: 7 });
    const b = new FountainEncoder(data, { symbolSize: 200, maxBlockSymbols: 512, seed: 7 });
    const c = new FountainEncoder(data, { symbolSize: 200, maxBlockSymbols: 512, seed: 8 });
    expect(a.symbol(0, 40)).toEqual(b.symbol(0, 40));
    expect(a.symbol(0, 40)).not.toEqual(c.symbol(0, 40));
  });
});

describe('repair sizing', () => {
  it('sends enough that the receiver completes with the asked confidence', () => {
    expect(symbolsToSend(0, 0.5, 0.9)).toBe(0);
    expect(symbolsToSend(10, 0, 0.9)).toBe(10);
    const n = symbolsToSend(50, 0.2, 0.9);
    expect(n).toBeGreaterThan(50 / 0.8);
    // Check by simulation that about 90% of receivers get 50 of n.
    const rng = new Prng(6);
    let ok = 0;
    for (let t = 0; t < 2000; t++) {
      let got = 0;
      for (let i = 0; i < n; i++) if (!rng.bool(0.2)) got++;
      if (got >= 50) ok++;
    }
    expect(ok / 2000).toBeGreaterThan(0.87);
    expect(symbolsToSend(50, 0.2, 0.99)).toBeGreaterThan(n);
  });
});
