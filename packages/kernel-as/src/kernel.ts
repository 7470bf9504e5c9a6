// The typed API over one kernel instance. Two ways in: plain typed arrays, copied
// into the module's arena and the results copied out; or WasmTensors, which live
// in the arena across calls so a pipeline never copies. Either way scratch space
// is released after each call: nothing leaks between calls, and a trap never
// leaves the arena half-used. Long-lived data (packed weights, tensors) lives
// below the scratch area.

import {
  DELTA_SUB, DELTA_XOR, FEATURE_RELAXED_SIMD, FEATURE_SIMD128, TYPE_INT32, type KernelExports,
} from './abi.js';
import {
  KernelError, KernelTrapError, OutOfMemoryError, PatchError, ShapeError, StaleHandleError, TypeMismatchError, ValueRangeError,
  statusError,
} from './errors.js';
import type { KernelBuild } from './loader.js';
import {
  type ByteArray, type QuantType, TYPE_CODE, byteType, checkDim, checkDims, checkLength,
  checkScales, checkZeroPoint, paramLayout, product, scalesOf, zeroPoints,
} from './shapes.js';
import { tensor as checkedTensor } from './onnx.js';
import { type TensorType } from './tensor.js';
import { ELEMENT_BYTES, type TensorOwner, WasmTensor, liveTensor } from './wasm-tensor.js';

export type DeltaMode = 'sub' | 'xor';

/** Fixed-point requantization parameters (see ABI.md, "Requantization"). */
export interface RequantParams {
  /** Q31 multipliers, one per tensor or one per output column. */
  multipliers: Int32Array;
  /** Power-of-two shifts matching `multipliers`. */
  shifts: Int32Array;
  /** Output zero point. */
  zeroPoint: number;
  /** Output type. */
  type: QuantType;
}

export interface RequantScales {
  /** Scale of the activations (A). */
  inputScale: number;
  /** Scale of the weights: one value, or one per output column. */
  weightScale: number | ArrayLike<number>;
  /** Scale of the output. */
  outputScale: number;
  outputZeroPoint: number;
  outputType: QuantType;
}

export interface QuantizeOptions {
  /** One scale (per tensor), one per slice along `axis`, or one per block. */
  scale: number | ArrayLike<number>;
  /** Zero point(s), matching `scale`; default 0. */
  zeroPoint?: number | ArrayLike<number>;
  /** Output type (default uint8, as in ONNX when no zero point is given). */
  type?: QuantType;
  /** Tensor dims; needed for per-axis and blocked parameters. */
  dims?: readonly number[];
  /** Quantization axis (default 1, negative counts from the end). */
  axis?: number;
  /** Block size along the axis (ONNX opset 21 blocked quantization). */
  blockSize?: number;
}

export interface DequantizeOptions {
  scale: number | ArrayLike<number>;
  zeroPoint?: number | ArrayLike<number>;
  dims?: readonly number[];
  axis?: number;
  blockSize?: number;
}

export interface DynamicQuantized {
  data: Uint8Array;
  scale: number;
  zeroPoint: number;
}

/** DynamicQuantizeLinear's result in the kernel's memory: the uint8 tensor, with the scale and zero point it used. */
export interface DynamicQuantizedTensor {
  tensor: WasmTensor<'uint8'>;
  scale: number;
  zeroPoint: number;
}

export interface DiffOptions {
  /** log2 of the hash-table size (default: fits the old image, 12..24). */
  hashBits?: number;
  /** Candidates tried per position: more finds longer matches, slower (default 64). */
  maxChain?: number;
}

/** A diff as bsdiff control triples: [addLen, extraLen, seek] per operation. */
export type DiffOps = Int32Array;

/** The byte streams of a patch: differences over the add regions, and literal bytes. */
export interface PatchStreams {
  diff: Uint8Array;
  extra: Uint8Array;
}

/** Weights packed once for repeated multiplication (see Kernel.packWeights). */
export class PackedMatrix {
  /** @internal */
  constructor(
    private readonly owner: Kernel,
    /** @internal */ readonly ptr: number,
    /** @internal */ readonly generation: number,
    readonly rows: number,
    readonly cols: number,
    readonly type: QuantType,
    readonly bytes: number,
  ) {}
  private disposedFlag = false;

  get disposed(): boolean {
    return this.disposedFlag || this.generation !== this.owner.generation;
  }

  /** Frees the packed data (immediately when it is the newest allocation). */
  dispose(): void {
    if (this.disposed) return;
    this.disposedFlag = true;
    this.owner.releasePersistent(this.ptr);
  }
}

interface PersistentBlock {
  ptr: number;
  mark: number;
  live: boolean;
}

