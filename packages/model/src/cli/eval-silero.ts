#!/usr/bin/env node
// Measures Silero VAD v5 on the project's executors against onnxruntime-web on
// audio the project synthesizes itself (espeak-ng speech clean and in noise,
// pure noise, near-silence): the float executor's max probability difference
// from ONNX Runtime, the int8 model's agreement with float at the speech
// threshold, and what the int8 model needs on a sensor (weights, peak arena).
//
//   pnpm --filter @compotastic/model eval-silero [-- --json] [--seed N] [--voices N] [--phrases N]

import { Prng } from '@compotastic/mesh';
import { loadKernel } from '@compotastic/kernel';
import { json, log, option } from './options.js';
import { CALIBRATION_VOICES, HELD_OUT_VOICES, NEGATIVE_PHRASES } from '../audio/corpus.js';
import {
  OrtSilero, SILERO_CONTEXT, SILERO_FRAME, SILERO_STATE_DIMS, SPEECH_THRESHOLD, SileroVad, compareSileroProbabilities, importSilero, quantizeSilero,
} from '../audio/silero.js';
import { AUDIO_RATE_HZ, mixAtSnr, noise, speak } from '../audio/speech.js';
import { Int8Executor } from '../quant/executor.js';
import { encodeInt8Model } from '../quant/format.js';
import { measureMemory } from '../quant/memory.js';

const seed = option('seed', 1);
const voices = option('voices', 2);
const phrases = option('phrases', 4);
const started = performance.now();
const rng = new Prng(seed);

/** Speech clean and at 10 and 0 dB SNR; noise and near-silence of 2 s each. */
function clipsFor(texts: string[], vs: typeof HELD_OUT_VOICES, noiseClips: number) {
  const speech: Float32Array[] = [], quiet: Float32Array[] = [];
  for (const text of texts) {
    for (const v of vs) {
      const clean = speak(text, v, 0.3);
      speech.push(clean, mixAtSnr(clean, noise(clean.length, rng, 'white'), 10), mixAtSnr(clean, noise(clean.length, rng, 'pink'), 0));
    }
  }
  for (let i = 0; i < noiseClips; i++) {
    quiet.push(noise(2 * AUDIO_RATE_HZ, rng, i % 2 ? 'white' : 'pink').map((v) => v * 0.3), noise(2 * AUDIO_RATE_HZ, rng).map((v) => v * 0.003));
  }
  return { speech, quiet };
}

const held = clipsFor(NEGATIVE_PHRASES.slice(0, phrases), HELD_OUT_VOICES.slice(0, voices), 4);
const calibration = clipsFor(NEGATIVE_PHRASES.slice(phrases, phrases + 3), CALIBRATION_VOICES, 2);
const graph = importSilero();
log(`Silero VAD v5: ${graph.ops.length} ops after import; ${held.speech.length} speech clips, ${held.quiet.length} noise and near-silence clips`);

const reference = await OrtSilero.create();
const float = SileroVad.float(graph);
const kernel = await loadKernel();
const calibrationClips = [...calibration.speech, ...calibration.quiet];
const int8Model = quantizeSilero(graph, calibrationClips);
const int8 = SileroVad.int8(kernel, int8Model);
const convsOnlyModel = quantizeSilero(graph, calibrationClips, { lstm: 'float' });
const convsOnly = SileroVad.int8(kernel, convsOnlyModel);

async function score(clips: Float32Array[]) {
  const ort: Float32Array[] = [], f: Float32Array[] = [], q: Float32Array[] = [], c8: Float32Array[] = [];
  for (const c of clips) {
    ort.push(await reference.probabilities(c));
    f.push(float.probabilities(c));
    q.push(int8.probabilities(c));
    c8.push(convsOnly.probabilities(c));
  }
  return { ort, f, q, c8 };
}
const compare = (...sets: Awaited<ReturnType<typeof score>>[]) => {
  const pick = (k: 'ort' | 'f' | 'q' | 'c8') => sets.flatMap((s) => s[k]);
  return {
    floatVsOrt: compareSileroProbabilities(pick('ort'), pick('f')), int8VsFloat: compareSileroProbabilities(pick('f'), pick('q')),
    convsOnlyVsFloat: compareSileroProbabilities(pick('f'), pick('c8')),
  };
};
const speechScores = await score(held.speech);
log('  speech clips scored');
const quietScores = await score(held.quiet);
const speech = compare(speechScores), quiet = compare(quietScores), all = compare(speechScores, quietScores);
await reference.release();
int8.dispose();
convsOnly.dispose();

const measure = (model: typeof int8Model) => {
  const exec = Int8Executor.create(kernel, model);
  const m = measureMemory(exec, encodeInt8Model(model), new Map([
    ['input', { dims: [1, SILERO_CONTEXT + SILERO_FRAME], data: held.speech[0]!.slice(0, SILERO_CONTEXT + SILERO_FRAME) }],
    ['state', { dims: [...SILERO_STATE_DIMS], data: new Float32Array(256) }],
  ]));
  exec.dispose();
  return m;
};
const memory = measure(int8Model), convsOnlyMemory = measure(convsOnlyModel);

const result = {
  seed, threshold: SPEECH_THRESHOLD, kernelBuild: kernel.build, speechClips: held.speech.length, quietClips: held.quiet.length,
  int8Convs: int8Model.linears.size, speech, quiet, all, memory, convsOnlyMemory, seconds: Math.round((performance.now() - started) / 1000),
};
if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  console.log('\n| audio | frames | speech frames (float) | float vs ORT max prob diff | int8 vs float: frame agreement | speech-frame agreement | max prob diff | convs-only int8: speech-frame agreement | max prob diff |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const [name, r] of [['speech (clean, 10 dB, 0 dB)', speech], ['noise and near-silence', quiet], ['all', all]] as const) {
    console.log(`| ${name} | ${r.floatVsOrt.frames} | ${r.int8VsFloat.speechFrames} | ${r.floatVsOrt.maxProbDifference.toExponential(2)} | ${pct(r.int8VsFloat.frameAgreement)} | ${pct(r.int8VsFloat.speechFrameAgreement)} | ${r.int8VsFloat.maxProbDifference.toFixed(3)} | ${pct(r.convsOnlyVsFloat.speechFrameAgreement)} | ${r.convsOnlyVsFloat.maxProbDifference.toFixed(3)} |`);
  }
  const bytes = (m: typeof memory) => `bundle ${m.bundleBytes.toLocaleString('en')} bytes, weights ${m.weightsBytes.toLocaleString('en')} bytes, peak arena ${m.peakArenaBytes.toLocaleString('en')} bytes`;
  console.log(`\nint8 model (${int8Model.linears.size} convs and the LSTM in int8): ${bytes(memory)}`);
  console.log(`convs-only int8 model (LSTM float32): ${bytes(convsOnlyMemory)}`);
  console.log(`kernel build ${kernel.build}, ${result.seconds} s`);
}
