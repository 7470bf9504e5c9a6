// A new wake-word head trained here, as openWakeWord trains one: positives are
// the phrase spoken by many synthetic voices (espeak-ng at random speeds and
// pitches, some with noise), negatives are other phrases, noise and silence;
// the features are the frozen speech-embedding model's outputs, 16 embeddings
// (1.28 s) per example. The head is the project's MLP (Linear -> LayerNorm ->
// GELU -> Linear -> ReLU -> Linear -> softmax over {other, keyword}), exported
// to ONNX so it takes the same import and int8 path as any other model.

import { Prng } from '@compotastic/mesh';
import type { FloatTensor } from '../graph/ir.js';
import { encodeModel } from '../onnx/proto.js';
import { mlpToOnnx } from '../reference-model.js';
import { type MlpWeights, trainMlp } from '../train/mlp.js';
import { placeInWindow } from './corpus.js';
import { negativeStream } from './stream.js';
import { AUDIO_RATE_HZ, type Voice, mixAtSnr, noise, speak } from './speech.js';
import { EMBEDDING_SIZE, type HeadSpec, type OrtWakeWord, clipEmbeddings, headInputs } from './wakeword.js';

/** Embeddings a trained head reads. */
export const KEYWORD_WINDOW = 16;

/** Voices for training only: none of them is a held-out voice. */
const TRAINING_VOICES = ['en-gb-x-rp', 'en-us+m4', 'en-gb-scotland+f4', 'en+m7', 'en-gb+f1', 'en-us+m1', 'en+f4', 'en-029+m2'];

/**
 * Negative phrases for training only (the held-out negatives are other phrases). The first
 * ones sound like the end of a keyword ending in "me" (openWakeWord trains on such adversarial
 * phrases too), so they come up three times as often.
 */
const CONFUSABLE_NEGATIVES = ['hear me', 'tell me', 'near me', 'follow me', 'held me', 'feel me', 'help', 'kelp tea'];
const TRAINING_NEGATIVES = [
  ...CONFUSABLE_NEGATIVES, ...CONFUSABLE_NEGATIVES, ...CONFUSABLE_NEGATIVES,
  'help is on the way', 'move the rubble', 'over there by the wall', 'call the team', 'hold still', 'can you walk',
  'we need light', 'the signal is weak', 'me too', 'keep talking', 'where are you', 'the stairs are gone',
  'hello', 'yes', 'no', 'this way', 'heavy machinery', 'check the basement', 'give me a hand', 'hurry up', 'stand back',
  'the roof collapsed', 'is it safe', 'anybody home', 'bring water', 'they are trapped', 'listen', 'quiet please',
];

export interface KeywordTrainingOptions {
  seed?: number;
  /** Synthetic positive clips. */
  positives?: number;
  /** Negative phrase clips (plus a quarter as many noise and near-silence clips). */
  negatives?: number;
  epochs?: number;
  /** Widths of the head's two hidden layers (default 64 and 32): smaller heads make smaller over-the-air bundles. */
  hidden?: [number, number];
  /**
   * Seconds of running speech to add as negatives (default 0): every window of a negative stream
   * spoken from the training half of the sentence pool (never the evaluation stream's sentences),
   * in training voices, cached like the evaluation stream.
   */
  runningSpeechSeconds?: number;
  /**
   * Reuse the clip examples (and their embeddings) of a head trained before with the same seed and
   * counts, instead of synthesizing and embedding them again: e.g. to retrain with running speech added.
   */
  clipsFrom?: TrainedKeywordHead;
}

export interface TrainedKeywordHead {
  spec: HeadSpec;
  weights: MlpWeights;
  /** The embeddings of the training clips (they calibrate the int8 head). */
  embeddings: FloatTensor[];
  examples: { positive: number; negative: number; runningSpeechWindows: number };
  /** The clip examples (positives, negative phrases, noise) as training rows, for `clipsFrom`. */
  clipRows: { x: Float32Array; y: number }[];
}

function randomVoice(rng: Prng): Voice {
  return { name: TRAINING_VOICES[rng.int(0, TRAINING_VOICES.length)]!, speed: rng.int(115, 195), pitch: rng.int(15, 85) };
}

