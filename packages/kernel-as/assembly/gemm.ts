// int8 matrix multiplication with int32 accumulation (ONNX MatMulInteger) and its
// requantized form (ONNX QLinearMatMul).
//
// B (the weights) is packed once into panels of 4 columns; inside a panel, K runs in
// chunks of 16, each chunk holding 16 consecutive K values of column 0, then of
// column 1, 2 and 3 (64 bytes). The inner loops therefore stream contiguous bytes
// and every build reads the same layout. uint8 weights are stored as w = b - 128 so
// the kernels only ever see int8 weights; the zero point moves with them.
//
// With x the activations as the kernel sees them and z their zero point, every
// build computes P[m][n] = sum_k x[m][k] * w[k][n] and then corrects
//   Y = P - zb[n] * rowsum(x[m]) - z[m] * (colsum(w[n]) - K * zb[n]),
// which equals sum_k (a - za) * (b - zb) exactly in wrapping int32 arithmetic.
//
// Builds differ only in the microkernel:
// - scalar: plain loops on int16 activations (no SIMD, no bulk memory);
// - simd and relaxed, row blocks of at least WIDE_MIN_ROWS rows (GEMM): activations
//   widened to int16 once per row block, each panel's weights widened to int16 once
//   into scratch, then i32x4.dot_i16x8_s on 2 rows x 4 columns (16 dots per 16 K
//   values of 8 outputs, no per-chunk conversion);
// - simd, one row (GEMV): weights widened per chunk, i32x4.dot_i16x8_s on 1 x 4;
// - relaxed, fewer rows: activations offset to 0..255 and split into two 4-bit halves
//   so the 7-bit operand of i16x8.relaxed_dot_i8x16_i7x16_s stays in 0..15 (exact on
//   every engine, no saturation); int16 partial sums are widened every 8 chunks.

import {
  ERR_ARGUMENT, ERR_BOUNDS, ERR_FORMAT, ERR_MULTIPLIER, ERR_NO_MEMORY, ERR_OVERFLOW, ERR_ZERO_POINT, OK,
  TYPE_INT8, TYPE_UINT8,
} from './abi';
import { inMemory, overlaps, roundUp, scratchAlloc, scratchBegin, scratchEnd, zeroBytes } from './util';
import { requantizeRow, validRequantParams } from './requant';

const MAGIC: u32 = 0x31425043; // "CPB1" little-endian
const HEADER: usize = 32;
const NR: i32 = 4; // columns per panel
const KC: i32 = 16; // K values per chunk
const ROW_BLOCK: i32 = 64; // activation rows prepared at once
// Row blocks at least this tall take the widened-panel path (SIMD builds): each panel's
// weights are sign-extended to int16 once into scratch and reused by every row pair.
const WIDE_MIN_ROWS: i32 = ASC_FEATURE_RELAXED_SIMD ? 8 : 2;
const FLAG_B_UINT8: i32 = 1;

// Header field offsets.
const H_MAGIC: usize = 0;
const H_K: usize = 4;
const H_N: usize = 8;
const H_KP: usize = 12;
const H_NP: usize = 16;
const H_FLAGS: usize = 20;
const H_CHECK: usize = 24;

@inline function headerCheck(k: i32, n: i32, flags: i32): u32 {
  return MAGIC ^ (<u32>k * 0x9E3779B1) ^ (<u32>n * 0x85EBCA77) ^ (<u32>flags * 0xC2B2AE3D);
}

@inline function isByteType(t: i32): bool {
  return t == TYPE_UINT8 || t == TYPE_INT8;
}

@inline function loadByte(ptr: usize, t: i32): i32 {
  return t == TYPE_UINT8 ? <i32>load<u8>(ptr) : <i32>load<i8>(ptr);
}

/** Bytes a packed B of K x N needs, or 0 when the shape is invalid or too large. */
export function packed_b_size(k: i32, n: i32): i32 {
  if (k <= 0 || n <= 0) return 0;
  const kp = (<u64>k + 15) & ~(<u64>15);
  const np = (<u64>n + 3) & ~(<u64>3);
  const total = <u64>HEADER + 8 * np + np * kp;
  if (total > 0x7FFF_FFFF) return 0;
  return <i32>total;
}

