// The kernel suite: every kernel of @compotastic/kernel in its three builds
// (scalar, simd, relaxed SIMD in a child process), against onnxruntime-web
// (Wasm, one thread), onnxruntime-node (native, one thread, the hardware
// ceiling) and good plain JavaScript, all measured in the same run.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { ABI_VERSION, type Kernel, type KernelBuild, type PackedMatrix } from '@compotastic/kernel';
import { type BinaryPair, type BinaryPairSpec, BINARY_PAIRS, fetchBinaryPair } from '../fixtures/npm-binaries.js';
import { type BenchCase, type Contender, type RatioSpec, type Runner, type SetupContext, SkipContender, defineSuite } from '../harness/suite.js';
import { jsApplyPatch, jsDeltaDecode, jsDeltaEncode, jsDequantize, jsDynamicQuantize, jsGemm, jsPackB, jsQuantize } from '../peers/js.js';
import { dequantizeModel, dynamicQuantizeModel, matmulIntegerModel, quantizeModel } from '../peers/onnx-models.js';
import { type OrtInput, ortRunner, ortVersions } from '../peers/ort.js';
import { ArenaScratch, BUILDS, ours, oursTensor, status } from '../peers/ours.js';
import { floats, outputData, quantFloats, randomBytes, sameValues } from '../peers/data.js';

const A_ZERO_POINT = 128;
const Q_SCALE = 1 / 32;
const Q_ZERO_POINT = 128;
const DQ_SCALE = 0.05;

function peer(id: 'ort-web' | 'ort-node' | 'js', setup: (ctx: SetupContext) => Runner | Promise<Runner>): Contender {
  const labels = { 'ort-web': 'onnxruntime-web (wasm, 1 thread)', 'ort-node': 'onnxruntime-node (native, 1 thread)', js: 'plain JS' };
  return { id, role: 'peer', label: labels[id], setup };
}

/** Headline builds against every peer, plus the build-to-build ratios. */
function standardRatios(peers: readonly string[]): RatioSpec[] {
  const out: RatioSpec[] = [];
  for (const b of BUILDS) for (const p of peers) out.push({ ours: b, peer: p });
  out.push({ ours: 'simd', peer: 'scalar' }, { ours: 'relaxed', peer: 'simd' });
  return out;
}

/** Why onnxruntime's native MatMulInteger can differ from the exact product on some CPUs (see saturatingGemm). */
export const INT16_SATURATION = 'saturates pairs of products to int16 (onnxruntime MLAS u8s8 without AVX-VNNI)';

/**
 * The uint8 x int8 product as MLAS computes it on x86 CPUs without AVX-VNNI: pmaddubsw adds each pair of adjacent-k
 * products into an int16 with saturation, then the pairs are summed exactly and the zero point is folded in.
 */
export function saturatingGemm(a: Uint8Array, b: Int8Array, m: number, k: number, n: number, aZeroPoint: number): Int32Array {
  const out = new Int32Array(m * n);
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) {
      let acc = 0;
      let sumB = 0;
      for (let i = 0; i < k; i += 2) {
        const pair = a[r * k + i]! * b[i * n + c]! + (i + 1 < k ? a[r * k + i + 1]! * b[(i + 1) * n + c]! : 0);
        acc += Math.max(-32768, Math.min(32767, pair));
      }
      for (let i = 0; i < k; i++) sumB += b[i * n + c]!;
      out[r * n + c] = acc - aZeroPoint * sumB;
    }
  }
  return out;
}

/**
 * Checks a contender's output against `expected`. A wrong result that equals `explained()` (a peer's known, documented
 * arithmetic) is reported with that explanation, so the report says why instead of only that it differs.
 */
function verifyAgainst(expected: () => ArrayLike<number | bigint>, explained?: { contender: string; reason: string; values: () => ArrayLike<number> }) {
  let cached: ArrayLike<number | bigint> | undefined;
  return (contender: string, output: unknown): string | undefined => {
    cached ??= expected();
    const data = outputData(output);
    if (!data) return `${contender} returned no tensor`;
    const wrong = sameValues(data, cached);
    if (wrong && explained?.contender === contender && sameValues(data, explained.values()) === undefined) return `${explained.reason}: ${wrong}`;
    return wrong;
  };
}

// ---------------------------------------------------------------------------
// MatMulInteger

