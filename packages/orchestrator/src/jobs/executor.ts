import type { Kernel } from '@compotastic/kernel';
import { matmulInteger as refMatmulInteger, requantize as refRequantize } from '@compotastic/kernel/reference';
import { JobSpecError, OrchestratorError } from '../errors.js';
import { matMulIntegerModel } from './onnx-model.js';
import { type GemmSpec, type JobSpec, type QuantType, fullOutputSpec, inputBytes, outputBytes, selectTopK } from './spec.js';

/** int8 weights installed on a node (delivered over the air), referenced by `weights: { resident: id }`. */
export interface ResidentWeights {
  bytes: Uint8Array;
  k: number;
  n: number;
  type: QuantType;
}

export interface WeightStore {
  get(id: number): ResidentWeights | undefined;
}

export class MapWeightStore implements WeightStore {
  private readonly map = new Map<number, ResidentWeights>();

  set(id: number, w: ResidentWeights): this {
    if (w.bytes.length !== w.k * w.n) throw new JobSpecError('BAD_SHAPE', `weights ${id} have ${w.bytes.length} bytes, expected ${w.k * w.n}`);
    this.map.set(id, w);
    return this;
  }

  get(id: number): ResidentWeights | undefined {
    return this.map.get(id);
  }
}

/** Runs one job (or shard) on this node. Output is the job's result bytes (int32 little endian for a GEMM). */
export interface Executor {
  readonly name: string;
  supports(spec: JobSpec): boolean;
  run(spec: JobSpec, input: Uint8Array): Promise<Uint8Array>;
}

/**
 * Run a job on an executor in the form the job asks for: executors compute the full output, the top-k of each row
 * (when the spec asks for it) is taken here, so every executor and every reference agree on it.
 */
export async function runJob(executor: Executor, spec: JobSpec, input: Uint8Array): Promise<Uint8Array> {
  const full = await executor.run(fullOutputSpec(spec), input);
  return spec.kind === 'gemm' && spec.topK !== undefined ? selectTopK(spec, full) : full;
}

/** Raised when an executor cannot run a job it was handed (bad input, missing weights, engine failure). */
export class ExecutionError extends OrchestratorError {
  constructor(code: 'BAD_INPUT' | 'MODEL_MISSING' | 'UNSUPPORTED' | 'ENGINE', message: string) {
    super(code, message);
    this.name = 'ExecutionError';
  }
}

interface GemmOperands {
  a: Uint8Array | Int8Array;
  b: Uint8Array | Int8Array;
}

function typed(bytes: Uint8Array, type: QuantType): Uint8Array | Int8Array {
  return type === 'int8' ? new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length) : bytes;
}

/** A and B of a GEMM job from its input bytes (A row-major m x k, then B row-major k x n when inline). */
export function gemmOperands(spec: GemmSpec, input: Uint8Array, weights?: WeightStore): GemmOperands {
  if (input.length !== inputBytes(spec)) throw new ExecutionError('BAD_INPUT', `input has ${input.length} bytes, the job needs ${inputBytes(spec)}`);
  const aLen = spec.m * spec.k;
  const a = typed(input.subarray(0, aLen), spec.aType);
  if (spec.weights === 'inline') return { a, b: typed(input.subarray(aLen), spec.bType) };
  const w = weights?.get(spec.weights.resident);
  if (!w) throw new ExecutionError('MODEL_MISSING', `resident weights ${spec.weights.resident} are not installed`);
  if (w.k !== spec.k || w.n !== spec.n || w.type !== spec.bType) {
    throw new ExecutionError('BAD_INPUT', `resident weights ${spec.weights.resident} are ${w.k}x${w.n} ${w.type}, the job wants ${spec.k}x${spec.n} ${spec.bType}`);
  }
  return { a, b: typed(w.bytes, w.type) };
}

/** int32 values to little-endian bytes, independent of host byte order. */
export function int32ToBytes(values: Int32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setInt32(i * 4, values[i] as number, true);
  return out;
}

