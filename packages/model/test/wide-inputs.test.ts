// 16-bit layer inputs: quantized to uint16 and multiplied as two uint8 digits on the int8 kernel. The sum of the two
// products is the exact integer product, the result is the same on every kernel build, the activation error falls
// far below 8-bit's, and the bundle format carries the width (and refuses it where it cannot be).
import { Prng } from '@compotastic/mesh';
import { beforeAll, describe, expect, it } from 'vitest';
import { KERNEL_BUILDS, type Kernel, loadKernel } from '@compotastic/kernel';
import { runFloat, type TensorMap } from '../src/graph/float-exec.js';
import { importOnnx } from '../src/graph/import.js';
import type { FloatGraph } from '../src/graph/ir.js';
import { graph } from '../src/onnx/builder.js';
import { decodeModel, encodeModel } from '../src/onnx/proto.js';
import { tensor } from '../src/onnx/tensor.js';
import { Int8Executor } from '../src/quant/executor.js';
import { Int8FormatError, decodeInt8Model, encodeInt8Model } from '../src/quant/format.js';
import { measureMemory } from '../src/quant/memory.js';
import { type Int8Model, calibrate, quantizeWithRanges, roundHalfEven } from '../src/quant/quantize.js';

const CIN = 3, COUT = 5, H = 9, W = 7;

/** A conv over inputs that are mostly small with a few large values, where an 8-bit step is coarse. */
function convGraph(seed: number): FloatGraph {
  const prng = new Prng(seed);
  const w = Float32Array.from({ length: COUT * CIN * 9 }, () => prng.gaussian(0, 0.3));
  const b = Float32Array.from({ length: COUT }, () => prng.gaussian(0, 0.1));
  return importOnnx(decodeModel(encodeModel(graph('conv')
    .input('x', 'float32', [1, CIN, H, W])
    .initializer('w', tensor('float32', [COUT, CIN, 3, 3], w)).initializer('b', tensor('float32', [COUT], b))
    .node('Conv', ['x', 'w', 'b'], ['y'], { pads: [1, 1, 1, 1] })
    .output('y', 'float32', [1, COUT, H, W])
    .model({ opset: 17 }))));
}

function input(prng: Prng): TensorMap {
  const data = Float32Array.from({ length: CIN * H * W }, () => prng.gaussian(0, 0.2) + (prng.float() < 0.02 ? 12 : 0));
  return new Map([['x', { dims: [1, CIN, H, W], data }]]);
}

function quantized(g: FloatGraph, samples: TensorMap[], wide: boolean): Int8Model {
  return quantizeWithRanges(g, calibrate(g, samples), { wideInputs: new Set(wide ? [0] : []) });
}

/** The layer in plain integer arithmetic: uint16 inputs, int8 weights, summed exactly, then scaled. */
function reference(model: Int8Model, x: Float32Array): Float64Array {
  const l = model.linears.get(0)!;
  const q = Array.from(x, (v) => Math.min(65535, Math.max(0, roundHalfEven(v / l.inputScale) + l.inputZeroPoint)) - l.inputZeroPoint);
  const out = new Float64Array(COUT * H * W);
  for (let c = 0; c < COUT; c++) {
    for (let y = 0; y < H; y++) {
      for (let xx = 0; xx < W; xx++) {
        let acc = 0;
        for (let ci = 0; ci < CIN; ci++) {
          for (let ky = 0; ky < 3; ky++) {
            for (let kx = 0; kx < 3; kx++) {
              const iy = y + ky - 1, ix = xx + kx - 1;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              acc += q[(ci * H + iy) * W + ix]! * l.weights[((ci * 3 + ky) * 3 + kx) * COUT + c]!;
            }
          }
        }
        out[(c * H + y) * W + xx] = (acc + l.bias[c]!) * Math.fround(l.inputScale * l.weightScales[c]!);
      }
    }
  }
  return out;
}

describe('16-bit layer inputs', () => {
  let kernel: Kernel;
  beforeAll(async () => {
    kernel = await loadKernel();
  });

  it('equal the exact integer product, on every kernel build', async () => {
    const g = convGraph(1);
    const prng = new Prng(2);
    const model = quantized(g, [input(prng), input(prng)], true);
    expect(model.linears.get(0)!.inputBits).toBe(16);
    expect(model.linears.get(0)!.inputZeroPoint).toBeGreaterThan(255);
    const x = input(prng);
    const want = Float32Array.from(reference(model, x.get('x')!.data));
    for (const build of KERNEL_BUILDS) {
      const exec = Int8Executor.create(await loadKernel({ build }), model);
      expect(exec.run(x).get('y')!.data).toEqual(want);
      exec.dispose();
    }
  });

  it('cut the error against float well below 8-bit inputs', () => {
    const g = convGraph(3);
    const prng = new Prng(4);
    const calibration = Array.from({ length: 4 }, () => input(prng));
    const heldOut = Array.from({ length: 4 }, () => input(prng));
    const error = (model: Int8Model) => {
      const exec = Int8Executor.create(kernel, model);
      let sq = 0;
      for (const x of heldOut) {
        const q = exec.run(x).get('y')!.data, f = runFloat(g, x).get('y')!.data;
        for (let i = 0; i < f.length; i++) sq += (q[i]! - f[i]!) ** 2;
      }
      exec.dispose();
      return sq;
    };
    expect(error(quantized(g, calibration, true))).toBeLessThan(0.25 * error(quantized(g, calibration, false)));
  });

  it('travel in the bundle, which refuses a width or zero point it cannot hold', () => {
    const g = convGraph(5);
    const prng = new Prng(6);
    const model = quantized(g, [input(prng)], true);
    const parts = encodeInt8Model(model);
    const back = decodeInt8Model(parts);
    expect(back.linears.get(0)!.inputBits).toBe(16);
    expect(back.linears.get(0)!.inputZeroPoint).toBe(model.linears.get(0)!.inputZeroPoint);
    const x = input(prng);
    const a = Int8Executor.create(kernel, model), b = Int8Executor.create(kernel, back);
    expect(b.run(x).get('y')!.data).toEqual(a.run(x).get('y')!.data);
    // Two digit arrays and a wider accumulator: more arena than the 8-bit layer.
    const narrow = quantized(g, [input(prng)], false);
    const c = Int8Executor.create(kernel, narrow);
    expect(measureMemory(b, parts, x).peakArenaBytes).toBeGreaterThan(measureMemory(c, encodeInt8Model(narrow), x).peakArenaBytes);
    for (const e of [a, b, c]) e.dispose();
    const edit = (f: (cfg: { version: number; linears: { inputBits?: number; inputZeroPoint: number }[] }) => void) => {
      const cfg = JSON.parse(new TextDecoder().decode(parts.config));
      f(cfg);
      return { config: new TextEncoder().encode(JSON.stringify(cfg)), weights: parts.weights };
    };
    expect(() => decodeInt8Model(edit((c) => { c.linears[0]!.inputBits = 12; }))).toThrow(Int8FormatError);
    expect(() => decodeInt8Model(edit((c) => { c.version = 2; }))).toThrow(/input bits/);
    expect(() => decodeInt8Model(edit((c) => { c.linears[0]!.inputZeroPoint = 65536; }))).toThrow(/zero point/);
    expect(() => decodeInt8Model(edit((c) => { delete c.linears[0]!.inputBits; }))).toThrow(/zero point/);
  });
});