function matmulCase(group: string, m: number, k: number, n: number): BenchCase {
  const seed = m * 7919 + k * 31 + n;
  const a = () => randomBytes(m * k, seed, false) as Uint8Array;
  const b = () => randomBytes(k * n, seed + 1, true) as Int8Array;
  let packedJs: ReturnType<typeof jsPackB> | undefined;
  const js = () => (packedJs ??= jsPackB(b(), k, n));
  const contenders: Contender[] = [];
  for (const build of BUILDS) {
    contenders.push(ours(build, false, (kernel) => {
      const packed = kernel.packWeights(b(), k, n, 0);
      const input = a();
      return { run: () => kernel.matmulInteger(input, m, packed, A_ZERO_POINT), dispose: () => packed.dispose() };
    }));
  }
  for (const build of BUILDS) {
    contenders.push(ours(build, true, (kernel) => rawMatmul(kernel, a(), b(), m, k, n)));
  }
  const inputs = (): Record<string, OrtInput> => ({ A: { type: 'uint8', data: a(), dims: [m, k] } });
  contenders.push(
    peer('ort-web', () => ortRunner('web', matmulIntegerModel(m, k, n, b(), A_ZERO_POINT), inputs())),
    peer('ort-node', () => ortRunner('node', matmulIntegerModel(m, k, n, b(), A_ZERO_POINT), inputs())),
    peer('js', () => {
      const input = a(), packed = js();
      return { run: () => jsGemm(input, m, packed, A_ZERO_POINT) };
    }),
  );
  return {
    id: `${group === 'call overhead' ? 'matmul' : group.toLowerCase()} ${m}x${k}x${n}`,
    group,
    work: { ops: 2 * m * k * n },
    contenders,
    ratios: standardRatios(['ort-web', 'ort-node', 'js']),
    verify: verifyAgainst(() => jsGemm(a(), m, js(), A_ZERO_POINT), {
      contender: 'ort-node', reason: INT16_SATURATION, values: () => saturatingGemm(a(), b(), m, k, n, A_ZERO_POINT),
    }),
    minIterations: m * k * n >= 2 ** 26 ? 5 : 10,
  };
}

/**
 * The same product with int8 and with uint8 activations: A as int8 with zero point 0, and the same values shifted to
 * uint8 with zero point 128, so every contender computes the same Y. Ours should not care which it gets; ONNX Runtime
 * Web takes a slow path for int8 activations.
 */
function signedActivationsCase(m: number, k: number, n: number): BenchCase {
  const seed = m * 7919 + k * 31 + n + 17;
  const aSigned = () => randomBytes(m * k, seed, true) as Int8Array;
  const aUnsigned = () => Uint8Array.from(aSigned(), (v) => v + 128);
  const b = () => randomBytes(k * n, seed + 1, true) as Int8Array;
  const contenders: Contender[] = [];
  for (const build of ['simd', 'relaxed'] as const) {
    for (const signed of [false, true]) {
      const c = ours(build, false, (kernel) => {
        const packed = kernel.packWeights(b(), k, n, 0);
        const input = signed ? aSigned() : aUnsigned();
        const zp = signed ? 0 : 128;
        return { run: () => kernel.matmulInteger(input, m, packed, zp), dispose: () => packed.dispose() };
      });
      contenders.push(signed ? { ...c, id: `${build} int8`, label: `${build}, int8 activations` } : { ...c, label: `${build}, uint8 activations` });
    }
  }
  contenders.push(peer('ort-web', () => ortRunner('web', matmulIntegerModel(m, k, n, b(), 0, 'int8'), { A: { type: 'int8', data: aSigned(), dims: [m, k] } })));
  return {
    id: `${m === 1 ? 'gemv' : 'gemm'} ${m}x${k}x${n} int8 activations`,
    group: 'int8 activations',
    work: { ops: 2 * m * k * n },
    contenders,
    ratios: [
      { ours: 'simd int8', peer: 'simd' }, { ours: 'relaxed int8', peer: 'relaxed' },
      { ours: 'simd int8', peer: 'ort-web' }, { ours: 'relaxed int8', peer: 'ort-web' },
    ],
    verify: verifyAgainst(() => jsGemm(aSigned(), m, jsPackB(b(), k, n), 0)),
    minIterations: m * k * n >= 2 ** 26 ? 5 : 10,
  };
}

