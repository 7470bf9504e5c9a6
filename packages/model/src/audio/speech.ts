// Test audio the project makes itself: espeak-ng speaks a phrase, sox converts it
// to 16 kHz mono 16-bit PCM (the rate openWakeWord's models expect), and noise is
// mixed in here from a seeded generator at a chosen SNR, so the same seed gives
// the same clip on every machine.

import { spawnSync } from 'node:child_process';
import { Prng } from '@compotastic/mesh';
import { ModelError } from '../errors.js';

export const AUDIO_RATE_HZ = 16_000;

/** espeak-ng or sox is missing or failed (code SPEECH). */
export class SpeechSynthesisError extends ModelError {
  constructor(message: string) {
    super('SPEECH', message);
  }
}

export interface Voice {
  /** espeak-ng voice, e.g. 'en-us+m3'. */
  name: string;
  /** Words per minute. */
  speed: number;
  /** 0..99. */
  pitch: number;
}

function run(cmd: string, args: string[], input?: Uint8Array): Uint8Array {
  const r = spawnSync(cmd, args, { input, maxBuffer: 64 << 20 });
  if (r.error) throw new SpeechSynthesisError(`${cmd} could not run (${r.error.message}); install the Debian package ${cmd}`);
  if (r.status !== 0) throw new SpeechSynthesisError(`${cmd} ${args.join(' ')} exited with ${r.status}: ${r.stderr.toString().trim()}`);
  return new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength);
}

/** Speaks `text` and returns 16 kHz mono samples in [-1, 1), with `padSeconds` of silence either side. */
export function speak(text: string, voice: Voice, padSeconds = 0.5): Float32Array {
  const wav = run('espeak-ng', ['-v', voice.name, '-s', String(voice.speed), '-p', String(voice.pitch), '--stdout', text]);
  // -R: sox seeds its dither, so the same text and voice give the same samples on every run.
  const pcm = run('sox', ['-R', '-t', 'wav', '-', '-t', 'raw', '-r', String(AUDIO_RATE_HZ), '-c', '1', '-b', '16', '-e', 'signed-integer', '-L', '-',
    'pad', String(padSeconds), String(padSeconds)], wav);
  const view = new DataView(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const out = new Float32Array(pcm.byteLength >> 1);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true) / 32768;
  return out;
}

/** Seeded noise: white, or pink-ish (white through a one-pole low-pass, like wind and rubble). */
export function noise(samples: number, rng: Prng, color: 'white' | 'pink' = 'white'): Float32Array {
  const out = new Float32Array(samples);
  let lp = 0;
  for (let i = 0; i < samples; i++) {
    const w = rng.gaussian(0, 0.3);
    lp = 0.95 * lp + 0.05 * w;
    out[i] = color === 'white' ? w : lp * 4;
  }
  return out;
}

function power(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return s / Math.max(1, x.length);
}

/** Adds `noiseClip` to `clip` scaled so the speech-to-noise power ratio is `snrDb`. */
export function mixAtSnr(clip: Float32Array, noiseClip: Float32Array, snrDb: number): Float32Array {
  const signal = power(clip), n = power(noiseClip.subarray(0, clip.length));
  const gain = n === 0 ? 0 : Math.sqrt(signal / (n * 10 ** (snrDb / 10)));
  return clip.map((v, i) => Math.max(-1, Math.min(1, v + gain * noiseClip[i % noiseClip.length]!)));
}
