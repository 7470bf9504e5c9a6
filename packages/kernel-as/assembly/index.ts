// Entry point of the kernel module: everything exported here is the ABI
// (ABI.md). Every export takes plain integers/floats and pointers into this
// module's linear memory, and returns an error code where it can fail.

export { abi_version, build_features } from './abi';
export { arena_alloc, arena_reserve, arena_reset, arena_mark, arena_release, arena_used, arena_base } from './arena';
export { packed_b_size, pack_b, packed_b_rows, packed_b_cols, matmul_integer, qlinear_matmul } from './gemm';
export { requantize, quantize_multiplier } from './requant';
export { quantize_linear, dequantize_linear, dynamic_quantize_linear } from './quantize';
export { delta_encode, delta_decode } from './delta';
export { diff_index_size, diff_index, diff_state_size, diff_scan, patch_build, patch_apply } from './bindiff';
export {
  cm_input_bytes, cm_run_bytes, cm_state_size, cm_input_offset, cm_old_offset, cm_new_offset, cm_init, cm_input_compact,
  cm_input_added, cm_input_available, cm_start, cm_bit, cm_direct, cm_diff,
} from './context-mixing';
