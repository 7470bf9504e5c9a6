// Hot loops of a binary diff between two images (firmware, .wasm builds), in the
// style of bsdiff: the new image is covered by "approximate matches" against the
// old one (regions where the same code sits at a shifted address and only a few
// bytes, such as relocated pointers, differ) plus literal "extra" bytes. A match
// region is shipped as bytewise differences new - old, which are mostly zeros and
// compress very well. Unlike bsdiff's suffix array, exact matches are found through
// a hash-chain index (as in zlib) over every position of the old image: memory is
// 4 bytes per old byte plus the table, and the cost is linear in practice.
//
// Output operations are bsdiff's control triples (addLen, extraLen, seek):
//   copy addLen bytes of old (from the current old position) plus the next addLen
//   difference bytes; then append extraLen literal bytes; then move the old
//   position by addLen + seek.
// Applying them needs only the current old position, so a patch streams with
// bounded memory through delta_decode.

import { ERR_ARGUMENT, ERR_BOUNDS, ERR_PATCH, OK } from './abi';
import { DELTA_SUB, delta_decode, delta_encode } from './delta';
import { inMemory, overlaps } from './util';

const WINDOW: i32 = 8; // bytes hashed per position
const NIL: u32 = 0; // chain terminator: positions are stored plus one

@inline function hashAt(p: usize, bits: i32): u32 {
  return <u32>((load<u64>(p) * 0x9E3779B97F4A7C15) >> (64 - <u64>bits));
}

/** Bytes the index needs for an old image of oldLen bytes and 2^bits buckets. */
export function diff_index_size(oldLen: i32, bits: i32): i32 {
  if (oldLen < 0 || bits < 8 || bits > 26) return 0;
  const total = (<u64>1 << <u64>bits) * 4 + <u64>oldLen * 4;
  return total > 0x7FFF_FFFF ? 0 : <i32>total;
}

/**
 * Builds the hash-chain index of `old` in `index` (diff_index_size bytes):
 * 2^bits bucket heads, then one chain link per old position.
 */
export function diff_index(old: usize, oldLen: i32, bits: i32, index: usize): i32 {
  const size = diff_index_size(oldLen, bits);
  if (size == 0) return ERR_ARGUMENT;
  if (!inMemory(old, <u64>oldLen) || !inMemory(index, <u64>size)) return ERR_BOUNDS;
  const buckets = <usize>1 << <usize>bits;
  const head = index;
  const prev = index + buckets * 4;
  for (let i: usize = 0; i < buckets; i++) store<u32>(head + i * 4, NIL);
  // Walk backwards so each chain lists the earliest positions first; that keeps
  // matches near the start of the image preferred on ties, which suits
  // images that grow at the end.
  for (let p = oldLen - WINDOW; p >= 0; p--) {
    const h = <usize>hashAt(old + <usize>p, bits);
    store<u32>(prev + <usize>p * 4, load<u32>(head + h * 4));
    store<u32>(head + h * 4, <u32>p + 1);
  }
  for (let p = max(oldLen - WINDOW + 1, 0); p < oldLen; p++) store<u32>(prev + <usize>p * 4, NIL);
  return OK;
}

// Scan context, set by diff_scan for the helpers below.
let gOld: usize = 0;
let gOldLen: i32 = 0;
let gNew: usize = 0;
let gNewLen: i32 = 0;
let gHead: usize = 0;
let gPrev: usize = 0;
let gBits: i32 = 0;
let gMaxChain: i32 = 0;
let foundPos: i32 = 0;

@inline function matchLength(o: i32, n: i32): i32 {
  const limit = min(gOldLen - o, gNewLen - n);
  let len = 0;
  while (len + 8 <= limit && load<u64>(gOld + <usize>(o + len)) == load<u64>(gNew + <usize>(n + len))) len += 8;
  while (len < limit && load<u8>(gOld + <usize>(o + len)) == load<u8>(gNew + <usize>(n + len))) len++;
  return len;
}

