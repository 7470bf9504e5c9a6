// A seismic/vibration event dataset for edge sensing: 2-second windows of a
// ground-vibration sensor sampled at 32 Hz, in five classes a sensor node in a
// disaster zone cares about. Signals are synthesized from simple physical models
// (decaying oscillations, engine harmonics, growing low-frequency shaking) with
// random amplitudes, frequencies, phases and noise, from a seeded generator, so
// every build produces the same data.

import { Prng } from '@compotastic/mesh';

export const VIBRATION_CLASSES = ['quiet', 'footsteps', 'vehicle', 'tremor', 'impact'] as const;
export type VibrationClass = (typeof VIBRATION_CLASSES)[number];
/** Samples per window (2 s at 32 Hz). */
export const WINDOW = 64;
export const SAMPLE_RATE_HZ = 32;

export interface Dataset {
  /** count x WINDOW features, row-major. */
  x: Float32Array;
  /** Class index per row. */
  y: Uint8Array;
  count: number;
  features: number;
  classes: number;
}

function uniform(rng: Prng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.float();
}

/** A decaying oscillation starting at t0 (seconds). */
function ring(t: number, t0: number, amp: number, freq: number, decay: number): number {
  if (t < t0) return 0;
  const dt = t - t0;
  return amp * Math.exp(-decay * dt) * Math.sin(2 * Math.PI * freq * dt);
}

function synthesize(cls: VibrationClass, rng: Prng, out: Float32Array, offset: number): void {
  const noise = uniform(rng, 0.02, 0.12);
  const drift = uniform(rng, -0.05, 0.05);
  // Per-class parameters, drawn once per window.
  const period = uniform(rng, 0.35, 0.75);
  const stepPhase = uniform(rng, 0, period);
  const stepAmp = uniform(rng, 0.25, 0.8);
  const stepFreq = uniform(rng, 6, 11);
  const f0 = uniform(rng, 1.8, 5);
  const engineAmp = uniform(rng, 0.2, 0.6);
  const envelopeRate = uniform(rng, 0.2, 1.2);
  const tremorComponents = Array.from({ length: 4 }, () => ({
    freq: uniform(rng, 0.6, 3.5),
    phase: uniform(rng, 0, 2 * Math.PI),
    amp: uniform(rng, 0.15, 0.45),
  }));
  const tremorGrowth = uniform(rng, 0.3, 1.5);
  const impactAt = uniform(rng, 0.1, 1.7);
  const impactAmp = uniform(rng, 1, 3);
  const impactFreq = uniform(rng, 8, 14);
  for (let i = 0; i < WINDOW; i++) {
    const t = i / SAMPLE_RATE_HZ;
    let v = rng.gaussian(0, noise) + drift;
    switch (cls) {
      case 'quiet':
        break;
      case 'footsteps':
        for (let s = stepPhase - period; s <= t; s += period) v += ring(t, s, stepAmp, stepFreq, 9);
        break;
      case 'vehicle': {
        const env = 1 + 0.3 * Math.sin(2 * Math.PI * envelopeRate * t);
        v += engineAmp * env * (Math.sin(2 * Math.PI * f0 * t) + 0.4 * Math.sin(4 * Math.PI * f0 * t + 0.7));
        break;
      }
      case 'tremor': {
        const grow = Math.min(1, 0.2 + tremorGrowth * t);
        for (const c of tremorComponents) v += grow * c.amp * Math.sin(2 * Math.PI * c.freq * t + c.phase);
        break;
      }
      case 'impact':
        v += ring(t, impactAt, impactAmp, impactFreq, 6);
        break;
    }
    out[offset + i] = v;
  }
}

/** `count` windows with classes drawn uniformly, reproducible from `seed`. */
export function vibrationDataset(count: number, seed: number): Dataset {
  const rng = new Prng(seed >>> 0);
  const x = new Float32Array(count * WINDOW);
  const y = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const c = rng.intBelow(VIBRATION_CLASSES.length);
    y[n] = c;
    synthesize(VIBRATION_CLASSES[c]!, rng, x, n * WINDOW);
  }
  return { x, y, count, features: WINDOW, classes: VIBRATION_CLASSES.length };
}
