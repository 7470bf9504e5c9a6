import { MeshError } from './errors.js';

// Little-endian binary writing and reading for the project's wire and storage formats. Varints are unsigned LEB128
// (protobuf's encoding); a reader accepts only the minimal encoding, so every value has exactly one byte form and a
// decoded message re-encodes to the same bytes.

/** Why bytes were refused. */
export type ByteErrorCode =
  /** A read past the end of the input. */
  | 'TRUNCATED'
  /** An overlong (non-minimal) varint, one longer than its limit allows, or one above its maximum. */
  | 'BAD_VARINT'
  /** Bytes left over after the last field. */
  | 'TRAILING_BYTES'
  /** A string that is not valid UTF-8. */
  | 'BAD_UTF8'
  /** A length field above its limit, or a negative / fractional length. */
  | 'BAD_LENGTH'
  /** A value given to a writer that its field cannot hold. */
  | 'OUT_OF_RANGE'
  /** A hex string with an odd length or a non-hex character. */
  | 'BAD_HEX';

/** Malformed bytes or an unencodable value. `offset` is where the reader stood (the writer's length for writers). */
export class ByteFormatError extends MeshError {
  declare readonly code: ByteErrorCode;
  readonly offset: number;

  constructor(code: ByteErrorCode, message: string, offset: number) {
    super(code, message);
    this.name = 'ByteFormatError';
    this.offset = offset;
  }
}

/** Turns a ByteFormatError into the error type a package documents at its boundary (default: throw it as it is). */
export type ByteErrorMapper = (e: ByteFormatError) => Error;

const keep: ByteErrorMapper = (e) => e;

/** Largest value a varint may carry by default: 32 bits, as protobuf's uint32. */
export const VARINT_MAX_DEFAULT = 0xffffffff;