/**
 * Packs B (K x N, row-major, uint8 or int8) with its zero point(s) into `out`
 * (packed_b_size(K, N) bytes, 16-byte aligned). zpCount is 0 (zero point 0), 1
 * (per tensor) or N (per column); zero points have B's element type.
 */
export function pack_b(b: usize, bType: i32, k: i32, n: i32, zp: usize, zpCount: i32, out: usize): i32 {
  if (!isByteType(bType)) return ERR_ARGUMENT;
  if (k <= 0 || n <= 0) return ERR_ARGUMENT;
  if (zpCount != 0 && zpCount != 1 && zpCount != n) return ERR_ARGUMENT;
  const size = packed_b_size(k, n);
  if (size == 0) return ERR_OVERFLOW;
  if ((out & 15) != 0) return ERR_ARGUMENT;
  const bLen = <u64>k * <u64>n;
  if (!inMemory(b, bLen) || !inMemory(out, <u64>size)) return ERR_BOUNDS;
  if (zpCount > 0 && !inMemory(zp, <u64>zpCount)) return ERR_BOUNDS;
  if (overlaps(b, bLen, out, <u64>size)) return ERR_ARGUMENT;
  if (zpCount > 0 && overlaps(zp, <u64>zpCount, out, <u64>size)) return ERR_ARGUMENT;

  const kp = roundUp(k, KC);
  const np = roundUp(n, NR);
  const chunks = kp / KC;
  const flags = bType == TYPE_UINT8 ? FLAG_B_UINT8 : 0;
  store<u32>(out + H_MAGIC, MAGIC);
  store<i32>(out + H_K, k);
  store<i32>(out + H_N, n);
  store<i32>(out + H_KP, kp);
  store<i32>(out + H_NP, np);
  store<i32>(out + H_FLAGS, flags);
  store<u32>(out + H_CHECK, headerCheck(k, n, flags));
  store<i32>(out + 28, 0);

  const corr = out + HEADER;
  const zbv = corr + <usize>np * 4;
  const data = zbv + <usize>np * 4;
  zeroBytes(corr, <usize>np * 8);
  zeroBytes(data, <usize>np * <usize>kp);
  const offset = bType == TYPE_UINT8 ? 128 : 0;

  for (let col = 0; col < n; col++) {
    let zbNat = 0;
    if (zpCount == 1) zbNat = loadByte(zp, bType);
    else if (zpCount == n) zbNat = loadByte(zp + <usize>col, bType);
    const zbInt = zbNat - offset;
    const panel = col >> 2;
    const j = col & 3;
    let colsum = 0;
    let src = b + <usize>col;
    for (let c = 0; c < chunks; c++) {
      const dst = data + ((<usize>(panel * chunks + c) * 4 + <usize>j) << 4);
      const kEnd = min(KC, k - c * KC);
      for (let kk = 0; kk < kEnd; kk++) {
        const w = loadByte(src, bType) - offset;
        store<i8>(dst + <usize>kk, <i8>w);
        colsum += w;
        src += <usize>n;
      }
    }
    store<i32>(corr + <usize>col * 4, colsum - k * zbInt);
    store<i32>(zbv + <usize>col * 4, zbInt);
  }
  return OK;
}

/** Validates a packed header; returns N on success or a negative error code. */
function checkPacked(packed: usize, k: i32): i32 {
  if ((packed & 15) != 0) return ERR_ARGUMENT;
  if (!inMemory(packed, <u64>HEADER)) return ERR_BOUNDS;
  if (load<u32>(packed + H_MAGIC) != MAGIC) return ERR_FORMAT;
  const pk = load<i32>(packed + H_K);
  const pn = load<i32>(packed + H_N);
  const flags = load<i32>(packed + H_FLAGS);
  if (load<u32>(packed + H_CHECK) != headerCheck(pk, pn, flags)) return ERR_FORMAT;
  if (pk <= 0 || pn <= 0) return ERR_FORMAT;
  if (load<i32>(packed + H_KP) != roundUp(pk, KC) || load<i32>(packed + H_NP) != roundUp(pn, NR)) return ERR_FORMAT;
  if (pk != k) return ERR_ARGUMENT;
  const size = packed_b_size(pk, pn);
  if (size == 0) return ERR_FORMAT;
  if (!inMemory(packed, <u64>size)) return ERR_BOUNDS;
  return pn;
}

