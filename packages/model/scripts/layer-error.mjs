/* global console, process */
// Per-layer error of the int8 embedding model against onnxruntime-web's float values: for every conv and linear
// layer, the RMS and mean of (int8 output - float output) over the calibration clips, as a share of the float
// output's range, with bias correction off and on. A correct bias correction lowers the mean shift at every layer on
// the data it was fitted on.
//
//   pnpm --filter @compotastic/model build
//   node packages/model/scripts/layer-error.mjs [--clips N] [--seed S]
import { loadKernel } from '@compotastic/kernel';
import { correctBiases, OrtProbe, calibrateWithOnnxRuntime, channelMaximaWithOnnxRuntime, equalizeActivations, equalizedValue, quantizeWithRanges } from '../dist/index.js';
import { calibrationCorpus } from '../dist/audio/corpus.js';
import { OrtWakeWord, embeddingInput, melFeatures, openWakeWordModel } from '../dist/audio/wakeword.js';
import { Int8Executor } from '../dist/quant/executor.js';
import { importOnnx } from '../dist/graph/import.js';
import { decodeModel } from '../dist/onnx/proto.js';

const arg = (name, d) => { const i = process.argv.indexOf(`--${name}`); return i < 0 ? d : Number(process.argv[i + 1]); };
const clipCount = arg('clips', 10), seed = arg('seed', 1);

const reference = await OrtWakeWord.create([]);
const onnx = openWakeWordModel('embedding_model');
const graph = importOnnx(decodeModel(onnx));
const inputName = graph.inputs[0].name;
const batches = [];
for (const clip of calibrationCorpus(seed + 1000, clipCount)) {
  const x = embeddingInput(melFeatures(await reference.mel(clip)));
  if (x.dims[0] > 0) batches.push(new Map([[inputName, x]]));
}
const ranges = await calibrateWithOnnxRuntime(onnx, graph, batches, { ranges: 'mse' });
const plain = quantizeWithRanges(graph, ranges);
const kernel = await loadKernel();
const corrected = await correctBiases(kernel, plain, onnx, batches);
const layers = [...plain.linears.keys()].sort((a, b) => a - b);
const names = layers.map((i) => plain.ops[i].output);
const probe = await OrtProbe.create(onnx, names);
const floats = [];
for (const b of batches) floats.push(await probe.run(b));
await probe.release();

function errors(model) {
  const exec = Int8Executor.create(kernel, model);
  const acc = layers.map(() => ({ sq: 0, sum: 0, n: 0, min: Infinity, max: -Infinity }));
  batches.forEach((b, bi) => {
    const v = exec.run(b);
    layers.forEach((i, li) => {
      const f = floats[bi].get(names[li]).data, q = v.get(names[li]).data, a = acc[li];
      for (let j = 0; j < f.length; j++) {
        const d = q[j] - f[j];
        a.sq += d * d; a.sum += d; a.n++;
        if (f[j] < a.min) a.min = f[j];
        if (f[j] > a.max) a.max = f[j];
      }
    });
  });
  exec.dispose();
  return acc.map((a) => ({ rms: Math.sqrt(a.sq / a.n), mean: a.sum / a.n, range: a.max - a.min }));
}
const off = errors(plain), on = errors(corrected.model);
console.log(`${batches.length} calibration clips; per layer: op, kind, K x N, RMS error % of range off -> on, mean error % off -> on, correction's mean |shift| before -> after`);
layers.forEach((i, li) => {
  const l = plain.linears.get(i), c = corrected.layers.find((r) => r.layer === i);
  const pct = (x, r) => (100 * x / r).toFixed(3);
  console.log(`${i}\t${plain.ops[i].kind}\t${l.k}x${l.n}\t${pct(off[li].rms, off[li].range)} -> ${pct(on[li].rms, on[li].range)}\t${pct(off[li].mean, off[li].range)} -> ${pct(on[li].mean, on[li].range)}\t${c ? `${c.meanAbsShiftBefore.toExponential(2)} -> ${c.meanAbsShiftAfter.toExponential(2)}` : ''}`);
});