function rawMatmul(kernel: Kernel, a: Uint8Array, b: Int8Array, m: number, k: number, n: number): Runner {
  const packed: PackedMatrix = kernel.packWeights(b, k, n, 0);
  const scratch = new ArenaScratch(kernel);
  const pa = scratch.put(a);
  const pz = scratch.put(Uint8Array.of(A_ZERO_POINT));
  const py = scratch.alloc(m * n * 4);
  const ex = kernel.exports;
  return {
    run: () => status('matmul_integer', ex.matmul_integer(pa, 0, m, k, pz, 1, packed.ptr, py)),
    output: () => new Int32Array(ex.memory.buffer.slice(py, py + m * n * 4)),
    dispose: () => {
      scratch.release();
      packed.dispose();
    },
  };
}

// ---------------------------------------------------------------------------
// Quantization

type QuantOp = 'QuantizeLinear' | 'DynamicQuantizeLinear' | 'DequantizeLinear';

function quantCase(op: QuantOp, n: number, group = 'quantization'): BenchCase {
  const seed = n + op.length;
  const x = () => (op === 'DynamicQuantizeLinear' ? floats(n, seed) : quantFloats(n, seed));
  const q = () => randomBytes(n, seed, false) as Uint8Array;
  const headline = (kernel: Kernel): Runner => {
    if (op === 'QuantizeLinear') {
      const input = x(), options = { scale: Q_SCALE, zeroPoint: Q_ZERO_POINT, type: 'uint8' as const };
      return { run: () => kernel.quantizeLinear(input, options) };
    }
    if (op === 'DynamicQuantizeLinear') {
      const input = x();
      return { run: () => kernel.dynamicQuantizeLinear(input) };
    }
    const input = q(), options = { scale: DQ_SCALE, zeroPoint: Q_ZERO_POINT };
    return { run: () => kernel.dequantizeLinear(input, options) };
  };
  const raw = (kernel: Kernel): Runner => {
    const s = new ArenaScratch(kernel);
    const ex = kernel.exports;
    let run: () => number;
    let output: () => unknown;
    if (op === 'DequantizeLinear') {
      const px = s.put(q()), ps = s.put(Float32Array.of(DQ_SCALE)), pz = s.put(Uint8Array.of(Q_ZERO_POINT)), py = s.alloc(n * 4);
      run = () => status(op, ex.dequantize_linear(px, 0, 1, n, 1, ps, pz, 0, 0, py));
      output = () => new Float32Array(ex.memory.buffer.slice(py, py + n * 4));
    } else if (op === 'QuantizeLinear') {
      const px = s.put(x()), ps = s.put(Float32Array.of(Q_SCALE)), pz = s.put(Uint8Array.of(Q_ZERO_POINT)), py = s.alloc(n);
      run = () => status(op, ex.quantize_linear(px, 1, n, 1, ps, pz, 0, 0, 0, py));
      output = () => s.bytes(py, n).slice();
    } else {
      const px = s.put(x()), py = s.alloc(n), pp = s.alloc(8);
      run = () => status(op, ex.dynamic_quantize_linear(px, n, py, pp));
      output = () => s.bytes(py, n).slice();
    }
    return { run, output, dispose: () => s.release() };
  };
  // The zero-copy API: input and output tensors made once, the run writes into the output.
  const tensorApi = (kernel: Kernel): Runner => {
    const dequantize = op === 'DequantizeLinear';
    const input = dequantize ? kernel.tensor('uint8', [n], q()) : kernel.tensor('float32', [n], x());
    const out = kernel.tensor(dequantize ? 'float32' : 'uint8', [n]);
    const qOptions = { scale: Q_SCALE, zeroPoint: Q_ZERO_POINT, type: 'uint8' as const };
    const dqOptions = { scale: DQ_SCALE, zeroPoint: Q_ZERO_POINT };
    return {
      run: dequantize ? () => kernel.dequantizeLinearTensor(input, dqOptions, out)
        : op === 'QuantizeLinear' ? () => kernel.quantizeLinearTensor(input, qOptions, out) : () => kernel.dynamicQuantizeLinearTensor(input, out),
      output: () => out.data.slice(),
      dispose: () => {
        out.free();
        input.free();
      },
    };
  };
  const model = () => (op === 'QuantizeLinear' ? quantizeModel(n, Q_SCALE, Q_ZERO_POINT)
    : op === 'DequantizeLinear' ? dequantizeModel(n, DQ_SCALE, Q_ZERO_POINT) : dynamicQuantizeModel(n));
  const inputs = (): Record<string, OrtInput> => ({
    x: op === 'DequantizeLinear' ? { type: 'uint8', data: q(), dims: [n] } : { type: 'float32', data: x(), dims: [n] },
  });
  const jsRun = (): Runner => {
    if (op === 'QuantizeLinear') {
      const input = x();
      return { run: () => jsQuantize(input, Q_SCALE, Q_ZERO_POINT) };
    }
    if (op === 'DynamicQuantizeLinear') {
      const input = x();
      return { run: () => jsDynamicQuantize(input) };
    }
    const input = q();
    return { run: () => jsDequantize(input, DQ_SCALE, Q_ZERO_POINT) };
  };
  const expected = () => {
    if (op === 'QuantizeLinear') return jsQuantize(x(), Q_SCALE, Q_ZERO_POINT);
    if (op === 'DynamicQuantizeLinear') return jsDynamicQuantize(x()).data;
    return jsDequantize(q(), DQ_SCALE, Q_ZERO_POINT);
  };
  const contenders: Contender[] = [
    ...BUILDS.map((b) => ours(b, false, headline)),
    ...BUILDS.map((b) => ours(b, true, raw)),
    ...BUILDS.map((b) => oursTensor(b, tensorApi)),
    peer('ort-web', () => ortRunner('web', model(), inputs())),
    peer('ort-node', () => ortRunner('node', model(), inputs())),
    peer('js', jsRun),
  ];
  const size = n >= 2 ** 20 ? `${n / 2 ** 20}M` : n >= 1024 ? `${n / 1024}K` : String(n);
  return {
    id: `${op} ${size}`,
    group,
    work: { bytes: op === 'DequantizeLinear' ? n : n * 4 },
    contenders,
    ratios: [
      ...standardRatios(['ort-web', 'ort-node', 'js']),
      ...BUILDS.flatMap((b) => [{ ours: `${b} tensor`, peer: 'ort-node' }, { ours: `${b} tensor`, peer: 'ort-web' }]),
    ],
    verify: verifyAgainst(expected),
  };
}

