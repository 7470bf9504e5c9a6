// The plain-JavaScript peer: careful, idiomatic JS versions of each kernel, so
// the "vs JS" ratio measures what Wasm buys over good JS rather than over a
// naive loop. Results are identical to the kernels (tests check this).

/** B packed for jsGemm: panels of 4 columns, for each k the 4 values (minus the zero point) side by side. */
export interface JsPackedB {
  k: number;
  n: number;
  panels: Int16Array;
}

export function jsPackB(b: Int8Array | Uint8Array, k: number, n: number, bZeroPoint = 0): JsPackedB {
  const np = Math.ceil(n / 4);
  const panels = new Int16Array(np * k * 4);
  for (let p = 0; p < np; p++) {
    for (let kk = 0; kk < k; kk++) {
      for (let c = 0; c < 4; c++) {
        const col = p * 4 + c;
        panels[(p * k + kk) * 4 + c] = col < n ? b[kk * n + col]! - bZeroPoint : 0;
      }
    }
  }
  return { k, n, panels };
}

/**
 * Y (int32, M x N) = (A - aZeroPoint) x B: four output columns per pass, so each
 * A value is loaded once per four multiply-adds. Accumulates in int32 like
 * MatMulInteger (exact while K * 255 * 255 < 2^31, i.e. K up to 33025).
 */
export function jsGemm(a: Uint8Array | Int8Array, m: number, b: JsPackedB, aZeroPoint = 0, out = new Int32Array(m * b.n)): Int32Array {
  const { k, n, panels } = b;
  const row = new Int32Array(k);
  const np = Math.ceil(n / 4);
  for (let i = 0; i < m; i++) {
    for (let kk = 0; kk < k; kk++) row[kk] = a[i * k + kk]! - aZeroPoint;
    const yo = i * n;
    for (let p = 0; p < np; p++) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let at = p * k * 4;
      for (let kk = 0; kk < k; kk++, at += 4) {
        const av = row[kk]!;
        s0 = (s0 + av * panels[at]!) | 0;
        s1 = (s1 + av * panels[at + 1]!) | 0;
        s2 = (s2 + av * panels[at + 2]!) | 0;
        s3 = (s3 + av * panels[at + 3]!) | 0;
      }
      const col = p * 4;
      out[yo + col] = s0;
      if (col + 1 < n) out[yo + col + 1] = s1;
      if (col + 2 < n) out[yo + col + 2] = s2;
      if (col + 3 < n) out[yo + col + 3] = s3;
    }
  }
  return out;
}

const RANGE = { uint8: [0, 255], int8: [-128, 127] } as const;

// Adding and subtracting 1.5 * 2^52 rounds a double to an integer, ties to
// even, without a branch (exact for |v| < 2^51).
const ROUND = 6755399441055744;

/**
 * QuantizeLinear per tensor: float32 division, round half to even, saturation
 * (NaN gives the zero point). Written without data-dependent branches: V8
 * compiles Math.min/max and clamped stores to branches, which mispredict on
 * real data and make the loop several times slower.
 */
export function jsQuantize(x: Float32Array, scale: number, zeroPoint: number, type: 'uint8' | 'int8' = 'uint8'): Uint8Array | Int8Array {
  const out = type === 'uint8' ? new Uint8Array(x.length) : new Int8Array(x.length);
  const s = Math.fround(scale);
  const lo = RANGE[type][0] - zeroPoint, hi = RANGE[type][1] - zeroPoint;
  for (let i = 0; i < x.length; i++) {
    let v = Math.fround(x[i]! / s);
    // Rare (predictable) path: values far outside any byte range, infinities and NaN.
    if (!(v > -1e9 && v < 1e9)) v = v !== v ? 0 : v > 0 ? hi : lo;
    let r = (v + ROUND - ROUND) | 0;
    r -= (r - lo) & ((r - lo) >> 31);
    r -= (r - hi) & ((hi - r) >> 31);
    out[i] = r + zeroPoint;
  }
  return out;
}