/** A quantization validated against its input: the values quantize_linear takes besides x and y. */
interface QuantizePlan {
  type: QuantType;
  scales: Float32Array;
  zps: number[];
  layout: ReturnType<typeof paramLayout>;
}

interface DequantizePlan extends Omit<QuantizePlan, 'type'> {
  type: QuantType | 'int32';
}

/** Data for a new tensor: a typed array of the tensor's type, or plain numbers. */
export type TensorInit = ArrayLike<number>;

export class Kernel implements TensorOwner {
  readonly build: KernelBuild;
  readonly abiVersion: number;
  readonly features: number;
  /** Incremented by reset(): handles from an older generation are stale. */
  generation = 0;

  private readonly ex: KernelExports;
  private buffer: ArrayBuffer | undefined;
  private u8v!: Uint8Array;
  private i8v!: Int8Array;
  private i32v!: Int32Array;
  private f32v!: Float32Array;
  private readonly persistent: PersistentBlock[] = [];
  /** Tensors made inside each open scope(), innermost last. */
  private readonly scopes: WasmTensor[][] = [];

  /** @internal use loadKernel() */
  constructor(exports: KernelExports, build: KernelBuild) {
    this.ex = exports;
    this.build = build;
    this.abiVersion = exports.abi_version();
    this.features = exports.build_features();
    this.refresh();
  }

  /** The raw exports, for hosts that manage memory themselves (see ABI.md). */
  get exports(): KernelExports {
    return this.ex;
  }

  get simd(): boolean {
    return (this.features & FEATURE_SIMD128) !== 0;
  }

  get relaxedSimd(): boolean {
    return (this.features & FEATURE_RELAXED_SIMD) !== 0;
  }

  /** Bytes of linear memory in use by the arena. */
  get arenaUsed(): number {
    return this.ex.arena_used();
  }

  /**
   * Grows the kernel's memory now so that the next `bytes` bytes of allocations
   * (inputs, outputs and the kernels' scratch) never grow it, and views of it stay valid.
   */
  reserve(bytes: number): void {
    if (!Number.isInteger(bytes) || bytes < 0 || bytes > 0x7fffffff) throw new ValueRangeError(`reserve needs a byte count in [0, 2^31), got ${bytes}`);
    const status = this.ex.arena_reserve(bytes);
    this.refresh();
    if (status < 0) throw statusError('reserve', status);
  }

  /** Frees every allocation, including packed matrices and tensors (which become stale). */
  reset(): void {
    this.ex.arena_reset();
    this.persistent.length = 0;
    this.generation++;
  }

  /** @internal the memory's current buffer (a new one after each growth). */
  memoryBuffer(): ArrayBuffer {
    return this.ex.memory.buffer;
  }

  // -------------------------------------------------------------------------
  // Tensors in the kernel's memory

  /**
   * A tensor in the kernel's memory, zero-filled or holding a copy of `init`. It lives until free(), the end of the
   * enclosing scope(), or reset(); using it afterwards throws StaleHandleError.
   */
  tensor<T extends TensorType>(type: T, dims: readonly number[], init?: TensorInit): WasmTensor<T> {
    // init is checked like onnx.tensor() checks it: integers in the type's range, or a typed array of the type.
    if (!(type in ELEMENT_BYTES)) throw new TypeMismatchError(`tensor type must be uint8, int8, int32 or float32, got ${String(type)}`);
    checkDims(dims, 'dims');
    const length = product(dims);
    if (init !== undefined) checkLength(init, length, 'init');
    const bytes = length * ELEMENT_BYTES[type];
    if (bytes > 0x7fffffff) throw new ShapeError(`a ${type} tensor of dims [${dims.join(', ')}] is too large`);
    const values = init === undefined ? undefined : checkedTensor(type, dims, init).data;
    // At least one byte, so that every live block has its own address.
    const ptr = this.allocPersistent(Math.max(bytes, 1));
    const t = new WasmTensor<T>(this, ptr, this.generation, type, [...dims], length);
    if (values === undefined) t.data.fill(0);
    else t.data.set(values);
    this.scopes[this.scopes.length - 1]?.push(t);
    return t;
  }

  /**
   * Runs `body`, then frees every tensor made inside it (by tensor() or by the tensor forms of the kernels), except
   * those it returns (a tensor, or an array or object of tensors, one level deep).
   */
  scope<R>(body: () => R): R {
    const made: WasmTensor[] = [];
    this.scopes.push(made);
    let result: R;
    try {
      result = body();
    } catch (err) {
      this.scopes.pop();
      for (let i = made.length - 1; i >= 0; i--) made[i]!.free();
      throw err;
    }
    this.scopes.pop();
    const kept = new Set<unknown>(result instanceof WasmTensor ? [result]
      : result !== null && typeof result === 'object' ? Object.values(result as object) : []);
    const outer = this.scopes[this.scopes.length - 1];
    for (let i = made.length - 1; i >= 0; i--) {
      const t = made[i]!;
      if (!kept.has(t)) t.free();
      else outer?.push(t);
    }
    return result;
  }