/** Longest exact match of new[scan..] in old among the chain candidates; sets foundPos. */
function search(scan: i32): i32 {
  foundPos = 0;
  if (scan + WINDOW > gNewLen || gOldLen < WINDOW) return 0;
  let best = 0;
  let cand = load<u32>(gHead + (<usize>hashAt(gNew + <usize>scan, gBits) << 2));
  let steps = 0;
  while (cand != NIL && steps < gMaxChain) {
    // The index lives in host-writable memory: never follow a link out of range.
    if (cand > <u32>gOldLen) break;
    const o = <i32>(cand - 1);
    const len = matchLength(o, scan);
    if (len > best) {
      best = len;
      foundPos = o;
      if (scan + len == gNewLen) break;
    }
    cand = load<u32>(gPrev + (<usize>o << 2));
    steps++;
  }
  return best;
}

@inline function oldAt(i: i32): i32 {
  return <i32>load<u8>(gOld + <usize>i);
}
@inline function newAt(i: i32): i32 {
  return <i32>load<u8>(gNew + <usize>i);
}

// State slots (int32) kept between diff_scan calls.
const S_SCAN: usize = 0;
const S_LEN: usize = 4;
const S_POS: usize = 8;
const S_LASTSCAN: usize = 12;
const S_LASTPOS: usize = 16;
const S_LASTOFFSET: usize = 20;
const S_DONE: usize = 24;
export const DIFF_STATE_BYTES: i32 = 32;

/** Bytes of the scan state block; zero it before the first diff_scan call. */
export function diff_state_size(): i32 {
  return DIFF_STATE_BYTES;
}

/**
 * Produces up to maxOps control triples (3 x int32 each) into `ops`, resuming
 * from `state` (DIFF_STATE_BYTES, zeroed before the first call). Returns the
 * number of triples written (0 once the whole new image is covered: the done
 * slot in the state is then 1) or a negative error. maxChain bounds the
 * candidates tried per position (speed versus patch size).
 */
