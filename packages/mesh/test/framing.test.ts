import { describe, expect, it } from 'vitest';
import { FRAME_START1, FRAME_START2, FrameDecoder, MeshError, Prng, encodeFrame, type FrameDecoderOutput } from '../src/index.js';

function frames(out: FrameDecoderOutput[]): Uint8Array[] {
  return out.filter((o) => o.type === 'frame').map((o) => (o as { payload: Uint8Array }).payload);
}

function magicBody(rng: Prng, length: number): Uint8Array {
  const body = rng.bytes(length);
  for (let i = 0; i + 1 < length; i += 2 + rng.intBelow(4)) {
    body[i] = FRAME_START1;
    body[i + 1] = FRAME_START2;
  }
  return body;
}

/** Garbage that cannot contain a frame start. */
function noise(rng: Prng, length: number): Uint8Array {
  const out = rng.bytes(length);
  for (let i = 0; i < out.length; i++) if (out[i] === FRAME_START1) out[i] = 0x20;
  return out;
}

function feedInChunks(decoder: FrameDecoder, stream: Uint8Array, rng: Prng): FrameDecoderOutput[] {
  const out: FrameDecoderOutput[] = [];
  let i = 0;
  while (i < stream.length) {
    const n = 1 + rng.intBelow(64);
    out.push(...decoder.push(stream.subarray(i, i + n)));
    i += n;
  }
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('encodeFrame', () => {
  it('prefixes magic and big-endian length', () => {
    expect(Array.from(encodeFrame(new Uint8Array([1, 2, 3])))).toEqual([0x94, 0xc3, 0, 3, 1, 2, 3]);
    expect(Array.from(encodeFrame(new Uint8Array(300)).subarray(0, 4))).toEqual([0x94, 0xc3, 1, 44]);
  });
  it('refuses frames over 512 bytes', () => {
    expect(() => encodeFrame(new Uint8Array(513))).toThrow(MeshError);
    expect(() => encodeFrame(new Uint8Array(513))).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }));
  });
});

describe('FrameDecoder', () => {
  it('keeps frames whose bodies are full of 0x94 0xC3, and the frame after them', () => {
    const a = new Uint8Array([0x94, 0xc3, 0x94, 0xc3, 0x00, 0x05, 0x94]);
    const b = new Uint8Array([7, 8, 9]);
    const d = new FrameDecoder();
    const got = frames(d.push(concat([encodeFrame(a), encodeFrame(b)])));
    expect(got).toEqual([a, b]);
  });

  it('reports text between frames as garbage and resynchronises', () => {
    const d = new FrameDecoder();
    const text = new TextEncoder().encode('INFO boot ok\r\n');
    const out = d.push(concat([text, encodeFrame(new Uint8Array([1])), new Uint8Array([0x94, 0x00]), encodeFrame(new Uint8Array([2]))]));
    expect(out.map((o) => o.type)).toEqual(['garbage', 'frame', 'garbage', 'frame']);
    expect(new TextDecoder().decode((out[0] as { bytes: Uint8Array }).bytes)).toBe('INFO boot ok\r\n');
  });

  it('skips a header with a bogus length and finds a frame starting inside it', () => {
    const d = new FrameDecoder();
    // 0x94 0xC3 0x94 0xC3 would read as length 0x94C3 (> 512): the real frame starts at the second 0x94.
    const real = encodeFrame(new Uint8Array([5, 6]));
    const got = frames(d.push(concat([new Uint8Array([0x94, 0xc3]), real])));
    expect(got).toEqual([new Uint8Array([5, 6])]);
  });

  it('handles empty frames', () => {
    const d = new FrameDecoder();
    expect(frames(d.push(encodeFrame(new Uint8Array(0))))).toEqual([new Uint8Array(0)]);
  });

  it('fuzz: random magic-laden frames interleaved with noise arrive intact in any chunking', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = new Prng(seed);
      const sent: Uint8Array[] = [];
      const parts: Uint8Array[] = [];
      for (let k = 0; k < 30; k++) {
        if (rng.bool(0.3)) parts.push(noise(rng, rng.intBelow(40)));
        const body = magicBody(rng, rng.intBelow(513));
        sent.push(body);
        parts.push(encodeFrame(body));
      }
      const d = new FrameDecoder();
      const got = frames(feedInChunks(d, concat(parts), rng));
      expect(got.length).toBe(sent.length);
      got.forEach((g, i) => expect(g).toEqual(sent[i]));
      expect(d.bufferedBytes).toBe(0);
    }
  });

  it('fuzz: mutated and random streams never throw and never buffer more than one frame', () => {
    for (let seed = 100; seed < 140; seed++) {
      const rng = new Prng(seed);
      const parts: Uint8Array[] = [];
      for (let k = 0; k < 20; k++) parts.push(encodeFrame(magicBody(rng, rng.intBelow(300))));
      const stream = concat(parts);
      for (let m = 0; m < 30; m++) stream[rng.intBelow(stream.length)] = rng.intBelow(256);
      const d = new FrameDecoder();
      let i = 0;
      while (i < stream.length) {
        const n = 1 + rng.intBelow(50);
        for (const o of d.push(stream.subarray(i, i + n))) {
          if (o.type === 'frame') expect(o.payload.length).toBeLessThanOrEqual(512);
        }
        expect(d.bufferedBytes).toBeLessThanOrEqual(4 + 512 + 50);
        i += n;
      }
      const junk = rng.bytes(5000);
      expect(() => d.push(junk)).not.toThrow();
    }
  });
});
