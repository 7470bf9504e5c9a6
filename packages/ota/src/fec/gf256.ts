// Arithmetic in GF(2^8) with the polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d), the field used by Reed-Solomon and
// RaptorQ. Addition is XOR; multiplication goes through a full 64 KiB product table for speed.

const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
(() => {
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255]!;
})();

const MUL = (() => {
  const t = new Uint8Array(65536);
  for (let a = 1; a < 256; a++) for (let b = 1; b < 256; b++) t[(a << 8) | b] = EXP[LOG[a]! + LOG[b]!]!;
  return t;
})();

export function gfMul(a: number, b: number): number {
  return MUL[(a << 8) | b]!;
}

export function gfInv(a: number): number {
  if (a === 0) throw new RangeError('zero has no inverse in GF(256)');
  return EXP[255 - LOG[a]!]!;
}

/** dst[i] ^= c * src[i] over the first n bytes. */
export function gfMulAdd(dst: Uint8Array, src: Uint8Array, c: number, n = dst.length): void {
  if (c === 0) return;
  if (c === 1) {
    for (let i = 0; i < n; i++) dst[i]! ^= src[i]!;
    return;
  }
  const row = c << 8;
  for (let i = 0; i < n; i++) dst[i]! ^= MUL[row | src[i]!]!;
}

/** v[i] = c * v[i]. */
export function gfScale(v: Uint8Array, c: number): void {
  if (c === 1) return;
  const row = c << 8;
  for (let i = 0; i < v.length; i++) v[i] = MUL[row | v[i]!]!;
}