export function diff_scan(
  old: usize, oldLen: i32, neu: usize, newLen: i32, index: usize, bits: i32, maxChain: i32,
  state: usize, ops: usize, maxOps: i32,
): i32 {
  const size = diff_index_size(oldLen, bits);
  if (size == 0 || newLen < 0 || maxChain <= 0 || maxOps <= 0) return ERR_ARGUMENT;
  if (!inMemory(old, <u64>oldLen) || !inMemory(neu, <u64>newLen) || !inMemory(index, <u64>size)) return ERR_BOUNDS;
  if (!inMemory(state, <u64>DIFF_STATE_BYTES) || !inMemory(ops, <u64>maxOps * 12)) return ERR_BOUNDS;
  if (load<i32>(state + S_DONE) != 0) return 0;
  gOld = old; gOldLen = oldLen; gNew = neu; gNewLen = newLen;
  gHead = index; gPrev = index + (<usize>1 << <usize>bits) * 4; gBits = bits; gMaxChain = maxChain;

  let scan = load<i32>(state + S_SCAN);
  let len = load<i32>(state + S_LEN);
  let pos = load<i32>(state + S_POS);
  let lastScan = load<i32>(state + S_LASTSCAN);
  let lastPos = load<i32>(state + S_LASTPOS);
  let lastOffset = load<i32>(state + S_LASTOFFSET);
  if (scan < 0 || scan > newLen || len < 0 || (scan < newLen && len > newLen - scan) || pos < 0 || pos > oldLen ||
    lastScan < 0 || lastScan > scan || lastPos < 0 || lastPos > oldLen) return ERR_ARGUMENT;
  let written = 0;

  while (scan < newLen && written < maxOps) {
    // Advance until an exact match beats continuing the current alignment by
    // more than 8 bytes (or the alignment itself is the match).
    let oldScore = 0;
    scan += len;
    let scsc = scan;
    for (; scan < newLen; scan++) {
      len = search(scan);
      pos = foundPos;
      for (; scsc < scan + len; scsc++) {
        const o = scsc + lastOffset;
        if (o >= 0 && o < oldLen && oldAt(o) == newAt(scsc)) oldScore++;
      }
      if ((len == oldScore && len != 0) || len > oldScore + 8) break;
      const o = scan + lastOffset;
      if (o >= 0 && o < oldLen && oldAt(o) == newAt(scan)) oldScore--;
    }
    if (len == oldScore && scan != newLen) continue;

    // Extend the previous match forward while it is mostly right...
    let s = 0, bestF = 0, lenF = 0;
    for (let i = 0; lastScan + i < scan && lastPos + i < oldLen;) {
      if (oldAt(lastPos + i) == newAt(lastScan + i)) s++;
      i++;
      if (s * 2 - i > bestF * 2 - lenF) {
        bestF = s;
        lenF = i;
      }
    }
    // ...and the new match backward.
    let lenB = 0;
    if (scan < newLen) {
      s = 0;
      let bestB = 0;
      for (let i = 1; scan >= lastScan + i && pos >= i; i++) {
        if (oldAt(pos - i) == newAt(scan - i)) s++;
        if (s * 2 - i > bestB * 2 - lenB) {
          bestB = s;
          lenB = i;
        }
      }
    }
    // Where the two extensions overlap, split at the best point.
    if (lastScan + lenF > scan - lenB) {
      const overlap = lastScan + lenF - (scan - lenB);
      s = 0;
      let bestS = 0, lenS = 0;
      for (let i = 0; i < overlap; i++) {
        if (newAt(lastScan + lenF - overlap + i) == oldAt(lastPos + lenF - overlap + i)) s++;
        if (newAt(scan - lenB + i) == oldAt(pos - lenB + i)) s--;
        if (s > bestS) {
          bestS = s;
          lenS = i + 1;
        }
      }
      lenF += lenS - overlap;
      lenB -= lenS;
    }
    const op = ops + <usize>written * 12;
    store<i32>(op, lenF);
    store<i32>(op + 4, scan - lenB - (lastScan + lenF));
    store<i32>(op + 8, pos - lenB - (lastPos + lenF));
    written++;
    lastScan = scan - lenB;
    lastPos = pos - lenB;
    lastOffset = pos - scan;
  }

  store<i32>(state + S_SCAN, scan);
  store<i32>(state + S_LEN, len);
  store<i32>(state + S_POS, pos);
  store<i32>(state + S_LASTSCAN, lastScan);
  store<i32>(state + S_LASTPOS, lastPos);
  store<i32>(state + S_LASTOFFSET, lastOffset);
  if (scan >= newLen && written < maxOps) store<i32>(state + S_DONE, 1);
  return written;
}

// ---------------------------------------------------------------------------
// Turning control triples into patch streams, and applying them in memory.
// (A bounded-memory streaming applier runs the same steps chunk by chunk with
// delta_decode; these cover hosts that hold both images.)

/** Sums add and extra lengths of `count` triples, validating them against the images; -1 if invalid. */
function checkOps(ops: usize, count: i32, oldLen: i32, newLen: i32): i64 {
  let newPos: i64 = 0;
  let oldPos: i64 = 0;
  let addTotal: i64 = 0;
  for (let i = 0; i < count; i++) {
    const op = ops + <usize>i * 12;
    const add = <i64>load<i32>(op);
    const extra = <i64>load<i32>(op + 4);
    const seek = <i64>load<i32>(op + 8);
    if (add < 0 || extra < 0) return -1;
    if (oldPos < 0 || oldPos + add > <i64>oldLen) return -1;
    if (newPos + add + extra > <i64>newLen) return -1;
    newPos += add + extra;
    oldPos += add + seek;
    addTotal += add;
  }
  return newPos == <i64>newLen ? addTotal : -1;
}

/**
 * Writes the difference bytes (new - old over every add region, in order) to
 * `diff` and the literal bytes to `extra`. Sizes: sum of add lengths and sum of
 * extra lengths (their total is newLen). Returns OK or an error.
 */
