import { Prng } from '@compotastic/mesh';
import { FountainDecoder, FountainEncoder } from '../fec/fountain.js';

export interface OverheadStats {
  loss: number;
  trials: number;
  /** Source symbols per transfer. */
  symbols: number;
  /** Symbols sent per source symbol until the receiver decoded: mean and 99th percentile. */
  mean: number;
  p99: number;
  /** The bound the design promises: 1.05 / (1 - loss). */
  bound: number;
}

/**
 * Sends source symbols then fresh repair symbols to one receiver losing each with probability `loss` (independent),
 * until it decodes; repeats `trials` times. Deterministic for a seed.
 */
export function measureFecOverhead(o: { bytes: number; loss: number; trials: number; seed: number; symbolSize?: number; maxBlockSymbols?: number }): OverheadStats {
  const rng = new Prng(o.seed);
  const symbolSize = o.symbolSize ?? 225;
  const maxBlockSymbols = o.maxBlockSymbols ?? 512;
  const ratios: number[] = [];
  let m = 0;
  for (let t = 0; t < o.trials; t++) {
    const data = rng.bytes(o.bytes);
    const enc = new FountainEncoder(data, { symbolSize, maxBlockSymbols, seed: rng.uint32() });
    const dec = new FountainDecoder({ dataLength: data.length, symbolSize, maxBlockSymbols, seed: enc.params.seed });
    m = enc.blocks.reduce((n, b) => n + b.symbols, 0);
    let sent = 0;
    for (const b of enc.blocks) {
      const bd = dec.block(b.index);
      for (let esi = 0; !bd.complete; esi++) {
        sent++;
        if (!rng.bool(o.loss)) bd.add(esi, enc.symbol(b.index, esi));
      }
    }
    ratios.push(sent / m);
  }
  return overheadStats(ratios, o.loss, m);
}

/** Mean and 99th percentile of per-trial ratios (symbols sent per source symbol). */
export function overheadStats(ratios: number[], loss: number, symbols: number): OverheadStats {
  const sorted = ratios.slice().sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]!;
  return { loss, trials: sorted.length, symbols, mean, p99, bound: 1.05 / (1 - loss) };
}