/** Every head input window of a clip's embeddings, flat. */
function features(e: FloatTensor): Float32Array[] {
  return headInputs(e, KEYWORD_WINDOW).map((w) => w.data);
}

function augment(clip: Float32Array, rng: Prng): Float32Array {
  const snr = [null, 20, 10, 5][rng.int(0, 4)]!;
  return snr === null ? clip : mixAtSnr(clip, noise(clip.length, rng, rng.float() < 0.5 ? 'white' : 'pink'), snr);
}

/** The clip examples: positives, negative phrases, noise and near-silence, embedded by the float reference. */
async function clipExamples(reference: OrtWakeWord, phrase: string, o: KeywordTrainingOptions): Promise<{ rows: { x: Float32Array; y: number }[]; embeddings: FloatTensor[] }> {
  const rng = new Prng(o.seed ?? 1);
  const rows: { x: Float32Array; y: number }[] = [];
  const embeddings: FloatTensor[] = [];
  for (let i = 0; i < (o.positives ?? 60); i++) {
    const e = await clipEmbeddings(reference, augment(placeInWindow(speak(phrase, randomVoice(rng), 0.2), KEYWORD_WINDOW, 0.1 + 0.3 * rng.float()), rng));
    embeddings.push(e);
    // The last windows end just after the phrase: those are the positives.
    for (const x of features(e).slice(-2)) rows.push({ x, y: 1 });
  }
  const negatives = o.negatives ?? 100;
  for (let i = 0; i < negatives; i++) {
    const text = TRAINING_NEGATIVES[i % TRAINING_NEGATIVES.length]!;
    const e = await clipEmbeddings(reference, augment(placeInWindow(speak(text, randomVoice(rng), 0.2), KEYWORD_WINDOW), rng));
    embeddings.push(e);
    for (const x of features(e)) rows.push({ x, y: 0 });
  }
  for (let i = 0; i < negatives / 4; i++) {
    const clip = noise(3 * AUDIO_RATE_HZ, rng, i % 2 ? 'white' : 'pink').map((v) => v * (i % 3 === 0 ? 0.003 : 0.3));
    const e = await clipEmbeddings(reference, clip);
    embeddings.push(e);
    for (const x of features(e)) rows.push({ x, y: 0 });
  }
  return { rows, embeddings };
}

/** Synthesizes the examples, embeds them with the float reference, and trains the head. */
export async function trainKeywordHead(reference: OrtWakeWord, name: string, phrase: string, o: KeywordTrainingOptions = {}): Promise<TrainedKeywordHead> {
  const { rows: clipRows, embeddings } = o.clipsFrom
    ? { rows: o.clipsFrom.clipRows, embeddings: o.clipsFrom.embeddings } : await clipExamples(reference, phrase, o);
  const rows = [...clipRows];
  let runningSpeechWindows = 0;
  if (o.runningSpeechSeconds) {
    const stream = negativeStream({ seed: (o.seed ?? 1) + 7919, seconds: o.runningSpeechSeconds, pool: 'train', voices: TRAINING_VOICES });
    const chunk = 10 * AUDIO_RATE_HZ;
    for (let at = 0; at < stream.samples.length; at += chunk) {
      const e = await clipEmbeddings(reference, stream.samples.subarray(at, at + chunk + 1280 * KEYWORD_WINDOW));
      for (const x of features(e)) {
        rows.push({ x, y: 0 });
        runningSpeechWindows++;
      }
    }
  }
  const d = KEYWORD_WINDOW * EMBEDDING_SIZE;
  const x = new Float32Array(rows.length * d), y = new Uint8Array(rows.length);
  rows.forEach((r, i) => { x.set(r.x, i * d); y[i] = r.y; });
  const weights = trainMlp({ x, y, count: rows.length, features: d, classes: 2 }, { hidden1: o.hidden?.[0] ?? 64, hidden2: o.hidden?.[1] ?? 32, epochs: o.epochs ?? 30, seed: o.seed ?? 1 });
  const positive = y.reduce((n, v) => n + v, 0);
  return {
    spec: { name, phrase, onnx: encodeModel(mlpToOnnx(weights, name)) }, weights, embeddings,
    examples: { positive, negative: rows.length - positive, runningSpeechWindows }, clipRows,
  };
}
