// Dense float32 helpers for training and the float reference executor.

/** C (m x n) = A (m x k) . B (k x n), all row-major; C is overwritten. */
export function matmul(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number): void {
  c.fill(0, 0, m * n);
  for (let i = 0; i < m; i++) {
    const cRow = i * n;
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p]!;
      if (av === 0) continue;
      const bRow = p * n;
      for (let j = 0; j < n; j++) c[cRow + j]! += av * b[bRow + j]!;
    }
  }
}

/** C (k x n) += A^T . B where A is m x k and B is m x n. */
export function matmulTransAAdd(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number): void {
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p]!;
      if (av === 0) continue;
      const cRow = p * n;
      const bRow = i * n;
      for (let j = 0; j < n; j++) c[cRow + j]! += av * b[bRow + j]!;
    }
  }
}

/** C (m x k) = A . B^T where A is m x n and B is k x n. */
export function matmulTransB(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number): void {
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += a[i * n + j]! * b[p * n + j]!;
      c[i * k + p] = s;
    }
  }
}

/** erf with |error| < 1.2e-7 (Numerical Recipes' erfc Chebyshev fit). */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}

/** GELU with the exact (erf) formulation, as ONNX Gelu with approximate="none". */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

export function geluGrad(x: number): number {
  return 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
}

/** Row-wise softmax in place. */
export function softmaxRows(x: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let j = 0; j < cols; j++) max = Math.max(max, x[r * cols + j]!);
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(x[r * cols + j]! - max);
      x[r * cols + j] = e;
      sum += e;
    }
    for (let j = 0; j < cols; j++) x[r * cols + j]! /= sum;
  }
}

export function argmaxRows(x: ArrayLike<number>, rows: number, cols: number): Uint8Array {
  const out = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let j = 1; j < cols; j++) if (x[r * cols + j]! > x[r * cols + best]!) best = j;
    out[r] = best;
  }
  return out;
}
