// Building blocks of an integer-only context-mixing model: adaptive bit probabilities looked up by context,
// combined by a gated logistic mixer. Every operation is exact integer arithmetic (products stay below 2^53 in
// JS and fit int64 in C), so encoder and decoder compute the same probability on any host.

/** squash(x) = 4096 / (1 + e^(-x/256)) at x = (i - 16) * 128, rounded; interpolated in between. */
const SQUASH_POINTS = [
  1, 2, 4, 6, 10, 17, 27, 45, 74, 120, 194, 311, 488, 747, 1102, 1546, 2048, 2550, 2994, 3349, 3608, 3785, 3902,
  3976, 4022, 4051, 4069, 4079, 4086, 4090, 4092, 4094, 4095,
];

/** Logistic function from the stretched domain (-2047..2047) to a 12-bit probability (1..4095). */
export function squash(x: number): number {
  if (x > 2047) return 4095;
  if (x < -2047) return 1;
  const w = x & 127;
  const i = (x >> 7) + 16;
  return (SQUASH_POINTS[i]! * (128 - w) + SQUASH_POINTS[i + 1]! * w + 64) >> 7;
}

/** Inverse of squash: ln(p / (1 - p)) scaled by 256, for 12-bit p; built from squash so the two agree exactly. */
const STRETCH = (() => {
  const t = new Int16Array(4096);
  let pi = 0;
  for (let x = -2047; x <= 2047; x++) {
    const v = squash(x);
    for (let j = pi; j <= v; j++) t[j] = x;
    pi = v + 1;
  }
  for (let j = pi; j < 4096; j++) t[j] = 2047;
  return t;
})();

/** RAM of the stretch table, shared by every model in a process. */
export const STRETCH_TABLE_BYTES = STRETCH.byteLength;

export function stretch(p12: number): number {
  return STRETCH[p12]!;
}

/** Multiplicative hash of two 32-bit values to `bits` bits. */
export function hash2(a: number, b: number, bits: number): number {
  return Math.imul(a ^ Math.imul(b, 0x9e3779b1), 0x85ebca6b) >>> (32 - bits);
}

/**
 * A table of adaptive bit probabilities (16-bit, P(1)). Each coded bit moves the probability 1/2^rate of the way
 * toward what was seen.
 */
export class ProbabilityTable {
  readonly p: Uint16Array;

  constructor(
    readonly size: number,
    private readonly rate = 4,
  ) {
    this.p = new Uint16Array(size).fill(32768);
  }

  update(index: number, bit: number): void {
    const v = this.p[index]!;
    this.p[index] = bit ? v + ((65536 - v) >> this.rate) : v - (v >> this.rate);
  }

  get bytes(): number {
    return this.p.byteLength;
  }
}

/**
 * Mixes N stretched predictions with one of `sets` weight vectors (16.16 fixed point) and learns online. Call
 * predict() then update() for every bit.
 */
export class Mixer {
  private readonly w: Int32Array;
  private readonly inputs: Int32Array;
  private count = 0;
  private base = 0;
  private pr = 2048;

  constructor(
    private readonly n: number,
    sets: number,
    private readonly learningRate: number,
    initialWeight = 19660,
  ) {
    this.w = new Int32Array(n * sets).fill(initialWeight);
    this.inputs = new Int32Array(n);
  }

  add(st: number): void {
    this.inputs[this.count++] = st;
  }

  /** Mixed 12-bit probability of a 1, clamped to 1..4095, using weight set `set`. */
  predict(set: number): number {
    this.base = set * this.n;
    let dot = 0;
    for (let i = 0; i < this.n; i++) dot += this.w[this.base + i]! * this.inputs[i]!;
    let x = Math.floor(dot / 65536);
    if (x > 2047) x = 2047;
    else if (x < -2047) x = -2047;
    this.pr = squash(x);
    return this.pr;
  }

  update(bit: number): void {
    const err = ((bit << 12) - this.pr) * this.learningRate;
    for (let i = 0; i < this.n; i++) {
      let v = this.w[this.base + i]! + ((this.inputs[i]! * err) >> 14);
      if (v > 0x3fffff) v = 0x3fffff;
      else if (v < -0x3fffff) v = -0x3fffff;
      this.w[this.base + i] = v;
    }
    this.count = 0;
  }

  get bytes(): number {
    return this.w.byteLength + this.inputs.byteLength;
  }
}