/** N of a packed matrix (or a negative error code when the header is invalid). */
export function packed_b_cols(packed: usize): i32 {
  if (!inMemory(packed, <u64>HEADER)) return ERR_BOUNDS;
  return checkPacked(packed, load<i32>(packed + H_K));
}

/** K of a packed matrix (or a negative error code when the header is invalid). */
export function packed_b_rows(packed: usize): i32 {
  const n = packed_b_cols(packed);
  return n < 0 ? n : load<i32>(packed + H_K);
}

// ---------------------------------------------------------------------------
// Activation preparation: converts a block of rows to the microkernel's form,
// zero-padded to Kp, and records each row's sum and zero point in that form.

@inline function activationOffset(aType: i32, wide: bool): i32 {
  // The relaxed build's nibble path needs activations as 0..255; int8 values are shifted by 128.
  return ASC_FEATURE_RELAXED_SIMD && !wide && aType == TYPE_INT8 ? 128 : 0;
}

/** Whether a block of `rows` rows takes the widened-panel path. */
@inline function useWide(rows: i32): bool {
  return ASC_FEATURE_SIMD && rows >= WIDE_MIN_ROWS;
}

/** Bytes of scratch one prepared row takes (int16 values, or two 4-bit halves of Kp bytes each). */
@inline function preparedRowBytes(kp: i32): usize {
  return <usize>kp * 2;
}

/** Bytes of scratch one widened panel takes: 4 columns x Kp int16 weights. */
@inline function widePanelBytes(kp: i32): usize {
  return ASC_FEATURE_SIMD ? <usize>kp * 8 : 0;
}

function prepareRows(
  a: usize, aType: i32, k: i32, kp: i32, row0: i32, rows: i32, xs: usize, rowsum: usize, wide: bool,
): void {
  const off = activationOffset(aType, wide);
  for (let r = 0; r < rows; r++) {
    const src = a + <usize>(row0 + r) * <usize>k;
    let sum = 0;
    if (ASC_FEATURE_RELAXED_SIMD && !wide) {
      const lo = xs + <usize>r * <usize>kp;
      const hi = xs + <usize>(rows + r) * <usize>kp;
      for (let i = 0; i < k; i++) {
        const x = loadByte(src + <usize>i, aType) + off;
        store<u8>(lo + <usize>i, <u8>(x & 15));
        store<u8>(hi + <usize>i, <u8>(x >> 4));
        sum += x;
      }
      for (let i = k; i < kp; i++) {
        store<u8>(lo + <usize>i, 0);
        store<u8>(hi + <usize>i, 0);
      }
    } else {
      const dst = xs + <usize>r * <usize>kp * 2;
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        // 16 values at a time; lo + hi per lane stays within +-510, so int16 pair sums are exact.
        let vs = i32x4.splat(0);
        for (; i + 16 <= k; i += 16) {
          const v = v128.load(src + <usize>i);
          let lo: v128, hi: v128;
          if (aType == TYPE_UINT8) {
            lo = i16x8.extend_low_i8x16_u(v);
            hi = i16x8.extend_high_i8x16_u(v);
          } else {
            lo = i16x8.extend_low_i8x16_s(v);
            hi = i16x8.extend_high_i8x16_s(v);
          }
          v128.store(dst + (<usize>i << 1), lo);
          v128.store(dst + (<usize>i << 1), hi, 16);
          vs = i32x4.add(vs, i32x4.extadd_pairwise_i16x8_s(i16x8.add(lo, hi)));
        }
        sum = i32x4.extract_lane(vs, 0) + i32x4.extract_lane(vs, 1) + i32x4.extract_lane(vs, 2) + i32x4.extract_lane(vs, 3);
      }
      for (; i < k; i++) {
        const x = loadByte(src + <usize>i, aType);
        store<i16>(dst + (<usize>i << 1), <i16>x);
        sum += x;
      }
      for (i = k; i < kp; i++) store<i16>(dst + (<usize>i << 1), 0);
    }
    store<i32>(rowsum + <usize>r * 4, sum);
  }
}