// ---------------------------------------------------------------------------
// Tensor deltas

function deltaCase(direction: 'encode' | 'decode', n: number): BenchCase {
  const old = () => randomBytes(n, 1, false) as Uint8Array;
  // The next version differs in a tenth of the bytes, like a fine-tuned weight file.
  const next = () => {
    const o = old(), r = randomBytes(n, 2, false) as Uint8Array, out = o.slice();
    for (let i = 0; i < n; i++) if (r[i]! < 26) out[i] = r[i]!;
    return out;
  };
  const second = () => (direction === 'encode' ? next() : jsDeltaEncode(old(), next()));
  const headline = (kernel: Kernel): Runner => {
    const a = old(), b = second();
    return { run: () => (direction === 'encode' ? kernel.deltaEncode(a, b) : kernel.deltaDecode(a, b)) };
  };
  const raw = (kernel: Kernel): Runner => {
    const s = new ArenaScratch(kernel);
    const pa = s.put(old()), pb = s.put(second()), po = s.alloc(n);
    const fn = direction === 'encode' ? kernel.exports.delta_encode : kernel.exports.delta_decode;
    return { run: () => status(`delta ${direction}`, fn(pa, pb, n, 0, po)), output: () => s.bytes(po, n).slice(), dispose: () => s.release() };
  };
  return {
    id: `delta ${direction} ${n / 2 ** 20} MiB`,
    group: 'tensor deltas',
    work: { bytes: n },
    contenders: [
      ...BUILDS.map((b) => ours(b, false, headline)),
      ...BUILDS.map((b) => ours(b, true, raw)),
      peer('js', () => {
        const a = old(), b = second();
        return { run: () => (direction === 'encode' ? jsDeltaEncode(a, b) : jsDeltaDecode(a, b)) };
      }),
    ],
    // The API figure is bound by copying 3 x n bytes across the JS/Wasm boundary (about 30x the export's time), so it
    // swings with other work's memory traffic; the raw export's ratio is the kernel's own.
    ratios: [...standardRatios(['js']), { ours: 'simd raw', peer: 'js' }],
    verify: verifyAgainst(() => (direction === 'encode' ? jsDeltaEncode(old(), next()) : next())),
  };
}

