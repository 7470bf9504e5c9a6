// Trains the project's reference model: a small MLP for vibration-event
// classification, Linear -> LayerNorm -> GELU -> Linear -> ReLU -> Linear ->
// Softmax, with Adam on cross-entropy. Everything is seeded, so the same seed
// gives the same weights on every machine (float32 arithmetic in JS is exact
// IEEE, and the loop order is fixed).

import { Prng } from '@compotastic/mesh';
import type { Dataset } from '../data/vibration.js';
import { argmaxRows, gelu, geluGrad, matmul, matmulTransAAdd, matmulTransB, softmaxRows } from './math.js';

export interface MlpWeights {
  inputs: number;
  hidden1: number;
  hidden2: number;
  classes: number;
  w1: Float32Array; b1: Float32Array; gamma: Float32Array; beta: Float32Array;
  w2: Float32Array; b2: Float32Array; w3: Float32Array; b3: Float32Array;
}

export interface TrainOptions {
  hidden1?: number;
  hidden2?: number;
  epochs?: number;
  batch?: number;
  learningRate?: number;
  seed?: number;
  /** Start from these weights instead of a random initialisation (fine-tuning); they are not modified. */
  init?: MlpWeights;
  onEpoch?: (epoch: number, loss: number, accuracy: number) => void;
}

export const LAYER_NORM_EPSILON = 1e-5;

function initWeights(rng: Prng, fanIn: number, fanOut: number): Float32Array {
  // He initialisation for the ReLU/GELU layers.
  const sd = Math.sqrt(2 / fanIn);
  return Float32Array.from({ length: fanIn * fanOut }, () => rng.gaussian(0, sd));
}

/** Forward pass over `rows` inputs, keeping what the backward pass needs. */
export function forward(w: MlpWeights, x: Float32Array, rows: number) {
  const { inputs: d, hidden1: h1, hidden2: h2, classes: c } = w;
  const z1 = new Float32Array(rows * h1);
  matmul(x, w.w1, z1, rows, d, h1);
  const xhat = new Float32Array(rows * h1);
  const invStd = new Float32Array(rows);
  const a1 = new Float32Array(rows * h1);
  const g = new Float32Array(rows * h1);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let j = 0; j < h1; j++) mean += (z1[r * h1 + j]! += w.b1[j]!);
    mean /= h1;
    let variance = 0;
    for (let j = 0; j < h1; j++) variance += (z1[r * h1 + j]! - mean) ** 2;
    variance /= h1;
    const inv = 1 / Math.sqrt(variance + LAYER_NORM_EPSILON);
    invStd[r] = inv;
    for (let j = 0; j < h1; j++) {
      const xh = (z1[r * h1 + j]! - mean) * inv;
      xhat[r * h1 + j] = xh;
      const v = xh * w.gamma[j]! + w.beta[j]!;
      a1[r * h1 + j] = v;
      g[r * h1 + j] = gelu(v);
    }
  }
  const z2 = new Float32Array(rows * h2);
  matmul(g, w.w2, z2, rows, h1, h2);
  const relu = new Float32Array(rows * h2);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < h2; j++) {
      const v = (z2[r * h2 + j]! += w.b2[j]!);
      relu[r * h2 + j] = v > 0 ? v : 0;
    }
  }
  const probs = new Float32Array(rows * c);
  matmul(relu, w.w3, probs, rows, h2, c);
  for (let r = 0; r < rows; r++) for (let j = 0; j < c; j++) probs[r * c + j]! += w.b3[j]!;
  softmaxRows(probs, rows, c);
  return { xhat, invStd, a1, g, z2, relu, probs };
}

class Adam {
  private m: Float32Array;
  private v: Float32Array;
  constructor(private readonly param: Float32Array) {
    this.m = new Float32Array(param.length);
    this.v = new Float32Array(param.length);
  }
  step(grad: Float32Array, lr: number, t: number): void {
    const b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const c1 = 1 - b1 ** t, c2 = 1 - b2 ** t;
    for (let i = 0; i < this.param.length; i++) {
      const g = grad[i]!;
      this.m[i] = b1 * this.m[i]! + (1 - b1) * g;
      this.v[i] = b2 * this.v[i]! + (1 - b2) * g * g;
      this.param[i]! -= (lr * (this.m[i]! / c1)) / (Math.sqrt(this.v[i]! / c2) + eps);
    }
  }
}

function cloneWeights(w: MlpWeights): MlpWeights {
  return {
    ...w, w1: w.w1.slice(), b1: w.b1.slice(), gamma: w.gamma.slice(), beta: w.beta.slice(),
    w2: w.w2.slice(), b2: w.b2.slice(), w3: w.w3.slice(), b3: w.b3.slice(),
  };
}

