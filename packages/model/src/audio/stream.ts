// A long synthetic negative stream: running speech (sentences built from word
// lists, spoken by many espeak-ng voices at many speeds and pitches, a few
// sentences per turn with short gaps), mixed with seeded white or pink noise at
// the corpus's SNRs, with noise-only and near-silence segments and pauses
// between turns. No wake phrase (nor "help", "weather", "alexa", ...) occurs in
// it. The sentences split in two halves by a hash: the evaluation stream speaks
// one half, the negatives a head is trained on come from the other. Built once
// per set of parameters and cached on disk as 16-bit PCM.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Prng } from '@compotastic/mesh';
import { ModelError } from '../errors.js';
import { SNRS_DB } from './corpus.js';
import { AUDIO_RATE_HZ, type Voice, mixAtSnr, noise, speak } from './speech.js';

/** Bumped whenever the content a set of parameters gives changes, so old cache files are not reused. */
const STREAM_VERSION = 1;

const SUBJECTS = [
  'the team', 'my brother', 'the driver', 'our neighbour', 'the medic', 'a woman', 'the old man', 'two children', 'the pilot',
  'the captain', 'somebody', 'the nurse', 'the engineer', 'my sister', 'the farmer', 'the crew', 'everyone', 'the teacher',
];
const VERBS = [
  'is waiting near', 'walked past', 'is looking for', 'came back from', 'will meet us at', 'left early from', 'is sleeping in',
  'carried the boxes to', 'found a key in', 'is painting', 'cleaned', 'drove slowly to', 'sold', 'is repairing', 'locked',
  'forgot about', 'is counting the chairs in', 'opened',
];
const PLACES = [
  'the north gate', 'the kitchen', 'the old station', 'the school', 'the market', 'the second tent', 'the garage', 'the river bank',
  'the hospital', 'the library', 'the parking lot', 'the bakery', 'the east road', 'the storage room', 'the village hall',
  'the train yard', 'the green house', 'the front door',
];
const TAILS = [
  '', '', '', 'this morning', 'after lunch', 'before the rain', 'again', 'last night', 'right now', 'with a flashlight',
  'in ten minutes', 'very quietly', 'on foot', 'for an hour',
];
const CHATTER = [
  'okay', 'copy that', 'say again please', 'roger', 'one moment', 'I think so', 'not yet', 'over', 'understood', 'no problem',
  'where is the map', 'how many are left', 'can you see the truck', 'do we have more batteries', 'that was loud',
  'we need more rope', 'stay on channel four', 'the signal is weak', 'count to ten', 'the door is stuck',
];

/** Words no negative sentence may hold: the phrases the heads listen for. */
const FORBIDDEN = /alexa|jarvis|mycroft|rhasspy|weather|help|timer/;

function half(sentence: string): 0 | 1 {
  return (createHash('sha256').update(sentence).digest()[0]! & 1) as 0 | 1;
}

/** A seeded sentence from one half of the pool: 'eval' for the evaluation stream, 'train' for a head's negatives. */
export function negativeSentence(rng: Prng, pool: 'eval' | 'train'): string {
  const want = pool === 'eval' ? 0 : 1;
  for (;;) {
    const s = rng.float() < 0.25
      ? CHATTER[rng.int(0, CHATTER.length)]!
      : [SUBJECTS[rng.int(0, SUBJECTS.length)], VERBS[rng.int(0, VERBS.length)], PLACES[rng.int(0, PLACES.length)], TAILS[rng.int(0, TAILS.length)]]
        .filter(Boolean).join(' ');
    if (!FORBIDDEN.test(s) && half(s) === want) return s;
  }
}

const VOICE_NAMES = ['en-us', 'en-gb', 'en-gb-scotland', 'en-gb-x-gbclan', 'en-gb-x-rp', 'en-gb-x-gbcwmd', 'en-029', 'en-us-nyc'];
const VARIANTS = ['', '+m1', '+m2', '+m3', '+m4', '+m5', '+m6', '+m7', '+f1', '+f2', '+f3', '+f4', '+f5'];

/** The evaluation stream's voices: 8 accents × 13 variants. */
export const STREAM_VOICES: readonly string[] = VOICE_NAMES.flatMap((n) => VARIANTS.map((v) => n + v));

/** A seeded espeak-ng voice from `names`, 120–200 wpm, pitch 20–80. */
export function randomVoice(rng: Prng, names: readonly string[] = STREAM_VOICES): Voice {
  return { name: names[rng.int(0, names.length)]!, speed: rng.int(120, 201), pitch: rng.int(20, 81) };
}

export interface StreamOptions {
  seed: number;
  /** Length of the stream in seconds (it is cut there). */
  seconds: number;
  /** Which half of the sentence pool to speak (default 'eval'). */
  pool?: 'eval' | 'train';
  /** espeak-ng voice names to draw from (default 8 accents × 13 variants), at 120–200 wpm and pitch 20–80. */
  voices?: readonly string[];
}

export interface NegativeStream {
  samples: Float32Array;
  /** Sentences spoken, turns, and noise-only segments. */
  sentences: number;
  turns: number;
  noiseSegments: number;
  /** The cache file it was read from or written to. */
  cacheFile: string;
  fromCache: boolean;
}

