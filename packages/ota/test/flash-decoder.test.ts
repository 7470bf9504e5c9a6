import { Prng } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { FlashFountainDecoder, FountainDecoder, FountainEncoder, MemoryFlash, OtaError, flashDecoderLayout } from '../src/index.js';

function stream(seed: number, data: Uint8Array, maxBlockSymbols: number, loss: number) {
  const enc = new FountainEncoder(data, { symbolSize: 32, maxBlockSymbols, seed });
  const rng = new Prng(seed + 1);
  const out: { block: number; esi: number; data: Uint8Array }[] = [];
  for (const b of enc.blocks) {
    for (let esi = 0; esi < b.symbols * 3; esi++) if (!rng.bool(loss)) out.push({ block: b.index, esi, data: enc.symbol(b.index, esi) });
  }
  // Interleave blocks and repeat a few symbols, as a broadcast with repair rounds does.
  const shuffled = rng.shuffle(out);
  return [...shuffled, ...shuffled.slice(0, 10)];
}

describe('flash fountain decoder', () => {
  it('takes the same symbols as the RAM decoder and rebuilds the data from flash', () => {
    for (const [seed, size, maxM, loss] of [[1, 5000, 40, 0.3], [2, 3000, 200, 0.1], [3, 777, 7, 0.5]] as const) {
      const data = new Prng(seed).bytes(size);
      const params = { dataLength: size, symbolSize: 32, maxBlockSymbols: maxM, seed };
      const ram = new FountainDecoder(params);
      const flash = new FlashFountainDecoder(params, new MemoryFlash(flashDecoderLayout(params, 4096).bytes));
      for (const s of stream(seed, data, maxM, loss)) expect(flash.add(s.block, s.esi, s.data)).toBe(ram.add(s.block, s.esi, s.data));
      expect(flash.complete).toBe(true);
      expect(flash.data().read(0, size)).toEqual(data);
    }
  });

  it('decodes from repair symbols alone within its workspace, and refuses a workspace too small', () => {
    const data = new Prng(3).bytes(4096);
    const params = { dataLength: 4096, symbolSize: 32, maxBlockSymbols: 128, seed: 9 };
    const need = flashDecoderLayout(params, 4096).bytes;
    expect(() => new FlashFountainDecoder(params, new MemoryFlash(need - 4096))).toThrow(OtaError);
    // Every row dense: the worst case the row area is sized for.
    const dec = new FlashFountainDecoder(params, new MemoryFlash(need));
    const enc = new FountainEncoder(data, { symbolSize: 32, maxBlockSymbols: 128, seed: 9 });
    for (let esi = 128; !dec.complete; esi++) dec.add(0, esi, enc.symbol(0, esi));
    expect(dec.data().read(0, 4096)).toEqual(data);
  });
});
