// Silero VAD v5 (from node_modules) end to end on the executors, against
// onnxruntime-web: the float executor frame by frame with the state carried, on
// espeak-ng speech and on noise and near-silence; the int8 model (convolutions
// on the kernel) against float at the speech threshold, the same on every kernel build; the int8 bundle format.
import { KERNEL_BUILDS, loadKernel, type Kernel } from '@compotastic/kernel';
import { Prng } from '@compotastic/mesh';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  OrtSilero, SILERO_FRAME, SileroVad, compareSileroProbabilities, importSilero, quantizeSilero,
} from '../src/audio/silero.js';
import { mixAtSnr, noise, speak } from '../src/audio/speech.js';
import { ModelError } from '../src/errors.js';
import type { FloatGraph } from '../src/graph/ir.js';
import { decodeInt8Model, encodeInt8Model } from '../src/quant/format.js';
import type { Int8Model } from '../src/quant/quantize.js';

let graph: FloatGraph;
let reference: OrtSilero;
let kernel: Kernel;
let speech: Float32Array, noisySpeech: Float32Array, pinkNoise: Float32Array, nearSilence: Float32Array;
let int8: Int8Model;

beforeAll(async () => {
  graph = importSilero();
  reference = await OrtSilero.create();
  kernel = await loadKernel();
  const rng = new Prng(5);
  speech = speak('the road is blocked, check the second floor', { name: 'en-us', speed: 150, pitch: 50 }, 0.3);
  noisySpeech = mixAtSnr(speech, noise(speech.length, rng, 'white'), 10);
  pinkNoise = noise(16_000, rng, 'pink').map((v) => v * 0.3);
  nearSilence = noise(16_000, rng).map((v) => v * 0.003);
  // Calibration on other voices and words than the clips above.
  const calibration = [
    speak('we are coming, stay where you are', { name: 'en-gb-scotland', speed: 145, pitch: 45 }, 0.3),
    mixAtSnr(speak('the bridge is down', { name: 'en-us+m2', speed: 165, pitch: 55 }, 0.3), noise(30_000, rng, 'pink'), 10),
    noise(16_000, rng, 'white').map((v) => v * 0.2),
  ];
  int8 = quantizeSilero(graph, calibration);
}, 120_000);

describe('Silero VAD v5 on the float executor', () => {
  it('imports with the sample rate fixed: no If left, one LSTM, shape ops folded away', () => {
    const kinds = graph.ops.map((o) => o.kind);
    expect(kinds.filter((k) => k === 'lstm')).toHaveLength(1);
    expect(kinds).not.toContain('shape');
    expect(kinds.filter((k) => k === 'conv').length).toBeGreaterThanOrEqual(5);
    expect(graph.inputs.map((i) => i.name).sort()).toEqual(['input', 'state']);
  });

  it('matches onnxruntime-web frame by frame on speech, noisy speech, noise and near-silence', async () => {
    const clips = [speech, noisySpeech, pinkNoise, nearSilence];
    const vad = SileroVad.float(graph);
    const ort = [], ours = [];
    for (const c of clips) {
      ort.push(await reference.probabilities(c));
      ours.push(vad.probabilities(c));
    }
    const r = compareSileroProbabilities(ort, ours);
    expect(r.maxProbDifference).toBeLessThan(1e-4);
    expect(r.frameAgreement).toBe(1);
    // The speech clip has speech frames, noise and silence have (almost) none.
    expect(ort[0]!.some((p) => p > 0.5)).toBe(true);
    expect(ort[3]!.every((p) => p < 0.5)).toBe(true);
  }, 120_000);

  it('carries the state across frames: streaming equals the clip, and the state matters', () => {
    const vad = SileroVad.float(graph);
    const clip = vad.probabilities(speech);
    const frames = Math.floor(speech.length / SILERO_FRAME);
    const streamed = Float32Array.from({ length: frames }, (_, f) => vad.process(speech.subarray(f * SILERO_FRAME, (f + 1) * SILERO_FRAME)));
    expect(Array.from(streamed)).toEqual(Array.from(clip.subarray(0, frames)));
    // After the speech, the same near-silence scores differently than from a fresh state.
    const after = vad.process(nearSilence.subarray(0, SILERO_FRAME));
    vad.reset();
    const fresh = vad.process(nearSilence.subarray(0, SILERO_FRAME));
    expect(after).not.toBe(fresh);
    expect(() => vad.process(new Float32Array(100))).toThrow(ModelError);
  });

  it('gates like the energy gate: opens on speech, stays shut on near-silence', () => {
    const vad = SileroVad.float(graph);
    expect(vad.opens(speech)).toBe(true);
    expect(vad.opens(nearSilence)).toBe(false);
  });
});

describe('Silero VAD v5 in int8', () => {
  it('agrees with float on speech frames at 0.5, convolutions and the LSTM on the kernel', () => {
    expect(int8.linears.size).toBeGreaterThanOrEqual(5);
    expect(int8.recurrent?.size).toBe(1);
    const f = SileroVad.float(graph), q = SileroVad.int8(kernel, int8);
    const clips = [speech, noisySpeech, pinkNoise, nearSilence];
    const r = compareSileroProbabilities(clips.map((c) => f.probabilities(c)), clips.map((c) => q.probabilities(c)));
    q.dispose();
    expect(r.speechFrames).toBeGreaterThan(10);
    expect(r.speechFrameAgreement).toBeGreaterThanOrEqual(0.9);
    expect(r.frameAgreement).toBeGreaterThanOrEqual(0.9);
  }, 60_000);

  it('gives the same probabilities on every kernel build', async () => {
    const runs = await Promise.all(KERNEL_BUILDS.map(async (build) => {
      const vad = SileroVad.int8(await loadKernel({ build }), int8);
      const p = Array.from(vad.probabilities(noisySpeech));
      vad.dispose();
      return p;
    }));
    expect(runs.length).toBe(3);
    expect(runs[0]!.length).toBeGreaterThan(10);
    for (const r of runs.slice(1)) expect(r).toEqual(runs[0]);
  }, 60_000);

  it('runs the same from its bundle', () => {
    const decoded = decodeInt8Model(encodeInt8Model(int8));
    const a = SileroVad.int8(kernel, int8), b = SileroVad.int8(kernel, decoded);
    expect(Array.from(b.probabilities(noisySpeech))).toEqual(Array.from(a.probabilities(noisySpeech)));
    a.dispose();
    b.dispose();
  });
});
