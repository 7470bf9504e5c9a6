// The negative stream: seeded, cached on disk, free of wake phrases, its sentence
// halves disjoint; streaming scores equal to scoring the whole stream at once;
// accepts counted with a refractory time.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng } from '@compotastic/mesh';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countAccepts, streamScores } from '../src/audio/evaluate.js';
import { AudioCacheError, negativeSentence, negativeStream } from '../src/audio/stream.js';
import { AUDIO_RATE_HZ } from '../src/audio/speech.js';
import { OrtWakeWord, clipEmbeddings, headScores, pretrainedHead } from '../src/audio/wakeword.js';

let dir: string;
const saved = process.env['COMPOTASTIC_AUDIO_CACHE'];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'negative-stream-'));
  process.env['COMPOTASTIC_AUDIO_CACHE'] = dir;
});
afterAll(() => {
  if (saved === undefined) delete process.env['COMPOTASTIC_AUDIO_CACHE'];
  else process.env['COMPOTASTIC_AUDIO_CACHE'] = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe('the negative stream', () => {
  it('speaks the evaluation and training halves of the sentence pool, never a wake phrase', () => {
    const draw = (pool: 'eval' | 'train') => {
      const rng = new Prng(4);
      return new Set(Array.from({ length: 400 }, () => negativeSentence(rng, pool)));
    };
    const [evalSet, trainSet] = [draw('eval'), draw('train')];
    expect(evalSet.size).toBeGreaterThan(150);
    expect(trainSet.size).toBeGreaterThan(150);
    for (const s of evalSet) expect(trainSet.has(s), s).toBe(false);
    for (const s of [...evalSet, ...trainSet]) expect(s).not.toMatch(/alexa|jarvis|mycroft|rhasspy|weather|help/);
  });

  it('is built once per set of parameters, then read back from the cache with the same samples', () => {
    const a = negativeStream({ seed: 9, seconds: 8 });
    expect(a.fromCache).toBe(false);
    expect(a.samples.length).toBe(8 * AUDIO_RATE_HZ);
    expect(a.turns + a.noiseSegments).toBeGreaterThan(0);
    const b = negativeStream({ seed: 9, seconds: 8 });
    expect(b.fromCache).toBe(true);
    expect(b.cacheFile).toBe(a.cacheFile);
    expect(b.samples).toEqual(a.samples);
    expect(b.sentences).toBe(a.sentences);
    const c = negativeStream({ seed: 10, seconds: 8 });
    expect(c.cacheFile).not.toBe(a.cacheFile);
    expect(c.samples).not.toEqual(a.samples);
    // Something is said: the stream is not silence.
    expect(a.samples.reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeGreaterThan(0.05);
  });

  it('rejects a damaged cache file and bad lengths with typed errors', () => {
    const a = negativeStream({ seed: 11, seconds: 2 });
    writeFileSync(a.cacheFile, new Uint8Array(100));
    expect(() => negativeStream({ seed: 11, seconds: 2 })).toThrow(AudioCacheError);
    expect(() => negativeStream({ seed: 11, seconds: 0 })).toThrow(RangeError);
    expect(() => negativeStream({ seed: 11, seconds: 2, voices: [] })).toThrow(RangeError);
  });
});

describe('streaming scores', () => {
  it('counts an accept, then none within the refractory steps', () => {
    const s = [0, 0.6, 0.7, 0.2, 0.9, 0, 0, 0.8, 0, 0.5];
    expect(countAccepts(s, 0.5, 1)).toEqual([1, 2, 4, 7, 9]);
    expect(countAccepts(s, 0.5, 4)).toEqual([1, 7]);
    expect(countAccepts(s, 0.95, 4)).toEqual([]);
  });

  it('gives the scores of the whole stream at once, fed in chunks', async () => {
    const stream = negativeStream({ seed: 12, seconds: 12 });
    const head = pretrainedHead('hey_rhasspy');
    const reference = await OrtWakeWord.create([head]);
    try {
      const whole = await headScores(reference, head.name, await clipEmbeddings(reference, stream.samples));
      const chunked = (await streamScores(reference, stream.samples, [head.name], { chunkSeconds: 2.3 })).get(head.name)!;
      expect(chunked.length).toBe(whole.length);
      expect(whole.length).toBeGreaterThan(100);
      let diff = 0;
      for (let i = 0; i < whole.length; i++) diff = Math.max(diff, Math.abs(whole[i]! - chunked[i]!));
      expect(diff).toBeLessThan(1e-3);
    } finally {
      await reference.release();
    }
  }, 120_000);
});
