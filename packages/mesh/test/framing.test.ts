import { describe, expect, it } from 'vitest';
import {
  FRAME_HEADER_BYTES,
  FrameDecoder,
  MAX_FRAME_PAYLOAD_BYTES,
  MeshError,
  Prng,
  encodeFrame,
  type FrameDecoderOutput,
  concatBytes as concat,
} from '../src/index.js';
import { feedInChunks, magicBody, magicFreeNoise as noise } from '../src/fuzz.js';

function frames(out: FrameDecoderOutput[]): Uint8Array[] {
  return out.filter((o) => o.type === 'frame').map((o) => (o as { payload: Uint8Array }).payload);
}

function garbage(out: FrameDecoderOutput[]): Uint8Array[] {
  return out.filter((o) => o.type === 'garbage').map((o) => (o as { bytes: Uint8Array }).bytes);
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

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
    // A lone 0x94 not followed by 0xC3 is noise too, reported with the byte after it.
    expect(Array.from((out[2] as { bytes: Uint8Array }).bytes)).toEqual([0x94, 0x00]);
    expect(frames(out)).toEqual([new Uint8Array([1]), new Uint8Array([2])]);
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

  // A modest slice of the seeded fuzz; `pnpm fuzz` (scripts/fuzz.mjs) runs the same checks over a million frames.
  it('fuzz: random magic-laden frames interleaved with noise arrive intact in any chunking', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const rng = new Prng(seed);
      const sent: Uint8Array[] = [];
      const parts: Uint8Array[] = [];
      const noiseParts: Uint8Array[] = [];
      for (let k = 0; k < 30; k++) {
        if (rng.bool(0.3)) {
          const n = noise(rng, rng.intBelow(40));
          parts.push(n);
          noiseParts.push(n);
        }
        const body = magicBody(rng, rng.intBelow(513));
        sent.push(body);
        parts.push(encodeFrame(body));
      }
      const d = new FrameDecoder();
      const out = feedInChunks(d, concat(parts), rng);
      // Hex strings: one cheap comparison with a readable diff, instead of hundreds of element-wise toEqual calls.
      expect(frames(out).map(hex)).toEqual(sent.map(hex));
      expect(hex(concat(garbage(out)))).toBe(hex(concat(noiseParts)));
      expect(d.bufferedBytes).toBe(0);
    }
  });

  it('fuzz: mutated streams never throw, never buffer more than one frame, and account for every byte', () => {
    const tailBytes = FRAME_HEADER_BYTES + MAX_FRAME_PAYLOAD_BYTES + 1;
    for (let seed = 100; seed < 110; seed++) {
      const rng = new Prng(seed);
      const parts: Uint8Array[] = [];
      for (let k = 0; k < 20; k++) parts.push(encodeFrame(magicBody(rng, rng.intBelow(300))));
      const stream = concat(parts);
      for (let m = 0; m < 30; m++) stream[rng.intBelow(stream.length)] = rng.intBelow(256);
      // A magic-free tail longer than any frame completes or abandons whatever is pending, so nothing stays buffered.
      const input = concat([stream, noise(rng, tailBytes)]);
      const d = new FrameDecoder();
      let accounted = 0;
      let maxBuffered = 0;
      let longest = 0;
      for (let i = 0; i < input.length; ) {
        const n = 1 + rng.intBelow(50);
        for (const o of d.push(input.subarray(i, i + n))) {
          if (o.type === 'frame') {
            longest = Math.max(longest, o.payload.length);
            accounted += FRAME_HEADER_BYTES + o.payload.length;
          } else accounted += o.bytes.length;
        }
        maxBuffered = Math.max(maxBuffered, d.bufferedBytes);
        i += n;
      }
      expect(longest).toBeLessThanOrEqual(MAX_FRAME_PAYLOAD_BYTES);
      expect(maxBuffered).toBeLessThanOrEqual(FRAME_HEADER_BYTES + MAX_FRAME_PAYLOAD_BYTES + 50);
      expect(d.bufferedBytes).toBe(0);
      // Every input byte came out once, in a frame (with its 4-byte header) or as garbage.
      expect(accounted).toBe(input.length);
      // And the decoder is back in sync: the next frame comes out whole.
      expect(frames(d.push(encodeFrame(Uint8Array.of(seed))))).toEqual([Uint8Array.of(seed)]);
    }
  });
});