if (process.argv.includes('--isolate')) {
  // Each layer with every earlier layer corrected, with and without its own correction.
  for (const [li, i] of layers.entries()) {
    const m = { ...corrected.model, linears: new Map([...corrected.model.linears].map(([j, l]) => [j, j >= i ? plain.linears.get(j) : l])) };
    const m2 = { ...corrected.model, linears: new Map([...corrected.model.linears].map(([j, l]) => [j, j > i ? plain.linears.get(j) : l])) };
    const a = errors(m)[li], b = errors(m2)[li];
    console.log(`layer ${i}: earlier corrected, own off ${(100 * a.rms / a.range).toFixed(3)} % (mean ${(100 * a.mean / a.range).toFixed(3)}), own on ${(100 * b.rms / b.range).toFixed(3)} % (mean ${(100 * b.mean / b.range).toFixed(3)})`);
  }
}
if (process.argv.includes('--output-ranges')) {
  // Per layer in order: the input range of the form [f min, f max] over the min/max range whose int8 layer output,
  // from the int8 values before it (earlier layers already chosen), is closest to the float output.
  const full = await calibrateWithOnnxRuntime(onnx, graph, batches, { ranges: 'minmax' });
  const chosen = new Map(ranges);
  let model = quantizeWithRanges(graph, chosen);
  let exec = Int8Executor.create(kernel, model);
  let states = batches.map((b) => new Map(b));
  let at = 0;
  for (const [li, i] of layers.entries()) {
    const live = exec.liveAt(i);
    states = states.map((st) => { const v = exec.run(st, { from: at, to: i }); return new Map(live.map((n) => [n, v.get(n)])); });
    at = i;
    const err = (range) => {
      const l = quantizeWithRanges(graph, new Map(chosen).set(i, range)).linears.get(i);
      const m = { ...model, linears: new Map(model.linears).set(i, l) };
      const ex = Int8Executor.create(kernel, m);
      let sq = 0;
      states.forEach((st, bi) => {
        const q = ex.run(st, { from: i, to: i + 1 }).get(names[li]).data, f = floats[bi].get(names[li]).data;
        for (let j = 0; j < f.length; j++) sq += (q[j] - f[j]) ** 2;
      });
      ex.dispose();
      return sq;
    };
    const candidates = [ranges.get(i), ...Array.from({ length: 36 }, (_, k) => 1 - k * 0.02).map((f) => ({ min: full.get(i).min * f, max: full.get(i).max * f }))];
    let best = candidates[0], bestErr = err(best);
    const mseErr = bestErr;
    for (const c of candidates.slice(1)) { const e = err(c); if (e < bestErr) { best = c; bestErr = e; } }
    chosen.set(i, best);
    console.log(`layer ${i}: full [${full.get(i).min.toFixed(3)}, ${full.get(i).max.toFixed(3)}], mse [${ranges.get(i).min.toFixed(3)}, ${ranges.get(i).max.toFixed(3)}], chosen [${best.min.toFixed(3)}, ${best.max.toFixed(3)}], output SSE ${mseErr.toExponential(3)} -> ${bestErr.toExponential(3)}`);
    exec.dispose();
    model = quantizeWithRanges(graph, chosen);
    exec = Int8Executor.create(kernel, model);
  }
  exec.dispose();
  const out = errors(model);
  layers.forEach((i, li) => console.log(`output-ranges ${i}\t${(100 * off[li].rms / off[li].range).toFixed(3)} -> ${(100 * out[li].rms / out[li].range).toFixed(3)}`));
}
for (const alpha of process.argv.includes('--equalize') ? [0.5, 0.75, 1] : []) {
  // Activation equalization before quantization; errors compared on the original values (B's inputs rescaled back
  // are not compared: only the conv outputs, which equalization leaves as they were except A's, divided per channel).
  const eq = equalizeActivations(graph, await channelMaximaWithOnnxRuntime(onnx, graph, batches), alpha);
  const eqRanges = await calibrateWithOnnxRuntime(onnx, eq.graph, batches, { ranges: 'mse', equalized: eq.inputs });
  const model = quantizeWithRanges(eq.graph, eqRanges);
  const exec = Int8Executor.create(kernel, model);
  // A conv A's output is divided by the scales of the B that follows it.
  const outScales = new Map();
  for (const e of eq.inputs) {
    const a = layers.filter((i) => i < e.layer).at(-1);
    outScales.set(a, e.scales);
  }
  const acc = layers.map(() => ({ sq: 0, n: 0 }));
  batches.forEach((b, bi) => {
    const v = exec.run(b);
    layers.forEach((i, li) => {
      const s = outScales.get(i);
      const f0 = floats[bi].get(names[li]);
      const f = (s ? equalizedValue(f0, s) : f0).data;
      const q = v.get(names[li]);
      const qd = (s ? { dims: q.dims, data: q.data.map((x, j) => x) } : q).data;
      // compare in original units: multiply both back
      const inner = q.dims.slice(2).reduce((p, d) => p * d, 1);
      for (let j = 0; j < f.length; j++) {
        const k = s ? s[Math.floor(j / inner) % s.length] : 1;
        const d = (qd[j] - f[j]) * k;
        acc[li].sq += d * d; acc[li].n++;
      }
    });
  });
  exec.dispose();
  console.log(`equalized alpha ${alpha}: ${eq.inputs.length} pairs; RMS % of range, plain -> equalized`);
  layers.forEach((i, li) => console.log(`eq${alpha} ${i}\t${(100 * off[li].rms / off[li].range).toFixed(3)} -> ${(100 * Math.sqrt(acc[li].sq / acc[li].n) / off[li].range).toFixed(3)}`));
}
if (process.argv.includes('--wide')) {
  // 16-bit inputs (two uint8 digits per product) on the conv layers from the n-th on, min/max ranges there.
  const full = await calibrateWithOnnxRuntime(onnx, graph, batches, { ranges: 'minmax' });
  for (const from of [1, 24, 40]) {
    const wide = new Set(layers.filter((i) => i >= from));
    const r = new Map([...ranges].map(([i, x]) => [i, wide.has(i) ? full.get(i) : x]));
    const out = errors(quantizeWithRanges(graph, r, { wideInputs: wide }));
    console.log(`16-bit inputs from layer ${from} (${wide.size} layers): RMS % of range, plain -> wide`);
    layers.forEach((i, li) => console.log(`wide${from} ${i}\t${(100 * off[li].rms / off[li].range).toFixed(3)} -> ${(100 * out[li].rms / out[li].range).toFixed(3)}`));
  }
}
await reference.release();
