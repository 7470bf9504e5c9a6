// The expected result of a GEMM job, computed in the test with the kernel package's plain-TS reference: independent
// of the Wasm kernel, of onnxruntime and of the executors' own input parsing, so a result compared with it is checked
// for its arithmetic, not only for arriving intact.
import * as ref from '@compotastic/kernel/reference';
import type { GemmSpec } from '../src/jobs/spec.js';

/** Result bytes of `spec` on `input` (A, then B when inline); `b` gives resident weights. */
export function gemmOracle(spec: GemmSpec, input: Uint8Array, b?: Uint8Array): Uint8Array {
  const aLen = spec.m * spec.k;
  if (spec.weights !== 'inline' && !b) throw new Error('resident weights must be given');
  const bBytes = b ?? input.subarray(aLen);
  if (input.length !== aLen + (spec.weights === 'inline' ? spec.k * spec.n : 0) || bBytes.length !== spec.k * spec.n) throw new Error('operand sizes do not match the spec');
  const signed = (x: Uint8Array, type: GemmSpec['aType']) => (type === 'int8' ? Int8Array.from(x, (v) => (v << 24) >> 24) : x);
  const acc = ref.matmulInteger(signed(input.subarray(0, aLen), spec.aType), signed(bBytes, spec.bType), spec.m, spec.k, spec.n, [spec.aZeroPoint], [spec.bZeroPoint]);
  const q = spec.requant;
  if (q) return Uint8Array.from(ref.requantize(acc, spec.m, spec.n, [q.multiplier], [q.shift], q.zeroPoint, q.type), (v) => v & 0xff);
  const out = new Uint8Array(acc.length * 4);
  const view = new DataView(out.buffer);
  acc.forEach((v, i) => view.setInt32(i * 4, v, true));
  return out;
}