/** Trains the MLP on a dataset; returns the weights. */
export function trainMlp(data: Dataset, options: TrainOptions = {}): MlpWeights {
  const rng = new Prng(options.seed ?? 1);
  const d = data.features, c = data.classes;
  const h1 = options.init?.hidden1 ?? options.hidden1 ?? 96, h2 = options.init?.hidden2 ?? options.hidden2 ?? 48;
  const w: MlpWeights = options.init
    ? cloneWeights(options.init)
    : {
      inputs: d, hidden1: h1, hidden2: h2, classes: c,
      w1: initWeights(rng, d, h1), b1: new Float32Array(h1), gamma: new Float32Array(h1).fill(1), beta: new Float32Array(h1),
      w2: initWeights(rng, h1, h2), b2: new Float32Array(h2), w3: initWeights(rng, h2, c), b3: new Float32Array(c),
    };
  if (w.inputs !== d || w.classes !== c) throw new RangeError(`initial weights are ${w.inputs} -> ${w.classes}, the data ${d} -> ${c}`);
  const params = [w.w1, w.b1, w.gamma, w.beta, w.w2, w.b2, w.w3, w.b3];
  const grads = params.map((p) => new Float32Array(p.length));
  const [gw1, gb1, ggamma, gbeta, gw2, gb2, gw3, gb3] = grads as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  const optimizers = params.map((p) => new Adam(p));
  const epochs = options.epochs ?? 18, batch = options.batch ?? 32, lr = options.learningRate ?? 3e-3;
  const order = Array.from({ length: data.count }, (_, i) => i);
  let step = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    rng.shuffle(order);
    let lossSum = 0, correct = 0;
    for (let start = 0; start < data.count; start += batch) {
      const rows = Math.min(batch, data.count - start);
      const x = new Float32Array(rows * d);
      const labels = new Uint8Array(rows);
      for (let r = 0; r < rows; r++) {
        const idx = order[start + r]!;
        x.set(data.x.subarray(idx * d, (idx + 1) * d), r * d);
        labels[r] = data.y[idx]!;
      }
      const f = forward(w, x, rows);
      // Cross-entropy gradient through the softmax.
      const dz3 = new Float32Array(rows * c);
      for (let r = 0; r < rows; r++) {
        const y = labels[r]!;
        lossSum -= Math.log(Math.max(f.probs[r * c + y]!, 1e-12));
        let best = 0;
        for (let j = 0; j < c; j++) {
          dz3[r * c + j] = (f.probs[r * c + j]! - (j === y ? 1 : 0)) / rows;
          if (f.probs[r * c + j]! > f.probs[r * c + best]!) best = j;
        }
        if (best === y) correct++;
      }
      for (const g of grads) g.fill(0);
      matmulTransAAdd(f.relu, dz3, gw3, rows, h2, c);
      for (let r = 0; r < rows; r++) for (let j = 0; j < c; j++) gb3[j]! += dz3[r * c + j]!;
      const dz2 = new Float32Array(rows * h2);
      matmulTransB(dz3, w.w3, dz2, rows, c, h2);
      for (let i = 0; i < dz2.length; i++) if (f.z2[i]! <= 0) dz2[i] = 0;
      matmulTransAAdd(f.g, dz2, gw2, rows, h1, h2);
      for (let r = 0; r < rows; r++) for (let j = 0; j < h2; j++) gb2[j]! += dz2[r * h2 + j]!;
      const dg = new Float32Array(rows * h1);
      matmulTransB(dz2, w.w2, dg, rows, h2, h1);
      const dz1 = new Float32Array(rows * h1);
      for (let r = 0; r < rows; r++) {
        let meanD = 0, meanDX = 0;
        const dxhat = new Float32Array(h1);
        for (let j = 0; j < h1; j++) {
          const i = r * h1 + j;
          const da = dg[i]! * geluGrad(f.a1[i]!);
          ggamma[j]! += da * f.xhat[i]!;
          gbeta[j]! += da;
          dxhat[j] = da * w.gamma[j]!;
          meanD += dxhat[j]!;
          meanDX += dxhat[j]! * f.xhat[i]!;
        }
        meanD /= h1;
        meanDX /= h1;
        for (let j = 0; j < h1; j++) {
          dz1[r * h1 + j] = f.invStd[r]! * (dxhat[j]! - meanD - f.xhat[r * h1 + j]! * meanDX);
        }
      }
      matmulTransAAdd(x, dz1, gw1, rows, d, h1);
      for (let r = 0; r < rows; r++) for (let j = 0; j < h1; j++) gb1[j]! += dz1[r * h1 + j]!;
      step++;
      optimizers.forEach((o, i) => o.step(grads[i]!, lr, step));
    }
    options.onEpoch?.(epoch, lossSum / data.count, correct / data.count);
  }
  return w;
}

/** Accuracy of the float model on a dataset. */
export function accuracy(w: MlpWeights, data: Dataset): number {
  const { probs } = forward(w, data.x, data.count);
  const pred = argmaxRows(probs, data.count, data.classes);
  let ok = 0;
  for (let i = 0; i < data.count; i++) if (pred[i] === data.y[i]) ok++;
  return ok / data.count;
}
