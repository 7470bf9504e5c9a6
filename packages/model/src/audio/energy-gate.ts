// The cheapest stage of a sensor's listening pipeline: an energy gate decides
// whether a clip is loud enough to be speech before the wake-word models wake
// up (SileroVad, in ./silero.ts, is the costlier gate that tells speech from
// loud noise). Frames are 80 ms (one embedding step); the gate opens when any frame is
// louder than the threshold.

import { AUDIO_RATE_HZ } from './speech.js';

/** Samples per gate frame: 80 ms, one embedding step. */
export const GATE_FRAME_SAMPLES = AUDIO_RATE_HZ * 0.08;
/** Default threshold: speech at conversational level is around -30 to -20 dBFS at a nearby microphone. */
export const GATE_THRESHOLD_DBFS = -40;

/** The loudest frame's RMS level in dB full scale (-Infinity for silence or an empty clip). */
export function peakFrameDbfs(samples: Float32Array, frame = GATE_FRAME_SAMPLES): number {
  let peak = 0;
  for (let start = 0; start < samples.length; start += frame) {
    const end = Math.min(samples.length, start + frame);
    let sum = 0;
    for (let i = start; i < end; i++) sum += samples[i]! * samples[i]!;
    peak = Math.max(peak, sum / (end - start));
  }
  return 10 * Math.log10(peak);
}

/** True when some frame of the clip is louder than `thresholdDbfs`. */
export function gateOpens(samples: Float32Array, thresholdDbfs = GATE_THRESHOLD_DBFS): boolean {
  return peakFrameDbfs(samples) > thresholdDbfs;
}
