import { Prng } from '@compotastic/mesh';
import { ConfigError, type GemmSpec, type JobSpec, MAX_TOP_K, MapWeightStore, PRIORITY_CLASSES, type PriorityClass, inputBytes, isPriorityClass, residentWeightsId } from '@compotastic/orchestrator';

/**
 * A job stream in a scenario's `app.jobs`. Each entry submits `count` jobs (default 1, or one every `everyS` until
 * the scenario ends), starting at `atS`, from a node matching `from`.
 */
export interface JobTemplate {
  id: string;
  /**
   * gemv/classify: one input row through a quantized layer (resident weights, int8 out); gemm/batch/reduce: `m` rows at
   * once. Plain numbers override the defaults.
   */
  kernel: 'gemv' | 'classify' | 'gemm' | 'batch' | 'reduce';
  m?: number;
  k?: number;
  n?: number;
  /** Where B lives: on the workers (installed model, the default) or shipped with the job. */
  weights?: 'resident' | 'inline';
  /** Requantize to int8 (default true: a quantized layer); false gives int32 accumulators. */
  requant?: boolean;
  /** Sizes the job when m/k are not given: bytes of A. */
  inputBytes?: number;
  deadlineS?: number;
  atS?: number;
  everyS?: number;
  count?: number;
  /** Submitting node: "any", a device class, a node index or a node name. */
  from?: string | number;
  /** The jobs' class; without it the swarm's mission profile gives it from the job's kind. */
  priority?: PriorityClass;
  /**
   * The form of the result: the full output rows, the class (top-1 column and its score) or the top `topK` of each
   * row. Default: 'class' for the classify kernel (what a classification needs), 'full' for the others.
   */
  result?: 'full' | 'class' | 'top-k';
  topK?: number;
}

const RESULTS = new Set(['full', 'class', 'top-k']);

const KERNELS = new Set(['gemv', 'classify', 'gemm', 'batch', 'reduce']);

function num(path: string, v: unknown, fallback: number | undefined, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new ConfigError('BAD_SCENARIO', `${path} must be a number ${min}..${max}, got ${JSON.stringify(v)}`);
  return v;
}

/** Read `app.jobs` from a scenario; throws ConfigError naming the bad field. */
export function parseWorkload(app: unknown): JobTemplate[] {
  if (app === undefined || app === null) return [];
  if (typeof app !== 'object') throw new ConfigError('BAD_SCENARIO', 'app must be an object');
  const jobs = (app as { jobs?: unknown }).jobs;
  if (jobs === undefined) return [];
  if (!Array.isArray(jobs)) throw new ConfigError('BAD_SCENARIO', 'app.jobs must be a list');
  return jobs.map((raw, i): JobTemplate => {
    const p = `app.jobs[${i}]`;
    if (!raw || typeof raw !== 'object') throw new ConfigError('BAD_SCENARIO', `${p} must be an object`);
    const j = raw as Record<string, unknown>;
    const kernel = j.kernel ?? 'gemv';
    if (typeof kernel !== 'string' || !KERNELS.has(kernel)) throw new ConfigError('BAD_SCENARIO', `${p}.kernel must be one of ${[...KERNELS].join(', ')}, got ${JSON.stringify(kernel)}`);
    const weights = j.weights ?? 'resident';
    if (weights !== 'resident' && weights !== 'inline') throw new ConfigError('BAD_SCENARIO', `${p}.weights must be resident or inline`);
    if (j.requant !== undefined && typeof j.requant !== 'boolean') throw new ConfigError('BAD_SCENARIO', `${p}.requant must be true or false`);
    if (j.priority !== undefined && !isPriorityClass(j.priority)) throw new ConfigError('BAD_SCENARIO', `${p}.priority must be one of ${PRIORITY_CLASSES.join(', ')}, got ${JSON.stringify(j.priority)}`);
    const result = j.result ?? (kernel === 'classify' ? 'class' : 'full');
    if (typeof result !== 'string' || !RESULTS.has(result)) throw new ConfigError('BAD_SCENARIO', `${p}.result must be one of ${[...RESULTS].join(', ')}, got ${JSON.stringify(result)}`);
    if (j.topK !== undefined && result !== 'top-k') throw new ConfigError('BAD_SCENARIO', `${p}.topK needs result "top-k"`);
    const topK = result === 'top-k' ? num(`${p}.topK`, j.topK, 3, 1, MAX_TOP_K) : undefined;
    const from = j.from ?? 'any';
    if (typeof from !== 'string' && typeof from !== 'number') throw new ConfigError('BAD_SCENARIO', `${p}.from must be a string or a node index`);
    return {
      id: typeof j.id === 'string' && j.id ? j.id : `job${i}`,
      kernel: kernel as JobTemplate['kernel'],
      m: num(`${p}.m`, j.m, undefined, 1, 65536),
      k: num(`${p}.k`, j.k, undefined, 1, 65536),
      n: num(`${p}.n`, j.n, undefined, 1, 65536),
      weights,
      requant: (j.requant as boolean | undefined) ?? true,
      inputBytes: num(`${p}.inputBytes`, j.inputBytes, undefined, 1, 1 << 24),
      deadlineS: num(`${p}.deadlineS`, j.deadlineS, 900, 1, 86_400),
      atS: num(`${p}.atS`, j.atS, 180, 0, 1e7),
      everyS: num(`${p}.everyS`, j.everyS, undefined, 1, 1e7),
      count: num(`${p}.count`, j.count, undefined, 1, 1e6),
      from,
      ...(j.priority !== undefined ? { priority: j.priority as PriorityClass } : {}),
      result: result as NonNullable<JobTemplate['result']>,
      ...(topK !== undefined ? { topK } : {}),
    };
  });
}

