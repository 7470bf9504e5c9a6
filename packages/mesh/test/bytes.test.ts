import { describe, expect, it } from 'vitest';
import {
  ByteFormatError,
  ByteReader,
  ByteWriter,
  MeshError,
  Prng,
  bytesEqual,
  concatBytes,
  crc32,
  fromHex,
  toHex,
  utf8Truncate,
  varintLength,
} from '../src/index.js';

function errorOf(fn: () => unknown): ByteFormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ByteFormatError);
    expect(e).toBeInstanceOf(MeshError);
    return e as ByteFormatError;
  }
  throw new Error('expected a ByteFormatError');
}

describe('ByteWriter', () => {
  it('writes little-endian integers and LEB128 varints with pinned bytes', () => {
    const w = new ByteWriter(1).u8(0xab).u16(0x1234).u24(0x56789a).u32(0xdeadbeef).varint(0).varint(127).varint(128).varint(300).varint(0xffffffff);
    expect(toHex(w.finish())).toBe('ab' + '3412' + '9a7856' + 'efbeadde' + '00' + '7f' + '8001' + 'ac02' + 'ffffffff0f');
    expect(w.length).toBe(1 + 2 + 3 + 4 + 1 + 1 + 2 + 2 + 5);
  });

  it('grows past its initial capacity', () => {
    const w = new ByteWriter(16);
    const big = new Prng(1).bytes(1000);
    w.bytes(big).u8(7);
    expect(w.finish().subarray(0, 1000)).toEqual(big);
    expect(w.length).toBe(1001);
  });

  it('writes length-prefixed blobs and strings, and truncates short strings on a character boundary', () => {
    expect(toHex(new ByteWriter().blob(Uint8Array.of(1, 2, 3)).finish())).toBe('03010203');
    expect(toHex(new ByteWriter().string('hé').finish())).toBe('0368c3a9');
    // "aé€" is 1 + 2 + 3 bytes: a 4-byte budget keeps "aé", never half of the euro sign.
    expect(toHex(new ByteWriter().shortString('aé€', 4).finish())).toBe('0361c3a9');
    expect(new ByteWriter().shortString('x'.repeat(400)).length).toBe(256);
  });

  it('refuses values its field cannot hold with OUT_OF_RANGE', () => {
    const w = new ByteWriter();
    for (const bad of [() => w.u8(256), () => w.u8(-1), () => w.u16(1.5), () => w.u24(1 << 24), () => w.u32(2 ** 32), () => w.varint(2 ** 32), () => w.varint(-1), () => w.varint(Number.NaN)]) {
      expect(errorOf(bad).code).toBe('OUT_OF_RANGE');
    }
    expect(w.length).toBe(0);
    expect(toHex(new ByteWriter().varint(2 ** 40, Number.MAX_SAFE_INTEGER).finish())).toBe('808080808020');
  });

  it('maps its errors through mapError', () => {
    class AppError extends Error {
      constructor(readonly code: string, readonly from: ByteFormatError) {
        super(from.message);
      }
    }
    const w = new ByteWriter(8, { mapError: (e) => new AppError('BAD_VALUE', e) });
    expect(() => w.u8(300)).toThrow(expect.objectContaining({ code: 'BAD_VALUE' }));
  });
});