  private allocPersistent(bytes: number): number {
    const mark = this.ex.arena_mark();
    const ptr = this.alloc(bytes);
    this.persistent.push({ ptr, mark, live: true });
    return ptr;
  }

  /** `out` checked against the type and dims an operation writes, or a new tensor of them. */
  private outputTensor<T extends TensorType>(out: WasmTensor | undefined, types: readonly T[], type: T, dims: readonly number[], what: string): WasmTensor<T> {
    if (out === undefined) return this.tensor(type, dims);
    const t = liveTensor(out, this, types, what);
    if (t.type !== type) throw new TypeMismatchError(`${what} must be ${type}, got ${t.type}`);
    if (t.length !== product(dims)) throw new ShapeError(`${what} has ${t.length} elements, expected ${product(dims)} ([${dims.join(', ')}])`);
    return t;
  }

  /** Runs a tensor operation that writes `out`; a tensor it made for the result is freed again if it fails. */
  private intoTensor<T extends TensorType>(out: WasmTensor<T>, given: boolean, body: () => void): WasmTensor<T> {
    try {
      body();
    } catch (err) {
      if (!given) out.free();
      throw err;
    }
    return out;
  }

  // -------------------------------------------------------------------------
  // Memory plumbing

  private refresh(): void {
    const buf = this.ex.memory.buffer;
    if (buf === this.buffer) return;
    this.buffer = buf;
    this.u8v = new Uint8Array(buf);
    this.i8v = new Int8Array(buf);
    this.i32v = new Int32Array(buf);
    this.f32v = new Float32Array(buf);
  }

  private alloc(bytes: number): number {
    const ptr = this.ex.arena_alloc(bytes, 16) >>> 0;
    if (ptr === 0) throw new OutOfMemoryError(`cannot allocate ${bytes} bytes in the kernel's memory`);
    this.refresh();
    return ptr;
  }

  /** Runs `body` with scratch allocations that are released afterwards, trap or not. */
  private scoped<T>(op: string, body: () => T): T {
    const mark = this.ex.arena_mark();
    try {
      return body();
    } catch (err) {
      if (err instanceof KernelError) throw err;
      if (err instanceof WebAssembly.RuntimeError) throw new KernelTrapError(`${op}: the kernel trapped (${err.message})`, { cause: err });
      throw err;
    } finally {
      this.ex.arena_release(mark);
      this.refresh();
    }
  }

  private check(op: string, status: number): void {
    this.refresh();
    if (status < 0) throw statusError(op, status);
  }

  private putBytes(data: ByteArray): number {
    const ptr = this.alloc(data.length);
    if (data instanceof Int8Array) this.i8v.set(data, ptr);
    else this.u8v.set(data, ptr);
    return ptr;
  }

  private putValues(values: readonly number[], type: QuantType | 'int32'): number {
    if (values.length === 0) return 0;
    if (type === 'int32') {
      const ptr = this.alloc(values.length * 4);
      this.i32v.set(values, ptr >>> 2);
      return ptr;
    }
    const ptr = this.alloc(values.length);
    if (type === 'int8') this.i8v.set(values, ptr);
    else this.u8v.set(values, ptr);
    return ptr;
  }

  private putInt32(data: Int32Array): number {
    const ptr = this.alloc(data.length * 4);
    this.i32v.set(data, ptr >>> 2);
    return ptr;
  }

  private putFloat32(data: Float32Array): number {
    const ptr = this.alloc(data.length * 4);
    this.f32v.set(data, ptr >>> 2);
    return ptr;
  }

  private takeBytes(ptr: number, len: number, type: QuantType): ByteArray {
    return type === 'int8' ? this.i8v.slice(ptr, ptr + len) : this.u8v.slice(ptr, ptr + len);
  }

  /** @internal */
  releasePersistent(ptr: number): void {
    const block = this.persistent.find((b) => b.ptr === ptr);
    if (block) block.live = false;
    // Only the newest blocks can go back to the bump allocator.
    while (this.persistent.length > 0 && !this.persistent[this.persistent.length - 1]!.live) {
      const top = this.persistent.pop()!;
      this.ex.arena_release(top.mark);
    }
  }

  private livePacked(p: PackedMatrix): PackedMatrix {
    if (!(p instanceof PackedMatrix)) throw new TypeMismatchError('expected a PackedMatrix from packWeights()');
    if (p.disposed) throw new StaleHandleError('the packed matrix was disposed or the kernel was reset');
    return p;
  }

  // -------------------------------------------------------------------------
  // int8 GEMM

