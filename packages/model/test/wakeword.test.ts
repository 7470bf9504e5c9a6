// openWakeWord's pretrained graphs (from node_modules) through the importer and
// the executors, checked against onnxruntime-web: every imported op on its own
// (fed ONNX Runtime's own inputs), the int8 models on every kernel build, and
// wake-word decisions on speech synthesized with espeak-ng.
import { KERNEL_BUILDS, type Kernel, loadKernel } from '@compotastic/kernel';
import { Prng } from '@compotastic/mesh';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Clip, HELD_OUT_VOICES, calibrationCorpus, heldOutCorpus, placeInWindow } from '../src/audio/corpus.js';
import { compareOnClips } from '../src/audio/evaluate.js';
import { trainKeywordHead } from '../src/audio/keyword-head.js';
import { importSilero } from '../src/audio/silero.js';
import { speak } from '../src/audio/speech.js';
import {
  Int8WakeWord, OrtWakeWord, type WakeWordInt8, WAKE_THRESHOLD, WAKE_WORD_HEADS, clipEmbeddings, embeddingInput, headInputs, headScores, melFeatures,
  melModelInput, openWakeWordModel, pretrainedHead, quantizeHead, quantizeWakeWord,
} from '../src/audio/wakeword.js';
import { runFloat, runFloatOp, type TensorMap } from '../src/graph/float-exec.js';
import { importOnnx } from '../src/graph/import.js';
import { type FloatTensor, UnsupportedOpsError, opInputs } from '../src/graph/ir.js';
import { ModelError } from '../src/errors.js';
import { decodeModel } from '../src/onnx/proto.js';
import { Int8Executor } from '../src/quant/executor.js';
import { Int8FormatError, decodeInt8Model, encodeInt8Model } from '../src/quant/format.js';
import { OrtProbe, calibrateWithOnnxRuntime } from '../src/quant/ort-calibrate.js';
import { quantizeWithRanges } from '../src/quant/quantize.js';

const HEADS = (['alexa', 'hey_rhasspy'] as const).map(pretrainedHead);

