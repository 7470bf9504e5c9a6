import { ByteFormatError, crc32 as meshCrc32 } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter, OtaError, crc32, fromHex, toHex } from '../src/index.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OtaError);
    expect((e as OtaError).cause).toBeInstanceOf(ByteFormatError);
    return (e as OtaError).code;
  }
  return 'ok';
}

describe('byte reading and writing at the package boundary', () => {
  it('raises OtaError MALFORMED for bytes that do not parse', () => {
    expect(codeOf(() => new ByteReader(Uint8Array.of(1), 'record').u16())).toBe('MALFORMED');
    expect(codeOf(() => new ByteReader(Uint8Array.of(0x80, 0x00)).varint())).toBe('MALFORMED');
    expect(codeOf(() => new ByteReader(Uint8Array.of(65)).varint('size', 64))).toBe('MALFORMED');
    expect(codeOf(() => new ByteReader(Uint8Array.of(9, 1, 2)).blob('part', 8))).toBe('MALFORMED');
    expect(codeOf(() => new ByteReader(Uint8Array.of(1, 0xff)).string())).toBe('MALFORMED');
    expect(codeOf(() => new ByteReader(Uint8Array.of(0, 0)).end())).toBe('MALFORMED');
    expect(() => new ByteReader(Uint8Array.of(1), 'manifest').u32()).toThrow(/^manifest: /);
  });

  it('raises OtaError INVALID_ARGUMENT for values a field cannot hold and for bad hex', () => {
    expect(codeOf(() => new ByteWriter().u24(1 << 24))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => new ByteWriter().varint(-1))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => fromHex('0g'))).toBe('INVALID_ARGUMENT');
  });

  it('keeps the formats: the same bytes as before the reader and writer moved to @compotastic/mesh', () => {
    const w = new ByteWriter().u8(1).u24(0x030201).varint(300).string('ab').blob(Uint8Array.of(7));
    expect(toHex(w.finish())).toBe('01010203ac0202616201' + '07');
    expect(crc32).toBe(meshCrc32);
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});