  /**
   * Packs weights B (K x N, row-major uint8 or int8) with their zero point (one,
   * or one per column) for repeated multiplication.
   */
  packWeights(b: ByteArray, k: number, n: number, zeroPoint?: number | ArrayLike<number>): PackedMatrix {
    const type = byteType(b, 'B');
    checkDim(k, 'K');
    checkDim(n, 'N');
    checkLength(b, k * n, 'B');
    const zps = zeroPoints(zeroPoint, type, [1, n], 'b zero point');
    const size = this.ex.packed_b_size(k, n);
    if (size <= 0) throw new ShapeError(`B of ${k} x ${n} is too large to pack`);
    const out = this.allocPersistent(size);
    try {
      this.scoped('packWeights', () => {
        const pb = this.putBytes(b);
        const pz = this.putValues(zps, type);
        this.check('packWeights', this.ex.pack_b(pb, TYPE_CODE[type], k, n, pz, zps.length, out));
      });
    } catch (err) {
      this.releasePersistent(out);
      throw err;
    }
    return new PackedMatrix(this, out, this.generation, k, n, type, size);
  }

  /**
   * Y (int32, M x N) = (A - aZeroPoint) x (B - bZeroPoint): ONNX MatMulInteger with
   * packed B. aZeroPoint is one value or one per row.
   */
  matmulInteger(a: ByteArray, m: number, packed: PackedMatrix, aZeroPoint?: number | ArrayLike<number>, out?: Int32Array): Int32Array {
    const p = this.livePacked(packed);
    const type = byteType(a, 'A');
    checkDim(m, 'M');
    checkLength(a, m * p.rows, 'A');
    const zps = zeroPoints(aZeroPoint, type, [1, m], 'a zero point');
    const len = m * p.cols;
    if (out !== undefined) checkLength(out, len, 'out');
    const y = out ?? new Int32Array(len);
    return this.scoped('matmulInteger', () => {
      const pa = this.putBytes(a);
      const py = this.alloc(len * 4);
      this.runMatmul(pa, type, m, p, zps, py);
      y.set(this.i32v.subarray(py >>> 2, (py >>> 2) + len));
      return y;
    });
  }

  /** matmulInteger on a tensor in the kernel's memory (dims [M, K]), into `out` or a new int32 tensor [M, N]. */
  matmulIntegerTensor(a: WasmTensor, packed: PackedMatrix, aZeroPoint?: number | ArrayLike<number>, out?: WasmTensor): WasmTensor<'int32'> {
    const p = this.livePacked(packed);
    const t = liveTensor(a, this, ['uint8', 'int8'] as const, 'A');
    const m = t.length / p.rows;
    if (t.dims.length < 1 || t.dims[t.dims.length - 1] !== p.rows || !Number.isInteger(m) || m <= 0) {
      throw new ShapeError(`A of dims [${t.dims.join(', ')}] does not end in K = ${p.rows}`);
    }
    const zps = zeroPoints(aZeroPoint, t.type, [1, m], 'a zero point');
    const y = this.outputTensor(out, ['int32'] as const, 'int32', [...t.dims.slice(0, -1), p.cols], 'out');
    return this.intoTensor(y, out !== undefined, () => this.scoped('matmulInteger', () => this.runMatmul(t.ptr, t.type, m, p, zps, y.ptr)));
  }

  private runMatmul(pa: number, type: QuantType, m: number, p: PackedMatrix, zps: number[], py: number): void {
    const pz = this.putValues(zps, type);
    this.check('matmulInteger', this.ex.matmul_integer(pa, TYPE_CODE[type], m, p.rows, pz, zps.length, p.ptr, py));
  }

  /** Q31 multiplier and shift for a positive real multiplier. */
  quantizeMultiplier(real: number): { multiplier: number; shift: number } {
    if (!(real > 0) || !Number.isFinite(real)) throw new ValueRangeError(`multiplier must be positive and finite, got ${real}`);
    return this.scoped('quantizeMultiplier', () => {
      const out = this.alloc(8);
      this.check('quantizeMultiplier', this.ex.quantize_multiplier(real, out));
      return { multiplier: this.i32v[out >>> 2]!, shift: this.i32v[(out >>> 2) + 1]! };
    });
  }

  /** Requantization parameters for output = (inputScale * weightScale / outputScale) * acc + zp. */
  requantParams(s: RequantScales): RequantParams {
    const ws = scalesOf(s.weightScale);
    checkScales(Float32Array.of(s.inputScale), 'inputScale', false);
    checkScales(ws, 'weightScale', false);
    checkScales(Float32Array.of(s.outputScale), 'outputScale', false);
    checkZeroPoint(s.outputZeroPoint, s.outputType, 'outputZeroPoint');
    const multipliers = new Int32Array(ws.length);
    const shifts = new Int32Array(ws.length);
    for (let i = 0; i < ws.length; i++) {
      const real = (Math.fround(s.inputScale) * (ws[i] as number)) / Math.fround(s.outputScale);
      if (!(real > 0)) throw new ValueRangeError(`the scales give a non-positive multiplier for column ${i}`);
      const q = this.quantizeMultiplier(real);
      multipliers[i] = q.multiplier;
      shifts[i] = q.shift;
    }
    return { multipliers, shifts, zeroPoint: s.outputZeroPoint, type: s.outputType };
  }

