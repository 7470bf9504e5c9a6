// The one tensor type of the project: kernel, model and orchestrator all describe
// quantized data with these names, so a tensor moves between them without a cast.

/** The element types the int8 kernels quantize to. */
export type QuantType = 'uint8' | 'int8';

/** Inclusive value range of each quantized type. */
export const QUANT_RANGE: Record<QuantType, readonly [number, number]> = { uint8: [0, 255], int8: [-128, 127] };

/** How the kernel's element types are held in memory. */
export interface KernelTensorData {
  uint8: Uint8Array;
  int8: Int8Array;
  int32: Int32Array;
  float32: Float32Array;
}

/** The element types the kernel reads and writes. */
export type TensorType = keyof KernelTensorData;
export type TensorData = KernelTensorData[TensorType];
export type ByteArray = Uint8Array | Int8Array;

/**
 * A dense row-major tensor; narrowing on `type` narrows `data`. `M` maps element type names to their arrays: the
 * kernel's four by default, a superset where a package decodes more (the model's ONNX reader maps every ONNX type).
 */
export type Tensor<M extends object = KernelTensorData, T extends keyof M = keyof M> = {
  [K in T]: { type: K; dims: number[]; data: M[K] };
}[T];

/** A tensor from an element type and the array chosen for it (callers pick the array by the type). */
export function tensorOf<T extends TensorType>(type: T, dims: number[], data: KernelTensorData[T]): Tensor {
  return { type, dims, data } as Tensor;
}
