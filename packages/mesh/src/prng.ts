import { MeshError } from './errors.js';

/**
 * Seeded pseudo-random numbers, part of the project's wire formats (other packages derive fountain-code seeds from
 * it), so the algorithm is fixed:
 *
 * - Seeding (splitmix32): with a 32-bit state s starting at the seed, each output is
 *   s = (s + 0x9E3779B9) mod 2^32; z = s; z = (z ^ (z >>> 16)) * 0x21F0AAAD; z = (z ^ (z >>> 15)) * 0x735A2D97;
 *   z = z ^ (z >>> 15)  (multiplications mod 2^32). Four outputs give the xoshiro state s0..s3 in order; an all-zero
 *   state (impossible in practice) is replaced by s0 = 1.
 * - Generator: xoshiro128** (Blackman and Vigna): result = rotl(s1 * 5, 7) * 9; t = s1 << 9; s2 ^= s0; s3 ^= s1;
 *   s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11).
 * - float() = uint32() / 2^32, one draw, in [0, 1).
 * - intBelow(n) for 1 <= n <= 2^32: draws r until r >= (2^32 - n) mod n, returns r mod n (no modulo bias).
 * - int(min, max) = min + intBelow(max - min): max exclusive.
 * - gaussian(mean, sd): Box-Muller, two draws u1 = 1 - float(), u2 = float(),
 *   mean + sd * sqrt(-2 ln u1) * cos(2 pi u2); nothing is cached between calls.
 * - exponential(mean) = -mean * ln(1 - float()).
 * - shuffle: Fisher-Yates from the last index down, j = intBelow(i + 1).
 * - fork(): a child seeded with the parent's next uint32 (advances the parent by one draw).
 * - derive(key): a child seeded with fnv1a32(key as UTF-8) XOR the parent's *seed* run through splitmix32 once; it
 *   does not advance the parent, so children for different keys are independent of call order.
 */
export class Prng {
  readonly seed: number;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new MeshError('INVALID_SEED', `seed must be an integer 0..2^32-1, got ${seed}`);
    }
    this.seed = seed;
    const sm = new SplitMix32(seed);
    this.s0 = sm.next();
    this.s1 = sm.next();
    this.s2 = sm.next();
    this.s3 = sm.next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next 32-bit unsigned integer. */
  uint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [0, n), 1 <= n <= 2^32. */
  intBelow(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) {
      throw new MeshError('INVALID_RANGE', `intBelow needs an integer 1..2^32, got ${n}`);
    }
    const threshold = (4294967296 - n) % n;
    for (;;) {
      const r = this.uint32();
      if (r >= threshold) return r % n;
    }
  }

  /** Uniform integer in [min, max). */
  int(min: number, max: number): number {
    if (!Number.isInteger(min) || !Number.isInteger(max) || max <= min) {
      throw new MeshError('INVALID_RANGE', `int needs integers min < max, got ${min}, ${max}`);
    }
    return min + this.intBelow(max - min);
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.float();
  }

  /** True with probability p. */
  bool(p = 0.5): boolean {
    return this.float() < p;
  }

  gaussian(mean = 0, sd = 1): number {
    const u1 = 1 - this.float();
    const u2 = this.float();
    return mean + sd * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  exponential(mean: number): number {
    if (!(mean >= 0)) throw new MeshError('INVALID_RANGE', `exponential mean must be >= 0, got ${mean}`);
    return -mean * Math.log(1 - this.float());
  }

  /** Shuffle an array in place and return it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.intBelow(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /** A uniformly chosen element. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new MeshError('INVALID_RANGE', 'cannot pick from an empty list');
    return items[this.intBelow(items.length)] as T;
  }

  /** Fill a byte array. */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 4) {
      const r = this.uint32();
      for (let k = 0; k < 4 && i + k < length; k++) out[i + k] = (r >>> (8 * k)) & 0xff;
    }
    return out;
  }

  /** Independent child stream; advances this stream by one draw. */
  fork(): Prng {
    return new Prng(this.uint32());
  }

  /** Child stream for a key; does not advance this stream. */
  derive(key: string | number): Prng {
    return new Prng((fnv1a32(String(key)) ^ new SplitMix32(this.seed).next()) >>> 0);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** splitmix32 as specified in the Prng documentation. */
export class SplitMix32 {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  }
}

/** 32-bit FNV-1a over the UTF-8 bytes of a string. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