  private checkRequant(params: RequantParams, n: number): void {
    checkZeroPoint(params.zeroPoint, params.type, 'output zero point');
    if (params.multipliers.length !== params.shifts.length || (params.multipliers.length !== 1 && params.multipliers.length !== n)) {
      throw new ShapeError(`requantization needs 1 or ${n} multipliers and as many shifts, got ${params.multipliers.length} and ${params.shifts.length}`);
    }
    for (let i = 0; i < params.multipliers.length; i++) {
      const m = params.multipliers[i]!, s = params.shifts[i]!;
      // The kernel's rule (ABI.md): a Q31 multiplier in [0, 2^31), shift in [-31, 30].
      if (m < 0 || s < -31 || s > 30) throw new ValueRangeError(`multiplier ${i} (${m}, shift ${s}) is out of range: [0, 2^31), shift [-31, 30]`);
    }
  }

  /** uint8/int8 (M x N) = requantize(int32 acc + bias). */
  requantize(acc: Int32Array, m: number, n: number, params: RequantParams, bias?: Int32Array): ByteArray {
    if (!(acc instanceof Int32Array)) throw new TypeMismatchError('acc must be an Int32Array');
    checkDim(m, 'M');
    checkDim(n, 'N');
    checkLength(acc, m * n, 'acc');
    this.checkRequant(params, n);
    if (bias !== undefined) checkLength(bias, n, 'bias');
    return this.scoped('requantize', () => {
      const pa = this.putInt32(acc);
      const py = this.alloc(m * n);
      this.runRequantize(pa, m, n, params, bias, py);
      return this.takeBytes(py, m * n, params.type);
    });
  }

  /** requantize on an int32 tensor in the kernel's memory (last dim N), into `out` or a new tensor of params.type. */
  requantizeTensor(acc: WasmTensor, params: RequantParams, bias?: Int32Array, out?: WasmTensor): WasmTensor<QuantType> {
    const t = liveTensor(acc, this, ['int32'] as const, 'acc');
    const n = t.dims[t.dims.length - 1] ?? 1;
    const m = n === 0 ? 0 : t.length / n;
    checkDim(m, 'M');
    checkDim(n, 'N');
    this.checkRequant(params, n);
    if (bias !== undefined) checkLength(bias, n, 'bias');
    const y = this.outputTensor(out, ['uint8', 'int8'] as const, params.type, t.dims, 'out');
    return this.intoTensor(y, out !== undefined, () => this.scoped('requantize', () => this.runRequantize(t.ptr, m, n, params, bias, y.ptr)));
  }

  private runRequantize(pa: number, m: number, n: number, params: RequantParams, bias: Int32Array | undefined, py: number): void {
    const pb = bias ? this.putInt32(bias) : 0;
    const pm = this.putInt32(params.multipliers);
    const ps = this.putInt32(params.shifts);
    this.check('requantize', this.ex.requantize(pa, m, n, pb, pm, ps, params.multipliers.length === 1 ? 0 : 1,
      params.zeroPoint, TYPE_CODE[params.type], py));
  }

  /** ONNX QLinearMatMul's integer core, with an optional int32 bias per column. */
  qlinearMatmul(
    a: ByteArray, m: number, packed: PackedMatrix, params: RequantParams,
    options: { aZeroPoint?: number | ArrayLike<number>; bias?: Int32Array } = {},
  ): ByteArray {
    const p = this.livePacked(packed);
    const type = byteType(a, 'A');
    checkDim(m, 'M');
    checkLength(a, m * p.rows, 'A');
    const zps = zeroPoints(options.aZeroPoint, type, [1, m], 'a zero point');
    this.checkRequant(params, p.cols);
    if (options.bias !== undefined) checkLength(options.bias, p.cols, 'bias');
    return this.scoped('qlinearMatmul', () => {
      const pa = this.putBytes(a);
      const pz = this.putValues(zps, type);
      const pb = options.bias ? this.putInt32(options.bias) : 0;
      const pm = this.putInt32(params.multipliers);
      const ps = this.putInt32(params.shifts);
      const py = this.alloc(m * p.cols);
      this.check('qlinearMatmul', this.ex.qlinear_matmul(pa, TYPE_CODE[type], m, p.rows, pz, zps.length, p.ptr, pb, pm, ps,
        params.multipliers.length === 1 ? 0 : 1, params.zeroPoint, TYPE_CODE[params.type], py));
      return this.takeBytes(py, m * p.cols, params.type);
    });
  }