// ---------------------------------------------------------------------------
// Microkernels. Each computes raw dot products for one panel (4 columns).

/** Sums each of four i32x4 vectors across lanes: [sum(a), sum(b), sum(c), sum(d)]. */
@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(i32x4.shuffle(a, b, 0, 4, 1, 5), i32x4.shuffle(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(i32x4.shuffle(c, d, 0, 4, 1, 5), i32x4.shuffle(c, d, 2, 6, 3, 7));
  return i32x4.add(i32x4.shuffle(ab, cd, 0, 1, 4, 5), i32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

@inline function dotChunkI16(acc: v128, w: v128, x0: v128, x1: v128): v128 {
  return i32x4.add(acc, i32x4.add(
    i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w), x0),
    i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w), x1)));
}

/** simd: one row (int16 activations) x one panel. */
@inline function panel1x4I16(x: usize, bp: usize, chunks: i32): v128 {
  let c0 = i32x4.splat(0), c1 = i32x4.splat(0), c2 = i32x4.splat(0), c3 = i32x4.splat(0);
  for (let c = 0; c < chunks; c++) {
    const x0 = v128.load(x), x1 = v128.load(x, 16);
    c0 = dotChunkI16(c0, v128.load(bp), x0, x1);
    c1 = dotChunkI16(c1, v128.load(bp, 16), x0, x1);
    c2 = dotChunkI16(c2, v128.load(bp, 32), x0, x1);
    c3 = dotChunkI16(c3, v128.load(bp, 48), x0, x1);
    bp += 64;
    x += 32;
  }
  return hsum4(c0, c1, c2, c3);
}

/** relaxed: one row (4-bit halves) x one panel. */
@inline function panel1x4Nibble(xlo: usize, xhi: usize, bp: usize, chunks: i32): v128 {
  const ones = i16x8.splat(1);
  const sixteen = i16x8.splat(16);
  let c0 = i32x4.splat(0), c1 = i32x4.splat(0), c2 = i32x4.splat(0), c3 = i32x4.splat(0);
  let c = 0;
  while (c < chunks) {
    // 8 chunks of |w| <= 128 times x <= 15, two products per lane: at most 30720 in int16.
    const blk = min(chunks - c, 8);
    let l0 = i16x8.splat(0), l1 = i16x8.splat(0), l2 = i16x8.splat(0), l3 = i16x8.splat(0);
    let h0 = i16x8.splat(0), h1 = i16x8.splat(0), h2 = i16x8.splat(0), h3 = i16x8.splat(0);
    for (let j = 0; j < blk; j++) {
      const xl = v128.load(xlo), xh = v128.load(xhi);
      const w0 = v128.load(bp), w1 = v128.load(bp, 16), w2 = v128.load(bp, 32), w3 = v128.load(bp, 48);
      l0 = i16x8.add(l0, i16x8.relaxed_dot_i8x16_i7x16_s(w0, xl));
      h0 = i16x8.add(h0, i16x8.relaxed_dot_i8x16_i7x16_s(w0, xh));
      l1 = i16x8.add(l1, i16x8.relaxed_dot_i8x16_i7x16_s(w1, xl));
      h1 = i16x8.add(h1, i16x8.relaxed_dot_i8x16_i7x16_s(w1, xh));
      l2 = i16x8.add(l2, i16x8.relaxed_dot_i8x16_i7x16_s(w2, xl));
      h2 = i16x8.add(h2, i16x8.relaxed_dot_i8x16_i7x16_s(w2, xh));
      l3 = i16x8.add(l3, i16x8.relaxed_dot_i8x16_i7x16_s(w3, xl));
      h3 = i16x8.add(h3, i16x8.relaxed_dot_i8x16_i7x16_s(w3, xh));
      bp += 64;
      xlo += 16;
      xhi += 16;
    }
    c0 = i32x4.add(c0, i32x4.add(i32x4.dot_i16x8_s(l0, ones), i32x4.dot_i16x8_s(h0, sixteen)));
    c1 = i32x4.add(c1, i32x4.add(i32x4.dot_i16x8_s(l1, ones), i32x4.dot_i16x8_s(h1, sixteen)));
    c2 = i32x4.add(c2, i32x4.add(i32x4.dot_i16x8_s(l2, ones), i32x4.dot_i16x8_s(h2, sixteen)));
    c3 = i32x4.add(c3, i32x4.add(i32x4.dot_i16x8_s(l3, ones), i32x4.dot_i16x8_s(h3, sixteen)));
    c += blk;
  }
  return hsum4(c0, c1, c2, c3);
}

