// A bump allocator over linear memory, exported so any host (JS, C via wasm2c,
// WAMR) can place its buffers inside the module. Kernels take scratch space from
// the same arena with mark/release, so a host that allocates before calling and
// resets afterwards never leaks. Memory grows on demand, a page at a time.

import { ERR_ARGUMENT, ERR_NO_MEMORY, OK } from './abi';

const PAGE: u64 = 65536;
const DEFAULT_ALIGN: usize = 16;

let base: usize = 0;
let top: usize = 0;

/** Pages the module's own static data needs: what it declares as initial memory. */
@inline function ownPages(): i32 {
  const pages = <i32>((<u64>__heap_base + PAGE - 1) / PAGE);
  return pages < 1 ? 1 : pages;
}

@inline function ensureInit(): void {
  if (base == 0) {
    // Keep address 0 unused so a null pointer is never a valid allocation.
    let start: u64 = __heap_base < 16 ? 16 : <u64>__heap_base;
    // Memory found larger than the module declares was added by the host before the
    // first arena call, and is the host's: a WAMR app heap given at instantiation sits
    // right after the initial pages. The arena starts above it instead of over it.
    if (memory.size() > ownPages()) start = <u64>memory.size() * PAGE;
    start = (start + DEFAULT_ALIGN - 1) & ~(<u64>DEFAULT_ALIGN - 1);
    if (start > 0xFFFF_FFF0) start = 0xFFFF_FFF0; // all 4 GiB taken: every allocation fails
    base = <usize>start;
    top = <usize>start;
  }
}

/** Bytes of linear memory currently addressable. */
@inline export function memoryBytes(): u64 {
  return <u64>memory.size() * PAGE;
}

/** True when [ptr, ptr+len) lies inside linear memory (len may be 0). */
@inline export function inMemory(ptr: usize, len: u64): bool {
  return <u64>ptr + len <= memoryBytes();
}

/** Grows memory so that `end` is addressable; false when the engine refuses. */
function reserve(end: u64): bool {
  const have = memoryBytes();
  if (end <= have) return true;
  const pages = <i32>((end - have + PAGE - 1) / PAGE);
  return memory.grow(pages) >= 0;
}

/**
 * Allocates `size` bytes aligned to `align` (a power of two; 0 means 16).
 * Returns the address, or 0 when size/align are invalid or memory cannot grow.
 */
export function arena_alloc(size: i32, align: i32): usize {
  ensureInit();
  if (size < 0) return 0;
  let a: usize = align == 0 ? DEFAULT_ALIGN : <usize>align;
  if (align < 0 || (a & (a - 1)) != 0 || a > 65536) return 0;
  const ptr: u64 = (<u64>top + <u64>a - 1) & ~(<u64>a - 1);
  const end: u64 = ptr + <u64>size;
  if (end > 0xFFFF_FFFF) return 0;
  if (!reserve(end)) return 0;
  top = <usize>end;
  return <usize>ptr;
}

/**
 * Grows memory now so that the next `size` bytes above the arena top are addressable:
 * allocations (the host's and the kernels' scratch) that fit in them never grow memory,
 * so native pointers a host derived stay valid. Memory never shrinks.
 */
export function arena_reserve(size: i32): i32 {
  ensureInit();
  if (size < 0) return ERR_ARGUMENT;
  const end: u64 = <u64>top + <u64>size;
  if (end > 0xFFFF_FFFF || !reserve(end)) return ERR_NO_MEMORY;
  return OK;
}

/** Frees everything allocated since the module started (or the last reset). */
export function arena_reset(): void {
  ensureInit();
  top = base;
}

/** The current top of the arena, to pass to arena_release later. */
export function arena_mark(): usize {
  ensureInit();
  return top;
}

/** Frees everything allocated after `mark` was taken. */
export function arena_release(mark: usize): i32 {
  ensureInit();
  if (mark < base || mark > top) return ERR_ARGUMENT;
  top = mark;
  return OK;
}

/** Bytes currently allocated. */
export function arena_used(): i32 {
  ensureInit();
  return <i32>(top - base);
}

/** First address the arena hands out (after the module's static data). */
export function arena_base(): usize {
  ensureInit();
  return base;
}
