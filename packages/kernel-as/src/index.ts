// @compotastic/kernel: int8 inference and delta-encoding kernels in standalone Wasm.
export { loadKernel, loadBuildBytes, instantiateKernel, detectFeatures, supportedBuilds, buildUrl, KERNEL_BUILDS } from './loader.js';
export type { KernelBuild, LoadKernelOptions, WasmSource, HostFeatures } from './loader.js';
export { Kernel, PackedMatrix } from './kernel.js';
export { WasmTensor } from './wasm-tensor.js';
export type {
  DeltaMode, TensorInit, DiffOps, DiffOptions, PatchStreams, DequantizeOptions, DynamicQuantized, DynamicQuantizedTensor, QuantizeOptions, RequantParams, RequantScales,
} from './kernel.js';
export { QUANT_RANGE } from './tensor.js';
export type { ByteArray, KernelTensorData, QuantType, Tensor, TensorData, TensorType } from './tensor.js';
export * from './errors.js';
export { ABI_VERSION, ErrorCode, FEATURE_SIMD128, FEATURE_RELAXED_SIMD, FEATURE_BULK_MEMORY, FEATURE_NONTRAPPING_F2I } from './abi.js';
export type { KernelExports } from './abi.js';
export * as onnx from './onnx.js';
