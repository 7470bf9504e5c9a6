import { Prng, utf8Truncate } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { CodecError } from '../src/errors.js';
import {
  DEFAULT_MAX_PAYLOAD,
  MAX_DETAIL_BYTES,
  type Message,
  MessageType,
  RESERVED_TYPE_CODES,
  dataRoom,
  decodeMessage,
  encodeMessage,
  looksLikeProfile,
  scoreByte,
} from '../src/wire/messages.js';
import { sampleMessages as randomMessages } from '../src/wire/samples.js';

function expectedAfterRoundTrip(m: Message): Message {
  if (m.type === 'FAILURE') return { ...m, detail: new TextDecoder().decode(utf8Truncate(m.detail, MAX_DETAIL_BYTES)) };
  return m;
}

describe('message profile codec', () => {
  it('round-trips every message type with random field values, canonically', () => {
    const r = new Prng(1);
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      for (const m of randomMessages(r)) {
        const bytes = encodeMessage(m, { maxPayload: Infinity });
        const back = decodeMessage(bytes);
        expect(back).toEqual(expectedAfterRoundTrip(m));
        expect(encodeMessage(back, { maxPayload: Infinity })).toEqual(bytes);
        seen.add(m.type);
      }
    }
    expect([...seen].sort()).toEqual(Object.keys(MessageType).sort());
  });

  it('pins the byte layout of the header and of small messages', () => {
    expect([...encodeMessage({ type: 'CAP_QUERY', wantAdvert: true })]).toEqual([0xc2, 0x03, 0x01]);
    // job 300 = varint AC 02, shard 1, attempt 2, eta 5
    expect([...encodeMessage({ type: 'ACCEPT', jobId: 300, shard: 1, attempt: 2, etaMs: 5 })]).toEqual([0xc2, 0x07, 0xac, 0x02, 0x01, 0x02, 0x05]);
    expect([...encodeMessage({ type: 'CANCEL', jobId: 7, shard: null, reason: 9 })]).toEqual([0xc2, 0x0e, 0x07, 0x01, 0x09]);
    expect([...encodeMessage({ type: 'STATE_DELTA', baseEpoch: 4, epoch: 5, values: { battery: 42, load: 1 } })]).toEqual([0xc2, 0x02, 4, 0, 5, 0, 0b1001, 42, 1]);
    const gemm = encodeMessage({
      type: 'JOB_REQUEST',
      jobId: 1,
      deadlineS: 600,
      mission: { profile: 'search-and-rescue', priority: 'critical' },
      spec: { kind: 'gemm', m: 1, k: 1024, n: 256, aType: 'uint8', bType: 'int8', aZeroPoint: 128, bZeroPoint: -1, weights: { resident: 0x00010002 }, requant: { multiplier: 1 << 30, shift: -12, zeroPoint: -3, type: 'int8' } },
    });
    // keyword 3, score 0.9 -> 229, at 1000 s, sequence 258: ten bytes, never audio.
    expect([...encodeMessage({ type: 'DETECTION', keyword: 3, score255: scoreByte(0.9), timeS: 1000, seq: 258 })]).toEqual([0xc2, 0x15, 3, 229, 0xe8, 0x03, 0, 0, 0x02, 0x01]);
    expect(scoreByte(1)).toBe(255);
    expect(scoreByte(0.4999)).toBe(127); // rounded down: under a 0.5 threshold stays under it
    for (const bad of [-0.1, 1.01, Number.NaN]) expect(() => scoreByte(bad)).toThrow(expect.objectContaining({ code: 'BAD_VALUE' }));
    expect([...gemm]).toEqual([0xc2, 0x04, 1, 0x58, 0x02, 3 | (1 << 2), 1, 2 | 4 | 8 | 16, 1, 0x80, 0x08, 0x80, 0x02, 128, 0xff, 2, 0, 1, 0, 0, 0, 0, 0x40, 0xf4, 0xfd]);
  });

  it('keeps every message of a worst-case size within one Meshtastic payload', () => {
    const r = new Prng(2);
    let largest = 0;
    for (let i = 0; i < 200; i++) {
      for (const m of randomMessages(r)) {
        if (m.type === 'DATA' || m.type === 'FRAGMENT' || m.type === 'RESULT') continue;
        largest = Math.max(largest, encodeMessage(m).length);
      }
    }
    expect(largest).toBeLessThanOrEqual(DEFAULT_MAX_PAYLOAD);
    // DATA fills the payload exactly up to its room.
    const ref = { jobId: 0xffffffff, shard: 65535, attempt: 255 };
    const room = dataRoom(ref, 1 << 20);
    expect(encodeMessage({ type: 'DATA', ...ref, stream: 0, offset: 1 << 20, bytes: new Uint8Array(room) }).length).toBe(DEFAULT_MAX_PAYLOAD);
    expect(() => encodeMessage({ type: 'DATA', ...ref, stream: 0, offset: 1 << 20, bytes: new Uint8Array(room + 1) })).toThrow(CodecError);
  });

  it('refuses out-of-range fields when encoding, with typed errors', () => {
    const bad: Array<[Message, string]> = [
      [{ type: 'OFFER', jobId: -1, etaMs: 0, battery: 0, load: 0 }, 'BAD_VALUE'],
      [{ type: 'OFFER', jobId: 1, etaMs: 0, battery: 101, load: 0 }, 'BAD_VALUE'],
      [{ type: 'PROGRESS', jobId: 1, shard: 0, attempt: 0, stage: 4, pct: 0, etaMs: 0 }, 'BAD_VALUE'],
      [{ type: 'DATA', jobId: 1, shard: 0, attempt: 0, stream: 0, offset: 0, bytes: new Uint8Array(0) }, 'BAD_VALUE'],
      [{ type: 'FRAGMENT', msgId: 1, index: 0, count: 1, totalLength: 3, crc: 0, chunk: new Uint8Array(1) }, 'BAD_VALUE'],
      [{ type: 'RESULT', jobId: 1, shard: 0, attempt: 0, status: 0, length: 3, crc: 0, inline: new Uint8Array(2) }, 'BAD_VALUE'],
      [{ type: 'DATA', jobId: 1, shard: 0, attempt: 0, stream: 0, offset: 0, bytes: new Uint8Array(300) }, 'TOO_LARGE'],
      [{ type: 'DETECTION', keyword: 256, score255: 0, timeS: 0, seq: 0 }, 'BAD_VALUE'],
      [{ type: 'DETECTION', keyword: 1, score255: 256, timeS: 0, seq: 0 }, 'BAD_VALUE'],
      [{ type: 'DETECTION', keyword: 1, score255: 0, timeS: 2 ** 32, seq: 0 }, 'BAD_VALUE'],
      [{ type: 'DETECTION', keyword: 1, score255: 0, timeS: 0, seq: 65536 }, 'BAD_VALUE'],
    ];
    for (const [m, code] of bad) {
      expect(() => encodeMessage(m)).toThrow(CodecError);
      expect(() => encodeMessage(m)).toThrow(expect.objectContaining({ code }));
    }
  });

  it('rejects every truncation of every valid message with CodecError TRUNCATED (or an equally typed error)', () => {
    const r = new Prng(3);
    // A few layouts end with a variable-length tail (DATA bytes, fragment chunks): a shorter tail is a different, valid message.
    const tailed = new Set(['DATA', 'FRAGMENT', 'DATA_WANT', 'STATE_DELTA']);
    // Collected and checked once: thousands of cuts, one assertion each would cost more than the decoding.
    const wrong: string[] = [];
    let cuts = 0;
    let rejected = 0;
    for (let i = 0; i < 20; i++) {
      for (const m of randomMessages(r)) {
        const bytes = encodeMessage(m, { maxPayload: Infinity });
        for (let cut = 0; cut < bytes.length; cut++) {
          cuts++;
          try {
            const decoded = decodeMessage(bytes.subarray(0, cut));
            if (!tailed.has(decoded.type)) wrong.push(`${m.type} cut at ${cut} decoded as ${decoded.type}`);
          } catch (e) {
            if (!(e instanceof CodecError)) wrong.push(`${m.type} cut at ${cut} threw ${String(e)}`);
            else rejected++;
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    // Most cuts are rejected: only the tailed layouts can decode a shorter message.
    expect(rejected).toBeGreaterThan(cuts / 2);
  });

  it('names what is wrong: magic, version, type, trailing bytes, varints', () => {
    const code = (b: number[]): string => {
      try {
        decodeMessage(Uint8Array.from(b));
        return 'ok';
      } catch (e) {
        expect(e).toBeInstanceOf(CodecError);
        return (e as CodecError).code;
      }
    };
    expect(code([])).toBe('TRUNCATED');
    expect(code([0x12, 0x03, 0x01])).toBe('BAD_MAGIC');
    // Version 1 (before missions) and any later version are refused with a typed error, not misread.
    expect(code([0xc1, 0x03, 0x01])).toBe('UNSUPPORTED_VERSION');
    expect(code([0xc1, 0x04, 1, 0x58, 0x02, 1, 2 | 4 | 8 | 16, 1, 0x80, 0x08, 0x80, 0x02, 128, 0xff, 2, 0, 1, 0, 0, 0, 0, 0x40, 0xf4, 0xfd])).toBe('UNSUPPORTED_VERSION');
    expect(code([0xc3, 0x03, 0x01])).toBe('UNSUPPORTED_VERSION');
    expect(code([0xc2, 0x7f])).toBe('UNKNOWN_TYPE');
    // The retired OTA codes stay unknown, whatever follows them, and no message type takes them again.
    expect(RESERVED_TYPE_CODES).toEqual([0x10, 0x11, 0x12]);
    for (const c of RESERVED_TYPE_CODES) {
      expect(code([0xc2, c])).toBe('UNKNOWN_TYPE');
      expect(code([0xc2, c, 0x01, 0x02, 0x03])).toBe('UNKNOWN_TYPE');
      expect(Object.values(MessageType)).not.toContain(c);
    }
    expect(code([0xc2, 0x03, 0x01, 0x00])).toBe('TRAILING_BYTES');
    expect(code([0xc2, 0x03, 0x02])).toBe('BAD_VALUE');
    expect(code([0xc2, 0x07, 0x80, 0x00, 0x01, 0x02, 0x05])).toBe('BAD_VARINT'); // overlong job id
    expect(code([0xc2, 0x07, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x01, 0x02, 0x05])).toBe('BAD_VARINT'); // > 32 bits
    expect(code([0xc2, 0x0d, 0x01, 0x00, 0x01, 0x03])).toBe('BAD_VALUE'); // unknown ack status
    expect(looksLikeProfile(Uint8Array.of(0xc2, 0x03))).toBe(true);
    expect(looksLikeProfile(Uint8Array.of(0x08, 0x01))).toBe(false);
  });
});
