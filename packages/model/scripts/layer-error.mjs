/* global console, process, performance */
// Per-layer error of the int8 embedding model against onnxruntime-web's float values: for every conv layer, the RMS
// and mean of (int8 output - float output) over calibration clips, as a share of the float output's range, for the
// ways the embedding can be quantized. Fitted on `--clips` calibration clips and measured there and on `--held-out`
// clips of the held-out corpus (its negative phrases in its voices, clean and at 20, 10 and 0 dB SNR).
//
//   pnpm --filter @compotastic/model build
//   node packages/model/scripts/layer-error.mjs [--clips N] [--held-out N] [--seed S]
import { loadKernel } from '@compotastic/kernel';
import { correctBiases, OrtProbe, calibrateWithOnnxRuntime, inputHessiansWithOnnxRuntime, quantizeWithRanges } from '../dist/index.js';
import { HELD_OUT_VOICES, calibrationCorpus, heldOutCorpus } from '../dist/audio/corpus.js';
import { OrtWakeWord, embeddingInput, melFeatures, openWakeWordModel } from '../dist/audio/wakeword.js';
import { Int8Executor } from '../dist/quant/executor.js';
import { importOnnx } from '../dist/graph/import.js';
import { decodeModel } from '../dist/onnx/proto.js';

const arg = (name, d) => { const i = process.argv.indexOf(`--${name}`); return i < 0 ? d : Number(process.argv[i + 1]); };
const clipCount = arg('clips', 10), heldOutCount = arg('held-out', 8), seed = arg('seed', 1);

const reference = await OrtWakeWord.create([]);
const onnx = openWakeWordModel('embedding_model');
const graph = importOnnx(decodeModel(onnx));
const inputName = graph.inputs[0].name;
const batchesOf = async (clips) => {
  const out = [];
  for (const clip of clips) {
    const x = embeddingInput(melFeatures(await reference.mel(clip)));
    if (x.dims[0] > 0) out.push(new Map([[inputName, x]]));
  }
  return out;
};
const batches = await batchesOf(calibrationCorpus(seed + 1000, clipCount));
const heldOut = await batchesOf(heldOutCorpus({ seed, heads: [], voices: HELD_OUT_VOICES, negativePhrases: 2, noiseClips: 0 }).slice(0, heldOutCount).map((c) => c.samples));
const kernel = await loadKernel();
const layers = graph.ops.flatMap((op, i) => (op.kind === 'conv' ? [i] : []));
const names = layers.map((i) => graph.ops[i].output);
const probe = await OrtProbe.create(onnx, names);
const floatsOf = async (bs) => { const out = []; for (const b of bs) out.push(await probe.run(b)); return out; };
const floats = { fitted: await floatsOf(batches), heldOut: await floatsOf(heldOut) };
await probe.release();

function errors(model, set) {
  const bs = set === 'fitted' ? batches : heldOut, fs = floats[set];
  const exec = Int8Executor.create(kernel, model);
  const acc = layers.map(() => ({ sq: 0, sum: 0, n: 0, min: Infinity, max: -Infinity }));
  bs.forEach((b, bi) => {
    const v = exec.run(b);
    layers.forEach((i, li) => {
      const f = fs[bi].get(names[li]).data, q = v.get(names[li]).data, a = acc[li];
      for (let j = 0; j < f.length; j++) {
        const d = q[j] - f[j];
        a.sq += d * d; a.sum += d; a.n++;
        if (f[j] < a.min) a.min = f[j];
        if (f[j] > a.max) a.max = f[j];
      }
    });
  });
  exec.dispose();
  return acc.map((a) => ({ rms: (100 * Math.sqrt(a.sq / a.n)) / (a.max - a.min), mean: (100 * a.sum / a.n) / (a.max - a.min) }));
}

const t0 = performance.now();
const mse = await calibrateWithOnnxRuntime(onnx, graph, batches, { ranges: 'mse' });
const minmax = await calibrateWithOnnxRuntime(onnx, graph, batches, { ranges: 'minmax' });
const wide = new Set(layers);
const headroom = new Map([...minmax].map(([i, r]) => [i, { min: 2 * r.min, max: 2 * r.max }]));
const hessians = await inputHessiansWithOnnxRuntime(onnx, graph, batches);
const t1 = performance.now();
const eight = quantizeWithRanges(graph, mse);
const variants = [
  ['8-bit inputs, least-error ranges', eight],
  ['8-bit, bias-corrected', (await correctBiases(kernel, eight, onnx, batches)).model],
  ['16-bit inputs, 2x min/max', quantizeWithRanges(graph, headroom, { wideInputs: wide })],
  ['16-bit, error feedback', quantizeWithRanges(graph, headroom, { wideInputs: wide, hessians })],
];
console.log(`${batches.length} calibration clips, ${heldOut.length} held-out; ranges and input correlations in ${((t1 - t0) / 1000).toFixed(1)} s`);
for (const set of ['fitted', 'heldOut']) {
  const table = variants.map(([, m]) => errors(m, set));
  console.log(`\n${set === 'fitted' ? 'on the calibration clips' : 'on held-out clips'}: RMS error, % of the conv output's range (mean error in brackets)`);
  console.log(['op', ...variants.map(([n]) => n)].join(' | '));
  layers.forEach((i, li) => console.log([i, ...table.map((t) => `${t[li].rms.toFixed(3)} (${t[li].mean.toFixed(3)})`)].join(' | ')));
}
await reference.release();