// ---------------------------------------------------------------------------
// Binary diff on real release pairs

// Short mode (the CI gate) waits less for npm: a slow or offline registry
// skips the binary cases, with the reason printed, instead of failing the run.
const FETCH_TIMEOUT_MS = { full: 300_000, short: 60_000 };

function binaryCases(spec: BinaryPairSpec, cacheDir: string, short: boolean): BenchCase[] {
  let pair: Promise<BinaryPair> | undefined;
  const load = (): Promise<BinaryPair> => {
    pair ??= fetchBinaryPair(spec, { cacheDir, timeoutMs: FETCH_TIMEOUT_MS[short ? 'short' : 'full'] });
    return pair.catch((err: unknown) => {
      throw new SkipContender(`${spec.pkg} ${spec.from} -> ${spec.to} unavailable (${err instanceof Error ? err.message : String(err)}); binary diff skipped`);
    });
  };
  let ops: Promise<{ ops: Int32Array; diff: Uint8Array; extra: Uint8Array }> | undefined;
  const patch = (kernel: Kernel, p: BinaryPair) => {
    ops ??= Promise.resolve().then(() => {
      const o = kernel.diff(p.old, p.next);
      return { ops: o, ...kernel.buildPatch(p.old, p.next, o) };
    });
    return ops;
  };
  const checkPatch = (p: Promise<BinaryPair>) => async (contender: string, output: unknown) => {
    const { old, next } = await p;
    const streams = output as { ops: Int32Array; diff: Uint8Array; extra: Uint8Array };
    const rebuilt = jsApplyPatch(old, streams.ops, streams.diff, streams.extra);
    return sameValues(rebuilt, next) ? `${contender}: the patch does not rebuild the new release` : undefined;
  };
  const work = (p: BinaryPair) => ({ bytes: p.next.length });
  const label = `${spec.id} ${spec.from}->${spec.to}`;
  const note = `${spec.kind} ${spec.path} from npm ${spec.pkg}`;
  const diffCase: BenchCase = {
    id: `diff ${label}`,
    group: 'binary diff',
    note,
    contenders: BUILDS.map((b) => ours(b, false, async (kernel) => {
      const p = await load();
      return {
        work: work(p),
        run: () => {
          const o = kernel.diff(p.old, p.next);
          return { ops: o, ...kernel.buildPatch(p.old, p.next, o) };
        },
      };
    })),
    ratios: [{ ours: 'simd', peer: 'scalar' }, { ours: 'relaxed', peer: 'simd' }],
    verify: (c, out) => checkPatch(pair!)(c, out),
    minIterations: 2,
  };
  const applyCase: BenchCase = {
    id: `apply ${label}`,
    group: 'binary diff',
    note,
    contenders: [
      ...BUILDS.map((b) => ours(b, false, async (kernel) => {
        const p = await load();
        const s = await patch(kernel, p);
        return { work: work(p), run: () => kernel.applyPatch(p.old, s.ops, s) };
      })),
      ...BUILDS.map((b) => ours(b, true, async (kernel) => {
        const p = await load();
        const s = await patch(kernel, p);
        const sc = new ArenaScratch(kernel);
        const po = sc.put(p.old), pops = sc.put(s.ops), pd = sc.put(s.diff), pe = sc.put(s.extra), py = sc.alloc(p.next.length);
        const ex = kernel.exports;
        return {
          work: work(p),
          run: () => status('patch_apply', ex.patch_apply(po, p.old.length, pops, s.ops.length / 3, pd, s.diff.length, pe, s.extra.length, py, p.next.length)),
          output: () => sc.bytes(py, p.next.length).slice(),
          dispose: () => sc.release(),
        };
      })),
      peer('js', async () => {
        const p = await load();
        const { kernelFor } = await import('../peers/ours.js');
        const s = await patch(await kernelFor('simd'), p);
        return { work: work(p), run: () => jsApplyPatch(p.old, s.ops, s.diff, s.extra) };
      }),
    ],
    ratios: standardRatios(['js']),
    verify: async (c, out) => {
      const data = outputData(out);
      return data ? sameValues(data, (await pair!).next) : `${c} returned no bytes`;
    },
    minIterations: 5,
  };
  return [diffCase, applyCase];
}

