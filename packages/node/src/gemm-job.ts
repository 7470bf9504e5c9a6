import { Prng } from '@compotastic/mesh';
import { ConfigError, type GemmSpec } from '@compotastic/orchestrator';

/**
 * A seeded random GEMM job from "MxKxN": uint8 A (m x k, zero point 128) and int8 B (k x n) inline, int32 out. What
 * `compotastic submit --gemm` sends; the same shape and seed always give the same input.
 */
export function randomGemmJob(shape: string, seed: number): { spec: GemmSpec; input: Uint8Array } {
  const m = /^(\d{1,7})x(\d{1,7})x(\d{1,7})$/.exec(shape);
  if (!m) throw new ConfigError('BAD_OPTION', `--gemm expects MxKxN, got "${shape}"`);
  const [rows, k, n] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const spec: GemmSpec = { kind: 'gemm', m: rows, k, n, aType: 'uint8', bType: 'int8', aZeroPoint: 128, bZeroPoint: 0, weights: 'inline' };
  const rng = new Prng(seed >>> 0);
  const input = new Uint8Array(rows * k + k * n);
  for (let i = 0; i < input.length; i++) input[i] = rng.int(0, 256);
  return { spec, input };
}