/** DynamicQuantizeLinear (uint8) with ONNX Runtime's float32 steps. */
export function jsDynamicQuantize(x: Float32Array): { data: Uint8Array; scale: number; zeroPoint: number } {
  let lo = 0, hi = 0, finite = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    // New extremes are rare, so these branches predict well.
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    finite += v - v; // NaN once any value is NaN or infinite
  }
  if (finite !== 0) throw new RangeError('non-finite input');
  const f = Math.fround;
  const scale = hi === lo ? 1 : f(f(hi - lo) / 255);
  const initial = f(0 - f(lo / scale));
  const zeroPoint = Math.max(0, Math.min(255, initial)) + ROUND - ROUND;
  return { data: jsQuantize(x, scale, zeroPoint, 'uint8') as Uint8Array, scale, zeroPoint };
}

/** DequantizeLinear per tensor: float32((q - zeroPoint) * scale). */
export function jsDequantize(q: Uint8Array | Int8Array, scale: number, zeroPoint: number): Float32Array {
  const out = new Float32Array(q.length);
  const s = Math.fround(scale);
  for (let i = 0; i < q.length; i++) out[i] = (q[i]! - zeroPoint) * s;
  return out;
}

// Byte-wise add and subtract four bytes at a time inside 32-bit words (SWAR):
// the low seven bits of each byte are added without carrying into the next
// byte, and the top bit is fixed up with XOR.
const LOW7 = 0x7f7f7f7f, HIGH = 0x80808080 | 0;

function swar(a: Uint8Array, b: Uint8Array, subtract: boolean): Uint8Array {
  const n = a.length;
  const out = new Uint8Array(n);
  const words = a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0 ? n >>> 2 : 0;
  if (words > 0) {
    const wa = new Uint32Array(a.buffer, a.byteOffset, words);
    const wb = new Uint32Array(b.buffer, b.byteOffset, words);
    const wo = new Uint32Array(out.buffer, 0, words);
    if (subtract) {
      for (let i = 0; i < words; i++) {
        const x = wa[i]!, y = wb[i]!;
        wo[i] = (((x | HIGH) - (y & LOW7)) ^ ((x ^ ~y) & HIGH));
      }
    } else {
      for (let i = 0; i < words; i++) {
        const x = wa[i]!, y = wb[i]!;
        wo[i] = (((x & LOW7) + (y & LOW7)) ^ ((x ^ y) & HIGH));
      }
    }
  }
  for (let i = words * 4; i < n; i++) out[i] = subtract ? a[i]! - b[i]! : a[i]! + b[i]!;
  return out;
}

/** next - old, byte-wise mod 256 (the kernel's 'sub' delta). */
export function jsDeltaEncode(old: Uint8Array, next: Uint8Array): Uint8Array {
  return swar(next, old, true);
}

/** old + delta, byte-wise mod 256. */
export function jsDeltaDecode(old: Uint8Array, delta: Uint8Array): Uint8Array {
  return swar(old, delta, false);
}

/** Applies bsdiff control triples with their difference and literal streams. */
export function jsApplyPatch(old: Uint8Array, ops: Int32Array, diff: Uint8Array, extra: Uint8Array): Uint8Array {
  const out = new Uint8Array(diff.length + extra.length);
  let o = 0, op = 0, d = 0, e = 0;
  for (let i = 0; i < ops.length; i += 3) {
    const add = ops[i]!, lit = ops[i + 1]!, seek = ops[i + 2]!;
    if (add < 0 || lit < 0 || op < 0 || op + add > old.length || d + add > diff.length || e + lit > extra.length) {
      throw new RangeError(`patch op ${i / 3} does not fit`);
    }
    for (let j = 0; j < add; j++) out[o + j] = old[op + j]! + diff[d + j]!;
    o += add;
    op += add;
    d += add;
    out.set(extra.subarray(e, e + lit), o);
    o += lit;
    e += lit;
    op += seek;
  }
  if (o !== out.length) throw new RangeError('patch does not cover the new image');
  return out;
}
