// Which exports can grow linear memory (and so move a C or WAMR host's native
// pointers), how a host reserves memory up front so that none does, and how the arena
// keeps clear of memory a host added before the first call (a WAMR app heap).
import { describe, expect, it } from 'vitest';
import { ErrorCode, loadBuildBytes, type KernelExports } from '../src/index.js';
import { BUILDS, allKernels } from './helpers.js';

const PAGE = 65536;

async function fresh(build: (typeof BUILDS)[number]): Promise<KernelExports> {
  const module = await WebAssembly.compile(new Uint8Array(await loadBuildBytes(build)));
  const instance = await WebAssembly.instantiate(module, {});
  return instance.exports as unknown as KernelExports;
}

/** ABI.md's bound on the scratch matmul_integer (and, with N, qlinear_matmul) takes. */
function scratchBound(m: number, k: number, n: number, requantized: boolean): number {
  const rows = Math.min(m, 64);
  const kp = Math.ceil(k / 16) * 16;
  return rows * (2 * kp + 8) + 8 * kp + 48 + (requantized ? rows * n * 4 : 0);
}

/** Allocates up to the end of memory, leaving exactly `room` bytes above the top. */
function leaveRoom(ex: KernelExports, room: number): void {
  expect(ex.arena_reserve(room)).toBe(ErrorCode.OK);
  const gap = ex.memory.buffer.byteLength - ex.arena_mark() - room;
  if (gap > 0) expect(ex.arena_alloc(gap, 1)).not.toBe(0);
  expect(ex.memory.buffer.byteLength - ex.arena_mark()).toBe(room);
}

interface Gemm {
  a: number; packed: number; y: number; mult: number; shift: number; m: number; k: number; n: number;
}

function setUpGemm(ex: KernelExports, m: number, k: number, n: number): Gemm {
  const b = ex.arena_alloc(k * n, 16);
  new Int8Array(ex.memory.buffer, b, k * n).fill(3);
  const packed = ex.arena_alloc(ex.packed_b_size(k, n), 16);
  expect(ex.pack_b(b, 1, k, n, 0, 0, packed)).toBe(ErrorCode.OK);
  const a = ex.arena_alloc(m * k, 16);
  new Int8Array(ex.memory.buffer, a, m * k).fill(-2);
  const y = ex.arena_alloc(m * n * 4, 16);
  const mult = ex.arena_alloc(4, 16);
  const shift = ex.arena_alloc(4, 16);
  new Int32Array(ex.memory.buffer, mult, 1)[0] = 2 ** 30;
  new Int32Array(ex.memory.buffer, shift, 1)[0] = -4;
  return { a, packed, y, mult, shift, m, k, n };
}

const matmul = (ex: KernelExports, g: Gemm): number => ex.matmul_integer(g.a, 1, g.m, g.k, 0, 0, g.packed, g.y);
const qlinear = (ex: KernelExports, g: Gemm): number =>
  ex.qlinear_matmul(g.a, 1, g.m, g.k, 0, 0, g.packed, 0, g.mult, g.shift, 0, 0, 1, g.y);