  // -------------------------------------------------------------------------
  // Quantization

  /**
   * QuantizeLinear: y = saturate(roundHalfEven(x / scale) + zeroPoint). NaN maps to
   * the zero point and infinities saturate (ABI.md, "Non-finite input").
   */
  quantizeLinear(x: Float32Array, options: QuantizeOptions): ByteArray {
    if (!(x instanceof Float32Array)) throw new TypeMismatchError('x must be a Float32Array');
    const plan = this.quantizePlan(x.length, options, options.dims);
    if (x.length === 0) return plan.type === 'int8' ? new Int8Array(0) : new Uint8Array(0);
    return this.scoped('quantizeLinear', () => {
      const px = this.putFloat32(x);
      const py = this.alloc(x.length);
      this.runQuantize(plan, px, py);
      return this.takeBytes(py, x.length, plan.type);
    });
  }

  /**
   * quantizeLinear on a float32 tensor in the kernel's memory, into `out` or a new tensor of the same dims. The
   * tensor's dims serve as `options.dims` when those are not given.
   */
  quantizeLinearTensor(x: WasmTensor, options: QuantizeOptions, out?: WasmTensor): WasmTensor<QuantType> {
    const t = liveTensor(x, this, ['float32'] as const, 'x');
    const plan = this.quantizePlan(t.length, options, options.dims ?? t.dims);
    const y = this.outputTensor(out, ['uint8', 'int8'] as const, plan.type, t.dims, 'out');
    if (t.length === 0) return y;
    return this.intoTensor(y, out !== undefined, () => this.scoped('quantizeLinear', () => this.runQuantize(plan, t.ptr, y.ptr)));
  }

  private quantizePlan(count: number, options: QuantizeOptions, dims: readonly number[] | undefined): QuantizePlan {
    const type = options.type ?? (options.zeroPoint instanceof Int8Array ? 'int8' : 'uint8');
    if (type !== 'uint8' && type !== 'int8') throw new TypeMismatchError(`type must be uint8 or int8, got ${String(type)}`);
    if (dims) {
      checkDims(dims, 'dims');
      if (product(dims) !== count) throw new ShapeError(`x has ${count} elements, expected ${product(dims)}`);
    }
    const scales = scalesOf(options.scale);
    checkScales(scales, 'scale', false);
    const layout = paramLayout(count, scales.length, dims, options.axis, options.blockSize);
    const zps = zeroPoints(options.zeroPoint, type, [layout.params], 'zero point');
    return { type, scales, zps, layout };
  }

  private runQuantize(plan: QuantizePlan, px: number, py: number): void {
    const { layout, type } = plan;
    const ps = this.putFloat32(plan.scales);
    const pz = this.putValues(plan.zps, type);
    this.check('quantizeLinear', this.ex.quantize_linear(px, layout.outer, layout.axisLen, layout.inner, ps, pz,
      layout.mode, layout.block, TYPE_CODE[type], py));
  }

  /** DequantizeLinear: y = float32(x - zeroPoint) * scale, for uint8, int8 or int32 x. */
  dequantizeLinear(x: Uint8Array | Int8Array | Int32Array, options: DequantizeOptions): Float32Array {
    const type: QuantType | 'int32' = x instanceof Int32Array ? 'int32' : byteType(x, 'x');
    const plan = this.dequantizePlan(type, x.length, options, options.dims);
    if (x.length === 0) return new Float32Array(0);
    return this.scoped('dequantizeLinear', () => {
      const px = x instanceof Int32Array ? this.putInt32(x) : this.putBytes(x);
      const py = this.alloc(x.length * 4);
      this.runDequantize(plan, px, py);
      return this.f32v.slice(py >>> 2, (py >>> 2) + x.length);
    });
  }

  /**
   * dequantizeLinear on a uint8, int8 or int32 tensor in the kernel's memory, into `out` or a new float32 tensor of
   * the same dims. The tensor's dims serve as `options.dims` when those are not given.
   */
  dequantizeLinearTensor(x: WasmTensor, options: DequantizeOptions, out?: WasmTensor): WasmTensor<'float32'> {
    const t = liveTensor(x, this, ['uint8', 'int8', 'int32'] as const, 'x');
    const plan = this.dequantizePlan(t.type, t.length, options, options.dims ?? t.dims);
    const y = this.outputTensor(out, ['float32'] as const, 'float32', t.dims, 'out');
    if (t.length === 0) return y;
    return this.intoTensor(y, out !== undefined, () => this.scoped('dequantizeLinear', () => this.runDequantize(plan, t.ptr, y.ptr)));
  }

