#!/usr/bin/env node
// Measures openWakeWord's pretrained models in int8 against float on audio the
// project synthesizes itself (espeak-ng, seeded noise): per head, detection rate,
// false accepts per hour and agreement at the threshold; and what each int8
// model needs on a sensor (bundle bytes, peak arena). It also trains a new head
// for "help me" on the speech embedding from synthetic examples and measures it
// the same way.
//
//   pnpm --filter @compotastic/model eval-audio [-- --json] [--seed N] [--voices N] [--negatives N]

import { loadKernel } from '@compotastic/kernel';
import { json, log, option } from './options.js';
import { type Clip, HELD_OUT_VOICES, NEGATIVE_PHRASES, calibrationCorpus, durationSeconds, heldOutCorpus } from '../audio/corpus.js';
import { type HeadComparison, compareOnClips } from '../audio/evaluate.js';
import { trainKeywordHead } from '../audio/keyword-head.js';
import {
  EMBEDDING_FRAMES, Int8WakeWord, MEL_BINS, OrtWakeWord, WAKE_THRESHOLD, WAKE_WORD_HEADS, type WakeWordHead,
  pretrainedHead, quantizeHead, quantizeWakeWord, wakeWordParts,
} from '../audio/wakeword.js';
import { Int8Executor } from '../quant/executor.js';
import { type ModelMemory, measureMemory } from '../quant/memory.js';

const seed = option('seed', 1);
const voices = option('voices', 2);
const negatives = option('negatives', 3);

const heads = (Object.keys(WAKE_WORD_HEADS) as WakeWordHead[]).map(pretrainedHead);
const started = performance.now();
const reference = await OrtWakeWord.create(heads);
const models = await quantizeWakeWord(reference, heads, calibrationCorpus(seed + 1000));
const kernel = await loadKernel();
const candidate = new Int8WakeWord(kernel, models);
log('training a head for "help me" on synthetic examples');
const keyword = await trainKeywordHead(reference, 'help_me', 'help me', { seed });
await reference.addHead(keyword.spec);
models.heads.set('help_me', await quantizeHead(keyword.spec.onnx, keyword.embeddings));
candidate.addHead('help_me', models.heads.get('help_me')!);
heads.push(keyword.spec);
const clips: Clip[] = heldOutCorpus({ seed, heads, voices: HELD_OUT_VOICES.slice(0, voices), negativePhrases: Math.min(negatives, NEGATIVE_PHRASES.length) });
const negativeSeconds = durationSeconds(clips.filter((c) => c.positiveFor === undefined));
log(`${clips.length} clips (${negativeSeconds.toFixed(0)} s of negative audio), kernel build ${kernel.build}`);
const table: HeadComparison[] = await compareOnClips(reference, candidate, clips, heads.map((h) => h.name), WAKE_THRESHOLD, (n) => {
  if (n % 20 === 0) log(`  ${n}/${clips.length} clips`);
});
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
  seed, threshold: WAKE_THRESHOLD, keywordTraining: { ...keyword.examples, floatOnnxBytes: keyword.spec.onnx.length }, clips: clips.length, negativeSeconds: Math.round(negativeSeconds), kernelBuild: kernel.build,
  heads: table, memory, seconds: Math.round((performance.now() - started) / 1000),
};
if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  console.log('\n| head | positives | detection float / int8 | false accepts/h float / int8 | clip agreement | step agreement |');
  console.log('|---|---|---|---|---|---|');
  for (const r of table) {
    console.log(`| ${r.head} | ${r.positives} | ${pct(r.float.detectionRate)} / ${pct(r.int8.detectionRate)} | ${r.float.falseAcceptsPerHour.toFixed(1)} / ${r.int8.falseAcceptsPerHour.toFixed(1)} | ${pct(r.clipAgreement)} | ${pct(r.stepAgreement)} |`);
  }
  console.log('\n| model | bundle bytes | peak arena bytes |');
  console.log('|---|---|---|');
  for (const [name, m] of Object.entries(memory)) console.log(`| ${name} | ${m.bundleBytes.toLocaleString('en')} | ${m.peakArenaBytes.toLocaleString('en')} |`);
  console.log(`\n${result.seconds} s`);
}
