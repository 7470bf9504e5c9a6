// What a sensor's wake-word pipeline runs on a clip, browser-safe: the energy gate first (the loudest 80 ms frame; a
// quiet clip wakes nothing, not even the VAD), then Silero VAD on every 32 ms frame, and the speech-embedding model
// only on the 80 ms steps the VAD marks as speech. A step is open while some VAD frame that ended within the hangover
// before it was speech. When the gate opens, the sensor also embeds the steps just before it from its audio ring
// buffer (the pre-roll, one head window less one step), so the head's window holds the keyword's onset; the head
// scores only open steps.

import type { AcousticClip } from './demo.js';

/** The energy gate's threshold (the loudest 80 ms frame), dBFS. */
export const GATE_DBFS = -40;
/** Silero's speech threshold on its probability. */
export const VAD_SPEECH = 0.5;
/**
 * How long a step stays open after the last speech frame, ms. The head's score peaks after the keyword ends,
 * so the hangover must cover that: 480 ms lost "help me" clips on seeded audio (see `pnpm --filter @compotastic/demo vad-gate`).
 */
export const VAD_HANGOVER_MS = 640;
/** Samples per Silero frame (32 ms at 16 kHz). */
const VAD_FRAME_SAMPLES = 512;
/** openWakeWord's embedding steps: one every 8 mel frames of 160 samples, each over 76 frames after a 512-sample FFT. */
const STEP_SAMPLES = 8 * 160;
const STEP_SPAN_SAMPLES = 512 + 75 * 160;
const RATE_HZ = 16_000;

export interface GateOptions {
  hangoverMs?: number;
  /** Steps embedded from the ring buffer before the first open one (default: the head's window less one). */
  preRoll?: number;
}

/** What the pipeline runs on one clip. */
export interface GateSchedule {
  /** The energy gate let the clip through to the VAD. */
  energyOpen: boolean;
  /** Silero frames run. */
  vadFrames: number;
  /** Embedding steps the clip has, and which of them the embedding model ran on. */
  steps: number;
  embedded: boolean[];
  /** Steps the head scores (each with a whole window of embedded steps behind it). */
  headSteps: number[];
}

/** The schedule of a clip for a head reading `window` embeddings. `ungated` runs everything, for comparisons. */
export function gateSchedule(clip: AcousticClip, window: number, o: GateOptions | 'ungated' = {}): GateSchedule {
  const steps = clip.embeddings.length / 96;
  if (o === 'ungated') {
    return { energyOpen: true, vadFrames: 0, steps, embedded: new Array<boolean>(steps).fill(true), headSteps: Array.from({ length: Math.max(0, steps - window + 1) }, (_, i) => i + window - 1) };
  }
  const embedded = new Array<boolean>(steps).fill(false);
  if (clip.peakDbfs <= GATE_DBFS) return { energyOpen: false, vadFrames: 0, steps, embedded, headSteps: [] };
  const hangover = Math.round(((o.hangoverMs ?? VAD_HANGOVER_MS) * RATE_HZ) / 1000);
  const preRoll = o.preRoll ?? window - 1;
  const speechEnds = [...clip.vad].flatMap((p, f) => (p >= VAD_SPEECH ? [(f + 1) * VAD_FRAME_SAMPLES] : []));
  const headSteps: number[] = [];
  for (let k = 0; k < steps; k++) {
    const end = k * STEP_SAMPLES + STEP_SPAN_SAMPLES;
    // Causal: only frames that have ended by the step's end count, and only those within the hangover before it.
    if (!speechEnds.some((e) => e <= end && e > end - hangover)) continue;
    for (let j = Math.max(0, k - preRoll); j <= k; j++) embedded[j] = true;
    if (k >= window - 1 && embedded.slice(k - window + 1, k + 1).every(Boolean)) headSteps.push(k);
  }
  return { energyOpen: true, vadFrames: clip.vad.length, steps, embedded, headSteps };
}

/** Embedding steps run, of all the clip has. */
export const embeddedCount = (s: GateSchedule): number => s.embedded.filter(Boolean).length;