/**
 * Widens one panel's int8 weights to int16 in `wide`: per chunk, K values 0..7 of
 * columns 0..3 (8 int16 each), then K values 8..15 of columns 0..3 (128 bytes).
 */
@inline function widenPanel(bp: usize, chunks: i32, wide: usize): void {
  for (let c = 0; c < chunks; c++) {
    const w0 = v128.load(bp), w1 = v128.load(bp, 16), w2 = v128.load(bp, 32), w3 = v128.load(bp, 48);
    v128.store(wide, i16x8.extend_low_i8x16_s(w0));
    v128.store(wide, i16x8.extend_low_i8x16_s(w1), 16);
    v128.store(wide, i16x8.extend_low_i8x16_s(w2), 32);
    v128.store(wide, i16x8.extend_low_i8x16_s(w3), 48);
    v128.store(wide, i16x8.extend_high_i8x16_s(w0), 64);
    v128.store(wide, i16x8.extend_high_i8x16_s(w1), 80);
    v128.store(wide, i16x8.extend_high_i8x16_s(w2), 96);
    v128.store(wide, i16x8.extend_high_i8x16_s(w3), 112);
    bp += 64;
    wide += 128;
  }
}

/** Widened panel: two rows (int16 activations) x four columns, stored corrected to dst and dst + dstStride. */
@inline function panel2x4Wide(
  x: usize, stride: usize, wp: usize, chunks: i32,
  rowsum: usize, zas: usize, corr: usize, zbv: usize, col: i32, n: i32, dst: usize, dstStride: usize,
): void {
  let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c02 = i32x4.splat(0), c03 = i32x4.splat(0);
  let c10 = i32x4.splat(0), c11 = i32x4.splat(0), c12 = i32x4.splat(0), c13 = i32x4.splat(0);
  // The widened layout makes each half chunk (8 K values) 64 contiguous weight bytes.
  const end = wp + (<usize>chunks << 7);
  while (wp < end) {
    const xa = v128.load(x), xb = v128.load(x + stride);
    let w = v128.load(wp);
    c00 = i32x4.add(c00, i32x4.dot_i16x8_s(w, xa));
    c10 = i32x4.add(c10, i32x4.dot_i16x8_s(w, xb));
    w = v128.load(wp, 16);
    c01 = i32x4.add(c01, i32x4.dot_i16x8_s(w, xa));
    c11 = i32x4.add(c11, i32x4.dot_i16x8_s(w, xb));
    w = v128.load(wp, 32);
    c02 = i32x4.add(c02, i32x4.dot_i16x8_s(w, xa));
    c12 = i32x4.add(c12, i32x4.dot_i16x8_s(w, xb));
    w = v128.load(wp, 48);
    c03 = i32x4.add(c03, i32x4.dot_i16x8_s(w, xa));
    c13 = i32x4.add(c13, i32x4.dot_i16x8_s(w, xb));
    wp += 64;
    x += 16;
  }
  storeCorrected(hsum4(c00, c01, c02, c03), load<i32>(rowsum), load<i32>(zas), corr, zbv, col, n, dst);
  storeCorrected(hsum4(c10, c11, c12, c13), load<i32>(rowsum, 4), load<i32>(zas, 4), corr, zbv, col, n, dst + dstStride);
}