describe('memory growth', () => {
  it('matmul_integer and qlinear_matmul grow memory for their scratch when the arena is full', async () => {
    for (const build of BUILDS) {
      for (const [op, fused] of [[matmul, false], [qlinear, true]] as const) {
        const ex = await fresh(build);
        const g = setUpGemm(ex, 40, 300, 70);
        leaveRoom(ex, 0);
        const before = ex.memory.buffer;
        expect(op(ex, g), build).toBe(ErrorCode.OK);
        expect(ex.memory.buffer, `${build} fused=${fused}`).not.toBe(before); // grown: views (and native pointers) are stale
        expect(ex.arena_used()).toBeGreaterThan(0);
      }
    }
  });

  it('never grow memory once the documented scratch bound is reserved above the top', async () => {
    for (const build of BUILDS) {
      for (const [m, k, n] of [[1, 1, 1], [7, 33, 5], [32, 64, 16], [40, 300, 70], [100, 17, 3], [3, 16, 1], [33, 1, 7], [64, 40, 9], [70, 33, 5], [8, 300, 4]] as const) {
        for (const [op, fused] of [[matmul, false], [qlinear, true]] as const) {
          const ex = await fresh(build);
          const g = setUpGemm(ex, m, k, n);
          // Exactly the bound is left, so the top is misaligned as the bound is (mod 16).
          leaveRoom(ex, scratchBound(m, k, n, fused));
          const before = ex.memory.buffer;
          expect(op(ex, g), `${build} ${m}x${k}x${n}`).toBe(ErrorCode.OK);
          expect(ex.memory.buffer, `${build} ${m}x${k}x${n} fused=${fused}`).toBe(before);
        }
      }
    }
  });

  it('no other export grows memory, even with the arena full', async () => {
    for (const build of BUILDS) {
      const ex = await fresh(build);
      const g = setUpGemm(ex, 3, 20, 8);
      const f = ex.arena_alloc(64, 16);
      const out = ex.arena_alloc(256, 16);
      const index = ex.arena_alloc(ex.diff_index_size(64, 8), 16);
      const state = ex.arena_alloc(ex.diff_state_size(), 16);
      const ops = ex.arena_alloc(12 * 64, 16);
      const one = ex.arena_alloc(12, 16); // a patch of one triple: add all 64 bytes
      new Int32Array(ex.memory.buffer, one, 3).set([64, 0, 0]);
      new Float32Array(ex.memory.buffer, f, 16).fill(0.5);
      const scale = ex.arena_alloc(4, 16);
      new Float32Array(ex.memory.buffer, scale, 1)[0] = 0.25;
      new Uint8Array(ex.memory.buffer, state, ex.diff_state_size()).fill(0);
      leaveRoom(ex, 0);
      const before = ex.memory.buffer;
      const calls: Array<[string, () => number]> = [
        ['pack_b', () => ex.pack_b(g.a, 1, g.k, 3, 0, 0, out)], // a 20 x 3 B fits the 256-byte out
        ['packed_b_rows', () => ex.packed_b_rows(g.packed)],
        ['packed_b_cols', () => ex.packed_b_cols(g.packed)],
        ['requantize', () => ex.requantize(g.y, 1, 8, 0, g.mult, g.shift, 0, 0, 1, out)],
        ['quantize_multiplier', () => ex.quantize_multiplier(0.3, out)],
        ['quantize_linear', () => ex.quantize_linear(f, 1, 16, 1, scale, 0, 0, 0, 1, out)],
        ['dequantize_linear', () => ex.dequantize_linear(out, 1, 1, 16, 1, scale, 0, 0, 0, f)],
        ['dynamic_quantize_linear', () => ex.dynamic_quantize_linear(f, 16, out, out + 64)],
        ['delta_encode', () => ex.delta_encode(f, out, 64, 0, out + 64)],
        ['delta_decode', () => ex.delta_decode(f, out, 64, 1, out + 64)],
        ['diff_index', () => ex.diff_index(f, 64, 8, index)],
        ['diff_scan', () => ex.diff_scan(f, 64, out, 64, index, 8, 16, state, ops, 64)],
        ['patch_build', () => ex.patch_build(f, 64, out, 64, one, 1, out + 128, out + 192)],
        ['patch_apply', () => ex.patch_apply(f, 64, one, 1, out + 128, 64, out + 192, 0, out + 192, 64)],
        ['arena_mark', () => ex.arena_mark()],
        ['arena_used', () => ex.arena_used()],
        ['arena_base', () => ex.arena_base()],
        ['arena_reserve(0)', () => ex.arena_reserve(0)],
      ];
      for (const [name, call] of calls) {
        expect(call(), `${build} ${name}`).toBeGreaterThanOrEqual(0);
        expect(ex.memory.buffer, `${build} ${name}`).toBe(before);
      }
    }
  });

  it('arena_reserve refuses negative sizes and allocates nothing', async () => {
    const ex = await fresh('scalar');
    expect(ex.arena_reserve(-1)).toBe(ErrorCode.ARGUMENT);
    ex.arena_alloc(PAGE, 16);
    const used = ex.arena_used();
    expect(ex.arena_reserve(3 * PAGE)).toBe(ErrorCode.OK);
    expect(ex.memory.buffer.byteLength - ex.arena_mark()).toBeGreaterThanOrEqual(3 * PAGE);
    expect(ex.arena_used()).toBe(used);
  });

  it('Kernel.reserve keeps the typed API from growing memory during calls that fit', async () => {
    for (const k of await allKernels()) {
      const packed = k.packWeights(new Int8Array(64 * 32).fill(1), 64, 32);
      k.reserve(1 << 20);
      const before = k.exports.memory.buffer;
      const y = k.matmulInteger(new Uint8Array(50 * 64).fill(2), 50, packed);
      expect(y[0]).toBe(128);
      expect(k.exports.memory.buffer).toBe(before);
      packed.dispose();
      expect(() => k.reserve(-1)).toThrow(/byte count/);
    }
  });
});

describe('memory a host adds before the first call (a WAMR app heap)', () => {
  it('is left alone: the arena starts above it', async () => {
    for (const build of BUILDS) {
      const ex = await fresh(build);
      // WAMR puts an app heap given at instantiation right after the initial page.
      expect(ex.memory.grow(2)).toBe(1);
      const heap = new Uint8Array(ex.memory.buffer, PAGE, 2 * PAGE);
      heap.fill(0xa5);
      expect(ex.arena_base(), build).toBeGreaterThanOrEqual(3 * PAGE);
      const g = setUpGemm(ex, 40, 300, 70);
      expect(g.a).toBeGreaterThanOrEqual(3 * PAGE);
      expect(qlinear(ex, g)).toBe(ErrorCode.OK);
      expect(matmul(ex, g)).toBe(ErrorCode.OK);
      expect(new Uint8Array(ex.memory.buffer, PAGE, 2 * PAGE).every((v) => v === 0xa5), build).toBe(true);
    }
  });

  it('without one, the arena starts in the first page, right after static data', async () => {
    for (const build of BUILDS) {
      const ex = await fresh(build);
      expect(ex.arena_base()).toBeGreaterThan(0);
      expect(ex.arena_base(), build).toBeLessThan(PAGE);
    }
  });
});
