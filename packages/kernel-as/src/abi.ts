// Numbers shared with the Wasm module (assembly/abi.ts and ABI.md). A test
// checks that the module reports the same values.

export const ABI_VERSION = 1;

export const FEATURE_SIMD128 = 1;
export const FEATURE_RELAXED_SIMD = 2;
export const FEATURE_BULK_MEMORY = 4;
export const FEATURE_NONTRAPPING_F2I = 8;

export const TYPE_UINT8 = 0;
export const TYPE_INT8 = 1;
export const TYPE_INT32 = 2;
export const TYPE_FLOAT32 = 3;

export const DELTA_SUB = 0;
export const DELTA_XOR = 1;

export const MODE_TENSOR = 0;
export const MODE_AXIS = 1;
export const MODE_BLOCKED = 2;

/** Error codes returned by kernel exports, by name. */
export const ErrorCode = {
  OK: 0,
  ARGUMENT: -1,
  BOUNDS: -2,
  ZERO_POINT: -3,
  SCALE: -4,
  NO_MEMORY: -5,
  FORMAT: -6,
  OVERFLOW: -7,
  NOT_FINITE: -8,
  MULTIPLIER: -9,
  PATCH: -10,
  RANGE: -11,
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;

export function errorCodeName(code: number): ErrorCodeName | undefined {
  for (const [name, value] of Object.entries(ErrorCode)) if (value === code) return name as ErrorCodeName;
  return undefined;
}

/** Exports of the kernel module (ABI version 1). Pointers are byte offsets into `memory`. */
export interface KernelExports {
  memory: WebAssembly.Memory;
  abi_version(): number;
  build_features(): number;
  arena_alloc(size: number, align: number): number;
  arena_reserve(size: number): number;
  arena_reset(): void;
  arena_mark(): number;
  arena_release(mark: number): number;
  arena_used(): number;
  arena_base(): number;
  packed_b_size(k: number, n: number): number;
  pack_b(b: number, bType: number, k: number, n: number, zp: number, zpCount: number, out: number): number;
  packed_b_rows(packed: number): number;
  packed_b_cols(packed: number): number;
  matmul_integer(a: number, aType: number, m: number, k: number, aZp: number, aZpCount: number, packed: number, y: number): number;
  qlinear_matmul(
    a: number, aType: number, m: number, k: number, aZp: number, aZpCount: number, packed: number,
    bias: number, mult: number, shift: number, perChannel: number, yZp: number, yType: number, y: number,
  ): number;
  requantize(
    acc: number, m: number, n: number, bias: number, mult: number, shift: number, perChannel: number,
    yZp: number, yType: number, y: number,
  ): number;
  quantize_multiplier(real: number, out: number): number;
  quantize_linear(
    x: number, outer: number, axisLen: number, inner: number, scale: number, zp: number, mode: number,
    block: number, yType: number, y: number,
  ): number;
  dequantize_linear(
    x: number, xType: number, outer: number, axisLen: number, inner: number, scale: number, zp: number,
    mode: number, block: number, y: number,
  ): number;
  dynamic_quantize_linear(x: number, n: number, y: number, params: number): number;
  delta_encode(old: number, neu: number, n: number, mode: number, out: number): number;
  delta_decode(old: number, delta: number, n: number, mode: number, out: number): number;
  diff_index_size(oldLen: number, bits: number): number;
  diff_index(old: number, oldLen: number, bits: number, index: number): number;
  diff_state_size(): number;
  diff_scan(
    old: number, oldLen: number, neu: number, newLen: number, index: number, bits: number, maxChain: number,
    state: number, ops: number, maxOps: number,
  ): number;
  patch_build(old: number, oldLen: number, neu: number, newLen: number, ops: number, count: number, diff: number, extra: number): number;
  patch_apply(
    old: number, oldLen: number, ops: number, count: number, diff: number, diffLen: number, extra: number,
    extraLen: number, out: number, newLen: number,
  ): number;
}