/** Widened panel: one row x four columns. */
@inline function panel1x4Wide(x: usize, wp: usize, chunks: i32): v128 {
  let c0 = i32x4.splat(0), c1 = i32x4.splat(0), c2 = i32x4.splat(0), c3 = i32x4.splat(0);
  const end = wp + (<usize>chunks << 7);
  while (wp < end) {
    const xa = v128.load(x), xb = v128.load(x, 16);
    c0 = i32x4.add(c0, i32x4.add(i32x4.dot_i16x8_s(v128.load(wp), xa), i32x4.dot_i16x8_s(v128.load(wp, 64), xb)));
    c1 = i32x4.add(c1, i32x4.add(i32x4.dot_i16x8_s(v128.load(wp, 16), xa), i32x4.dot_i16x8_s(v128.load(wp, 80), xb)));
    c2 = i32x4.add(c2, i32x4.add(i32x4.dot_i16x8_s(v128.load(wp, 32), xa), i32x4.dot_i16x8_s(v128.load(wp, 96), xb)));
    c3 = i32x4.add(c3, i32x4.add(i32x4.dot_i16x8_s(v128.load(wp, 48), xa), i32x4.dot_i16x8_s(v128.load(wp, 112), xb)));
    wp += 128;
    x += 32;
  }
  return hsum4(c0, c1, c2, c3);
}

// Scalar results for one panel, kept in globals to avoid returning multiple values.
let s0: i32 = 0, s1: i32 = 0, s2: i32 = 0, s3: i32 = 0;

/** scalar: one row (int16 activations) x one panel. */
function panel1x4Scalar(x: usize, bp: usize, chunks: i32): void {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (let c = 0; c < chunks; c++) {
    for (let kk = 0; kk < KC; kk++) {
      const xv = <i32>load<i16>(x + (<usize>kk << 1));
      if (xv == 0) continue;
      a0 += xv * <i32>load<i8>(bp + <usize>kk);
      a1 += xv * <i32>load<i8>(bp + 16 + <usize>kk);
      a2 += xv * <i32>load<i8>(bp + 32 + <usize>kk);
      a3 += xv * <i32>load<i8>(bp + 48 + <usize>kk);
    }
    bp += 64;
    x += 32;
  }
  s0 = a0; s1 = a1; s2 = a2; s3 = a3;
}

// ---------------------------------------------------------------------------
// Output: correct the raw dot products for zero points and store valid columns.

@inline function storeCorrected(
  p: v128, rs: i32, za: i32, corr: usize, zbv: usize, col: i32, n: i32, dst: usize,
): void {
  const zb = v128.load(zbv + <usize>col * 4);
  const cr = v128.load(corr + <usize>col * 4);
  const y = i32x4.sub(i32x4.sub(p, i32x4.mul(zb, i32x4.splat(rs))), i32x4.mul(cr, i32x4.splat(za)));
  const out = dst + <usize>col * 4;
  if (col + 4 <= n) {
    v128.store(out, y);
  } else {
    store<i32>(out, i32x4.extract_lane(y, 0));
    if (col + 1 < n) store<i32>(out + 4, i32x4.extract_lane(y, 1));
    if (col + 2 < n) store<i32>(out + 8, i32x4.extract_lane(y, 2));
  }
}

@inline function storeCorrectedScalar(rs: i32, za: i32, corr: usize, zbv: usize, col: i32, n: i32, dst: usize): void {
  const out = dst + <usize>col * 4;
  const c = corr + <usize>col * 4;
  const z = zbv + <usize>col * 4;
  store<i32>(out, s0 - load<i32>(z) * rs - load<i32>(c) * za);
  if (col + 1 < n) store<i32>(out + 4, s1 - load<i32>(z, 4) * rs - load<i32>(c, 4) * za);
  if (col + 2 < n) store<i32>(out + 8, s2 - load<i32>(z, 8) * rs - load<i32>(c, 8) * za);
  if (col + 3 < n) store<i32>(out + 12, s3 - load<i32>(z, 12) * rs - load<i32>(c, 12) * za);
}

/**
 * Multiplies `rows` prepared rows by every panel and writes corrected int32
 * results to dst (row stride n int32s).
 */
