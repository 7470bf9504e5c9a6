// Tensors that live in the kernel's linear memory across calls, so a pipeline of
// kernels (quantize -> GEMM -> requantize) hands data from one export to the next
// without copying it through JavaScript. A WasmTensor is an offset, a type and
// dims; its `data` view is derived from the memory's current buffer on each read,
// so the handle survives memory growth while views taken earlier do not.

import { StaleHandleError, TypeMismatchError } from './errors.js';
import { type KernelTensorData, type Tensor, type TensorType, tensorOf } from './tensor.js';

/** Bytes per element of each kernel type. */
export const ELEMENT_BYTES: Record<TensorType, number> = { uint8: 1, int8: 1, int32: 4, float32: 4 };

const VIEW_OF: { [T in TensorType]: new (buffer: ArrayBuffer, offset: number, length: number) => KernelTensorData[T] } = {
  uint8: Uint8Array, int8: Int8Array, int32: Int32Array, float32: Float32Array,
};

/** What a tensor needs from the kernel that owns its memory. */
export interface TensorOwner {
  readonly generation: number;
  memoryBuffer(): ArrayBuffer;
  /** @internal */
  releasePersistent(ptr: number): void;
}

export class WasmTensor<T extends TensorType = TensorType> {
  private freedFlag = false;
  private viewBuffer: ArrayBuffer | undefined;
  private view: KernelTensorData[T] | undefined;

  /** @internal use Kernel.tensor() */
  constructor(
    /** @internal */ readonly owner: TensorOwner,
    /** Byte offset of the data in the kernel's linear memory (stays valid across growth). */
    readonly ptr: number,
    /** @internal */ readonly generation: number,
    readonly type: T,
    readonly dims: readonly number[],
    readonly length: number,
  ) {}

  get byteLength(): number {
    return this.length * ELEMENT_BYTES[this.type];
  }

  /** True once freed, or when the kernel was reset since the tensor was made. */
  get freed(): boolean {
    return this.freedFlag || this.generation !== this.owner.generation;
  }

  /**
   * The data in place, as a typed array over the kernel's memory. Writes go straight to the kernel. Read it again
   * after any call that can grow memory (ABI.md, "Memory growth"): growth detaches views taken before it.
   */
  get data(): KernelTensorData[T] {
    this.assertLive();
    const buffer = this.owner.memoryBuffer();
    if (buffer !== this.viewBuffer || this.view === undefined) {
      this.view = new VIEW_OF[this.type](buffer, this.ptr, this.length) as KernelTensorData[T];
      this.viewBuffer = buffer;
    }
    return this.view;
  }

  /** A copy of the tensor outside the kernel's memory, as the shared Tensor type. */
  toTensor(): Tensor {
    return tensorOf(this.type, [...this.dims], this.data.slice() as KernelTensorData[T]);
  }

  /** Frees the memory: at once when it is the newest allocation, else when everything above it is freed too. */
  free(): void {
    if (this.freed) return;
    this.freedFlag = true;
    this.view = undefined;
    this.viewBuffer = undefined;
    this.owner.releasePersistent(this.ptr);
  }

  /** @internal throws StaleHandleError once freed or reset. */
  assertLive(): void {
    if (this.freed) throw new StaleHandleError(`the ${this.type} tensor [${this.dims.join(', ')}] was freed or its kernel was reset`);
  }
}

/** Checks that `t` is a live tensor of `owner` with one of `types`, and returns it. */
export function liveTensor<T extends TensorType>(t: unknown, owner: TensorOwner, types: readonly T[], what: string): WasmTensor<T> {
  if (!(t instanceof WasmTensor)) throw new TypeMismatchError(`${what} must be a WasmTensor from Kernel.tensor()`);
  if (t.owner !== owner) throw new StaleHandleError(`${what} belongs to another kernel instance`);
  t.assertLive();
  if (!(types as readonly TensorType[]).includes(t.type)) throw new TypeMismatchError(`${what} must be ${types.join(' or ')}, got ${t.type}`);
  return t as WasmTensor<T>;
}
