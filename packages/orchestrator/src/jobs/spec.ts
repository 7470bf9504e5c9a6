import { type QuantType, QUANT_RANGE } from '@compotastic/kernel';
import { JobSpecError } from '../errors.js';

export type { QuantType };

/**
 * int8 matrix product Y (int32, m x n) = (A - aZeroPoint)(B - bZeroPoint), ONNX MatMulInteger. A GEMV is m = 1; a
 * batch job is a GEMM whose rows are independent inputs. B either travels with the job (`weights: 'inline'`) or is
 * already installed on the worker (`weights: { resident: id }`, e.g. a layer of a model delivered over the air).
 */
export interface GemmSpec {
  kind: 'gemm';
  m: number;
  k: number;
  n: number;
  aType: QuantType;
  bType: QuantType;
  aZeroPoint: number;
  bZeroPoint: number;
  weights: 'inline' | { resident: number };
  /**
   * Integer-only requantization of the int32 accumulators to uint8/int8 (a quantized linear layer): out =
   * clamp(round(acc * multiplier * 2^(shift-31)) + zeroPoint). Without it the output is int32.
   */
  requant?: Requant;
  /**
   * Return only the `topK` largest outputs of each row, as (column u16, value) pairs, largest first (ties: lower
   * column first): 1 is "class and score". Values keep the output type (int8 when requantized, else int32).
   */
  topK?: number;
}

/** Largest top-k a job may ask for (more is cheaper sent as the full row). */
export const MAX_TOP_K = 16;

/** Fixed-point requantization: Q31 multiplier in [0, 2^31), shift in [-31, 30], output zero point and type. */
export interface Requant {
  multiplier: number;
  shift: number;
  zeroPoint: number;
  type: QuantType;
}

/**
 * A contiguous range of layers [layerStart, layerEnd) of an installed int8 model, run on `batch` inputs. The layer
 * executor lives outside the orchestrator; the spec only says what to run and how many bytes go in and out.
 */
export interface ModelLayersSpec {
  kind: 'model';
  modelId: number;
  modelVersion: number;
  layerStart: number;
  layerEnd: number;
  batch: number;
  inputBytes: number;
  outputBytes: number;
}

export type JobSpec = GemmSpec | ModelLayersSpec;

/** Largest tensor a job may move in one direction (the data stream's offsets are 32-bit; this keeps jobs sane). */
export const MAX_JOB_BYTES = 64 * 1024 * 1024;
/** Dimensions are varints on the wire; keep products well inside double precision. */
export const MAX_DIM = 1 << 24;

function checkDim(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1 || v > MAX_DIM) throw new JobSpecError('BAD_SHAPE', `${name} must be an integer 1..${MAX_DIM}, got ${v}`);
}