/** The id of the model that holds the resident weights of simulated workloads. */
export const WORKLOAD_MODEL_ID = 1;
export const WORKLOAD_MODEL_VERSION = 1;

/**
 * Int8 weights of the workload model: one tensor per distinct (k, n), generated from a seed so every node that "has
 * the model installed" holds the same bytes.
 */
export class WorkloadModel {
  readonly store = new MapWeightStore();
  private readonly shapes = new Map<string, number>();

  constructor(private readonly seed: number) {}

  tensor(k: number, n: number): number {
    const key = `${k}x${n}`;
    let idx = this.shapes.get(key);
    if (idx === undefined) {
      idx = this.shapes.size;
      this.shapes.set(key, idx);
      const rng = new Prng(this.seed).derive(`weights:${key}`);
      const bytes = rng.bytes(k * n);
      this.store.set(residentWeightsId(WORKLOAD_MODEL_ID, idx), { bytes, k, n, type: 'int8' });
    }
    return residentWeightsId(WORKLOAD_MODEL_ID, idx);
  }
}

/** The concrete job spec for a template (shape defaults: a 1024x256 layer for gemv, 32x256x64 for batches). */
export function specFor(t: JobTemplate, model: WorkloadModel): GemmSpec {
  const single = t.kernel === 'gemv' || t.kernel === 'classify';
  const k = t.k ?? (single ? (t.inputBytes ?? 1024) : 256);
  const m = single ? 1 : (t.m ?? Math.max(1, Math.floor((t.inputBytes ?? 32 * k) / k)));
  const n = t.n ?? (single ? 256 : 64);
  const spec: GemmSpec = {
    kind: 'gemm',
    m,
    k,
    n,
    aType: 'uint8',
    bType: 'int8',
    aZeroPoint: 128,
    bZeroPoint: 0,
    weights: t.weights === 'inline' ? 'inline' : { resident: model.tensor(k, n) },
  };
  if (t.requant !== false) {
    // A multiplier that maps the typical accumulator range of random int8 data back into int8.
    spec.requant = { multiplier: 1 << 30, shift: -Math.max(0, Math.round(Math.log2(Math.sqrt(k) * 64 * 128)) - 6), zeroPoint: 0, type: 'int8' };
  }
  if (t.result === 'class') spec.topK = 1;
  else if (t.result === 'top-k') spec.topK = Math.min(t.topK ?? 3, n);
  return spec;
}

/** Input bytes for a job: A from the job's own random stream, then B if the weights travel with the job. */
export function inputFor(spec: JobSpec, rng: Prng): Uint8Array {
  return rng.bytes(inputBytes(spec));
}