/** Where built streams are kept: COMPOTASTIC_AUDIO_CACHE, or node_modules/.cache/compotastic-audio of this package. */
export function audioCacheDir(): string {
  const env = process.env['COMPOTASTIC_AUDIO_CACHE'];
  if (env) return env;
  return join(fileURLToPath(new URL('../../', import.meta.url)), 'node_modules', '.cache', 'compotastic-audio');
}

/** The stream's content; `onProgress` sees the seconds built so far. */
function build(o: Required<StreamOptions>, onProgress?: (seconds: number) => void): Omit<NegativeStream, 'cacheFile' | 'fromCache'> {
  const rng = new Prng(o.seed);
  const total = Math.round(o.seconds * AUDIO_RATE_HZ);
  const out = new Float32Array(total);
  let at = 0, sentences = 0, turns = 0, noiseSegments = 0, reported = 0;
  const silence = (seconds: number) => noise(Math.round(seconds * AUDIO_RATE_HZ), rng).map((v) => v * 0.003);
  const put = (x: Float32Array) => {
    if (at < total) out.set(x.subarray(0, total - at), at);
    at += x.length;
  };
  while (at < total) {
    if (rng.float() < 0.15) {
      const n = Math.round(rng.uniform(2, 6) * AUDIO_RATE_HZ);
      const color = rng.float() < 0.5 ? 'white' : 'pink';
      put(noise(n, rng, color).map((v) => v * rng.uniform(0.05, 0.3)));
      noiseSegments++;
    } else {
      const voice = randomVoice(rng, o.voices);
      const parts: Float32Array[] = [];
      for (let k = rng.int(1, 5); k > 0; k--) {
        parts.push(speak(negativeSentence(rng, o.pool), voice, 0.05), new Float32Array(Math.round(rng.uniform(0.1, 0.6) * AUDIO_RATE_HZ)));
        sentences++;
      }
      const turn = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let off = 0;
      for (const p of parts) {
        turn.set(p, off);
        off += p.length;
      }
      const snr = SNRS_DB[rng.int(0, SNRS_DB.length)]!;
      put(snr === null ? turn : mixAtSnr(turn, noise(turn.length, rng, rng.float() < 0.5 ? 'white' : 'pink'), snr));
      turns++;
    }
    put(silence(rng.uniform(0.3, 2)));
    if (onProgress && at - reported >= 60 * AUDIO_RATE_HZ) {
      reported = at;
      onProgress(Math.min(at, total) / AUDIO_RATE_HZ);
    }
  }
  return { samples: out, sentences, turns, noiseSegments };
}

/** A stream file whose header or length does not match its parameters (code AUDIO_CACHE). */
export class AudioCacheError extends ModelError {
  constructor(message: string) {
    super('AUDIO_CACHE', message);
  }
}

const MAGIC = 0x4e475331; // "NGS1"

/** The negative stream for these parameters: read from the cache, or built (espeak-ng, sox) and cached. */
export function negativeStream(options: StreamOptions, onProgress?: (seconds: number) => void): NegativeStream {
  if (!Number.isFinite(options.seconds) || options.seconds <= 0) throw new RangeError(`stream seconds must be positive, got ${options.seconds}`);
  const o: Required<StreamOptions> = { pool: 'eval', voices: STREAM_VOICES, ...options };
  if (o.voices.length === 0) throw new RangeError('a stream needs at least one voice');
  const key = createHash('sha256')
    .update(JSON.stringify({ v: STREAM_VERSION, seed: o.seed, seconds: o.seconds, pool: o.pool, voices: o.voices, rate: AUDIO_RATE_HZ }))
    .digest('hex').slice(0, 16);
  const dir = audioCacheDir();
  const cacheFile = join(dir, `negative-stream-${o.pool}-s${o.seed}-${o.seconds}s-${key}.pcm`);
  const samples = Math.round(o.seconds * AUDIO_RATE_HZ);
  if (existsSync(cacheFile)) {
    const buf = readFileSync(cacheFile);
    if (buf.length !== 16 + 2 * samples || buf.readUInt32LE(0) !== MAGIC) throw new AudioCacheError(`${cacheFile} does not hold ${samples} samples; delete it to rebuild`);
    const pcm = new Int16Array(buf.buffer.slice(buf.byteOffset + 16, buf.byteOffset + buf.length));
    return {
      samples: Float32Array.from(pcm, (v) => v / 32768), sentences: buf.readUInt32LE(4), turns: buf.readUInt32LE(8), noiseSegments: buf.readUInt32LE(12),
      cacheFile, fromCache: true,
    };
  }
  const s = build(o, onProgress);
  const buf = Buffer.alloc(16 + 2 * samples);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(s.sentences, 4);
  buf.writeUInt32LE(s.turns, 8);
  buf.writeUInt32LE(s.noiseSegments, 12);
  for (let i = 0; i < samples; i++) buf.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(s.samples[i]! * 32768))), 16 + 2 * i);
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${cacheFile}.tmp`, buf);
  renameSync(`${cacheFile}.tmp`, cacheFile);
  // Return what a later run reads back, so a cached and a fresh run score the same samples.
  return { ...s, samples: Float32Array.from(new Int16Array(buf.buffer, buf.byteOffset + 16, samples), (v) => v / 32768), cacheFile, fromCache: false };
}