/** Throws JobSpecError unless the spec is well formed and its tensors stay within MAX_JOB_BYTES. */
export function validateJobSpec(spec: JobSpec): void {
  if (!spec || typeof spec !== 'object') throw new JobSpecError('BAD_VALUE', 'job spec must be an object');
  switch (spec.kind) {
    case 'gemm': {
      checkDim('m', spec.m);
      checkDim('k', spec.k);
      checkDim('n', spec.n);
      for (const [name, type, zp] of [
        ['a', spec.aType, spec.aZeroPoint],
        ['b', spec.bType, spec.bZeroPoint],
      ] as const) {
        if (type !== 'uint8' && type !== 'int8') throw new JobSpecError('BAD_VALUE', `${name}Type must be uint8 or int8, got ${String(type)}`);
        const [lo, hi] = QUANT_RANGE[type];
        if (!Number.isInteger(zp) || zp < lo || zp > hi) throw new JobSpecError('BAD_VALUE', `${name}ZeroPoint ${zp} is not a ${type}`);
      }
      if (spec.requant !== undefined) {
        const q = spec.requant;
        if (!Number.isInteger(q.multiplier) || q.multiplier < 0 || q.multiplier > 0x7fffffff) throw new JobSpecError('BAD_VALUE', `requant multiplier must be a Q31 integer 0..2^31-1, got ${q.multiplier}`);
        if (!Number.isInteger(q.shift) || q.shift < -31 || q.shift > 30) throw new JobSpecError('BAD_VALUE', `requant shift must be -31..30, got ${q.shift}`);
        if (q.type !== 'uint8' && q.type !== 'int8') throw new JobSpecError('BAD_VALUE', `requant type must be uint8 or int8, got ${String(q.type)}`);
        const [lo, hi] = QUANT_RANGE[q.type];
        if (!Number.isInteger(q.zeroPoint) || q.zeroPoint < lo || q.zeroPoint > hi) throw new JobSpecError('BAD_VALUE', `requant zero point ${q.zeroPoint} is not a ${q.type}`);
      }
      if (spec.topK !== undefined && (!Number.isInteger(spec.topK) || spec.topK < 1 || spec.topK > Math.min(MAX_TOP_K, spec.n) || spec.n > 0x10000)) {
        throw new JobSpecError('BAD_VALUE', `topK must be an integer 1..${Math.min(MAX_TOP_K, spec.n)} on at most 65536 columns, got ${spec.topK} of ${spec.n}`);
      }
      if (spec.weights !== 'inline') {
        const id = spec.weights?.resident;
        if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new JobSpecError('BAD_VALUE', `resident weights id must be a u32, got ${String(id)}`);
      }
      break;
    }
    case 'model': {
      for (const [name, v, max] of [
        ['modelId', spec.modelId, 0xffff],
        ['modelVersion', spec.modelVersion, 0xffff],
        ['layerStart', spec.layerStart, 0xff],
        ['layerEnd', spec.layerEnd, 0xff],
      ] as const) {
        if (!Number.isInteger(v) || v < 0 || v > max) throw new JobSpecError('BAD_VALUE', `${name} must be an integer 0..${max}, got ${v}`);
      }
      if (spec.layerEnd <= spec.layerStart) throw new JobSpecError('BAD_VALUE', `layer range [${spec.layerStart}, ${spec.layerEnd}) is empty`);
      checkDim('batch', spec.batch);
      for (const [name, v] of [
        ['inputBytes', spec.inputBytes],
        ['outputBytes', spec.outputBytes],
      ] as const) {
        if (!Number.isInteger(v) || v < 1) throw new JobSpecError('BAD_VALUE', `${name} must be a positive integer, got ${v}`);
      }
      break;
    }
    default:
      throw new JobSpecError('UNSUPPORTED_KIND', `unknown job kind ${JSON.stringify((spec as { kind?: unknown }).kind)}`);
  }
  if (inputBytes(spec) > MAX_JOB_BYTES || outputBytes(spec) > MAX_JOB_BYTES) {
    throw new JobSpecError('TOO_LARGE', `job moves more than ${MAX_JOB_BYTES} bytes in one direction`);
  }
}

/** Bytes of input the worker needs: A, plus B unless it is resident. */
export function inputBytes(spec: JobSpec): number {
  if (spec.kind === 'model') return spec.inputBytes;
  return spec.m * spec.k + (spec.weights === 'inline' ? spec.k * spec.n : 0);
}

/** Bytes of result: int32 per output element, or one byte when requantized; top-k: k (column u16, value) per row. */
export function outputBytes(spec: JobSpec): number {
  if (spec.kind === 'model') return spec.outputBytes;
  if (spec.topK !== undefined) return spec.m * spec.topK * (2 + outputElementBytes(spec));
  return spec.m * spec.n * outputElementBytes(spec);
}

/** The same job with its full output (what an executor computes before the top-k is taken). */
export function fullOutputSpec(spec: JobSpec): JobSpec {
  if (spec.kind !== 'gemm' || spec.topK === undefined) return spec;
  const { topK: _topK, ...full } = spec;
  return full;
}

/** The top-k form of a full GEMM output (`full` as the executor returns it for `fullOutputSpec(spec)`). */
export function selectTopK(spec: GemmSpec, full: Uint8Array): Uint8Array {
  const k = spec.topK;
  if (k === undefined) return full;
  const el = outputElementBytes(spec);
  if (full.length !== spec.m * spec.n * el) throw new JobSpecError('BAD_SHAPE', `full output has ${full.length} bytes, expected ${spec.m * spec.n * el}`);
  const view = new DataView(full.buffer, full.byteOffset, full.byteLength);
  const signed = el === 4 || spec.requant?.type === 'int8';
  const value = (i: number): number => (el === 4 ? view.getInt32(i * 4, true) : signed ? view.getInt8(i) : view.getUint8(i));
  const out = new Uint8Array(outputBytes(spec));
  const ov = new DataView(out.buffer);
  const cols = Array.from({ length: spec.n }, (_, c) => c);
  for (let r = 0; r < spec.m; r++) {
    const base = r * spec.n;
    const best = cols.slice().sort((a, b) => value(base + b) - value(base + a) || a - b).slice(0, k);
    best.forEach((c, j) => {
      const at = (r * k + j) * (2 + el);
      ov.setUint16(at, c, true);
      if (el === 4) ov.setInt32(at + 2, value(base + c), true);
      else out[at + 2] = full[base + c] as number;
    });
  }
  return out;
}