/** sqrt(sum (got - ref)^2 / sum ref^2). */
function rmsRelative(reference: FloatTensor, got: FloatTensor): number {
  let num = 0, den = 0;
  for (let i = 0; i < reference.data.length; i++) {
    num += (got.data[i]! - reference.data[i]!) ** 2;
    den += reference.data[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

function relativeError(reference: FloatTensor, got: FloatTensor): number {
  expect(got.dims).toEqual(reference.dims);
  let maxDiff = 0, maxRef = 0;
  for (let i = 0; i < reference.data.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(reference.data[i]! - got.data[i]!));
    maxRef = Math.max(maxRef, Math.abs(reference.data[i]!));
  }
  return maxDiff / Math.max(1, maxRef);
}

let reference: OrtWakeWord;
let models: WakeWordInt8;
let speech: Float32Array;

beforeAll(async () => {
  reference = await OrtWakeWord.create(HEADS);
  models = await quantizeWakeWord(reference, HEADS, calibrationCorpus(7, 4));
  speech = placeInWindow(speak('alexa, is anyone there', { name: 'en-us', speed: 150, pitch: 50 }, 0.2));
}, 120_000);

/** Each op of `file` run alone on ONNX Runtime's inputs, against ONNX Runtime's output; worst relative error per op kind. */
async function perOpErrors(file: string, inputs: TensorMap): Promise<Map<string, number>> {
  const bytes = openWakeWordModel(file);
  const graph = importOnnx(decodeModel(bytes));
  const probe = await OrtProbe.create(bytes, graph.ops.map((op) => op.output));
  const ort = await probe.run(inputs);
  await probe.release();
  const worst = new Map<string, number>();
  for (const op of graph.ops) {
    const values: TensorMap = new Map();
    for (const name of opInputs(op)) {
      const v = ort.get(name) ?? inputs.get(name);
      if (v) values.set(name, v);
    }
    runFloatOp(op, values, graph.constants);
    const err = relativeError(ort.get(op.output)!, values.get(op.output)!);
    worst.set(op.kind, Math.max(worst.get(op.kind) ?? 0, err));
  }
  return worst;
}

describe('openWakeWord graphs in the float executor', () => {
  it('runs every op of the melspectrogram, embedding and head graphs like onnxruntime-web (relative error < 1e-5)', async () => {
    const mel = await reference.mel(speech);
    const features = embeddingInput(melFeatures(mel));
    const embeddings = await reference.embed(features);
    const head = { dims: [1, 16, 96], data: embeddings.data.slice(0, 16 * 96) };
    const all = new Map<string, number>();
    const merge = (m: Map<string, number>) => { for (const [k, v] of m) all.set(k, Math.max(all.get(k) ?? 0, v)); };
    merge(await perOpErrors('melspectrogram', new Map([['input', melModelInput(speech)]])));
    merge(await perOpErrors('embedding_model', new Map([['input_1', { dims: [2, 76, 32, 1], data: features.data.slice(0, 2 * 76 * 32) }]])));
    merge(await perOpErrors(WAKE_WORD_HEADS.alexa.file, new Map([['onnx::Flatten_0', head]])));
    merge(await perOpErrors(WAKE_WORD_HEADS.hey_mycroft.file, new Map([['onnx::Flatten_0', head]])));
    for (const kind of ['conv', 'maxpool', 'leakyrelu', 'max', 'pow', 'sqrt', 'log', 'clip', 'reducemean', 'reducemax', 'flatten', 'unsqueeze', 'transpose', 'linear', 'reshape', 'identity']) {
      expect(all.has(kind), kind).toBe(true);
    }
    for (const [kind, err] of all) expect(err, kind).toBeLessThan(1e-5);
  }, 120_000);

  it('imports hey_jarvis (an If) and Silero VAD (If, LSTM and shape ops, at a fixed 16 kHz)', () => {
    const ops = (bytes: Uint8Array) => {
      try {
        importOnnx(decodeModel(bytes));
      } catch (err) {
        if (err instanceof UnsupportedOpsError) return err.ops;
        throw err;
      }
      return [];
    };
    expect(ops(openWakeWordModel('hey_jarvis_v0.1'))).toEqual([]);
    expect(importSilero().ops.map((o) => o.kind)).toContain('lstm');
  });
});

describe('openWakeWord in int8 on the kernel', () => {
  let kernels: Kernel[];
  beforeAll(async () => {
    kernels = await Promise.all(KERNEL_BUILDS.map((build) => loadKernel({ build })));
  });

  it('follows onnxruntime-web float within int8 tolerance, bit-identically on every build', async () => {
    const features = embeddingInput(melFeatures(await reference.mel(speech)));
    const float = await reference.embed(features);
    const outputs = kernels.map((kernel) => {
      const exec = Int8Executor.create(kernel, models.embedding);
      const out = exec.run(new Map([['input_1', features]])).get(models.embedding.outputs[0]!)!;
      exec.dispose();
      return out;
    });
    expect(outputs).toHaveLength(3);
    const err = relativeError(float, outputs[0]!);
    expect(err).toBeLessThan(0.08);
    expect(err).toBeGreaterThan(0); // it really is quantized
    for (const out of outputs.slice(1)) expect(out.data).toEqual(outputs[0]!.data);
  }, 120_000);

  it('agrees with the float pipeline on at least 95% of synthesized positive and negative clips', async () => {
    const clips: Clip[] = heldOutCorpus({
      seed: 3, heads: HEADS, voices: [{ name: 'en-us', speed: 150, pitch: 50 }, { name: 'en-gb+m3', speed: 175, pitch: 35 }],
      snrs: [null, 10], negativePhrases: 2, noiseClips: 1,
    });
    const candidate = new Int8WakeWord(kernels[0]!, models);
    const table = await compareOnClips(reference, candidate, clips, HEADS.map((h) => h.name));
    candidate.dispose();
    // The float models must hear something, or agreement would be trivial.
    expect(table.reduce((n, r) => n + r.float.detected, 0)).toBeGreaterThan(0);
    for (const r of table) {
      expect(r.positives).toBe(4);
      expect(r.negatives).toBe(10);
      expect(r.clipAgreement, r.head).toBeGreaterThanOrEqual(0.95);
    }
  }, 300_000);
});

describe('hey_jarvis: an If around a verifier model', () => {
  it('scores espeak-ng clips in int8 close to float (onnxruntime-web running the If)', async () => {
    const jarvis = pretrainedHead('hey_jarvis');
    await reference.addHead(jarvis);
    const embeddings: FloatTensor[] = [];
    for (const clip of calibrationCorpus(7, 4)) embeddings.push(await clipEmbeddings(reference, clip));
    const int8 = await quantizeHead(jarvis.onnx, embeddings);
    expect(int8.ops.map((o) => o.kind)).toContain('where');
    expect(int8.linears.size).toBe(6); // three layers of the first model, three of the verifier
    const candidate = new Int8WakeWord(await loadKernel(), models);
    candidate.addHead('hey_jarvis', int8);
    const clips = [
      ...HELD_OUT_VOICES.slice(0, 3).map((v) => ({ positive: true, samples: placeInWindow(speak('hey jarvis', v, 0.2)) })),
      { positive: false, samples: placeInWindow(speak('is anyone there', HELD_OUT_VOICES[0]!, 0.2)) },
    ];
    let detected = 0;
    for (const clip of clips) {
      const sf = await headScores(reference, 'hey_jarvis', await clipEmbeddings(reference, clip.samples));
      const si = await headScores(candidate, 'hey_jarvis', await clipEmbeddings(candidate, clip.samples));
      const [pf, pi] = [Math.max(...sf), Math.max(...si)];
      expect(Math.abs(pf - pi)).toBeLessThan(0.1);
      expect(pi >= WAKE_THRESHOLD).toBe(pf >= WAKE_THRESHOLD);
      if (clip.positive) detected += +(pf >= WAKE_THRESHOLD);
      else expect(pf).toBeLessThan(WAKE_THRESHOLD);
    }
    candidate.dispose();
    // The float head hears every voice's "hey jarvis", so agreement is not trivial; fed [-1, 1) levels instead of
    // openWakeWord's 16-bit PCM levels, it missed the third voice.
    expect(detected).toBe(3);
  }, 300_000);
});

describe('hey_jarvis: the If condition in int8', () => {
  it('takes the same branch as float on noisy held-out speech, and the pipeline\'s embedding is closer to float than 8-bit min/max', async () => {
    const jarvis = pretrainedHead('hey_jarvis');
    const graph = importOnnx(decodeModel(jarvis.onnx));
    const embBytes = openWakeWordModel('embedding_model');
    const embGraph = importOnnx(decodeModel(embBytes));
    const inputs: FloatTensor[] = [];
    for (const clip of calibrationCorpus(7, 4)) {
      const x = embeddingInput(melFeatures(await reference.mel(clip)));
      if (x.dims[0]! > 0) inputs.push(x);
    }
    const minmax = quantizeWithRanges(embGraph, await calibrateWithOnnxRuntime(embBytes, embGraph, inputs.map((x) => new Map([['input_1', x]]))));
    const embeddings: FloatTensor[] = [];
    for (const x of inputs) embeddings.push(await reference.embed(x));
    const kernel = await loadKernel();
    const head = Int8Executor.create(kernel, await quantizeHead(jarvis.onnx, embeddings));
    const least = Int8Executor.create(kernel, models.embedding), full = Int8Executor.create(kernel, minmax);
    // The first model's score, before the If: float on float embeddings, int8 on the int8 pipeline's.
    const condition = (x: FloatTensor, exec?: Int8Executor) => {
      const values = exec ? exec.run(new Map([['x.1', x]])) : runFloat(graph, new Map([['x.1', x]]));
      return values.get('p1.1')!.data[0]!;
    };
    const clips = heldOutCorpus({ seed: 5, heads: [jarvis], voices: HELD_OUT_VOICES.slice(0, 2), snrs: [10, 0], negativePhrases: 1, noiseClips: 0 });
    let steps = 0, near = 0, errLeast = 0, errFull = 0;
    for (const clip of clips) {
      const x = embeddingInput(melFeatures(await reference.mel(clip.samples)));
      const ef = await reference.embed(x);
      const embed = (e: Int8Executor) => e.run(new Map([['input_1', x]])).get(e.model.outputs[0]!)!;
      const [el, eu] = [embed(least), embed(full)];
      errLeast += rmsRelative(ef, el);
      errFull += rmsRelative(ef, eu);
      const [wf, wi] = [headInputs(ef, 16), headInputs(el, 16)];
      for (let s = 0; s < wf.length; s++) {
        const [pf, pi] = [condition(wf[s]!), condition(wi[s]!, head)];
        steps++;
        if (Math.abs(pf - WAKE_THRESHOLD) < 0.05) { near++; continue; } // too close to call at int8 precision
        expect(pi >= WAKE_THRESHOLD, `${clip.description} step ${s}: float ${pf}, int8 ${pi}`).toBe(pf >= WAKE_THRESHOLD);
      }
    }
    for (const e of [head, least, full]) e.dispose();
    expect(steps - near).toBeGreaterThan(20);
    expect(errLeast).toBeLessThan(errFull);
  }, 300_000);
});

describe('a new keyword head trained on the speech embedding', () => {
  it('tells held-out "help me" from other phrases, in int8 as in float', async () => {
    const head = await trainKeywordHead(reference, 'help_me', 'help me', { seed: 2, positives: 16, negatives: 24, epochs: 20 });
    expect(head.examples.positive).toBe(32);
    await reference.addHead(head.spec);
    const kernel = await loadKernel();
    const candidate = new Int8WakeWord(kernel, models);
    candidate.addHead('help_me', await quantizeHead(head.spec.onnx, head.embeddings));
    const clips = heldOutCorpus({
      seed: 4, heads: [head.spec], voices: [{ name: 'en-us', speed: 150, pitch: 50 }, { name: 'en-us+f3', speed: 130, pitch: 70 }],
      snrs: [null], negativePhrases: 3, noiseClips: 1,
    });
    const [r] = await compareOnClips(reference, candidate, clips, ['help_me']);
    candidate.dispose();
    expect(r!.positives).toBe(2);
    expect(r!.float.detected).toBeGreaterThanOrEqual(1);
    expect(r!.float.falseAccepts).toBeLessThanOrEqual(1);
    expect(r!.clipAgreement).toBeGreaterThanOrEqual(0.85);
  }, 300_000);
});

describe('the int8 bundle format with convolution graphs', () => {
  it('round-trips the int8 embedding model to the same results', async () => {
    const kernel = await loadKernel();
    const parts = encodeInt8Model(models.embedding);
    const decoded = decodeInt8Model(parts);
    expect(decoded.ops).toEqual(models.embedding.ops);
    const input = { dims: [1, 76, 32, 1], data: embeddingInput(melFeatures(await reference.mel(speech))).data.slice(0, 76 * 32) };
    const [a, b] = [models.embedding, decoded].map((m) => {
      const exec = Int8Executor.create(kernel, m);
      const out = exec.run(new Map([['input_1', input]])).get(m.outputs[0]!)!;
      exec.dispose();
      return out.data;
    });
    expect(b).toEqual(a);
  });

  it('rejects mutated conv configs with an Int8FormatError, and runs or fails with a ModelError otherwise', async () => {
    const kernel = await loadKernel();
    const parts = encodeInt8Model(models.embedding);
    const base = JSON.parse(new TextDecoder().decode(parts.config)) as { ops: Record<string, unknown>[] };
    const rng = new Prng(99);
    const junk = [-1, 0, 1.5, 'x', null, [], [0, 0], [1, 1, 1, 1], {}, 1e9];
    let rejected = 0;
    for (let i = 0; i < 300; i++) {
      const cfg = structuredClone(base);
      const op = cfg.ops[rng.int(0, cfg.ops.length)]!;
      const keys = Object.keys(op);
      op[keys[rng.int(0, keys.length)]!] = junk[rng.int(0, junk.length)];
      let model;
      try {
        model = decodeInt8Model({ config: new TextEncoder().encode(JSON.stringify(cfg)), weights: parts.weights });
      } catch (err) {
        expect(err).toBeInstanceOf(Int8FormatError);
        rejected++;
        continue;
      }
      const exec = Int8Executor.create(kernel, model);
      try {
        exec.run(new Map([['input_1', { dims: [1, 76, 32, 1], data: new Float32Array(76 * 32) }]]));
      } catch (err) {
        expect(err).toBeInstanceOf(ModelError);
      } finally {
        exec.dispose();
      }
    }
    expect(rejected).toBeGreaterThan(100);
  });
});
