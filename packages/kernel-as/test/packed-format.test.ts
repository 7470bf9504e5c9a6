// A host packs weights offline, from ABI.md alone ("Packed weights"): this file is that
// host. Its packer shares no code with the kernel; the kernel must accept what it
// writes, produce the same bytes as pack_b, and refuse a wrong check word.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, type KernelExports } from '../src/index.js';
import * as ref from '../src/reference/index.js';
import { allKernels, randomBytes } from './helpers.js';

const MAGIC = 0x31425043;

/** The check word, as ABI.md states it: u32 products, wrapping. */
function checkWord(k: number, n: number, flags: number): number {
  return (MAGIC ^ Math.imul(k, 0x9e3779b1) ^ Math.imul(n, 0x85ebca77) ^ Math.imul(flags, 0xc2b2ae3d)) >>> 0;
}

/** Packs B (K x N, row-major) with zero points of B's type (0, 1 or N of them) per ABI.md. */
function packOffline(b: Uint8Array | Int8Array, k: number, n: number, zps: readonly number[]): Uint8Array {
  const kp = Math.ceil(k / 16) * 16;
  const np = Math.ceil(n / 4) * 4;
  const isUint8 = b instanceof Uint8Array;
  const flags = isUint8 ? 1 : 0;
  const out = new Uint8Array(32 + 8 * np + np * kp);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setInt32(4, k, true);
  view.setInt32(8, n, true);
  view.setInt32(12, kp, true);
  view.setInt32(16, np, true);
  view.setInt32(20, flags, true);
  view.setUint32(24, checkWord(k, n, flags), true);
  const stored = (v: number): number => (isUint8 ? v - 128 : v);
  const weights = 32 + 8 * np;
  for (let col = 0; col < n; col++) {
    const zb = stored(zps.length === 0 ? 0 : zps.length === 1 ? zps[0]! : zps[col]!);
    let colsum = 0;
    for (let kk = 0; kk < k; kk++) {
      const w = stored(b[kk * n + col]!);
      colsum += w;
      // Panel col / 4; chunk kk / 16; inside a chunk, column col % 4 holds 16 K values.
      const offset = weights + (Math.floor(col / 4) * (kp / 16) + Math.floor(kk / 16)) * 64 + (col % 4) * 16 + (kk % 16);
      out[offset] = w & 0xff;
    }
    view.setInt32(32 + 4 * col, colsum - k * zb, true);
    view.setInt32(32 + 4 * np + 4 * col, zb, true);
  }
  return out;
}

function put(ex: KernelExports, bytes: Uint8Array): number {
  const ptr = ex.arena_alloc(Math.max(bytes.length, 1), 16) >>> 0;
  new Uint8Array(ex.memory.buffer).set(bytes, ptr);
  return ptr;
}