export function outputElementBytes(spec: GemmSpec): number {
  return spec.requant ? 1 : 4;
}

/**
 * Integer operations (a multiply-add counts as two). For a model range the per-layer counts come from the model's
 * profile; without one the caller must supply them, so this returns null.
 */
export function opsOf(spec: JobSpec): number | null {
  if (spec.kind === 'gemm') return 2 * spec.m * spec.k * spec.n;
  return null;
}

/**
 * Working memory a worker needs: input, output, the int32 accumulators and, for GEMM, the packed copy of B (int16
 * pairs in the worst case) plus B itself when it is resident.
 */
export function memoryBytes(spec: JobSpec): number {
  if (spec.kind === 'model') return spec.inputBytes + spec.outputBytes;
  const packed = spec.k * spec.n * 2;
  const resident = spec.weights === 'inline' ? 0 : spec.k * spec.n;
  const acc = spec.requant ? spec.m * spec.n * 4 : 0;
  const full = spec.topK !== undefined ? spec.m * spec.n * outputElementBytes(spec) : 0;
  return inputBytes(spec) + outputBytes(spec) + full + packed + resident + acc;
}

/** Resident weights ids name a tensor of an installed model: model id in the high 16 bits, tensor index low. */
export function residentWeightsId(modelId: number, tensor: number): number {
  if (!Number.isInteger(modelId) || modelId < 1 || modelId > 0xffff || !Number.isInteger(tensor) || tensor < 0 || tensor > 0xffff) {
    throw new JobSpecError('BAD_VALUE', `resident weights need a model id 1..65535 and a tensor index 0..65535, got ${modelId}/${tensor}`);
  }
  return ((modelId << 16) | tensor) >>> 0;
}

/** The model a job's resident weights belong to (0 when the weights travel with the job). */
export function requiredModel(spec: JobSpec): number {
  if (spec.kind === 'model') return spec.modelId;
  return spec.weights === 'inline' ? 0 : spec.weights.resident >>> 16;
}

/** Rows [start, end) of a GEMM as its own job (a batch shard). */
export function gemmRows(spec: GemmSpec, start: number, end: number): GemmSpec {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > spec.m || end <= start) {
    throw new JobSpecError('BAD_SHAPE', `row range [${start}, ${end}) is outside 0..${spec.m}`);
  }
  return { ...spec, m: end - start };
}

/** Columns [start, end) of a GEMM as its own job (each worker gets all of A and a slice of B). */
export function gemmCols(spec: GemmSpec, start: number, end: number): GemmSpec {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > spec.n || end <= start) {
    throw new JobSpecError('BAD_SHAPE', `column range [${start}, ${end}) is outside 0..${spec.n}`);
  }
  if (spec.weights !== 'inline') throw new JobSpecError('BAD_SHAPE', 'resident weights cannot be split by column');
  if (spec.topK !== undefined) throw new JobSpecError('BAD_SHAPE', 'a top-k result needs every column of a row: it cannot be split by column');
  return { ...spec, n: end - start };
}

export function describeSpec(spec: JobSpec): string {
  if (spec.kind === 'gemm') {
    const w = spec.weights === 'inline' ? 'inline B' : `resident B #${spec.weights.resident}`;
    const out = `${spec.requant ? `${spec.requant.type} out` : 'int32 out'}${spec.topK !== undefined ? `, top-${spec.topK}` : ''}`;
    return `${spec.m === 1 ? 'GEMV' : 'GEMM'} ${spec.m}x${spec.k}x${spec.n} (${spec.aType} A, ${spec.bType} ${w}, ${out})`;
  }
  return `model ${spec.modelId} v${spec.modelVersion} layers [${spec.layerStart}, ${spec.layerEnd}) x${spec.batch}`;
}
