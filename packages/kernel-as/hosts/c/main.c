/*
 * A C host for the kernel's scalar build, translated to C by wabt's wasm2c.
 * It does what a microcontroller host does: allocates buffers through the
 * module's own arena, fills them, calls the kernels, reads the results back and
 * compares them with independently computed or hand-checked values.
 *
 * Build: see build.sh (wasm2c kernel-scalar.wasm -> kernel.c, then gcc).
 * Exit status 0 when every check passes.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernel.h"

#define TYPE_UINT8 0
#define TYPE_INT8 1

static Z_kernel_instance_t kernel;
static int failures = 0;

static uint8_t *mem(uint32_t ptr) { return Z_kernelZ_memory(&kernel)->data + ptr; }

static uint32_t alloc(uint32_t size) {
  uint32_t ptr = Z_kernelZ_arena_alloc(&kernel, size, 16);
  if (ptr == 0) {
    fprintf(stderr, "arena_alloc(%u) failed\n", size);
    failures++;
  }
  return ptr;
}

static void expect(int ok, const char *what) {
  printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) failures++;
}

/* A small deterministic generator, so the case is the same on every host. */
static uint32_t rng_state = 12345u;
static uint32_t next_u32(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

static void check_matmul(void) {
  enum { M = 3, K = 37, N = 11 };
  uint8_t a[M * K];
  int8_t b[K * N];
  int8_t b_zp[N];
  const uint8_t a_zp = 131;
  for (int i = 0; i < M * K; i++) a[i] = (uint8_t)next_u32();
  for (int i = 0; i < K * N; i++) b[i] = (int8_t)next_u32();
  for (int j = 0; j < N; j++) b_zp[j] = (int8_t)(j * 23 - 128);
  /* Extremes in the first row and column: 255 against -128 saturate nothing in int32. */
  for (int k = 0; k < K; k++) {
    a[k] = 255;
    b[k * N] = -128;
  }

  uint32_t mark = Z_kernelZ_arena_mark(&kernel);
  uint32_t pa = alloc(M * K), pb = alloc(K * N), pzb = alloc(N), pza = alloc(1);
  uint32_t packed_size = Z_kernelZ_packed_b_size(&kernel, K, N);
  uint32_t ppacked = alloc(packed_size), py = alloc(M * N * 4);
  memcpy(mem(pa), a, sizeof a);
  memcpy(mem(pb), b, sizeof b);
  memcpy(mem(pzb), b_zp, sizeof b_zp);
  *mem(pza) = a_zp;

  int32_t rc = (int32_t)Z_kernelZ_pack_b(&kernel, pb, TYPE_INT8, K, N, pzb, N, ppacked);
  expect(rc == 0, "pack_b returns OK");
  rc = (int32_t)Z_kernelZ_matmul_integer(&kernel, pa, TYPE_UINT8, M, K, pza, 1, ppacked, py);
  expect(rc == 0, "matmul_integer returns OK");

  int mismatches = 0;
  for (int i = 0; i < M; i++) {
    for (int j = 0; j < N; j++) {
      int32_t want = 0;
      for (int k = 0; k < K; k++) want += ((int32_t)a[i * K + k] - a_zp) * ((int32_t)b[k * N + j] - b_zp[j]);
      int32_t got;
      memcpy(&got, mem(py + (uint32_t)(i * N + j) * 4), 4);
      if (got != want) mismatches++;
    }
  }
  expect(mismatches == 0, "MatMulInteger 3x37x11 (per-column b zero points) equals the C reference");

  /* A hand-checked case: [1 2; 3 4] x [5 6; 7 8] = [19 22; 43 50]. */
  Z_kernelZ_arena_release(&kernel, mark);
  int8_t a2[4] = {1, 2, 3, 4}, b2[4] = {5, 6, 7, 8};
  int32_t want2[4] = {19, 22, 43, 50};
  pa = alloc(4);
  pb = alloc(4);
  ppacked = alloc(Z_kernelZ_packed_b_size(&kernel, 2, 2));
  py = alloc(16);
  memcpy(mem(pa), a2, 4);
  memcpy(mem(pb), b2, 4);
  rc = (int32_t)Z_kernelZ_pack_b(&kernel, pb, TYPE_INT8, 2, 2, 0, 0, ppacked);
  rc |= (int32_t)Z_kernelZ_matmul_integer(&kernel, pa, TYPE_INT8, 2, 2, 0, 0, ppacked, py);
  expect(rc == 0 && memcmp(mem(py), want2, 16) == 0, "MatMulInteger [1 2; 3 4] x [5 6; 7 8] = [19 22; 43 50]");

  /* Bad input is refused with an error code, and nothing is written. */
  memset(mem(py), 0x5A, 16);
  rc = (int32_t)Z_kernelZ_matmul_integer(&kernel, pa, TYPE_INT8, 0, 2, 0, 0, ppacked, py);
  expect(rc == -1 && mem(py)[0] == 0x5A, "matmul_integer with M = 0 returns ERR_ARGUMENT and writes nothing");
  rc = (int32_t)Z_kernelZ_matmul_integer(&kernel, 0xFFFFFFF0u, TYPE_INT8, 2, 2, 0, 0, ppacked, py);
  expect(rc == -2, "matmul_integer with A outside memory returns ERR_BOUNDS");
  Z_kernelZ_arena_release(&kernel, mark);
}

/* The packed-weights check word, from ABI.md ("Packed weights"). */
static uint32_t check_word(uint32_t k, uint32_t n, uint32_t flags) {
  return 0x31425043u ^ (k * 0x9E3779B1u) ^ (n * 0x85EBCA77u) ^ (flags * 0xC2B2AE3Du);
}

static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/*
 * Packs int8 B (K x N, zero point 0) the way an offline tool would, from ABI.md alone,
 * into the module's memory at `out`, then multiplies with it.
 */
static void check_offline_pack(void) {
  enum { M = 2, K = 19, N = 6, KP = 32, NP = 8 };
  int8_t a[M * K], b[K * N];
  for (int i = 0; i < M * K; i++) a[i] = (int8_t)next_u32();
  for (int i = 0; i < K * N; i++) b[i] = (int8_t)next_u32();

  uint32_t mark = Z_kernelZ_arena_mark(&kernel);
  uint32_t size = Z_kernelZ_packed_b_size(&kernel, K, N);
  expect(size == 32 + 8 * NP + NP * KP, "packed_b_size is the documented layout's size");
  uint32_t packed = alloc(size), pa = alloc(M * K), py = alloc(M * N * 4);
  uint8_t *p = mem(packed);
  memset(p, 0, size);
  put_u32(p, 0x31425043u);
  put_u32(p + 4, K);
  put_u32(p + 8, N);
  put_u32(p + 12, KP);
  put_u32(p + 16, NP);
  put_u32(p + 20, 0);
  put_u32(p + 24, check_word(K, N, 0));
  for (int col = 0; col < N; col++) {
    int32_t colsum = 0;
    for (int k = 0; k < K; k++) {
      colsum += b[k * N + col];
      p[32 + 8 * NP + ((col / 4) * (KP / 16) + k / 16) * 64 + (col % 4) * 16 + k % 16] = (uint8_t)b[k * N + col];
    }
    put_u32(p + 32 + 4 * col, (uint32_t)colsum); /* corr = colsum - K * zb, zb = 0 */
  }
  memcpy(mem(pa), a, sizeof a);
  int32_t rc = (int32_t)Z_kernelZ_matmul_integer(&kernel, pa, TYPE_INT8, M, K, 0, 0, packed, py);
  int mismatches = 0;
  for (int i = 0; i < M; i++) {
    for (int j = 0; j < N; j++) {
      int32_t want = 0, got;
      for (int k = 0; k < K; k++) want += a[i * K + k] * b[k * N + j];
      memcpy(&got, mem(py + (uint32_t)(i * N + j) * 4), 4);
      if (got != want) mismatches++;
    }
  }
  expect(rc == 0 && mismatches == 0, "weights packed offline from ABI.md's layout and check word multiply correctly");

  put_u32(mem(packed) + 24, check_word(K, N, 0) ^ 0x100u);
  memset(mem(py), 0x5A, M * N * 4);
  rc = (int32_t)Z_kernelZ_matmul_integer(&kernel, pa, TYPE_INT8, M, K, 0, 0, packed, py);
  expect(rc == -6 && mem(py)[0] == 0x5A, "a wrong check word is refused with ERR_FORMAT and nothing is written");
  Z_kernelZ_arena_release(&kernel, mark);
}

/* After arena_reserve, a kernel's scratch fits and the memory's native base never moves. */
static void check_reserve(void) {
  enum { M = 40, K = 300, N = 20 };
  uint32_t mark = Z_kernelZ_arena_mark(&kernel);
  uint32_t pb = alloc(K * N), pa = alloc(M * K), py = alloc(M * N * 4);
  uint32_t packed = alloc(Z_kernelZ_packed_b_size(&kernel, K, N));
  memset(mem(pb), 1, K * N);
  memset(mem(pa), 2, M * K);
  int32_t rc = (int32_t)Z_kernelZ_pack_b(&kernel, pb, TYPE_INT8, K, N, 0, 0, packed);
  /* ABI.md's scratch bound for matmul_integer: R * (2 * Kp + 8) + 8 * Kp + 48, R = min(M, 64). */
  const uint32_t bound = M * (2 * 304 + 8) + 8 * 304 + 48;
  /* Fill the arena to the end of memory: without a reservation the scratch would grow it. */
  uint32_t end = (uint32_t)(Z_kernelZ_memory(&kernel)->pages * 65536u);
  uint32_t top = Z_kernelZ_arena_mark(&kernel);
  if (end > top && Z_kernelZ_arena_alloc(&kernel, end - top, 1) == 0) failures++;
  const uint64_t full = Z_kernelZ_memory(&kernel)->pages;
  rc |= (int32_t)Z_kernelZ_arena_reserve(&kernel, bound);
  const uint8_t *base = Z_kernelZ_memory(&kernel)->data;
  const uint64_t pages = Z_kernelZ_memory(&kernel)->pages;
  expect(rc == 0 && pages > full, "arena_reserve grows memory once, up front");
  rc |= (int32_t)Z_kernelZ_matmul_integer(&kernel, pa, TYPE_INT8, M, K, 0, 0, packed, py);
  int32_t first;
  memcpy(&first, mem(py), 4);
  expect(rc == 0 && first == 2 * K && Z_kernelZ_memory(&kernel)->data == base && Z_kernelZ_memory(&kernel)->pages == pages,
         "after arena_reserve(scratch bound), matmul_integer does not grow memory");
  Z_kernelZ_arena_release(&kernel, mark);
}

static void check_quantize(void) {
  /* x / 0.5 = -3, -1, 0.5 (tie -> 0), 1.5 (tie -> 2), 2.5 (tie -> 2), 300 (saturates), -300 (saturates), NaN -> zp. */
  const float x[8] = {-1.5f, -0.5f, 0.25f, 0.75f, 1.25f, 150.0f, -150.0f, NAN};
  const int8_t want[8] = {-1, 1, 2, 4, 4, 127, -128, 2};
  const float scale = 0.5f;
  const int8_t zp = 2;
  uint32_t mark = Z_kernelZ_arena_mark(&kernel);
  uint32_t px = alloc(sizeof x), ps = alloc(4), pz = alloc(1), py = alloc(8);
  memcpy(mem(px), x, sizeof x);
  memcpy(mem(ps), &scale, 4);
  *(int8_t *)mem(pz) = zp;
  int32_t rc = (int32_t)Z_kernelZ_quantize_linear(&kernel, px, 1, 8, 1, ps, pz, 0, 0, TYPE_INT8, py);
  expect(rc == 0 && memcmp(mem(py), want, 8) == 0,
         "QuantizeLinear rounds half to even, saturates, and maps NaN to the zero point");

  /* Dequantize the same bytes: (q - zp) * scale. */
  uint32_t pf = alloc(32);
  rc = (int32_t)Z_kernelZ_dequantize_linear(&kernel, py, TYPE_INT8, 1, 8, 1, ps, pz, 0, 0, pf);
  float back[8];
  memcpy(back, mem(pf), 32);
  expect(rc == 0 && back[0] == -1.5f && back[5] == 62.5f && back[6] == -65.0f, "DequantizeLinear inverts it");

  float zero_scale = 0.0f;
  memcpy(mem(ps), &zero_scale, 4);
  rc = (int32_t)Z_kernelZ_quantize_linear(&kernel, px, 1, 8, 1, ps, pz, 0, 0, TYPE_INT8, py);
  expect(rc == -4, "QuantizeLinear with a zero scale returns ERR_SCALE");
  Z_kernelZ_arena_release(&kernel, mark);
}

static void check_requantize(void) {
  /* Multiplier 0.5 = 2^30 * 2^-31 with shift 0: 5 * 0.5 = 2.5 -> 2 (ties to even), -7 * 0.5 = -3.5 -> -4. */
  const int32_t acc[4] = {5, -7, 1000, -1000};
  const int8_t want[4] = {2 + 10, -4 + 10, 127, -128};
  uint32_t mark = Z_kernelZ_arena_mark(&kernel);
  uint32_t pa = alloc(16), pm = alloc(4), ps = alloc(4), py = alloc(4), pq = alloc(8);
  int32_t mult = 1 << 30, shift = 0;
  memcpy(mem(pa), acc, 16);
  memcpy(mem(pm), &mult, 4);
  memcpy(mem(ps), &shift, 4);
  int32_t rc = (int32_t)Z_kernelZ_requantize(&kernel, pa, 1, 4, 0, pm, ps, 0, 10, TYPE_INT8, py);
  expect(rc == 0 && memcmp(mem(py), want, 4) == 0, "requantize (fixed-point, integer-only) rounds and saturates");

  rc = (int32_t)Z_kernelZ_quantize_multiplier(&kernel, 0.75, pq);
  int32_t q[2];
  memcpy(q, mem(pq), 8);
  expect(rc == 0 && q[0] == 1610612736 && q[1] == 0, "quantize_multiplier(0.75) = (0.75 * 2^31, 0)");
  Z_kernelZ_arena_release(&kernel, mark);
}

int main(void) {
  wasm_rt_init();
  Z_kernel_init_module();
  Z_kernel_instantiate(&kernel);
  expect(Z_kernelZ_abi_version(&kernel) == 1, "ABI version is 1");
  expect((Z_kernelZ_build_features(&kernel) & 3) == 0, "the scalar build uses no SIMD");
  check_matmul();
  check_offline_pack();
  check_reserve();
  check_quantize();
  check_requantize();
  expect(Z_kernelZ_arena_used(&kernel) == 0, "every allocation was released");
  Z_kernel_free(&kernel);
  wasm_rt_free();
  printf("%s: %d failure(s)\n", failures == 0 ? "PASS" : "FAIL", failures);
  return failures == 0 ? 0 : 1;
}