  private dequantizePlan(type: QuantType | 'int32', count: number, options: DequantizeOptions, dims: readonly number[] | undefined): DequantizePlan {
    if (dims) {
      checkDims(dims, 'dims');
      if (product(dims) !== count) throw new ShapeError(`x has ${count} elements, expected ${product(dims)}`);
    }
    const scales = scalesOf(options.scale);
    checkScales(scales, 'scale', true);
    const layout = paramLayout(count, scales.length, dims, options.axis, options.blockSize);
    let zps: number[] = [];
    if (options.zeroPoint !== undefined) {
      if (type === 'int32') {
        zps = typeof options.zeroPoint === 'number' ? [options.zeroPoint] : Array.from(options.zeroPoint);
        if (zps.length !== layout.params) throw new ShapeError(`zero point has ${zps.length} values, expected ${layout.params}`);
        zps.forEach((v, i) => {
          if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw new ValueRangeError(`zero point[${i}] must be an int32, got ${v}`);
        });
      } else {
        zps = zeroPoints(options.zeroPoint, type, [layout.params], 'zero point');
      }
    }
    return { type, scales, zps, layout };
  }

  private runDequantize(plan: DequantizePlan, px: number, py: number): void {
    const { layout, type } = plan;
    const ps = this.putFloat32(plan.scales);
    const pz = this.putValues(plan.zps, type);
    this.check('dequantizeLinear', this.ex.dequantize_linear(px, type === 'int32' ? TYPE_INT32 : TYPE_CODE[type], layout.outer,
      layout.axisLen, layout.inner, ps, pz, layout.mode, layout.block, py));
  }

  /** DynamicQuantizeLinear (uint8). Throws ValueRangeError on NaN or infinite input. */
  dynamicQuantizeLinear(x: Float32Array): DynamicQuantized {
    if (!(x instanceof Float32Array)) throw new TypeMismatchError('x must be a Float32Array');
    return this.scoped('dynamicQuantizeLinear', () => {
      const px = this.putFloat32(x);
      const py = this.alloc(Math.max(x.length, 1));
      const params = this.runDynamicQuantize(px, x.length, py);
      return { data: this.u8v.slice(py, py + x.length), ...params };
    });
  }

  /**
   * dynamicQuantizeLinear on a float32 tensor in the kernel's memory, into `out` (uint8, as many elements) or a new
   * uint8 tensor of the same dims, with the scale and zero point it chose. Throws ValueRangeError on NaN or infinite
   * input, before anything is written.
   */
  dynamicQuantizeLinearTensor(x: WasmTensor, out?: WasmTensor): DynamicQuantizedTensor {
    const t = liveTensor(x, this, ['float32'] as const, 'x');
    const y = this.outputTensor(out, ['uint8'] as const, 'uint8', t.dims, 'out');
    let params!: { scale: number; zeroPoint: number };
    this.intoTensor(y, out !== undefined, () => {
      params = this.scoped('dynamicQuantizeLinear', () => this.runDynamicQuantize(t.ptr, t.length, y.ptr));
    });
    return { tensor: y, ...params };
  }

  private runDynamicQuantize(px: number, n: number, py: number): { scale: number; zeroPoint: number } {
    const pp = this.alloc(8);
    this.check('dynamicQuantizeLinear', this.ex.dynamic_quantize_linear(px, n, py, pp));
    return { scale: this.f32v[pp >>> 2]!, zeroPoint: this.u8v[pp + 4]! };
  }

  // -------------------------------------------------------------------------
  // Deltas and binary diff

  private deltaMode(mode: DeltaMode): number {
    if (mode === 'sub') return DELTA_SUB;
    if (mode === 'xor') return DELTA_XOR;
    throw new ValueRangeError(`delta mode must be 'sub' or 'xor', got ${String(mode)}`);
  }

