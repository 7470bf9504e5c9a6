import { describe, expect, it } from 'vitest';
import { HELD_OUT_VOICES, MAX_VOICE_VARIANTS, voiceVariants } from '../src/audio/corpus.js';

describe('held-out voice variants', () => {
  it('keeps each voice as listed first, then distinct speed and pitch settings of the same voice', () => {
    const vs = voiceVariants(HELD_OUT_VOICES, 3);
    expect(vs).toHaveLength(HELD_OUT_VOICES.length * 3);
    HELD_OUT_VOICES.forEach((v, i) => {
      const mine = vs.slice(i * 3, i * 3 + 3);
      expect(mine[0]).toEqual(v);
      expect(mine.every((m) => m.name === v.name)).toBe(true);
      expect(new Set(mine.map((m) => `${m.speed}/${m.pitch}`)).size).toBe(3);
    });
    expect(voiceVariants(HELD_OUT_VOICES, 1)).toEqual(HELD_OUT_VOICES);
  });

  it("stays inside espeak-ng's speed and pitch ranges", () => {
    const edge = voiceVariants([{ name: 'en-us', speed: 90, pitch: 95 }, { name: 'en-us', speed: 440, pitch: 3 }], MAX_VOICE_VARIANTS);
    for (const v of edge) {
      expect(v.speed).toBeGreaterThanOrEqual(80);
      expect(v.speed).toBeLessThanOrEqual(450);
      expect(v.pitch).toBeGreaterThanOrEqual(0);
      expect(v.pitch).toBeLessThanOrEqual(99);
    }
  });

  it('refuses a count it cannot give', () => {
    for (const n of [0, -1, 1.5, MAX_VOICE_VARIANTS + 1, Number.NaN]) expect(() => voiceVariants(HELD_OUT_VOICES, n)).toThrow(RangeError);
  });
});
