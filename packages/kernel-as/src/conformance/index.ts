// Runs operator test cases (one JSON file per case, see the format below) on
// kernel builds and compares with the expected outputs.
//
// { "op": "MatMulInteger", "attrs": {...},
//   "inputs": [ {"name","type","dims","data"} | null, ... ],   (ONNX input order)
//   "outputs": [ {"name","type","dims","data"}, ... ],
//   "tolerance": 0 }                                           (max abs difference)

import type { Kernel } from '../kernel.js';
import { type Attributes, type Tensor, type TensorType, runOp, tensor } from '../onnx.js';

export interface CaseTensor {
  name?: string;
  type: TensorType;
  dims: number[];
  data: number[];
}

export interface ConformanceCase {
  op: string;
  attrs?: Attributes;
  inputs: (CaseTensor | null)[];
  outputs: CaseTensor[];
  tolerance?: number;
}

export interface CaseResult {
  passed: boolean;
  /** Why it failed (first mismatch, an error message, or a malformed case). */
  reason?: string;
  /** Largest absolute difference seen across outputs. */
  maxDiff: number;
}

/** Parses and validates the structure of a case; throws with a reason when malformed. */
export function parseCase(json: unknown): ConformanceCase {
  if (typeof json !== 'object' || json === null) throw new Error('case is not an object');
  const c = json as Record<string, unknown>;
  if (typeof c.op !== 'string') throw new Error('missing "op"');
  if (!Array.isArray(c.inputs)) throw new Error('missing "inputs" array');
  if (!Array.isArray(c.outputs) || c.outputs.length === 0) throw new Error('missing "outputs" array');
  const checkTensor = (t: unknown, where: string): CaseTensor => {
    if (typeof t !== 'object' || t === null) throw new Error(`${where} is not a tensor`);
    const x = t as Record<string, unknown>;
    if (typeof x.type !== 'string' || !Array.isArray(x.dims) || !Array.isArray(x.data)) {
      throw new Error(`${where} needs "type", "dims" and "data"`);
    }
    return x as unknown as CaseTensor;
  };
  const inputs = (c.inputs as unknown[]).map((t, i) => (t === null || t === undefined ? null : checkTensor(t, `inputs[${i}]`)));
  const outputs = (c.outputs as unknown[]).map((t, i) => checkTensor(t, `outputs[${i}]`));
  const tolerance = c.tolerance === undefined ? 0 : Number(c.tolerance);
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new Error('"tolerance" must be a non-negative number');
  const attrs = (typeof c.attrs === 'object' && c.attrs !== null ? c.attrs : {}) as Attributes;
  return { op: c.op, attrs, inputs, outputs, tolerance };
}

function toTensor(t: CaseTensor): Tensor {
  // float32 values are exact float32 numbers; Float32Array.from applies fround.
  return tensor(t.type, t.dims, t.data);
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Runs one case on one kernel and compares every output. */
export function runCase(kernel: Kernel, c: ConformanceCase): CaseResult {
  let actual: Tensor[];
  try {
    actual = runOp(kernel, c.op, c.inputs.map((t) => (t ? toTensor(t) : undefined)), c.attrs ?? {});
  } catch (err) {
    return { passed: false, reason: `error: ${(err as Error).message}`, maxDiff: Infinity };
  }
  const tol = c.tolerance ?? 0;
  let maxDiff = 0;
  for (const [i, expected] of c.outputs.entries()) {
    const got = actual[i];
    if (!got) return { passed: false, reason: `output ${i} (${expected.name ?? ''}) missing`, maxDiff: Infinity };
    if (got.type !== expected.type) return { passed: false, reason: `output ${i}: type ${got.type}, expected ${expected.type}`, maxDiff: Infinity };
    if (!sameDims(got.dims, expected.dims)) {
      return { passed: false, reason: `output ${i}: dims [${got.dims.join(', ')}], expected [${expected.dims.join(', ')}]`, maxDiff: Infinity };
    }
    if (got.data.length !== expected.data.length) {
      return { passed: false, reason: `output ${i}: ${got.data.length} values, expected ${expected.data.length}`, maxDiff: Infinity };
    }
    for (let j = 0; j < expected.data.length; j++) {
      const want = expected.type === 'float32' ? Math.fround(expected.data[j]!) : expected.data[j]!;
      const have = got.data[j]!;
      if (Number.isNaN(want) && Number.isNaN(have)) continue;
      const diff = Math.abs(have - want);
      if (!(diff <= tol)) {
        return { passed: false, reason: `output ${i} element ${j}: got ${have}, expected ${want} (tolerance ${tol})`, maxDiff: Math.max(maxDiff, diff) };
      }
      if (diff > maxDiff) maxDiff = diff;
    }
  }
  return { passed: true, maxDiff };
}
