// DynamicQuantizeLinear through the kernel's zero-copy tensor API gives what onnxruntime-web and onnxruntime-node
// give (data, scale and zero point, bit for bit) on seeded inputs, on every build; where ONNX Runtime has no finite
// answer (NaN, infinities, ranges without a float32 scale) the kernel throws the copying call's ValueRangeError.
import { type Kernel, type KernelBuild, ValueRangeError, loadKernel } from '@compotastic/kernel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '@compotastic/mesh';
import { floats } from '../src/peers/data.js';
import { dynamicQuantizeModel } from '../src/peers/onnx-models.js';
import { ortRunner } from '../src/peers/ort.js';

const BUILDS: KernelBuild[] = ['scalar', 'simd', 'relaxed'];
type OrtOutputs = Record<'y' | 'y_scale' | 'y_zero_point', { data: ArrayLike<number> }>;

/** ONNX Runtime's [y, scale, zero point] for x, on one backend. */
async function ort(backend: 'web' | 'node', x: Float32Array): Promise<{ data: number[]; scale: number; zeroPoint: number }> {
  const runner = await ortRunner(backend, dynamicQuantizeModel(x.length), { x: { type: 'float32', data: x, dims: [x.length] } });
  try {
    const out = (await runner.run()) as OrtOutputs;
    return { data: Array.from(out.y.data), scale: out.y_scale.data[0]!, zeroPoint: out.y_zero_point.data[0]! };
  } finally {
    await runner.dispose?.();
  }
}

/** Seeded inputs: odd lengths (the vector body and the scalar tail), all-equal, one-signed, wide and tiny ranges. */
function inputs(): Array<{ name: string; x: Float32Array }> {
  const rng = new Prng(2026);
  const scaled = (n: number, seed: number, f: (v: number) => number) => Float32Array.from(floats(n, seed), f);
  return [
    { name: 'empty', x: new Float32Array(0) },
    { name: 'one value', x: Float32Array.of(-0.3125) },
    ...[3, 17, 33, 101, 1023, 4097].map((n, i) => ({ name: `${n} values`, x: floats(n, 100 + i) })),
    { name: 'all equal, positive', x: new Float32Array(29).fill(2.5) },
    { name: 'all equal, negative', x: new Float32Array(31).fill(-7.75) },
    { name: 'all zero', x: new Float32Array(13) },
    { name: 'negative only', x: scaled(257, 7, (v) => -Math.abs(v) - 0.5) },
    { name: 'positive only', x: scaled(255, 8, (v) => Math.abs(v) + 0.25) },
    { name: 'wide range', x: scaled(65, 9, (v) => v * 4e36) },
    { name: 'tiny range', x: scaled(47, 10, (v) => v * 1e-36) },
    { name: 'mostly negative', x: scaled(99, 11, (v) => (rng.intBelow(10) === 0 ? Math.abs(v) * 1e-3 : -Math.abs(v))) },
  ];
}

describe('dynamicQuantizeLinearTensor against ONNX Runtime', () => {
  const kernels: Kernel[] = [];
  beforeAll(async () => {
    for (const build of BUILDS) kernels.push(await loadKernel({ build }));
  });
  afterAll(() => {
    for (const k of kernels) k.reset();
  });

  it.each(['web', 'node'] as const)('equals onnxruntime-%s bit for bit: data, scale and zero point, on every build', async (backend) => {
    const zeroPoints = new Set<number>();
    for (const { name, x } of inputs()) {
      const want = await ort(backend, x);
      zeroPoints.add(want.zeroPoint);
      for (const k of kernels) {
        const got = k.scope(() => {
          const r = k.dynamicQuantizeLinearTensor(k.tensor('float32', [x.length], x));
          return { data: Array.from(r.tensor.data), scale: r.scale, zeroPoint: r.zeroPoint };
        });
        expect(got, `${k.build}: ${name}`).toEqual(want);
        expect(k.arenaUsed).toBe(0);
      }
    }
    // The inputs pin the zero point at both ends and in between.
    expect(zeroPoints.has(0) && zeroPoints.has(255) && zeroPoints.size > 4).toBe(true);
  });

  it('throws the copying call\'s ValueRangeError where ONNX Runtime returns no finite, non-zero scale, and on NaN', async () => {
    const cases: Array<{ name: string; x: Float32Array; ortScale?: 'non-finite' | 'zero' }> = [
      { name: '+Infinity', x: Float32Array.of(1, Infinity, -2), ortScale: 'non-finite' },
      { name: '-Infinity', x: Float32Array.of(1, -Infinity, 2), ortScale: 'non-finite' },
      { name: 'range beyond float32', x: Float32Array.of(3e38, -3e38), ortScale: 'non-finite' },
      { name: 'range below 128 * 2^-149', x: Float32Array.of(127 * 2 ** -149), ortScale: 'zero' },
      // onnxruntime's answer depends on where the NaN sits: left out of the range and quantized to 0 in a short input,
      // a NaN scale deep in a long one. No answer to match.
      { name: 'NaN', x: Float32Array.of(1, NaN, -2) },
    ];
    for (const { name, x, ortScale } of cases) {
      // A non-finite value also deep in a longer input, past the vector body (a range is one input's alone).
      const long = floats(77, 12);
      long.set(x, 70);
      for (const input of name.startsWith('range') ? [x] : [x, long]) {
        for (const backend of ortScale === undefined ? [] : ['web', 'node'] as const) {
          const scale = (await ort(backend, input)).scale;
          const kind = !Number.isFinite(scale) ? 'non-finite' : scale === 0 ? 'zero' : 'finite';
          expect(kind, `onnxruntime-${backend}: ${name}`).toBe(ortScale);
        }
        for (const k of kernels) {
          let copying: Error | undefined;
          try {
            k.dynamicQuantizeLinear(input);
          } catch (err) {
            copying = err as Error;
          }
          expect(copying, `${k.build}: ${name}`).toBeInstanceOf(ValueRangeError);
          const t = k.tensor('float32', [input.length], input);
          expect(() => k.dynamicQuantizeLinearTensor(t), `${k.build}: ${name}`).toThrow(ValueRangeError);
          expect(() => k.dynamicQuantizeLinearTensor(t)).toThrow(copying!.message);
          t.free();
          expect(k.arenaUsed).toBe(0);
        }
      }
    }
  });
});