const bytesOf = (a: Uint8Array | Int8Array | Int32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('weights packed offline from the documented layout', () => {
  it('give the bytes pack_b writes, and the kernel multiplies them like the reference', async () => {
    const kernels = await allKernels();
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 1, max: 5 }),
          k: fc.integer({ min: 1, max: 40 }),
          n: fc.integer({ min: 1, max: 11 }),
          bUint8: fc.boolean(),
          zpMode: fc.constantFrom(0, 1, 2),
          seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        }),
        (c) => {
          const b = randomBytes(c.k * c.n, c.seed, !c.bUint8);
          const a = randomBytes(c.m * c.k, c.seed + 1, false);
          const zpCount = c.zpMode === 2 ? c.n : c.zpMode;
          const zps = Array.from({ length: zpCount }, (_, i) => (c.bUint8 ? (i * 37 + 3) & 255 : ((i * 37 + 3) & 255) - 128));
          const offline = packOffline(b, c.k, c.n, zps);
          const refZp = zpCount === 0 ? [0] : zps;
          const want = ref.matmulInteger(a, b, c.m, c.k, c.n, [7], refZp);
          for (const kernel of kernels) {
            const ex = kernel.exports;
            const mark = ex.arena_mark();
            expect(ex.packed_b_size(c.k, c.n)).toBe(offline.length);
            const packed = put(ex, offline);
            const pb = put(ex, bytesOf(b));
            const pz = put(ex, Uint8Array.from(zps, (v) => v & 0xff));
            const byKernel = ex.arena_alloc(offline.length, 16) >>> 0;
            expect(ex.pack_b(pb, c.bUint8 ? 0 : 1, c.k, c.n, pz, zpCount, byKernel)).toBe(ErrorCode.OK);
            expect(Buffer.compare(new Uint8Array(ex.memory.buffer, byKernel, offline.length), offline), kernel.build).toBe(0);
            expect(ex.packed_b_rows(packed)).toBe(c.k);
            expect(ex.packed_b_cols(packed)).toBe(c.n);
            const pa = put(ex, bytesOf(a));
            const pza = put(ex, Uint8Array.of(7));
            const py = ex.arena_alloc(c.m * c.n * 4, 16) >>> 0;
            expect(ex.matmul_integer(pa, 0, c.m, c.k, pza, 1, packed, py)).toBe(ErrorCode.OK);
            expect(Array.from(new Int32Array(ex.memory.buffer, py, c.m * c.n)), kernel.build).toEqual(Array.from(want));
            ex.arena_release(mark);
          }
        },
      ),
      { seed: 17, numRuns: 40 },
    );
  });

  it('are refused with FORMAT when the check word is wrong, and nothing is written', async () => {
    const k = 20, n = 6;
    const b = randomBytes(k * n, 5, true);
    for (const kernel of await allKernels()) {
      const ex = kernel.exports;
      const mark = ex.arena_mark();
      for (const wrong of [1, 0x80000000, 0xffffffff]) {
        const offline = packOffline(b, k, n, []);
        const view = new DataView(offline.buffer);
        view.setUint32(24, (view.getUint32(24, true) ^ wrong) >>> 0, true);
        const packed = put(ex, offline);
        const pa = put(ex, new Uint8Array(k));
        const py = ex.arena_alloc(n * 4, 16) >>> 0;
        const pm = put(ex, bytesOf(Int32Array.of(2 ** 30)));
        const ps = put(ex, new Uint8Array(4));
        new Uint8Array(ex.memory.buffer).fill(0x5a, py, py + n * 4);
        expect(ex.packed_b_cols(packed)).toBe(ErrorCode.FORMAT);
        expect(ex.packed_b_rows(packed)).toBe(ErrorCode.FORMAT);
        expect(ex.matmul_integer(pa, 0, 1, k, 0, 0, packed, py)).toBe(ErrorCode.FORMAT);
        expect(ex.qlinear_matmul(pa, 0, 1, k, 0, 0, packed, 0, pm, ps, 0, 0, 0, py)).toBe(ErrorCode.FORMAT);
        expect(new Uint8Array(ex.memory.buffer, py, n * 4).every((v) => v === 0x5a)).toBe(true);
      }
      // The same header with the documented check word is accepted.
      const packed = put(ex, packOffline(b, k, n, []));
      expect(ex.packed_b_cols(packed)).toBe(n);
      ex.arena_release(mark);
    }
  });

  it('writes the worked example of ABI.md: K 64, N 256, uint8 B gives check word 0x95E4E53E', async () => {
    expect(checkWord(64, 256, 1)).toBe(0x95e4e53e);
    for (const kernel of await allKernels()) {
      const ex = kernel.exports;
      const mark = ex.arena_mark();
      const pb = put(ex, new Uint8Array(64 * 256));
      const out = ex.arena_alloc(ex.packed_b_size(64, 256), 16) >>> 0;
      expect(ex.pack_b(pb, 0, 64, 256, 0, 0, out)).toBe(ErrorCode.OK);
      expect(new DataView(ex.memory.buffer).getUint32(out + 24, true)).toBe(0x95e4e53e);
      ex.arena_release(mark);
    }
  });
});
