import { describe, expect, it } from 'vitest';
import { KernelError, ShapeError, TypeMismatchError, ValueRangeError, onnx } from '../src/index.js';
import * as ref from '../src/reference/index.js';
import { allKernels, randomBytes } from './helpers.js';

/** Reference batched matmul by explicit numpy broadcasting over the leading dims. */
function refBatched(aDims: number[], bDims: number[], a: Int8Array | Uint8Array, b: Int8Array | Uint8Array, aZp: number, bZp: number) {
  const a2 = aDims.length === 1 ? [1, aDims[0]!] : aDims;
  const b2 = bDims.length === 1 ? [bDims[0]!, 1] : bDims;
  const [m, k] = a2.slice(-2) as [number, number];
  const n = b2[b2.length - 1]!;
  const ab = a2.slice(0, -2), bb = b2.slice(0, -2);
  const rank = Math.max(ab.length, bb.length);
  const pa = [...Array(rank - ab.length).fill(1), ...ab], pb = [...Array(rank - bb.length).fill(1), ...bb];
  const batch = pa.map((x, i) => Math.max(x, pb[i]!));
  const count = batch.reduce((p, d) => p * d, 1);
  const out: number[] = [];
  for (let flat = 0; flat < count; flat++) {
    const idx: number[] = [];
    let rem = flat;
    for (let d = rank - 1; d >= 0; d--) { idx[d] = rem % batch[d]!; rem = Math.floor(rem / batch[d]!); }
    let ai = 0, bi = 0;
    for (let d = 0; d < rank; d++) { ai = ai * pa[d]! + (pa[d] === 1 ? 0 : idx[d]!); bi = bi * pb[d]! + (pb[d] === 1 ? 0 : idx[d]!); }
    out.push(...ref.matmulInteger(a.subarray(ai * m * k, (ai + 1) * m * k), b.subarray(bi * k * n, (bi + 1) * k * n), m, k, n, [aZp], [bZp]));
  }
  return out;
}

describe('ONNX operator layer', () => {
  it('MatMulInteger follows numpy matmul rules: batches, broadcasting and 1-D operands', async () => {
    const shapes: [number[], number[], number[]][] = [
      [[2, 3, 5, 7], [7, 4], [2, 3, 5, 4]],
      [[3, 5, 7], [3, 7, 4], [3, 5, 4]],
      [[2, 1, 5, 7], [3, 7, 4], [2, 3, 5, 4]],
      [[5, 7], [2, 7, 4], [2, 5, 4]],
      [[7], [7, 4], [4]],
      [[5, 7], [7], [5]],
      [[7], [7], []],
      [[0, 7], [7, 3], [0, 3]],
    ];
    for (const k of await allKernels()) {
      for (const [si, [aDims, bDims, outDims]] of shapes.entries()) {
        const a = randomBytes(aDims.reduce((p, d) => p * d, 1), si + 1, false) as Uint8Array;
        const b = randomBytes(bDims.reduce((p, d) => p * d, 1), si + 50, true) as Int8Array;
        const y = onnx.matMulInteger(k, onnx.tensor('uint8', aDims, a), onnx.tensor('int8', bDims, b),
          onnx.tensor('uint8', [], [17]), onnx.tensor('int8', [], [-3]));
        expect(y.dims, JSON.stringify(aDims)).toEqual(outDims);
        expect(Array.from(y.data)).toEqual(refBatched(aDims, bDims, a, b, 17, -3));
      }
      expect(() => onnx.matMulInteger(k, onnx.tensor('uint8', [2, 3], new Uint8Array(6)), onnx.tensor('int8', [4, 2], new Int8Array(8)))).toThrow(ShapeError);
      expect(() => onnx.matMulInteger(k, onnx.tensor('uint8', [2, 2, 3], new Uint8Array(12)), onnx.tensor('int8', [3, 3, 2], new Int8Array(18)))).toThrow(ShapeError);
      expect(() => onnx.matMulInteger(k, onnx.tensor('float32', [1, 1], [1]), onnx.tensor('int8', [1, 1], [1]))).toThrow(TypeMismatchError);
      expect(k.arenaUsed).toBe(0);
    }
  });

  it('QuantizeLinear picks the output type from the zero point or output_dtype', async () => {
    const [k] = await allKernels();
    const x = onnx.tensor('float32', [2, 2], [-1, 0, 1, 300]);
    const s = onnx.tensor('float32', [], [1]);
    expect(onnx.quantizeLinear(k!, x, s).type).toBe('uint8');
    expect(Array.from(onnx.quantizeLinear(k!, x, s).data)).toEqual([0, 0, 1, 255]);
    expect(onnx.quantizeLinear(k!, x, s, undefined, { output_dtype: 3 }).type).toBe('int8');
    expect(Array.from(onnx.quantizeLinear(k!, x, s, onnx.tensor('int8', [], [-2])).data)).toEqual([-3, -2, -1, 127]);
    expect(() => onnx.quantizeLinear(k!, x, s, undefined, { output_dtype: 1 })).toThrow(TypeMismatchError);
    // Per-axis along axis 0 of a 2-D tensor.
    const y = onnx.quantizeLinear(k!, x, onnx.tensor('float32', [2], [1, 2]), onnx.tensor('uint8', [2], [10, 20]), { axis: 0 });
    expect(Array.from(y.data)).toEqual([9, 10, 20, 170]); // 1 / 2 = 0.5 rounds to 0 (even)
  });

  it('runs operators by name and rejects unknown ones and malformed tensors', async () => {
    const [k] = await allKernels();
    const [y, scale, zp] = onnx.runOp(k!, 'DynamicQuantizeLinear', [onnx.tensor('float32', [3], [0, 1, 2])]);
    expect(y!.dims).toEqual([3]);
    expect(scale!.data[0]).toBeCloseTo(2 / 255, 7);
    expect(zp!.data[0]).toBe(0);
    expect(() => onnx.runOp(k!, 'Conv', [])).toThrow(KernelError);
    expect(() => onnx.runOp(k!, 'MatMulInteger', [undefined])).toThrow(ShapeError);
    expect(() => onnx.tensor('int8', [2], [1, 200])).toThrow(ValueRangeError);
    expect(() => onnx.tensor('int8', [3], [1, 2])).toThrow(ShapeError);
    expect(() => onnx.tensor('int4' as never, [1], [1])).toThrow(TypeMismatchError);
  });
});
