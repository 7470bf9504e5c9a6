// Held-out and calibration audio built from a seed: espeak-ng voices at several
// speeds and pitches, clean and with noise at 20, 10 and 0 dB SNR. Positives are
// the wake-word phrases; negatives are other phrases, silence and noise. The
// calibration set uses other voices and phrases, so the held-out set is never
// seen while quantizing.

import { Prng } from '@compotastic/mesh';
import { AUDIO_RATE_HZ, type Voice, mixAtSnr, noise, speak } from './speech.js';
import { minimumSamples } from './wakeword.js';

export interface Clip {
  /** The head this clip should trigger, or undefined for a negative. */
  positiveFor?: string;
  description: string;
  samples: Float32Array;
}

export const HELD_OUT_VOICES: Voice[] = [
  { name: 'en-us', speed: 150, pitch: 50 },
  { name: 'en-us+f3', speed: 130, pitch: 70 },
  { name: 'en-gb+m3', speed: 175, pitch: 35 },
  { name: 'en-029+f2', speed: 160, pitch: 60 },
];

/** Speed and pitch offsets of the held-out voices' variants; the first is the voice as listed. */
const VARIANT_OFFSETS: [speed: number, pitch: number][] = [[0, 0], [-25, 15], [25, -15], [-15, -20], [15, 20], [-35, 0], [35, 0], [0, 25]];

export const MAX_VOICE_VARIANTS = VARIANT_OFFSETS.length;

/**
 * Each voice at `variants` speed and pitch settings (espeak-ng takes 80-450 wpm and pitch 0-99),
 * so that a detection rate rests on more than a handful of positives: with 4 voices, 3 variants
 * and 4 noise conditions every head has 48, and one clip moves its rate about 2 points.
 */
export function voiceVariants(voices: readonly Voice[], variants: number): Voice[] {
  if (!Number.isInteger(variants) || variants < 1 || variants > VARIANT_OFFSETS.length) {
    throw new RangeError(`voice variants must be an integer from 1 to ${VARIANT_OFFSETS.length}, got ${variants}`);
  }
  return voices.flatMap((v) => VARIANT_OFFSETS.slice(0, variants).map(([ds, dp]) => ({
    name: v.name, speed: Math.min(450, Math.max(80, v.speed + ds)), pitch: Math.min(99, Math.max(0, v.pitch + dp)),
  })));
}

export const CALIBRATION_VOICES: Voice[] = [
  { name: 'en-gb-scotland', speed: 145, pitch: 45 },
  { name: 'en-us+m2', speed: 165, pitch: 55 },
];

export const NEGATIVE_PHRASES = [
  'is anyone there', 'the road is blocked', 'hello can you hear me', 'bring the stretcher', 'water and blankets',
  'a lexicon of words', 'they went that way', 'check the second floor', 'turn on the radio', 'the weather is cold',
];

const CALIBRATION_PHRASES = ['alexa', 'hey mycroft', 'stay where you are', 'we are coming', 'the bridge is down'];

export const SNRS_DB: (number | null)[] = [null, 20, 10, 0];

/** Embeddings the longest head reads (weather); every clip gives every head at least one score. */
export const LONGEST_HEAD_WINDOW = 22;

/** A clip long enough for a head's window, the speech ending `tailSeconds` before the end, over `bed` (or silence). */
export function placeInWindow(speech: Float32Array, window = LONGEST_HEAD_WINDOW, tailSeconds = 0.3): Float32Array {
  const tail = Math.round(tailSeconds * AUDIO_RATE_HZ);
  const n = Math.max(speech.length + tail, minimumSamples(window) + tail);
  const out = new Float32Array(n);
  out.set(speech, n - tail - speech.length);
  return out;
}

function noisy(clip: Float32Array, snr: number | null, rng: Prng): Float32Array {
  if (snr === null) return clip;
  return mixAtSnr(clip, noise(clip.length, rng, rng.float() < 0.5 ? 'white' : 'pink'), snr);
}

export interface CorpusOptions {
  seed: number;
  /** The heads whose phrases are the positives. */
  heads: readonly { name: string; phrase: string }[];
  voices?: Voice[];
  snrs?: (number | null)[];
  /** Negative phrases to speak (default all). */
  negativePhrases?: number;
  /** Clips of pure noise and of near-silence, each. */
  noiseClips?: number;
}

/** The held-out set: every head's phrase and every negative phrase in every voice and noise condition. */
export function heldOutCorpus(o: CorpusOptions): Clip[] {
  const rng = new Prng(o.seed);
  const voices = o.voices ?? HELD_OUT_VOICES, snrs = o.snrs ?? SNRS_DB;
  const clips: Clip[] = [];
  const add = (text: string, positiveFor: string | undefined) => {
    for (const v of voices) {
      const speech = placeInWindow(speak(text, v, 0.2));
      for (const snr of snrs) {
        clips.push({ positiveFor, description: `${text} / ${v.name} ${v.speed} wpm p${v.pitch} / ${snr === null ? 'clean' : `${snr} dB`}`, samples: noisy(speech, snr, rng) });
      }
    }
  };
  for (const h of o.heads) add(h.phrase, h.name);
  for (const text of NEGATIVE_PHRASES.slice(0, o.negativePhrases ?? NEGATIVE_PHRASES.length)) add(text, undefined);
  const length = minimumSamples(LONGEST_HEAD_WINDOW) + AUDIO_RATE_HZ;
  for (let i = 0; i < (o.noiseClips ?? 4); i++) {
    clips.push({ description: `noise ${i}`, samples: noise(length, rng, i % 2 ? 'white' : 'pink').map((v) => v * 0.3) });
    clips.push({ description: `near-silence ${i}`, samples: noise(length, rng).map((v) => v * 0.003) });
  }
  return clips;
}

/** Calibration clips: other voices and phrases, clean and noisy. */
export function calibrationCorpus(seed: number, count = CALIBRATION_VOICES.length * CALIBRATION_PHRASES.length): Float32Array[] {
  const rng = new Prng(seed);
  const out: Float32Array[] = [];
  for (const text of CALIBRATION_PHRASES) {
    for (const v of CALIBRATION_VOICES) {
      if (out.length < count) out.push(noisy(placeInWindow(speak(text, v, 0.2)), out.length % 2 ? 10 : null, rng));
    }
  }
  return out;
}

/** Seconds of audio in clips. */
export function durationSeconds(clips: readonly Clip[]): number {
  return clips.reduce((s, c) => s + c.samples.length, 0) / AUDIO_RATE_HZ;
}