describe('ByteReader', () => {
  it('reads what the writer wrote', () => {
    const bytes = new ByteWriter().u8(1).u16(2).u24(3).u32(4).varint(5).blob(Uint8Array.of(9, 9)).string('ok').shortString('hi').finish();
    const r = new ByteReader(bytes, 'sample');
    expect([r.u8(), r.u16(), r.u24(), r.u32(), r.varint()]).toEqual([1, 2, 3, 4, 5]);
    expect(r.blob()).toEqual(Uint8Array.of(9, 9));
    expect(r.string()).toBe('ok');
    expect(r.shortString()).toBe('hi');
    expect(r.remaining).toBe(0);
    r.end();
    // A leading byte-order mark is content, not a marker to strip: decoding keeps it, so the bytes round-trip.
    const bom = new ByteWriter().string('\ufeffx').finish();
    expect(new ByteReader(bom).string()).toBe('\ufeffx');
  });

  it('copies with bytes() and rest(), shares memory with view()', () => {
    const src = Uint8Array.of(1, 2, 3, 4);
    const r = new ByteReader(src);
    const copy = r.bytes(1);
    const view = r.view(1);
    const rest = r.rest();
    src.fill(0);
    expect([...copy, ...view, ...rest]).toEqual([1, 0, 3, 4]);
  });

  it('names truncation, with the context, the field and the offset', () => {
    const r = new ByteReader(Uint8Array.of(1, 2), 'header');
    r.u8('kind');
    const e = errorOf(() => r.u32('length'));
    expect(e.code).toBe('TRUNCATED');
    expect(e.offset).toBe(1);
    expect(e.message).toBe('header: length needs 4 byte(s) at offset 1, only 1 left');
    expect(r.offset).toBe(1); // a failed read consumes nothing
  });

  it('accepts only minimal varints within their limit', () => {
    const code = (bytes: number[], max?: number): string => {
      try {
        new ByteReader(Uint8Array.from(bytes)).varint('v', max);
        return 'ok';
      } catch (e) {
        return (e as ByteFormatError).code;
      }
    };
    expect(code([0xff, 0xff, 0xff, 0xff, 0x0f])).toBe('ok');
    expect(code([0x80, 0x00])).toBe('BAD_VARINT'); // overlong zero
    expect(code([0xac, 0x82, 0x00])).toBe('BAD_VARINT'); // overlong 300
    expect(code([0xff, 0xff, 0xff, 0xff, 0x1f])).toBe('BAD_VARINT'); // 2^33 - 1 > 32 bits
    expect(code([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).toBe('BAD_VARINT'); // six bytes
    expect(code([0x80, 0x80])).toBe('TRUNCATED');
    expect(code([0x0a], 9)).toBe('BAD_VARINT');
    expect(code([0x09], 9)).toBe('ok');
    expect(code([0x80, 0x01], 127)).toBe('BAD_VARINT'); // 128 needs two bytes, the limit allows one
    expect(code([0x80, 0x80, 0x80, 0x80, 0x80, 0x20], Number.MAX_SAFE_INTEGER)).toBe('ok');
  });

  it('checks lengths, UTF-8 and trailing bytes', () => {
    expect(errorOf(() => new ByteReader(Uint8Array.of(5, 1, 2, 3, 4, 5)).blob('name', 4)).code).toBe('BAD_LENGTH');
    expect(errorOf(() => new ByteReader(Uint8Array.of(1, 2)).bytes(-1)).code).toBe('BAD_LENGTH');
    expect(errorOf(() => new ByteReader(Uint8Array.of(2, 0xc3, 0x28)).string()).code).toBe('BAD_UTF8');
    expect(errorOf(() => new ByteReader(Uint8Array.of(1, 0xff)).shortString()).code).toBe('BAD_UTF8');
    expect(errorOf(() => new ByteReader(Uint8Array.of(3, 1)).shortString()).code).toBe('TRUNCATED');
    const r = new ByteReader(Uint8Array.of(1, 2));
    r.u8();
    expect(errorOf(() => r.end()).code).toBe('TRAILING_BYTES');
  });

  it('maps its errors through mapError, so a codec throws its own error type', () => {
    class CodecFailure extends Error {
      constructor(readonly code: string) {
        super(code);
      }
    }
    const r = new ByteReader(new Uint8Array(0), { context: 'frame', mapError: (e) => new CodecFailure(`X_${e.code}`) });
    expect(() => r.u8()).toThrow(CodecFailure);
    expect(() => r.u8()).toThrow(expect.objectContaining({ code: 'X_TRUNCATED' }));
  });

  it('round-trips random field sequences, and rejects every mutation it cannot decode with a ByteFormatError only (seeded fuzz)', () => {
    const rng = new Prng(2024);
    type Field = { kind: 'u8' | 'u16' | 'u24' | 'u32' | 'varint' | 'blob' | 'string'; value: number | Uint8Array | string };
    const randomField = (): Field => {
      switch (rng.intBelow(7)) {
        case 0:
          return { kind: 'u8', value: rng.intBelow(256) };
        case 1:
          return { kind: 'u16', value: rng.intBelow(65536) };
        case 2:
          return { kind: 'u24', value: rng.intBelow(1 << 24) };
        case 3:
          return { kind: 'u32', value: rng.uint32() };
        case 4:
          return { kind: 'varint', value: rng.uint32() >>> rng.intBelow(32) };
        case 5:
          return { kind: 'blob', value: rng.bytes(rng.intBelow(40)) };
        default:
          return { kind: 'string', value: String.fromCodePoint(...Array.from({ length: rng.intBelow(12) }, () => 0x20 + rng.intBelow(0x3000))) };
      }
    };
    const write = (fields: Field[]): Uint8Array => {
      const w = new ByteWriter(8);
      for (const f of fields) {
        if (f.kind === 'blob') w.blob(f.value as Uint8Array);
        else if (f.kind === 'string') w.string(f.value as string);
        else w[f.kind](f.value as number);
      }
      return w.finish();
    };
    const read = (bytes: Uint8Array, fields: Field[]): Field[] => {
      const r = new ByteReader(bytes, 'fuzz');
      const out = fields.map((f): Field => ({ kind: f.kind, value: f.kind === 'blob' ? r.blob() : f.kind === 'string' ? r.string('s', 1 << 16) : r[f.kind]() }));
      r.end();
      return out;
    };
    // 150 sequences x 10 mutations keeps this well under a second; both outcomes must occur (1407 and 93 at this seed).
    let rejected = 0;
    let decoded = 0;
    for (let i = 0; i < 150; i++) {
      const fields = Array.from({ length: 1 + rng.intBelow(8) }, randomField);
      const bytes = write(fields);
      expect(read(bytes, fields)).toEqual(fields);
      for (let m = 0; m < 10; m++) {
        const mutated = bytes.slice(0, rng.intBelow(bytes.length + 1));
        for (let k = rng.intBelow(3); k > 0 && mutated.length > 0; k--) mutated[rng.intBelow(mutated.length)] = rng.intBelow(256);
        const extended = rng.bool(0.2) ? concatBytes([mutated, rng.bytes(1 + rng.intBelow(3))]) : mutated;
        let back: Field[];
        try {
          back = read(extended, fields);
        } catch (e) {
          expect(e).toBeInstanceOf(ByteFormatError);
          rejected++;
          continue;
        }
        // Whatever decodes must re-encode to exactly the input: one byte form per value.
        expect(toHex(write(back))).toBe(toHex(extended));
        decoded++;
      }
    }
    expect(rejected + decoded).toBe(1500);
    expect(rejected).toBeGreaterThan(1000);
    expect(decoded).toBeGreaterThan(50);
  });
});

describe('byte helpers', () => {
  it('varintLength counts 7 bits per byte', () => {
    // LEB128 needs ceil(bits / 7) bytes, at least one: the boundaries are 2^7, 2^14, 2^21 and 2^28.
    const cases: Array<[number, number]> = [[0, 1], [1, 1], [127, 1], [128, 2], [16383, 2], [16384, 3], [2 ** 21 - 1, 3], [2 ** 21, 4], [2 ** 28 - 1, 4], [2 ** 28, 5], [0xffffffff, 5]];
    expect(cases.map(([v]) => varintLength(v))).toEqual(cases.map(([, n]) => n));
    // And the writer agrees with it.
    for (const [v, n] of cases) expect(new ByteWriter().varint(v).length).toBe(n);
    expect(() => varintLength(-1)).toThrow(MeshError);
  });

  it('utf8Truncate never cuts a character', () => {
    const s = 'a€b';
    expect([...utf8Truncate(s, 3)]).toEqual([0x61]);
    expect(new TextDecoder().decode(utf8Truncate(s, 4))).toBe('a€');
    expect(utf8Truncate(s, 100)).toEqual(new TextEncoder().encode(s));
    expect(utf8Truncate(s, 0).length).toBe(0);
  });

  it('concatenates, compares and converts to and from hex', () => {
    expect(concatBytes([Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)])).toEqual(Uint8Array.of(1, 2, 3));
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(bytesEqual(Uint8Array.of(1), Uint8Array.of(1, 0))).toBe(false);
    const b = new Prng(5).bytes(33);
    expect(fromHex(toHex(b))).toEqual(b);
    expect(toHex(Uint8Array.of(0, 15, 255))).toBe('000fff');
    expect(fromHex('00ABff')).toEqual(Uint8Array.of(0, 0xab, 0xff));
    expect(errorOf(() => fromHex('abc')).code).toBe('BAD_HEX');
    expect(errorOf(() => fromHex('zz')).code).toBe('BAD_HEX');
  });
});

describe('crc32', () => {
  it('matches the standard check values', () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new TextEncoder().encode('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    expect(crc32(new Uint8Array(32))).toBe(0x190a55ad);
  });

  it('continues over data split anywhere', () => {
    const data = new Prng(9).bytes(500);
    const whole = crc32(data);
    for (const cut of [0, 1, 7, 250, 499, 500]) expect(crc32(data.subarray(cut), crc32(data.subarray(0, cut)))).toBe(whole);
  });

  it('changes with any single flipped bit', () => {
    const data = new Prng(10).bytes(64);
    const base = crc32(data);
    for (let bit = 0; bit < 64 * 8; bit += 37) {
      const d = data.slice();
      d[bit >> 3] = (d[bit >> 3] as number) ^ (1 << (bit & 7));
      expect(crc32(d)).not.toBe(base);
    }
  });
});
