// Tensor deltas for over-the-air updates: bytewise difference modulo 256
// (new - old, decoded as old + delta) or XOR. A fine-tuned int8 tensor changes
// most bytes by a little, so the subtractive delta is mostly small values that
// compress far better than either image; XOR suits bit-flip style changes.
// Decoding is also the "add" step of applying a binary patch, so it runs in
// bounded chunks: any n, in place (out may equal old or delta).

import { ERR_ARGUMENT, ERR_BOUNDS, OK } from './abi';
import { inMemory, overlaps } from './util';

export const DELTA_SUB: i32 = 0;
export const DELTA_XOR: i32 = 1;

function check(a: usize, b: usize, n: i32, mode: i32, out: usize): i32 {
  if (n < 0 || (mode != DELTA_SUB && mode != DELTA_XOR)) return ERR_ARGUMENT;
  const len = <u64>n;
  if (!inMemory(a, len) || !inMemory(b, len) || !inMemory(out, len)) return ERR_BOUNDS;
  // Elementwise, so exact aliasing is fine; partial overlap would read bytes already written.
  if ((out != a && overlaps(out, len, a, len)) || (out != b && overlaps(out, len, b, len))) return ERR_ARGUMENT;
  return OK;
}

/** out = sign * a + b per byte (mod 256), or a XOR b. */
@inline function combine(a: usize, b: usize, n: i32, mode: i32, subtract: bool, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 16 <= n; i += 16) {
      const va = v128.load(a + <usize>i);
      const vb = v128.load(b + <usize>i);
      const r = mode == DELTA_XOR ? v128.xor(va, vb) : subtract ? i8x16.sub(vb, va) : i8x16.add(va, vb);
      v128.store(out + <usize>i, r);
    }
  } else {
    for (; i + 4 <= n; i += 4) {
      const va = load<u32>(a + <usize>i);
      const vb = load<u32>(b + <usize>i);
      let r: u32;
      if (mode == DELTA_XOR) {
        r = va ^ vb;
      } else if (subtract) {
        // SWAR bytewise subtraction: borrow never crosses byte lanes.
        r = ((vb | 0x80808080) - (va & 0x7F7F7F7F)) ^ ((vb ^ ~va) & 0x80808080);
      } else {
        r = ((va & 0x7F7F7F7F) + (vb & 0x7F7F7F7F)) ^ ((va ^ vb) & 0x80808080);
      }
      store<u32>(out + <usize>i, r);
    }
  }
  for (; i < n; i++) {
    const va = load<u8>(a + <usize>i);
    const vb = load<u8>(b + <usize>i);
    store<u8>(out + <usize>i, mode == DELTA_XOR ? va ^ vb : subtract ? <u8>(vb - va) : <u8>(va + vb));
  }
}

/** delta = new - old (mod 256) or new XOR old, n bytes. */
export function delta_encode(old: usize, neu: usize, n: i32, mode: i32, out: usize): i32 {
  const err = check(old, neu, n, mode, out);
  if (err != OK) return err;
  combine(old, neu, n, mode, true, out);
  return OK;
}

/** new = old + delta (mod 256) or old XOR delta, n bytes. */
export function delta_decode(old: usize, delta: usize, n: i32, mode: i32, out: usize): i32 {
  const err = check(old, delta, n, mode, out);
  if (err != OK) return err;
  combine(old, delta, n, mode, false, out);
  return OK;
}
