// The contract every host relies on: ABI version, feature bits, error codes and
// element type codes. ABI.md documents the same numbers; change both together.

export const ABI_VERSION: i32 = 1;

// Feature bits reported by build_features(): which instruction sets this build uses.
export const FEATURE_SIMD128: i32 = 1;
export const FEATURE_RELAXED_SIMD: i32 = 2;
export const FEATURE_BULK_MEMORY: i32 = 4;
export const FEATURE_NONTRAPPING_F2I: i32 = 8;

// Error codes: every kernel returns OK or one of these; nothing is written on error
// except where ABI.md says a partial result is defined.
export const OK: i32 = 0;
export const ERR_ARGUMENT: i32 = -1; // a dimension, count, mode or type is invalid
export const ERR_BOUNDS: i32 = -2; // a buffer lies (partly) outside linear memory
export const ERR_ZERO_POINT: i32 = -3; // a zero point is outside its type's range
export const ERR_SCALE: i32 = -4; // a scale is zero, negative, NaN or infinite
export const ERR_NO_MEMORY: i32 = -5; // the arena could not grow for scratch space
export const ERR_FORMAT: i32 = -6; // a packed matrix or patch header is corrupt
export const ERR_OVERFLOW: i32 = -7; // sizes overflow 32-bit addressing
export const ERR_NOT_FINITE: i32 = -8; // NaN or infinity where a finite value is required
export const ERR_MULTIPLIER: i32 = -9; // a requantization multiplier/shift is out of range
export const ERR_PATCH: i32 = -10; // patch operations do not fit the images or streams
export const ERR_RANGE: i32 = -11; // an input's range has no finite, non-zero float32 scale

// Element types.
export const TYPE_UINT8: i32 = 0;
export const TYPE_INT8: i32 = 1;
export const TYPE_INT32: i32 = 2;
export const TYPE_FLOAT32: i32 = 3;

/** The ABI version hosts must check before calling anything else. */
export function abi_version(): i32 {
  return ABI_VERSION;
}

/** Instruction-set features this build was compiled with (FEATURE_* bits). */
export function build_features(): i32 {
  let f: i32 = 0;
  if (ASC_FEATURE_SIMD) f |= FEATURE_SIMD128;
  if (ASC_FEATURE_RELAXED_SIMD) f |= FEATURE_RELAXED_SIMD;
  if (ASC_FEATURE_BULK_MEMORY) f |= FEATURE_BULK_MEMORY;
  if (ASC_FEATURE_NONTRAPPING_F2I) f |= FEATURE_NONTRAPPING_F2I;
  return f;
}

/** Traps instead of importing a host abort: the module stays import-free. */
export function trapAbort(_message: usize, _file: usize, _line: u32, _column: u32): void {
  unreachable();
}
