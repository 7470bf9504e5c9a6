#!/usr/bin/env node
// Measures openWakeWord's pretrained models in int8 against float on audio the
// project synthesizes itself (espeak-ng, seeded noise): per head, detection rate,
// false accepts per hour and agreement at the threshold; and what each int8
// model needs on a sensor (bundle bytes, peak arena). It also trains a new head
// for "help me" on the speech embedding from synthetic examples and measures it
// the same way, once on clips only and once with running-speech negatives too.
// With --stream-minutes N it also runs a cached N-minute negative stream of
// running speech through both pipelines and counts false accepts per hour as a
// streaming detector does (2 s refractory after an accept).
//
//   pnpm --filter @compotastic/model eval-audio [-- --json] [--seed N] [--voices N] [--variants N] [--negatives N]
//     [--stream-minutes N] [--running-speech-seconds N] [--per-clip]
//
// --per-clip prints every positive clip on which float and int8 decide differently, with the peak
// scores of both pipelines and of the two mixed ones (float embeddings + int8 head, int8 embeddings +
// float head), and per head the mean int8 - float peak score over its positives.

import { loadKernel } from '@compotastic/kernel';
import { json, log, option } from './options.js';
import { type Clip, HELD_OUT_VOICES, NEGATIVE_PHRASES, calibrationCorpus, durationSeconds, heldOutCorpus, voiceVariants } from '../audio/corpus.js';
import { type HeadComparison, type StreamHeadComparison, compareOnClips, compareOnStream } from '../audio/evaluate.js';
import { negativeStream } from '../audio/stream.js';
import { type TrainedKeywordHead, trainKeywordHead } from '../audio/keyword-head.js';
import {
  EMBEDDING_FRAMES, Int8WakeWord, MEL_BINS, OrtWakeWord, WAKE_THRESHOLD, WAKE_WORD_HEADS, type WakeWordHead,
  pretrainedHead, quantizeHead, quantizeWakeWord, wakeWordParts,
} from '../audio/wakeword.js';
import { Int8Executor } from '../quant/executor.js';
import { type ModelMemory, measureMemory } from '../quant/memory.js';

const seed = option('seed', 1);
const voices = option('voices', 2);
const variants = option('variants', 1);
const negatives = option('negatives', 3);
const streamMinutes = option('stream-minutes', 0);
const runningSpeechSeconds = option('running-speech-seconds', 180);
const perClip = process.argv.includes('--per-clip');

const heads = (Object.keys(WAKE_WORD_HEADS) as WakeWordHead[]).map(pretrainedHead);
const started = performance.now();
const reference = await OrtWakeWord.create(heads);
const models = await quantizeWakeWord(reference, heads, calibrationCorpus(seed + 1000));
const kernel = await loadKernel();
const candidate = new Int8WakeWord(kernel, models);
// help_me as before (clip negatives only), and help_me with running-speech negatives added.
const trained = [];
let first: TrainedKeywordHead | undefined;
for (const [name, seconds] of [['help_me_clips', 0], ['help_me', runningSpeechSeconds]] as const) {
  log(`training ${name} for "help me" on synthetic examples (${seconds} s of running speech as negatives)`);
  const keyword = await trainKeywordHead(reference, name, 'help me', { seed, runningSpeechSeconds: seconds, ...(first ? { clipsFrom: first } : {}) });
  first ??= keyword;
  await reference.addHead(keyword.spec);
  models.heads.set(name, await quantizeHead(keyword.spec.onnx, keyword.embeddings));
  candidate.addHead(name, models.heads.get(name)!);
  heads.push(keyword.spec);
  trained.push({ name, ...keyword.examples, floatOnnxBytes: keyword.spec.onnx.length });
}
const clips: Clip[] = heldOutCorpus({ seed, heads, voices: voiceVariants(HELD_OUT_VOICES.slice(0, voices), variants), negativePhrases: Math.min(negatives, NEGATIVE_PHRASES.length) });
const negativeSeconds = durationSeconds(clips.filter((c) => c.positiveFor === undefined));
log(`${clips.length} clips (${negativeSeconds.toFixed(0)} s of negative audio), kernel build ${kernel.build}`);
const table: HeadComparison[] = await compareOnClips(reference, candidate, clips, heads.map((h) => h.name), WAKE_THRESHOLD, (n) => {
  if (n % 20 === 0) log(`  ${n}/${clips.length} clips`);
}, { perClip });
let stream: { seconds: number; sentences: number; turns: number; noiseSegments: number; cached: boolean; heads: StreamHeadComparison[] } | undefined;
if (streamMinutes > 0) {
  const s = negativeStream({ seed, seconds: streamMinutes * 60 }, (sec) => log(`  building the negative stream: ${sec.toFixed(0)} s`));
  log(`negative stream: ${streamMinutes} min, ${s.sentences} sentences in ${s.turns} turns, ${s.noiseSegments} noise segments${s.fromCache ? ' (cached)' : ''}`);
  let last = 0;
  const streamTable = await compareOnStream(reference, candidate, s.samples, heads.map((h) => h.name), {
    // Called for the float pass, then the int8 pass.
    onChunk: (sec) => {
      if (sec < last) last = 0;
      if (sec - last >= 60) { last = sec; log(`  stream ${sec.toFixed(0)} s`); }
    },
  });
  stream = { seconds: streamMinutes * 60, sentences: s.sentences, turns: s.turns, noiseSegments: s.noiseSegments, cached: s.fromCache, heads: streamTable };
}
candidate.dispose();
await reference.release();