export function bytesToInt32(bytes: Uint8Array): Int32Array {
  if (bytes.length % 4 !== 0) throw new ExecutionError('BAD_INPUT', `int32 data must be a multiple of 4 bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out = new Int32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt32(i * 4, true);
  return out;
}

/** GEMM on the project's Wasm kernel core: what every node, down to a microcontroller, can run. */
export class KernelExecutor implements Executor {
  readonly name = 'kernel';
  private kernel: Kernel | null = null;

  constructor(private readonly load: Kernel | (() => Promise<Kernel>), private readonly weights?: WeightStore) {
    if (typeof load !== 'function') this.kernel = load;
  }

  supports(spec: JobSpec): boolean {
    return spec.kind === 'gemm' && (spec.weights === 'inline' || this.weights?.get(spec.weights.resident) !== undefined);
  }

  async run(spec: JobSpec, input: Uint8Array): Promise<Uint8Array> {
    if (spec.kind !== 'gemm') throw new ExecutionError('UNSUPPORTED', `the kernel executor runs GEMM jobs, not ${spec.kind}`);
    const { a, b } = gemmOperands(spec, input, this.weights);
    const k = this.kernel ?? (this.kernel = await (this.load as () => Promise<Kernel>)());
    const packed = k.packWeights(b, spec.k, spec.n, spec.bZeroPoint);
    try {
      const q = spec.requant;
      if (q) {
        const params = { multipliers: Int32Array.of(q.multiplier), shifts: Int32Array.of(q.shift), zeroPoint: q.zeroPoint, type: q.type };
        const y = k.qlinearMatmul(a, spec.m, packed, params, { aZeroPoint: spec.aZeroPoint });
        return new Uint8Array(y.buffer, y.byteOffset, y.length).slice();
      }
      return int32ToBytes(k.matmulInteger(a, spec.m, packed, spec.aZeroPoint));
    } finally {
      packed.dispose();
    }
  }
}

/**
 * GEMM on the kernel package's plain-TypeScript reference implementation: slow, but independent of the Wasm builds and
 * of onnxruntime, so it is what finished jobs are checked against (a check with the engine that produced the result
 * would only show that the bytes travelled intact, not that the arithmetic is right).
 */
export class ReferenceExecutor implements Executor {
  readonly name = 'reference';

  constructor(private readonly weights?: WeightStore) {}

  supports(spec: JobSpec): boolean {
    return spec.kind === 'gemm' && (spec.weights === 'inline' || this.weights?.get(spec.weights.resident) !== undefined);
  }

  async run(spec: JobSpec, input: Uint8Array): Promise<Uint8Array> {
    if (spec.kind !== 'gemm') throw new ExecutionError('UNSUPPORTED', `the reference executor runs GEMM jobs, not ${spec.kind}`);
    const { a, b } = gemmOperands(spec, input, this.weights);
    const acc = refMatmulInteger(a, b, spec.m, spec.k, spec.n, [spec.aZeroPoint], [spec.bZeroPoint]);
    const q = spec.requant;
    if (!q) return int32ToBytes(acc);
    const y = refRequantize(acc, spec.m, spec.n, [q.multiplier], [q.shift], q.zeroPoint, q.type);
    // int8 values as their two's-complement bytes, as the kernel returns them.
    return Uint8Array.from(y, (v) => v & 0xff);
  }
}

type OrtModule = typeof import('onnxruntime-web');

/**
 * GEMM through onnxruntime-web (MatMulInteger), for high-compute nodes; sessions are cached per shape. The module is
 * imported on first use so nodes that never run ONNX never load it.
 */
export class OnnxExecutor implements Executor {
  readonly name = 'onnx';
  private ort: OrtModule | null = null;
  private readonly sessions = new Map<string, Promise<import('onnxruntime-web').InferenceSession>>();

  constructor(private readonly weights?: WeightStore, private readonly maxSessions = 8) {}

  /** int32 output only: onnxruntime requantizes in float, which may differ from the fixed-point kernel by one step. */
  supports(spec: JobSpec): boolean {
    return spec.kind === 'gemm' && !spec.requant && (spec.weights === 'inline' || this.weights?.get(spec.weights.resident) !== undefined);
  }

  private async module(): Promise<OrtModule> {
    if (!this.ort) {
      const ort = await import('onnxruntime-web');
      ort.env.wasm.numThreads = 1;
      this.ort = ort;
    }
    return this.ort;
  }

  private session(ort: OrtModule, spec: GemmSpec): Promise<import('onnxruntime-web').InferenceSession> {
    const key = `${spec.m}x${spec.k}x${spec.n}:${spec.aType}:${spec.bType}:${spec.aZeroPoint}:${spec.bZeroPoint}`;
    let s = this.sessions.get(key);
    if (!s) {
      if (this.sessions.size >= this.maxSessions) {
        const oldest = this.sessions.keys().next().value as string;
        void this.sessions.get(oldest)?.then((x) => x.release()).catch(() => undefined);
        this.sessions.delete(oldest);
      }
      s = ort.InferenceSession.create(matMulIntegerModel(spec));
      this.sessions.set(key, s);
    }
    return s;
  }

  async run(spec: JobSpec, input: Uint8Array): Promise<Uint8Array> {
    if (spec.kind !== 'gemm' || spec.requant) throw new ExecutionError('UNSUPPORTED', 'the ONNX executor runs GEMM jobs with int32 output');
    const { a, b } = gemmOperands(spec, input, this.weights);
    const ort = await this.module();
    try {
      const session = await this.session(ort, spec);
      const out = await session.run({ A: new ort.Tensor(spec.aType, a.slice(), [spec.m, spec.k]), B: new ort.Tensor(spec.bType, b.slice(), [spec.k, spec.n]) });
      const y = out.Y;
      if (!y || !(y.data instanceof Int32Array) || y.data.length !== spec.m * spec.n) throw new ExecutionError('ENGINE', 'onnxruntime returned an unexpected output');
      return int32ToBytes(y.data);
    } catch (e) {
      if (e instanceof ExecutionError) throw e;
      throw new ExecutionError('ENGINE', `onnxruntime failed: ${(e as Error).message}`);
    }
  }
}

/**
 * A layer-range executor for installed int8 models, supplied by the model runtime. The orchestrator only needs to
 * know whether a model is installed and to hand it a batch of activations.
 */
export interface ModelLayerRunner {
  has(modelId: number, modelVersion: number): boolean;
  runLayers(modelId: number, modelVersion: number, layerStart: number, layerEnd: number, batch: number, input: Uint8Array): Promise<Uint8Array>;
}

export class ModelLayerExecutor implements Executor {
  readonly name = 'model';

  constructor(private readonly runner: ModelLayerRunner) {}

  supports(spec: JobSpec): boolean {
    return spec.kind === 'model' && this.runner.has(spec.modelId, spec.modelVersion);
  }

  async run(spec: JobSpec, input: Uint8Array): Promise<Uint8Array> {
    if (spec.kind !== 'model') throw new ExecutionError('UNSUPPORTED', `the model executor runs layer ranges, not ${spec.kind}`);
    if (!this.runner.has(spec.modelId, spec.modelVersion)) throw new ExecutionError('MODEL_MISSING', `model ${spec.modelId} v${spec.modelVersion} is not installed`);
    if (input.length !== spec.inputBytes) throw new ExecutionError('BAD_INPUT', `input has ${input.length} bytes, the job needs ${spec.inputBytes}`);
    const out = await this.runner.runLayers(spec.modelId, spec.modelVersion, spec.layerStart, spec.layerEnd, spec.batch, input);
    if (out.length !== outputBytes(spec)) throw new ExecutionError('ENGINE', `model runner returned ${out.length} bytes, expected ${outputBytes(spec)}`);
    return out;
  }
}

/** Tries executors in order: e.g. ONNX first on a laptop, the kernel core everywhere. */
export class ExecutorChain implements Executor {
  readonly name: string;

  constructor(private readonly executors: readonly Executor[]) {
    this.name = executors.map((e) => e.name).join('+') || 'none';
  }

  supports(spec: JobSpec): boolean {
    return this.executors.some((e) => e.supports(spec));
  }

  run(spec: JobSpec, input: Uint8Array): Promise<Uint8Array> {
    const e = this.executors.find((x) => x.supports(spec));
    if (!e) return Promise.reject(new ExecutionError('UNSUPPORTED', `no executor on this node runs ${spec.kind} jobs like this one`));
    return e.run(spec, input);
  }
}
