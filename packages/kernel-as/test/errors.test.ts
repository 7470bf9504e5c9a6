import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode, KernelError, OutOfMemoryError, ShapeError, StaleHandleError, TypeMismatchError, ValueRangeError,
  loadKernel, statusError,
} from '../src/index.js';
import { allKernels } from './helpers.js';

describe('typed errors before anything reaches Wasm', () => {
  it('rejects wrong lengths, non-positive dims and wrong element types', async () => {
    for (const k of await allKernels()) {
      const b = new Int8Array(12);
      expect(() => k.packWeights(b, 3, 5)).toThrow(ShapeError);
      expect(() => k.packWeights(b, 0, 12)).toThrow(ShapeError);
      expect(() => k.packWeights(b, -3, -4)).toThrow(ShapeError);
      expect(() => k.packWeights(b, 3.5, 4)).toThrow(ShapeError);
      expect(() => k.packWeights(new Int16Array(12) as never, 3, 4)).toThrow(TypeMismatchError);
      expect(() => k.packWeights(b, 3, 4, [1, 2])).toThrow(ShapeError);
      expect(() => k.packWeights(b, 3, 4, 200)).toThrow(ValueRangeError);
      expect(() => k.packWeights(new Uint8Array(12), 3, 4, -1)).toThrow(ValueRangeError);
      const p = k.packWeights(b, 3, 4);
      expect(() => k.matmulInteger(new Uint8Array(5), 2, p)).toThrow(ShapeError);
      expect(() => k.matmulInteger(new Uint8Array(6), 0, p)).toThrow(ShapeError);
      expect(() => k.matmulInteger(new Uint8Array(6), 2, p, 256)).toThrow(ValueRangeError);
      expect(() => k.matmulInteger(new Int8Array(6), 2, p, [1, 2, 3])).toThrow(ShapeError);
      expect(() => k.matmulInteger(new Float32Array(6) as never, 2, p)).toThrow(TypeMismatchError);
      expect(() => k.matmulInteger(new Uint8Array(6), 2, p, 0, new Int32Array(3))).toThrow(ShapeError);
      p.dispose();
      expect(() => k.matmulInteger(new Uint8Array(6), 2, p)).toThrow(StaleHandleError);
      const q = k.packWeights(b, 3, 4);
      k.reset();
      expect(() => k.matmulInteger(new Uint8Array(6), 2, q)).toThrow(StaleHandleError);
      expect(k.arenaUsed).toBe(0);
    }
  });

  it('refuses an unknown build and reports unsupported ones', async () => {
    await expect(loadKernel({ build: 'avx' as never })).rejects.toBeInstanceOf(KernelError);
  });
});