function multiplyBlock(
  xs: usize, rowsum: usize, zas: usize, rows: i32, kp: i32, packed: usize, n: i32, np: i32, dst: usize,
  wide: usize,
): void {
  const corr = packed + HEADER;
  const zbv = corr + <usize>np * 4;
  const data = zbv + <usize>np * 4;
  const chunks = kp / KC;
  const panelBytes = <usize>kp * 4;
  const dstStride = <usize>n * 4;
  const stride = <usize>kp * 2;
  for (let col = 0; col < np; col += NR) {
    const bp = data + <usize>(col >> 2) * panelBytes;
    if (ASC_FEATURE_SIMD) {
      if (rows >= WIDE_MIN_ROWS) {
        widenPanel(bp, chunks, wide);
        let r = 0;
        for (; r + 2 <= rows; r += 2) {
          panel2x4Wide(xs + <usize>r * stride, stride, wide, chunks, rowsum + <usize>r * 4, zas + <usize>r * 4,
            corr, zbv, col, n, dst + <usize>r * dstStride, dstStride);
        }
        if (r < rows) {
          const p = panel1x4Wide(xs + <usize>r * stride, wide, chunks);
          storeCorrected(p, load<i32>(rowsum + <usize>r * 4), load<i32>(zas + <usize>r * 4), corr, zbv, col, n, dst + <usize>r * dstStride);
        }
      } else if (ASC_FEATURE_RELAXED_SIMD) {
        for (let r = 0; r < rows; r++) {
          const xlo = xs + <usize>r * <usize>kp;
          const xhi = xs + <usize>(rows + r) * <usize>kp;
          const p = panel1x4Nibble(xlo, xhi, bp, chunks);
          storeCorrected(p, load<i32>(rowsum + <usize>r * 4), load<i32>(zas + <usize>r * 4), corr, zbv, col, n, dst + <usize>r * dstStride);
        }
      } else {
        const p = panel1x4I16(xs, bp, chunks); // one row: the only block below WIDE_MIN_ROWS
        storeCorrected(p, load<i32>(rowsum), load<i32>(zas), corr, zbv, col, n, dst);
      }
    } else {
      for (let r = 0; r < rows; r++) {
        panel1x4Scalar(xs + <usize>r * stride, bp, chunks);
        storeCorrectedScalar(load<i32>(rowsum + <usize>r * 4), load<i32>(zas + <usize>r * 4), corr, zbv, col, n, dst + <usize>r * dstStride);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Entry points.

/** Shared argument checks for both entry points; returns N or a negative error. */
function checkActivations(a: usize, aType: i32, m: i32, k: i32, aZp: usize, aZpCount: i32, packed: usize): i32 {
  if (!isByteType(aType)) return ERR_ARGUMENT;
  if (m <= 0 || k <= 0) return ERR_ARGUMENT;
  if (aZpCount != 0 && aZpCount != 1 && aZpCount != m) return ERR_ARGUMENT;
  const n = checkPacked(packed, k);
  if (n < 0) return n;
  if (<u64>m * <u64>k > 0x7FFF_FFFF || <u64>m * <u64>n * 4 > 0x7FFF_FFFF) return ERR_OVERFLOW;
  if (!inMemory(a, <u64>m * <u64>k)) return ERR_BOUNDS;
  if (aZpCount > 0 && !inMemory(aZp, <u64>aZpCount)) return ERR_BOUNDS;
  return n;
}

/**
 * Runs the multiplication over row blocks. `out` receives int32 results when
 * `requant` is false, otherwise requantized bytes of yType.
 */
function run(
  a: usize, aType: i32, m: i32, k: i32, aZp: usize, aZpCount: i32, packed: usize, n: i32,
  requant: bool, bias: usize, mult: usize, shift: usize, perChannel: i32, yZp: i32, yType: i32, out: usize,
): i32 {
  const kp = load<i32>(packed + H_KP);
  const np = load<i32>(packed + H_NP);
  const rb = min(m, ROW_BLOCK);
  const mark = scratchBegin();
  const xs = scratchAlloc(<u64>rb * <u64>preparedRowBytes(kp));
  // Sizes that are multiples of 16 first, so alignment pads only before xs, zas and acc.
  const wide = useWide(rb) ? scratchAlloc(<u64>widePanelBytes(kp)) : <usize>1;
  const rowsum = scratchAlloc(<u64>rb * 4);
  const zas = scratchAlloc(<u64>rb * 4);
  const acc = requant ? scratchAlloc(<u64>rb * <u64>n * 4) : <usize>1;
  if (xs == 0 || rowsum == 0 || zas == 0 || acc == 0 || wide == 0) {
    scratchEnd(mark);
    return ERR_NO_MEMORY;
  }
  for (let row0 = 0; row0 < m; row0 += rb) {
    const rows = min(rb, m - row0);
    const off = activationOffset(aType, useWide(rows));
    prepareRows(a, aType, k, kp, row0, rows, xs, rowsum, useWide(rows));
    for (let r = 0; r < rows; r++) {
      let za = 0;
      if (aZpCount == 1) za = loadByte(aZp, aType);
      else if (aZpCount == m) za = loadByte(aZp + <usize>(row0 + r), aType);
      store<i32>(zas + <usize>r * 4, za + off);
    }
    if (!requant) {
      multiplyBlock(xs, rowsum, zas, rows, kp, packed, n, np, out + <usize>row0 * <usize>n * 4, wide);
    } else {
      multiplyBlock(xs, rowsum, zas, rows, kp, packed, n, np, acc, wide);
      for (let r = 0; r < rows; r++) {
        requantizeRow(acc + <usize>r * <usize>n * 4, n, bias, mult, shift, perChannel, yZp, yType,
          out + <usize>(row0 + r) * <usize>n);
      }
    }
  }
  scratchEnd(mark);
  return OK;
}

/**
 * Y (int32, M x N) = (A - a_zero_point) x (B - b_zero_point), ONNX MatMulInteger.
 * aZpCount is 0 (zero point 0), 1 (per tensor) or M (per row); zero points have A's type.
 */
export function matmul_integer(a: usize, aType: i32, m: i32, k: i32, aZp: usize, aZpCount: i32, packed: usize, y: usize): i32 {
  const n = checkActivations(a, aType, m, k, aZp, aZpCount, packed);
  if (n < 0) return n;
  const yLen = <u64>m * <u64>n * 4;
  if (!inMemory(y, yLen)) return ERR_BOUNDS;
  if (overlaps(y, yLen, a, <u64>m * <u64>k) || overlaps(y, yLen, packed, <u64>packed_b_size(k, n))) return ERR_ARGUMENT;
  return run(a, aType, m, k, aZp, aZpCount, packed, n, false, 0, 0, 0, 0, 0, 0, y);
}

/**
 * Y (uint8/int8, M x N) = requantize(MatMulInteger(A, B) + bias), the integer core of
 * ONNX QLinearMatMul. bias is 0 (none) or N int32 values; mult/shift are int32
 * fixed-point multipliers and shifts (see quantize_multiplier), one each when
 * perChannel is 0, N each when it is 1; yZp is the output zero point as an integer.
 */
export function qlinear_matmul(
  a: usize, aType: i32, m: i32, k: i32, aZp: usize, aZpCount: i32, packed: usize,
  bias: usize, mult: usize, shift: usize, perChannel: i32, yZp: i32, yType: i32, y: usize,
): i32 {
  const n = checkActivations(a, aType, m, k, aZp, aZpCount, packed);
  if (n < 0) return n;
  if (!isByteType(yType)) return ERR_ARGUMENT;
  if (yType == TYPE_UINT8 ? (yZp < 0 || yZp > 255) : (yZp < -128 || yZp > 127)) return ERR_ZERO_POINT;
  if (perChannel != 0 && perChannel != 1) return ERR_ARGUMENT;
  const params = perChannel ? <u64>n : 1;
  if (!inMemory(mult, params * 4) || !inMemory(shift, params * 4)) return ERR_BOUNDS;
  if (bias != 0 && !inMemory(bias, <u64>n * 4)) return ERR_BOUNDS;
  if (!validRequantParams(mult, shift, <i32>params)) return ERR_MULTIPLIER;
  const yLen = <u64>m * <u64>n;
  if (!inMemory(y, yLen)) return ERR_BOUNDS;
  if (overlaps(y, yLen, a, <u64>m * <u64>k) || overlaps(y, yLen, packed, <u64>packed_b_size(k, n))) return ERR_ARGUMENT;
  return run(a, aType, m, k, aZp, aZpCount, packed, n, true, bias, mult, shift, perChannel, yZp, yType, y);
}