  private delta(op: 'encode' | 'decode', a: Uint8Array, b: Uint8Array, mode: DeltaMode): Uint8Array {
    if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) throw new TypeMismatchError('deltas take Uint8Arrays');
    if (a.length !== b.length) throw new ShapeError(`delta inputs differ in length: ${a.length} and ${b.length}`);
    const m = this.deltaMode(mode);
    return this.scoped(`delta ${op}`, () => {
      const pa = this.putBytes(a);
      const pb = this.putBytes(b);
      const fn = op === 'encode' ? this.ex.delta_encode : this.ex.delta_decode;
      this.check(`delta ${op}`, fn(pa, pb, a.length, m, pb));
      return this.u8v.slice(pb, pb + a.length);
    });
  }

  /** Bytewise delta: next - old (mod 256) for 'sub', next XOR old for 'xor'. */
  deltaEncode(old: Uint8Array, next: Uint8Array, mode: DeltaMode = 'sub'): Uint8Array {
    return this.delta('encode', old, next, mode);
  }

  /** Inverse of deltaEncode: old + delta (mod 256) or old XOR delta. */
  deltaDecode(old: Uint8Array, delta: Uint8Array, mode: DeltaMode = 'sub'): Uint8Array {
    return this.delta('decode', old, delta, mode);
  }

  /**
   * Diffs two images into bsdiff control triples (addLen, extraLen, seek); see
   * ABI.md "Binary diff" for how a patch is built from them and applied.
   */
  diff(old: Uint8Array, next: Uint8Array, options: DiffOptions = {}): DiffOps {
    if (!(old instanceof Uint8Array) || !(next instanceof Uint8Array)) throw new TypeMismatchError('diff takes Uint8Arrays');
    const bits = options.hashBits ?? Math.min(24, Math.max(12, Math.ceil(Math.log2(Math.max(old.length, 1)))));
    if (!Number.isInteger(bits) || bits < 8 || bits > 26) throw new ValueRangeError(`hashBits must be 8..26, got ${bits}`);
    const maxChain = options.maxChain ?? 64;
    checkDim(maxChain, 'maxChain');
    const indexSize = this.ex.diff_index_size(old.length, bits);
    if (indexSize <= 0) throw new ShapeError(`an old image of ${old.length} bytes is too large to index`);
    return this.scoped('diff', () => {
      const po = this.putBytes(old);
      const pn = this.putBytes(next);
      const pi = this.alloc(indexSize);
      this.check('diff', this.ex.diff_index(po, old.length, bits, pi));
      const stateSize = this.ex.diff_state_size();
      const ps = this.alloc(stateSize);
      this.u8v.fill(0, ps, ps + stateSize);
      const batch = 4096;
      const pops = this.alloc(batch * 12);
      const parts: Int32Array[] = [];
      let total = 0;
      for (;;) {
        const count = this.ex.diff_scan(po, old.length, pn, next.length, pi, bits, maxChain, ps, pops, batch);
        this.check('diff', count);
        if (count === 0) break;
        parts.push(this.i32v.slice(pops >>> 2, (pops >>> 2) + count * 3));
        total += count * 3;
      }
      const ops = new Int32Array(total);
      let at = 0;
      for (const part of parts) {
        ops.set(part, at);
        at += part.length;
      }
      return ops;
    });
  }

  private checkOps(ops: DiffOps): void {
    if (!(ops instanceof Int32Array) || ops.length % 3 !== 0) throw new PatchError('ops must be an Int32Array of (add, extra, seek) triples');
  }

  /** Splits a diff into its difference and literal streams (see ABI.md, "Binary diff"). */
  buildPatch(old: Uint8Array, next: Uint8Array, ops: DiffOps): PatchStreams {
    if (!(old instanceof Uint8Array) || !(next instanceof Uint8Array)) throw new TypeMismatchError('buildPatch takes Uint8Arrays');
    this.checkOps(ops);
    let addTotal = 0;
    for (let i = 0; i < ops.length; i += 3) addTotal += Math.max(0, ops[i]!);
    if (addTotal > next.length) throw new PatchError('the add lengths exceed the new image');
    return this.scoped('buildPatch', () => {
      const po = this.putBytes(old);
      const pn = this.putBytes(next);
      const pops = this.putInt32(ops);
      const pd = this.alloc(Math.max(addTotal, 1));
      const pe = this.alloc(Math.max(next.length - addTotal, 1));
      this.check('buildPatch', this.ex.patch_build(po, old.length, pn, next.length, pops, ops.length / 3, pd, pe));
      return { diff: this.u8v.slice(pd, pd + addTotal), extra: this.u8v.slice(pe, pe + next.length - addTotal) };
    });
  }

  /** Rebuilds the new image from the old one, the ops and the streams; PatchError if they do not fit. */
  applyPatch(old: Uint8Array, ops: DiffOps, streams: PatchStreams): Uint8Array {
    if (!(old instanceof Uint8Array) || !(streams.diff instanceof Uint8Array) || !(streams.extra instanceof Uint8Array)) {
      throw new TypeMismatchError('applyPatch takes Uint8Arrays');
    }
    this.checkOps(ops);
    const newLen = streams.diff.length + streams.extra.length;
    return this.scoped('applyPatch', () => {
      const po = this.putBytes(old);
      const pops = this.putInt32(ops);
      const pd = this.putBytes(streams.diff);
      const pe = this.putBytes(streams.extra);
      const py = this.alloc(Math.max(newLen, 1));
      this.check('applyPatch', this.ex.patch_apply(po, old.length, pops, ops.length / 3, pd, streams.diff.length, pe,
        streams.extra.length, py, newLen));
      return this.u8v.slice(py, py + newLen);
    });
  }
}
