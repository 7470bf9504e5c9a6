// Seeded inputs for the benchmarks (the same bytes in every process and run)
// and output comparison for verification.
import { Prng } from '@compotastic/mesh';

export function randomBytes(n: number, seed: number, signed: boolean): Uint8Array | Int8Array {
  const bytes = new Prng(seed >>> 0).bytes(n);
  return signed ? new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length) : bytes;
}

/** Floats in [-8, 8) on a 1/4096 grid: with scale 1/32 they include exact ties and values that saturate. */
export function quantFloats(n: number, seed: number): Float32Array {
  const rng = new Prng(seed >>> 0);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng.intBelow(65536) - 32768) / 4096;
  return out;
}

/** Floats in [-8, 8) with full mantissas. */
export function floats(n: number, seed: number): Float32Array {
  const rng = new Prng(seed >>> 0);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-8, 8);
  return out;
}

type Values = ArrayLike<number | bigint>;

function isValues(v: unknown): v is Values {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

/**
 * The main output of a contender's call, whatever its shape: a typed array, an
 * object with `data` (a kernel result or an ONNX Runtime tensor), an array of
 * outputs, or ONNX Runtime's output map (its first output).
 */
export function outputData(output: unknown): Values | undefined {
  if (isValues(output)) return output;
  if (Array.isArray(output)) return outputData(output[0]);
  if (typeof output === 'object' && output !== null) {
    if ('data' in output) return outputData((output as { data: unknown }).data);
    const first = Object.values(output)[0];
    return first === undefined ? undefined : outputData(first);
  }
  return undefined;
}

/** Undefined when equal (NaN equals NaN), otherwise where they first differ. */
export function sameValues(actual: Values, expected: Values): string | undefined {
  if (actual.length !== expected.length) return `${actual.length} values, expected ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (a !== e && !(Number.isNaN(a) && Number.isNaN(e))) return `value ${i} is ${a}, expected ${e}`;
  }
  return undefined;
}