describe('the raw ABI refuses bad arguments without corrupting memory', () => {
  it('returns error codes for out-of-bounds pointers, bad dims and corrupt packed headers', async () => {
    for (const k of await allKernels()) {
      const ex = k.exports;
      const mark = ex.arena_mark();
      const pb = ex.arena_alloc(64, 16);
      const size = ex.packed_b_size(4, 4);
      const packed = ex.arena_alloc(size, 16);
      const py = ex.arena_alloc(64, 16);
      new Uint8Array(ex.memory.buffer).fill(0, pb, pb + 64); // the arena does not clear reused memory
      expect(ex.pack_b(pb, 1, 4, 4, 0, 0, packed)).toBe(ErrorCode.OK);
      const huge = 0x7fff0000;
      expect(ex.pack_b(huge, 1, 4, 4, 0, 0, packed)).toBe(ErrorCode.BOUNDS);
      expect(ex.pack_b(pb, 7, 4, 4, 0, 0, packed)).toBe(ErrorCode.ARGUMENT);
      expect(ex.pack_b(pb, 1, 4, 4, 0, 3, packed)).toBe(ErrorCode.ARGUMENT);
      expect(ex.pack_b(pb, 1, 4, 4, 0, 0, packed + 1)).toBe(ErrorCode.ARGUMENT);
      expect(ex.pack_b(pb, 1, 4, 4, 0, 0, pb)).toBe(ErrorCode.ARGUMENT); // overlapping output
      const before = new Uint8Array(ex.memory.buffer).slice(py, py + 64);
      expect(ex.matmul_integer(pb, 0, 4, 4, 0, 0, packed, huge)).toBe(ErrorCode.BOUNDS);
      expect(ex.matmul_integer(pb, 0, -1, 4, 0, 0, packed, py)).toBe(ErrorCode.ARGUMENT);
      expect(ex.matmul_integer(pb, 0, 4, 5, 0, 0, packed, py)).toBe(ErrorCode.ARGUMENT); // K mismatch
      expect(ex.matmul_integer(pb, 0, 4, 4, 0, 0, pb, py)).toBe(ErrorCode.FORMAT); // not a packed matrix
      expect(Array.from(new Uint8Array(ex.memory.buffer).slice(py, py + 64))).toEqual(Array.from(before));
      // Flip one header byte: the check word catches it.
      new Uint8Array(ex.memory.buffer)[packed + 4]! ^= 1;
      expect(ex.matmul_integer(pb, 0, 4, 4, 0, 0, packed, py)).toBe(ErrorCode.FORMAT);
      expect(ex.quantize_linear(pb, 1, 4, 1, py, 0, 9, 0, 0, py)).toBe(ErrorCode.ARGUMENT);
      expect(ex.dynamic_quantize_linear(pb, -4, py, py)).toBe(ErrorCode.ARGUMENT);
      expect(ex.requantize(pb, 1, 1, 0, py, py, 0, 300, 0, py + 32)).toBe(ErrorCode.ZERO_POINT);
      expect(ex.delta_encode(pb, huge, 64, 0, py)).toBe(ErrorCode.BOUNDS);
      expect(ex.delta_encode(pb, py, 64, 0, pb + 1)).toBe(ErrorCode.ARGUMENT); // partial overlap
      expect(ex.arena_release(mark - 16)).toBe(ErrorCode.ARGUMENT);
      expect(ex.arena_alloc(-5, 16)).toBe(0);
      expect(ex.arena_alloc(16, 3)).toBe(0);
      ex.arena_release(mark);
    }
  });

  it('fuzzes every export with random arguments: error codes, never a trap, and no write on error', async () => {
    const k = await loadKernel({ build: 'simd' });
    const ex = k.exports;
    const names = [
      'pack_b', 'matmul_integer', 'qlinear_matmul', 'requantize', 'quantize_linear', 'dequantize_linear',
      'dynamic_quantize_linear', 'delta_encode', 'delta_decode', 'diff_index', 'diff_scan', 'quantize_multiplier',
      'patch_build', 'patch_apply',
    ] as const;
    const size = 1 << 16;
    const base = ex.arena_alloc(size, 16);
    const fill = new Uint8Array(size).map((_, i) => (i * 131 + 7) & 255);
    // Pointers near a valid region, small dims and codes, and wild values.
    const arg = fc.oneof(
      fc.integer({ min: -3, max: 70 }),
      fc.integer({ min: 0, max: size - 1 }).map((o) => base + o),
      fc.constantFrom(0, -1, 0x7fffffff, -0x80000000, 65536 * 1024),
    );
    let errors = 0;
    // `pnpm fuzz` (KERNEL_FUZZ=1) runs 100 000 calls.
    const numRuns = process.env['KERNEL_FUZZ'] === '1' ? 100_000 : 3000;
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.array(arg, { minLength: 14, maxLength: 14 }), (name, args) => {
        const mem = new Uint8Array(ex.memory.buffer);
        mem.set(fill, base);
        const fn = ex[name] as (...a: number[]) => number;
        const status = fn(...args.slice(0, fn.length));
        expect(status).toBeGreaterThanOrEqual(ErrorCode.RANGE); // the lowest code
        if (status < 0) {
          errors++;
          // (Buffer.compare: a 64 KiB element-by-element check per run was most of this test's time.)
          const after = new Uint8Array(ex.memory.buffer, base, size);
          expect(Buffer.compare(after, fill), `${name} wrote memory while failing`).toBe(0);
        }
      }),
      { seed: 99, numRuns },
    );
    expect(errors).toBeGreaterThan(numRuns / 3);
    ex.arena_reset();
  });

  it('maps kernel status codes to typed errors', () => {
    expect(statusError('op', ErrorCode.NO_MEMORY)).toBeInstanceOf(OutOfMemoryError);
    expect(statusError('op', ErrorCode.SCALE)).toBeInstanceOf(ValueRangeError);
    expect(statusError('op', ErrorCode.NOT_FINITE)).toBeInstanceOf(ValueRangeError);
    expect(statusError('op', ErrorCode.MULTIPLIER)).toBeInstanceOf(ValueRangeError);
    expect(statusError('op', ErrorCode.RANGE)).toBeInstanceOf(ValueRangeError);
    expect(statusError('op', ErrorCode.RANGE).message).toMatch(/no finite, non-zero float32 scale/);
    expect(statusError('op', ErrorCode.BOUNDS)).toBeInstanceOf(KernelError);
    expect(statusError('op', ErrorCode.BOUNDS).code).toBe('WASM_BOUNDS');
  });
});