/** Bytes the LEB128 encoding of a non-negative integer takes. */
export function varintLength(value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new MeshError('INVALID_VARINT', `varint must be a non-negative integer, got ${value}`);
  let n = 1;
  let v = value;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

export interface ByteWriterOptions {
  mapError?: ByteErrorMapper;
}

/** Growable little-endian writer. Every method validates its value and returns the writer, so calls chain. */
export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;
  private readonly mapError: ByteErrorMapper;

  constructor(initialCapacity = 64, options: ByteWriterOptions = {}) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.mapError = options.mapError ?? keep;
  }

  get length(): number {
    return this.len;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private check(what: string, v: number, max: number): void {
    if (!Number.isInteger(v) || v < 0 || v > max) {
      throw this.mapError(new ByteFormatError('OUT_OF_RANGE', `${what} must be an integer 0..${max}, got ${v}`, this.len));
    }
  }

  u8(v: number): this {
    this.check('u8', v, 0xff);
    this.reserve(1);
    this.buf[this.len++] = v;
    return this;
  }

  u16(v: number): this {
    this.check('u16', v, 0xffff);
    this.reserve(2);
    this.buf[this.len++] = v & 0xff;
    this.buf[this.len++] = v >>> 8;
    return this;
  }

  u24(v: number): this {
    this.check('u24', v, 0xffffff);
    this.reserve(3);
    this.buf[this.len++] = v & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v >>> 16;
    return this;
  }

  u32(v: number): this {
    this.check('u32', v, 0xffffffff);
    this.reserve(4);
    this.buf[this.len++] = v & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = v >>> 24;
    return this;
  }

  /** Unsigned LEB128 of a value up to `max` (default 2^32 - 1; at most Number.MAX_SAFE_INTEGER). */
  varint(v: number, max = VARINT_MAX_DEFAULT): this {
    this.check('varint', v, Math.min(max, Number.MAX_SAFE_INTEGER));
    this.reserve(8);
    let x = v;
    while (x >= 0x80) {
      this.buf[this.len++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    this.buf[this.len++] = x;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** Varint length, then the bytes. */
  blob(b: Uint8Array): this {
    return this.varint(b.length).bytes(b);
  }

  /** Varint length, then the UTF-8 bytes. */
  string(s: string): this {
    return this.blob(new TextEncoder().encode(s));
  }

  /** One length byte, then the UTF-8 bytes, cut on a character boundary to fit `maxBytes` (at most 255). */
  shortString(s: string, maxBytes = 255): this {
    const encoded = utf8Truncate(s, Math.min(maxBytes, 255));
    return this.u8(encoded.length).bytes(encoded);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export interface ByteReaderOptions {
  /** Names the input in error messages (default "input"). */
  context?: string;
  mapError?: ByteErrorMapper;
}

/**
 * Bounds-checked little-endian reader: nothing is ever read past the end. Each read takes an optional name for the
 * field, used in error messages. Errors are ByteFormatErrors, or whatever `mapError` makes of them.
 */
export class ByteReader {
  private pos = 0;
  private readonly context: string;
  private readonly mapError: ByteErrorMapper;

  constructor(private readonly buf: Uint8Array, options: string | ByteReaderOptions = {}) {
    const o = typeof options === 'string' ? { context: options } : options;
    this.context = o.context ?? 'input';
    this.mapError = o.mapError ?? keep;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private fail(code: ByteErrorCode, message: string): Error {
    return this.mapError(new ByteFormatError(code, `${this.context}: ${message}`, this.pos));
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) {
      throw this.fail('TRUNCATED', `${what} needs ${n} byte(s) at offset ${this.pos}, only ${this.remaining} left`);
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const b = this.buf;
    const p = this.pos;
    this.pos += 2;
    return (b[p] as number) | ((b[p + 1] as number) << 8);
  }

  u24(what = 'u24'): number {
    this.need(3, what);
    const b = this.buf;
    const p = this.pos;
    this.pos += 3;
    return (b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16);
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24)) >>> 0;
  }

  /**
   * Unsigned LEB128 up to `max` (default 2^32 - 1). Refuses an overlong encoding (a final zero byte after the first),
   * one with more bytes than `max` needs, and a value above `max`.
   */
  varint(what = 'varint', max = VARINT_MAX_DEFAULT): number {
    const limit = Math.min(max, Number.MAX_SAFE_INTEGER);
    const maxLen = varintLength(Math.max(0, Math.floor(limit)));
    let result = 0;
    let scale = 1;
    for (let i = 0; i < maxLen; i++) {
      this.need(1, what);
      const byte = this.buf[this.pos++] as number;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (i > 0 && byte === 0) throw this.fail('BAD_VARINT', `${what} has an overlong encoding`);
        if (result > limit) throw this.fail('BAD_VARINT', `${what} ${result} exceeds ${limit}`);
        return result;
      }
      scale *= 0x80;
    }
    throw this.fail('BAD_VARINT', `${what} is longer than ${maxLen} byte(s)`);
  }

  /** The next `n` bytes, copied. */
  bytes(n: number, what = 'bytes'): Uint8Array {
    return this.view(n, what).slice();
  }

  /** The next `n` bytes as a view into the input (no copy): copy it to keep it longer than the input. */
  view(n: number, what = 'bytes'): Uint8Array {
    if (!Number.isInteger(n) || n < 0) throw this.fail('BAD_LENGTH', `${what}: invalid length ${n}`);
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Everything left, copied. */
  rest(): Uint8Array {
    return this.bytes(this.remaining, 'rest');
  }

  /** Varint length (at most `maxBytes`), then that many bytes, copied. */
  blob(what = 'blob', maxBytes = this.remaining): Uint8Array {
    const n = this.varint(`${what} length`, VARINT_MAX_DEFAULT);
    if (n > maxBytes) throw this.fail('BAD_LENGTH', `${what} of ${n} bytes exceeds ${maxBytes}`);
    return this.bytes(n, what);
  }

  /** Varint length (at most `maxBytes`), then UTF-8. */
  string(what = 'string', maxBytes = 255): string {
    return this.utf8(this.blob(what, maxBytes), what);
  }

  /** One length byte, then UTF-8. */
  shortString(what = 'string'): string {
    const n = this.u8(`${what} length`);
    return this.utf8(this.view(n, what), what);
  }

  private utf8(raw: Uint8Array, what: string): string {
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
    } catch {
      throw this.fail('BAD_UTF8', `${what} is not valid UTF-8`);
    }
  }

  /** Throws TRAILING_BYTES unless every byte was consumed. */
  end(): void {
    if (this.pos !== this.buf.length) throw this.fail('TRAILING_BYTES', `${this.remaining} unexpected byte(s) after the last field`);
  }
}

/** Encode `s` as UTF-8, dropping whole characters from the end until it fits `maxBytes`. */
export function utf8Truncate(s: string, maxBytes: number): Uint8Array {
  const bytes = new TextEncoder().encode(s);
  if (bytes.length <= maxBytes) return bytes;
  let end = Math.max(0, maxBytes);
  // Step back over UTF-8 continuation bytes so a character is never cut.
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return bytes.slice(0, end);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Equal lengths and contents. Runs in time independent of where they differ, so it is safe for digests and tags. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Throws ByteFormatError BAD_HEX for an odd length or a non-hex character. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new ByteFormatError('BAD_HEX', 'hex string has an odd length or non-hex characters', 0);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
