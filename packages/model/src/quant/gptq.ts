// Weight rounding with error feedback (GPTQ, Frantar et al. 2022): a layer's
// int8 weights are chosen one input row at a time, and the rounding error of
// each row is pushed onto the rows not yet rounded, weighted by how the layer's
// inputs correlate (the inverse of H = X^T X over calibration inputs), so the
// layer's OUTPUT on those inputs stays closest to float rather than each weight
// to its own float value. The scales and the format are those of plain
// per-channel rounding; only which int8 values are stored changes.

import type { FloatTensor } from '../graph/ir.js';
import { ModelError } from '../errors.js';

/**
 * Adds x^T x of the input rows of width k (row-major) into the k x k matrix `h` (its upper triangle), taking every
 * `step`-th of the `rows` rows: an estimate of the correlation from a fixed sample, at a fraction of the cost.
 */
export function accumulateHessian(h: Float64Array, x: Float32Array, rows: number, k: number, step = 1): void {
  for (let r = 0; r < rows; r += step) {
    const base = r * k;
    for (let i = 0; i < k; i++) {
      const xi = x[base + i]!;
      if (xi === 0) continue;
      const hi = i * k;
      for (let j = i; j < k; j++) h[hi + j]! += xi * x[base + j]!;
    }
  }
}

/** The upper-triangular Cholesky factor U (A = U^T U) of a symmetric positive definite k x k matrix, in place of a copy. */
function choleskyUpper(a: Float64Array, k: number): Float64Array {
  const u = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    let d = a[i * k + i]!;
    for (let p = 0; p < i; p++) d -= u[p * k + i]! ** 2;
    if (!(d > 0)) throw new ModelError('CALIBRATION', 'input correlation matrix is not positive definite');
    const dii = Math.sqrt(d);
    u[i * k + i] = dii;
    for (let j = i + 1; j < k; j++) {
      let s = a[i * k + j]!;
      for (let p = 0; p < i; p++) s -= u[p * k + i]! * u[p * k + j]!;
      u[i * k + j] = s / dii;
    }
  }
  return u;
}

/** The inverse of a symmetric positive definite matrix from its Cholesky factor. */
function inverseSpd(a: Float64Array, k: number): Float64Array {
  const u = choleskyUpper(a, k);
  // U^-1 (upper triangular), then A^-1 = U^-1 U^-T.
  const ui = new Float64Array(k * k);
  for (let i = k - 1; i >= 0; i--) {
    ui[i * k + i] = 1 / u[i * k + i]!;
    for (let j = i + 1; j < k; j++) {
      let s = 0;
      for (let p = i + 1; p <= j; p++) s += u[i * k + p]! * ui[p * k + j]!;
      ui[i * k + j] = -s / u[i * k + i]!;
    }
  }
  const inv = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let s = 0;
      for (let p = j; p < k; p++) s += ui[i * k + p]! * ui[j * k + p]!;
      inv[i * k + j] = s;
      inv[j * k + i] = s;
    }
  }
  return inv;
}

/** Damping added to H's diagonal, as a share of its mean diagonal: keeps the inverse well conditioned. */
const DAMPING = 0.01;

/**
 * int8 weights (zero point 0, per output channel `scales`) for the K x N float matrix `w`, rounded with error
 * feedback under the input correlation `hessian` (upper triangle of X^T X, K x K, from `accumulateHessian`).
 */
export function roundWithErrorFeedback(w: FloatTensor, scales: Float32Array, hessian: Float64Array): Int8Array {
  const [k, n] = w.dims as [number, number];
  const h = new Float64Array(k * k);
  let mean = 0;
  for (let i = 0; i < k; i++) mean += hessian[i * k + i]!;
  mean /= k;
  if (!(mean > 0)) throw new ModelError('CALIBRATION', 'no calibration input reached the layer');
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const v = hessian[i * k + j]! + (i === j ? DAMPING * mean : 0);
      h[i * k + j] = v;
      h[j * k + i] = v;
    }
  }
  const u = choleskyUpper(inverseSpd(h, k), k);
  const work = Float64Array.from(w.data);
  const q = new Int8Array(k * n);
  for (let r = 0; r < k; r++) {
    const d = u[r * k + r]!;
    for (let c = 0; c < n; c++) {
      const v = work[r * n + c]!;
      const s = scales[c]!;
      const qi = Math.max(-127, Math.min(127, Math.round(v / s)));
      q[r * n + c] = qi;
      const err = (v - qi * s) / d;
      if (err === 0) continue;
      for (let j = r + 1; j < k; j++) work[j * n + c]! -= err * u[r * k + j]!;
    }
  }
  return q;
}
