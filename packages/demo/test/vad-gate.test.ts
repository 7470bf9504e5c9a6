import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadKernel } from '@compotastic/kernel';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareAcoustic } from '../src/acoustic.js';
import { heldOutScore } from '../src/acoustic-story.js';
import type { AcousticClip, AcousticKit } from '../src/demo.js';
import { GATE_DBFS, embeddedCount, gateSchedule } from '../src/vad-gate.js';

// The sensors' gates in front of the speech-embedding model: the energy gate, then the int8 Silero VAD with its
// hangover and pre-roll. First on made-up VAD outputs (the schedule step by step), then on the small acoustic story's
// clips (espeak-ng speech and seeded noise, as `pnpm start --acoustic small` plays them, from the demo's cache).

const STEPS = 25;
/** A clip of 25 steps whose VAD says speech on frames [from, to). */
function fakeClip(frames: number, from: number, to: number, peakDbfs = -20): AcousticClip {
  const vad = new Float32Array(frames);
  vad.fill(0.9, from, to);
  return { text: 'x', description: 'x', peakDbfs, seconds: 2.8, embeddings: new Float32Array(STEPS * 96), vad };
}

describe('the gate schedule', () => {
  it('keeps quiet clips from the VAD and the embedding, and embeds nothing where the VAD hears no speech', () => {
    const quiet = gateSchedule(fakeClip(87, 30, 40, GATE_DBFS - 1), 16);
    expect(quiet).toMatchObject({ energyOpen: false, vadFrames: 0, headSteps: [] });
    expect(embeddedCount(quiet)).toBe(0);
    const noise = gateSchedule(fakeClip(87, 0, 0), 16);
    expect(noise).toMatchObject({ energyOpen: true, vadFrames: 87, steps: STEPS, headSteps: [] });
    expect(embeddedCount(noise)).toBe(0);
    // Bypassed, the same clip runs the embedding on every step.
    expect(embeddedCount(gateSchedule(fakeClip(87, 0, 0), 16, 'ungated'))).toBe(STEPS);
  });

  it('opens causally, holds for the hangover, and embeds a head window of pre-roll', () => {
    // Step k ends at sample 1280k + 12512, frame f at 512(f + 1). One speech frame, frame 40, ends at 20992: with a
    // 160 ms hangover (2560 samples) steps 7 (ends 21472) and 8 (22752) are open; step 6 (20192) is before it.
    const s = gateSchedule(fakeClip(87, 40, 41), 16, { hangoverMs: 160 });
    expect(s.embedded.flatMap((e, k) => (e ? [k] : []))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // With a window of 16 no open step has a whole window behind it.
    expect(s.headSteps).toEqual([]);
    // Speech on frames 40 to 50 (the last ends at 26112): a 480 ms hangover (7680 samples) keeps steps up to
    // 16 (ends 32992) open, so the head scores steps 15 and 16; 160 ms keeps them up to 12 only, and the head never runs.
    expect(gateSchedule(fakeClip(87, 40, 51), 16, { hangoverMs: 480 }).headSteps).toEqual([15, 16]);
    expect(gateSchedule(fakeClip(87, 40, 51), 16, { hangoverMs: 160 }).headSteps).toEqual([]);
    // Without pre-roll the steps before the first open one (7) are never embedded, and the first head step comes later.
    const cut = gateSchedule(fakeClip(87, 40, 70), 16, { preRoll: 0, hangoverMs: 480 });
    expect(cut.embedded.flatMap((e, k) => (e ? [k] : []))).toEqual(Array.from({ length: 18 }, (_, i) => 7 + i));
    expect(cut.headSteps).toEqual([22, 23, 24]);
    expect(gateSchedule(fakeClip(87, 40, 70), 16, { hangoverMs: 480 }).headSteps).toEqual(Array.from({ length: 10 }, (_, i) => 15 + i));
  });
});

describe('the VAD-gated pipeline on the small acoustic story', () => {
  let kernel: Awaited<ReturnType<typeof loadKernel>>;
  let kit: AcousticKit;
  const clips = () => [...kit.before, ...kit.heldOut];
  const heads = () => [[kit.base.name, kit.base.parts], [kit.keyword.name, kit.keyword.parts]] as const;

  beforeAll(async () => {
    kernel = await loadKernel({ build: 'auto' });
    // The demo's own cache: after a run of the demo's tests (or `pnpm start --acoustic small`) nothing is made here.
    const cacheDir = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../node_modules/.cache/compotastic-demo');
    kit = await prepareAcoustic({ kernel, scale: 'small', cacheDir, say: () => {} });
  }, 1_800_000);

  it('detects the same keyword clips as the ungated pipeline, with each head', () => {
    for (const [head, parts] of heads()) {
      const gated = heldOutScore(kernel, parts, head, clips());
      const ungated = heldOutScore(kernel, parts, head, clips(), 'ungated');
      expect(gated.positives).toBeGreaterThan(0);
      expect(gated.detected).toBeGreaterThan(0);
      expect({ head, missed: gated.missed, accepted: gated.accepted }).toEqual({ head, missed: ungated.missed, accepted: ungated.accepted });
    }
  });

  it('runs the embedding on speech and never on noise or near-silence', () => {
    for (const c of clips()) {
      const s = gateSchedule(c, 16);
      if (c.text.endsWith('noise')) {
        expect(s.energyOpen, c.description).toBe(true);
        expect(embeddedCount(s), c.description).toBe(0);
      } else if (c.text === 'near-silence') {
        expect(s.energyOpen, c.description).toBe(false);
        expect(s.vadFrames, c.description).toBe(0);
      } else {
        expect(embeddedCount(s), c.description).toBeGreaterThan(0);
        expect(s.headSteps.length, c.description).toBeGreaterThan(0);
      }
    }
    expect(clips().some((c) => c.text.endsWith('noise'))).toBe(true);
    expect(clips().some((c) => c.text === 'near-silence')).toBe(true);
  });

  it('a broken gate is caught: a deaf VAD, no hangover or an always-on VAD change what these checks see', () => {
    const deaf = clips().map((c) => ({ ...c, vad: new Float32Array(c.vad.length) }));
    const always = clips().map((c) => ({ ...c, vad: new Float32Array(c.vad.length).fill(1) }));
    const [head, parts] = heads()[1];
    const ungated = heldOutScore(kernel, parts, head, clips(), 'ungated');
    expect(heldOutScore(kernel, parts, head, deaf).detected).toBeLessThan(ungated.detected);
    // A hangover of one frame cuts the end of the keyword, where the head fires.
    expect(heldOutScore(kernel, parts, head, clips(), { hangoverMs: 32 }).detected).toBeLessThan(ungated.detected);
    const noisy = always.find((c) => c.text.endsWith('noise'))!;
    expect(embeddedCount(gateSchedule(noisy, 16))).toBe(noisy.embeddings.length / 96);
  });
});
