import { crc32, Prng } from '@compotastic/mesh';
import { loadKernel, type Kernel } from '@compotastic/kernel';
import { beforeAll, describe, expect, it } from 'vitest';
import { JobSpecError } from '../src/errors.js';
import { ExecutionError, ExecutorChain, KernelExecutor, MapWeightStore, ModelLayerExecutor, OnnxExecutor, ReferenceExecutor } from '../src/jobs/executor.js';
import { type ShardSlice, mergeOutputs, proportionalRanges, sliceInput, sliceSpec } from '../src/jobs/split.js';
import { type GemmSpec, type JobSpec, inputBytes, outputBytes, residentWeightsId, validateJobSpec } from '../src/jobs/spec.js';
import { InboundStream, chunksOf } from '../src/jobs/stream.js';
import { gemmOracle } from './oracle.js';

let kernel: Kernel;
beforeAll(async () => {
  kernel = await loadKernel({ build: 'scalar' });
});

const gemm = (m: number, k: number, n: number, extra: Partial<GemmSpec> = {}): GemmSpec => ({ kind: 'gemm', m, k, n, aType: 'uint8', bType: 'int8', aZeroPoint: 7, bZeroPoint: -2, weights: 'inline', ...extra });

describe('job specs and splitting', () => {
  it('validates shapes, zero points and requantization with typed errors', () => {
    expect(() => validateJobSpec(gemm(0, 4, 4))).toThrow(JobSpecError);
    expect(() => validateJobSpec(gemm(1, 4, 4, { aZeroPoint: 300 }))).toThrow(JobSpecError);
    expect(() => validateJobSpec(gemm(1, 4, 4, { requant: { multiplier: 2 ** 31, shift: 0, zeroPoint: 0, type: 'int8' } }))).toThrow(JobSpecError);
    expect(() => validateJobSpec({ kind: 'model', modelId: 1, modelVersion: 1, layerStart: 3, layerEnd: 3, batch: 1, inputBytes: 1, outputBytes: 1 })).toThrow(JobSpecError);
    expect(() => validateJobSpec({ kind: 'conv' } as unknown as JobSpec)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_KIND' }));
    expect(() => validateJobSpec(gemm(8192, 8192, 8192))).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    expect(inputBytes(gemm(3, 5, 7))).toBe(15 + 35);
    expect(outputBytes(gemm(3, 5, 7))).toBe(84);
    expect(outputBytes(gemm(3, 5, 7, { requant: { multiplier: 1 << 30, shift: -4, zeroPoint: 0, type: 'int8' } }))).toBe(21);
  });

  it('splits a GEMM by rows or columns and merges the shard outputs into the full result', async () => {
    const r = new Prng(5);
    const exec = new KernelExecutor(kernel);
    for (const [m, k, n] of [[7, 13, 11], [1, 64, 9], [12, 3, 20]] as const) {
      const spec = gemm(m, k, n);
      const input = r.bytes(inputBytes(spec));
      const whole = await exec.run(spec, input);
      expect(whole).toEqual(gemmOracle(spec, input));
      for (const axis of ['rows', 'cols'] as const) {
        const units = axis === 'rows' ? m : n;
        const parts = Math.min(3, units);
        const slices: ShardSlice[] = proportionalRanges(units, [3, 1, 2].slice(0, parts)).map(([start, end]) => ({ axis, start, end }));
        const outputs: Uint8Array[] = [];
        for (const s of slices) outputs.push(await exec.run(sliceSpec(spec, s), sliceInput(spec, input, s)));
        expect(mergeOutputs(spec, slices, outputs)).toEqual(gemmOracle(spec, input));
      }
    }
  });

  it('splits resident-weight and requantized jobs by rows', async () => {
    const r = new Prng(6);
    const weights = new MapWeightStore();
    const id = residentWeightsId(3, 1);
    const k = 40;
    const n = 24;
    weights.set(id, { bytes: r.bytes(k * n), k, n, type: 'int8' });
    const exec = new KernelExecutor(kernel, weights);
    const spec = gemm(9, k, n, { weights: { resident: id }, requant: { multiplier: 1 << 30, shift: -8, zeroPoint: 3, type: 'int8' } });
    const input = r.bytes(inputBytes(spec));
    const whole = await exec.run(spec, input);
    // Independent check of the requantization with the reference implementation.
    const expected = gemmOracle(spec, input, weights.get(id)?.bytes);
    expect(expected.length).toBe(9 * 24);
    expect(whole).toEqual(expected);
    const slices: ShardSlice[] = [{ axis: 'rows', start: 0, end: 4 }, { axis: 'rows', start: 4, end: 9 }];
    const outs = await Promise.all(slices.map((s) => exec.run(sliceSpec(spec, s), sliceInput(spec, input, s))));
    expect(mergeOutputs(spec, slices, outs)).toEqual(expected);
    expect(() => sliceSpec(spec, { axis: 'cols', start: 0, end: 2 })).toThrow(JobSpecError);
    await expect(new KernelExecutor(kernel).run(spec, input)).rejects.toThrow(expect.objectContaining({ code: 'MODEL_MISSING' }));
    await expect(exec.run(spec, input.subarray(1))).rejects.toThrow(ExecutionError);
  });

  it('proportional ranges cover everything, give every part at least one unit, and follow the weights', () => {
    expect(proportionalRanges(10, [1, 1])).toEqual([[0, 5], [5, 10]]);
    expect(proportionalRanges(3, [100, 1, 1])).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(proportionalRanges(100, [3, 1])).toEqual([[0, 75], [75, 100]]);
    expect(() => proportionalRanges(2, [1, 1, 1])).toThrow(JobSpecError);
  });

  it('runs GEMMs through onnxruntime-web with the reference int32 results, and leaves requantized ones to the kernel', async () => {
    const r = new Prng(8);
    const onnx = new OnnxExecutor();
    const spec = gemm(5, 33, 17, { aType: 'uint8', bType: 'int8', aZeroPoint: 128, bZeroPoint: 3 });
    const input = r.bytes(inputBytes(spec));
    expect(await onnx.run(spec, input)).toEqual(gemmOracle(spec, input));
    expect(onnx.supports({ ...spec, requant: { multiplier: 1 << 30, shift: 0, zeroPoint: 0, type: 'int8' } })).toBe(false);
    // An engine that is not the kernel: the chain must pass a requantized job on to the kernel, not to onnxruntime.
    const chain = new ExecutorChain([onnx, new KernelExecutor(kernel)]);
    const rq = { ...spec, requant: { multiplier: 1 << 30, shift: -6, zeroPoint: 0, type: 'int8' as const } };
    expect(await chain.run(rq, input)).toEqual(gemmOracle(rq, input));
  });

  it('the reference executor (what swarm results are checked against) matches the oracle on every spec variant', async () => {
    const r = new Prng(9);
    const weights = new MapWeightStore();
    const id = residentWeightsId(2, 0);
    weights.set(id, { bytes: r.bytes(24 * 10), k: 24, n: 10, type: 'int8' });
    const exec = new ReferenceExecutor(weights);
    const specs: GemmSpec[] = [
      gemm(3, 24, 10),
      gemm(2, 24, 10, { aType: 'int8', bType: 'uint8', aZeroPoint: -5, bZeroPoint: 200 }),
      gemm(4, 24, 10, { weights: { resident: id }, requant: { multiplier: 1 << 30, shift: -5, zeroPoint: -3, type: 'int8' } }),
      gemm(1, 24, 10, { requant: { multiplier: 1_500_000_000, shift: -6, zeroPoint: 100, type: 'uint8' } }),
    ];
    for (const spec of specs) {
      const input = r.bytes(inputBytes(spec));
      const b = spec.weights === 'inline' ? undefined : weights.get(id)?.bytes;
      expect(await exec.run(spec, input)).toEqual(gemmOracle(spec, input, b));
    }
    // A hand-computed case: A = [1 2], B = [[3 4] [5 6]] gives [13 16], int32 little endian.
    const tiny = gemm(1, 2, 2, { aZeroPoint: 0, bZeroPoint: 0 });
    expect(Array.from(await exec.run(tiny, Uint8Array.of(1, 2, 3, 4, 5, 6)))).toEqual([13, 0, 0, 0, 16, 0, 0, 0]);
    expect(exec.supports(gemm(1, 24, 10, { weights: { resident: id + 1 } }))).toBe(false);
  });

  it('hands model layer ranges to a pluggable runner and checks what comes back', async () => {
    const runner = {
      has: (id: number, v: number) => id === 4 && v === 2,
      runLayers: async (_id: number, _v: number, start: number, end: number, batch: number, input: Uint8Array) => Uint8Array.from({ length: batch * 2 }, (_, i) => (input[i] ?? 0) + start + end),
    };
    const exec = new ModelLayerExecutor(runner);
    const spec: JobSpec = { kind: 'model', modelId: 4, modelVersion: 2, layerStart: 1, layerEnd: 3, batch: 2, inputBytes: 6, outputBytes: 4 };
    expect(exec.supports(spec)).toBe(true);
    expect(Array.from(await exec.run(spec, Uint8Array.of(1, 2, 3, 4, 5, 6)))).toEqual([5, 6, 7, 8]);
    await expect(exec.run({ ...spec, outputBytes: 5 }, new Uint8Array(6))).rejects.toThrow(expect.objectContaining({ code: 'ENGINE' }));
    expect(exec.supports({ ...spec, modelVersion: 3 })).toBe(false);
  });

  it('streams reassemble out of order, report their gaps and verify the CRC-32', () => {
    const r = new Prng(10);
    const data = r.bytes(1000);
    const s = new InboundStream(1000, crc32(data));
    const chunks = [...chunksOf(data, () => 97)];
    const order = r.shuffle(chunks.slice());
    for (const [off, bytes] of order.slice(0, 8)) s.accept(off, bytes);
    const gaps = s.missing();
    expect(gaps.reduce((n, [, len]) => n + len, 0)).toBe(1000 - s.received);
    expect(s.accept(990, new Uint8Array(20))).toBe(false);
    for (const [off, bytes] of order) s.accept(off, bytes);
    expect(s.complete && s.verify()).toBe(true);
    const bad = new InboundStream(4, 123);
    bad.accept(0, Uint8Array.of(1, 2, 3, 4));
    expect(bad.verify()).toBe(false);
  });
});
