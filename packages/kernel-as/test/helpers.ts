import { loadKernel, type Kernel, type KernelBuild } from '../src/index.js';

export const BUILDS: KernelBuild[] = ['scalar', 'simd', 'relaxed'];

const cache = new Map<KernelBuild, Promise<Kernel>>();

/** One kernel instance per build, shared by the tests of a file. */
export function kernel(build: KernelBuild): Promise<Kernel> {
  let k = cache.get(build);
  if (!k) {
    k = loadKernel({ build });
    cache.set(build, k);
  }
  return k;
}

export async function allKernels(): Promise<Kernel[]> {
  return Promise.all(BUILDS.map(kernel));
}

/** A tiny seeded generator for bulk test data (xorshift32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

export function randomBytes(n: number, seed: number, signed: boolean): Uint8Array | Int8Array {
  const next = rng(seed);
  const out = signed ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = signed ? (next() & 255) - 128 : next() & 255;
  return out;
}
