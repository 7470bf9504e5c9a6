import { Prng } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { GATE_FRAME_SAMPLES, gateOpens, peakFrameDbfs } from '../src/audio/energy-gate.js';
import { noise } from '../src/audio/speech.js';

describe('the energy gate in front of the wake-word models', () => {
  it('measures the loudest 80 ms frame in dBFS', () => {
    // A full-scale square wave is 0 dBFS; at half amplitude, -6.02 dB.
    const square = new Float32Array(4 * GATE_FRAME_SAMPLES).map((_, i) => (i % 2 ? 0.5 : -0.5));
    expect(peakFrameDbfs(square)).toBeCloseTo(-6.02, 2);
    expect(peakFrameDbfs(new Float32Array(1000))).toBe(-Infinity);
    // One loud frame in a quiet clip sets the peak.
    const clip = new Float32Array(10 * GATE_FRAME_SAMPLES);
    clip.fill(0.5, 3 * GATE_FRAME_SAMPLES, 4 * GATE_FRAME_SAMPLES);
    expect(peakFrameDbfs(clip)).toBeCloseTo(-6.02, 2);
  });

  it('stays shut for near-silence and opens for noise or speech-level sound', () => {
    const rng = new Prng(1);
    expect(gateOpens(noise(16_000, rng).map((v) => v * 0.003))).toBe(false); // about -61 dBFS
    expect(gateOpens(noise(16_000, rng).map((v) => v * 0.3))).toBe(true); // about -21 dBFS
    expect(gateOpens(noise(16_000, rng).map((v) => v * 0.03), -30)).toBe(false); // -41 dBFS under a -30 dB threshold
  });
});
