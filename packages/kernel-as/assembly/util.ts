// Small helpers shared by the kernels: bounds checks and scratch space.

import { inMemory, arena_alloc, arena_mark, arena_release } from './arena';

export { inMemory };

/** True when two byte ranges overlap (empty ranges never overlap). */
@inline export function overlaps(a: usize, aLen: u64, b: usize, bLen: u64): bool {
  if (aLen == 0 || bLen == 0) return false;
  return <u64>a < <u64>b + bLen && <u64>b < <u64>a + aLen;
}

@inline export function roundUp(x: i32, m: i32): i32 {
  return (x + m - 1) & ~(m - 1);
}

/** Scratch space comes from the arena and is released by the caller with scratchEnd. */
@inline export function scratchBegin(): usize {
  return arena_mark();
}

@inline export function scratchAlloc(size: u64): usize {
  if (size > 0x7FFF_FFFF) return 0;
  return arena_alloc(<i32>size, 16);
}

@inline export function scratchEnd(mark: usize): void {
  arena_release(mark);
}

/** Zero-fills a byte range without bulk-memory instructions (the scalar build has none). */
export function zeroBytes(ptr: usize, len: usize): void {
  let p = ptr;
  const end = ptr + len;
  if (ASC_FEATURE_SIMD) {
    const z = i32x4.splat(0);
    while (p + 16 <= end) {
      v128.store(p, z);
      p += 16;
    }
  } else {
    while (p + 8 <= end) {
      store<u64>(p, 0);
      p += 8;
    }
  }
  while (p < end) {
    store<u8>(p, 0);
    p++;
  }
}