export function patch_build(
  old: usize, oldLen: i32, neu: usize, newLen: i32, ops: usize, count: i32, diff: usize, extra: usize,
): i32 {
  if (oldLen < 0 || newLen < 0 || count < 0) return ERR_ARGUMENT;
  if (!inMemory(old, <u64>oldLen) || !inMemory(neu, <u64>newLen) || !inMemory(ops, <u64>count * 12)) return ERR_BOUNDS;
  const addTotal = checkOps(ops, count, oldLen, newLen);
  if (addTotal < 0) return ERR_PATCH;
  const extraTotal = <u64>(<i64>newLen - addTotal);
  if (!inMemory(diff, <u64>addTotal) || !inMemory(extra, extraTotal)) return ERR_BOUNDS;
  if (overlaps(diff, <u64>addTotal, old, <u64>oldLen) || overlaps(diff, <u64>addTotal, neu, <u64>newLen) ||
    overlaps(extra, extraTotal, old, <u64>oldLen) || overlaps(extra, extraTotal, neu, <u64>newLen) ||
    overlaps(diff, <u64>addTotal, extra, extraTotal)) return ERR_ARGUMENT;
  let newPos: usize = 0, oldPos: i64 = 0, d: usize = diff, e: usize = extra;
  for (let i = 0; i < count; i++) {
    const op = ops + <usize>i * 12;
    const add = load<i32>(op), ex = load<i32>(op + 4), seek = load<i32>(op + 8);
    delta_encode(old + <usize>oldPos, neu + newPos, add, DELTA_SUB, d);
    d += <usize>add;
    newPos += <usize>add;
    copyBytes(e, neu + newPos, ex);
    e += <usize>ex;
    newPos += <usize>ex;
    oldPos += <i64>add + <i64>seek;
  }
  return OK;
}

/**
 * Rebuilds the new image (newLen bytes at `out`) from the old image, the control
 * triples and the two streams patch_build produced. Every length is checked
 * first: a malformed patch returns ERR_PATCH and writes nothing.
 */
export function patch_apply(
  old: usize, oldLen: i32, ops: usize, count: i32, diff: usize, diffLen: i32, extra: usize, extraLen: i32,
  out: usize, newLen: i32,
): i32 {
  if (oldLen < 0 || newLen < 0 || count < 0 || diffLen < 0 || extraLen < 0) return ERR_ARGUMENT;
  if (!inMemory(old, <u64>oldLen) || !inMemory(ops, <u64>count * 12) || !inMemory(out, <u64>newLen)) return ERR_BOUNDS;
  if (!inMemory(diff, <u64>diffLen) || !inMemory(extra, <u64>extraLen)) return ERR_BOUNDS;
  const addTotal = checkOps(ops, count, oldLen, newLen);
  if (addTotal < 0 || addTotal != <i64>diffLen || <i64>newLen - addTotal != <i64>extraLen) return ERR_PATCH;
  if (overlaps(out, <u64>newLen, old, <u64>oldLen) || overlaps(out, <u64>newLen, diff, <u64>diffLen) ||
    overlaps(out, <u64>newLen, extra, <u64>extraLen)) return ERR_ARGUMENT;
  let newPos: usize = 0, oldPos: i64 = 0, d: usize = diff, e: usize = extra;
  for (let i = 0; i < count; i++) {
    const op = ops + <usize>i * 12;
    const add = load<i32>(op), ex = load<i32>(op + 4), seek = load<i32>(op + 8);
    delta_decode(old + <usize>oldPos, d, add, DELTA_SUB, out + newPos);
    d += <usize>add;
    newPos += <usize>add;
    copyBytes(out + newPos, e, ex);
    e += <usize>ex;
    newPos += <usize>ex;
    oldPos += <i64>add + <i64>seek;
  }
  return OK;
}

/** Forward byte copy without bulk-memory instructions. */
function copyBytes(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) store<u64>(dst + <usize>i, load<u64>(src + <usize>i));
  for (; i < n; i++) store<u8>(dst + <usize>i, load<u8>(src + <usize>i));
}