const parts = wakeWordParts(models);
const memory: Record<string, ModelMemory> = {};
const measure = (name: string, model: typeof models.embedding, p: typeof parts.embedding, dims: number[]) => {
  const exec = Int8Executor.create(kernel, model);
  const input = { dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.5) };
  memory[name] = measureMemory(exec, p, new Map([[model.inputs[0]!.name, input]]));
  exec.dispose();
};
measure('embedding', models.embedding, parts.embedding, [1, EMBEDDING_FRAMES, MEL_BINS, 1]);
for (const [h, m] of models.heads) {
  measure(h, m, parts.heads.get(h)!, m.inputs[0]!.dims.map((d) => (typeof d === 'number' ? d : 1)));
}

const result = {
  seed, voices, variants, threshold: WAKE_THRESHOLD, keywordTraining: trained, clips: clips.length, negativeSeconds: Math.round(negativeSeconds), kernelBuild: kernel.build,
  heads: table, stream, memory, seconds: Math.round((performance.now() - started) / 1000),
};
// The per-clip tables go to stderr under --json.
if (perClip) {
  const f3 = (v: number) => v.toFixed(3);
  log('\n| head | mean int8 - float peak | positives int8 lost / gained |');
  log('|---|---|---|');
  for (const r of table) {
    const cs = r.clips ?? [];
    const lost = cs.filter((c) => c.float >= WAKE_THRESHOLD && c.int8 < WAKE_THRESHOLD).length;
    const gained = cs.filter((c) => c.float < WAKE_THRESHOLD && c.int8 >= WAKE_THRESHOLD).length;
    log(`| ${r.head} | ${(r.meanPeakShift ?? 0).toFixed(4)} | ${lost} / ${gained} |`);
  }
  log('\n| head | flipped clip | peak float | int8 | float emb + int8 head | int8 emb + float head |');
  log('|---|---|---|---|---|---|');
  for (const r of table) {
    for (const c of r.clips ?? []) {
      if ((c.float >= WAKE_THRESHOLD) !== (c.int8 >= WAKE_THRESHOLD)) {
        log(`| ${r.head} | ${c.description} | ${f3(c.float)} | ${f3(c.int8)} | ${f3(c.floatEmbeddingInt8Head)} | ${f3(c.int8EmbeddingFloatHead)} |`);
      }
    }
  }
}
if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  console.log('\n| head | positives | detection float / int8 | clip false accepts/h float / int8 | clip agreement | step agreement | max score difference |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of table) {
    console.log(`| ${r.head} | ${r.positives} | ${pct(r.float.detectionRate)} / ${pct(r.int8.detectionRate)} | ${r.float.falseAcceptsPerHour.toFixed(1)} / ${r.int8.falseAcceptsPerHour.toFixed(1)} | ${pct(r.clipAgreement)} | ${pct(r.stepAgreement)} | ${r.maxScoreDifference.toFixed(3)} |`);
  }
  if (stream) {
    console.log(`\nnegative stream: ${(stream.seconds / 60).toFixed(0)} min (${stream.sentences} sentences, ${stream.turns} turns, ${stream.noiseSegments} noise segments)`);
    console.log('\n| head | stream accepts float / int8 | false accepts/h float / int8 | matched accepts | step agreement | max score difference |');
    console.log('|---|---|---|---|---|---|');
    for (const r of stream.heads) {
      console.log(`| ${r.head} | ${r.float.accepts} / ${r.int8.accepts} | ${r.float.perHour.toFixed(1)} / ${r.int8.perHour.toFixed(1)} | ${r.matchedAccepts} of ${r.float.accepts + r.int8.accepts} | ${pct(r.stepAgreement)} | ${r.maxScoreDifference.toFixed(3)} |`);
    }
  }
  console.log('\n| model | bundle bytes | peak arena bytes |');
  console.log('|---|---|---|');
  for (const [name, m] of Object.entries(memory)) console.log(`| ${name} | ${m.bundleBytes.toLocaleString('en')} | ${m.peakArenaBytes.toLocaleString('en')} |`);
  console.log(`\n${result.seconds} s`);
}