// ---------------------------------------------------------------------------

function kernelBuildFlags(): Record<string, unknown> {
  try {
    const require = createRequire(import.meta.url);
    return JSON.parse(readFileSync(require.resolve('@compotastic/kernel/build/builds.json'), 'utf8')) as Record<string, unknown>;
  } catch (err) {
    return { error: `builds.json unreadable: ${(err as Error).message}` };
  }
}

export default defineSuite({
  name: 'kernels',
  description: 'int8 Wasm kernels (scalar, SIMD128, relaxed SIMD) against onnxruntime-web, onnxruntime-node and plain JS',
  cases(env) {
    return [
      matmulCase('call overhead', 1, 1, 1),
      quantCase('QuantizeLinear', 1, 'call overhead'),
      matmulCase('GEMV', 1, 256, 256),
      matmulCase('GEMV', 1, 1024, 1024),
      matmulCase('GEMV', 1, 4096, 4096),
      matmulCase('GEMV', 1, 896, 4864),
      matmulCase('GEMM', 8, 1024, 1024),
      matmulCase('GEMM', 64, 256, 256),
      matmulCase('GEMM', 64, 1024, 1024),
      signedActivationsCase(1, 1024, 1024),
      signedActivationsCase(64, 1024, 1024),
      ...(['QuantizeLinear', 'DynamicQuantizeLinear', 'DequantizeLinear'] as const).flatMap((op) => [quantCase(op, 4096), quantCase(op, 2 ** 20)]),
      deltaCase('encode', 4 * 2 ** 20),
      deltaCase('decode', 4 * 2 ** 20),
      ...BINARY_PAIRS.flatMap((spec) => binaryCases(spec, env.cacheDir, env.short)),
    ];
  },
  gates: [
    ...['gemv 1x256x256', 'gemv 1x1024x1024', 'gemv 1x4096x4096', 'gemv 1x896x4864', 'gemm 64x1024x1024'].flatMap((c) => [
      { case: c, ours: 'simd', peer: 'ort-web' },
      { case: c, ours: 'relaxed', peer: 'ort-web' },
    ]),
    ...['gemv 1x1024x1024 int8 activations', 'gemm 64x1024x1024 int8 activations'].flatMap((c) => [
      { case: c, ours: 'simd int8', peer: 'simd' },
      { case: c, ours: 'simd int8', peer: 'ort-web' },
    ]),
    { case: 'gemv 1x1024x1024', ours: 'simd', peer: 'js' },
    { case: 'gemv 1x1024x1024', ours: 'simd', peer: 'scalar' },
    { case: 'gemm 64x1024x1024', ours: 'simd', peer: 'scalar' },
    { case: 'matmul 1x1x1', ours: 'simd', peer: 'ort-web' },
    { case: 'QuantizeLinear 1M', ours: 'simd', peer: 'ort-web' },
    { case: 'QuantizeLinear 1M', ours: 'simd', peer: 'js' },
    { case: 'QuantizeLinear 1M', ours: 'simd tensor', peer: 'ort-node' },
    { case: 'QuantizeLinear 1M', ours: 'relaxed tensor', peer: 'ort-node' },
    { case: 'DynamicQuantizeLinear 1M', ours: 'simd', peer: 'ort-web' },
    { case: 'DynamicQuantizeLinear 1M', ours: 'simd tensor', peer: 'ort-node' },
    { case: 'DynamicQuantizeLinear 1M', ours: 'relaxed tensor', peer: 'ort-node' },
    { case: 'DequantizeLinear 1M', ours: 'simd', peer: 'ort-web' },
    { case: 'delta encode 4 MiB', ours: 'simd', peer: 'js' },
    { case: 'delta encode 4 MiB', ours: 'simd raw', peer: 'js' },
    { case: `apply ${BINARY_PAIRS[0]!.id} ${BINARY_PAIRS[0]!.from}->${BINARY_PAIRS[0]!.to}`, ours: 'simd', peer: 'js' },
  ],
  async describe() {
    return { abi: ABI_VERSION, builds: kernelBuildFlags(), runtimes: await ortVersions(), buildsMeasured: BUILDS as readonly KernelBuild[] };
  },
});

