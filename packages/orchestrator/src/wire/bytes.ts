import { CodecError } from '../errors.js';

/**
 * Growable little-endian byte writer. Varints are unsigned LEB128 limited to 32 bits (at most 5 bytes), the same
 * encoding protobuf uses for uint32.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialCapacity = 64) {
    this.buf = new Uint8Array(initialCapacity);
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

  u8(v: number): this {
    checkUint('u8', v, 0xff);
    this.reserve(1);
    this.buf[this.len++] = v;
    return this;
  }

  u16(v: number): this {
    checkUint('u16', v, 0xffff);
    this.reserve(2);
    this.buf[this.len++] = v & 0xff;
    this.buf[this.len++] = v >>> 8;
    return this;
  }

  u32(v: number): this {
    checkUint('u32', v, 0xffffffff);
    this.reserve(4);
    this.buf[this.len++] = v & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = v >>> 24;
    return this;
  }

  varint(v: number): this {
    checkUint('varint', v, 0xffffffff);
    this.reserve(5);
    let x = v;
    while (x >= 0x80) {
      this.buf[this.len++] = (x & 0x7f) | 0x80;
      x = Math.floor(x / 128);
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

  /** Length-prefixed (u8) UTF-8 string, truncated on a character boundary to fit `maxBytes`. */
  shortString(s: string, maxBytes = 255): this {
    const encoded = utf8Truncate(s, Math.min(maxBytes, 255));
    this.u8(encoded.length);
    return this.bytes(encoded);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function checkUint(what: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new CodecError('BAD_VALUE', `${what} must be an integer 0..${max}, got ${v}`);
}

/** Encode `s` as UTF-8, dropping whole characters from the end until it fits. */
export function utf8Truncate(s: string, maxBytes: number): Uint8Array {
  const enc = new TextEncoder();
  let bytes = enc.encode(s);
  if (bytes.length <= maxBytes) return bytes;
  let end = maxBytes;
  // Step back over UTF-8 continuation bytes so a character is never cut.
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  bytes = bytes.slice(0, end);
  return bytes;
}

/** Bounds-checked reader: every read past the end throws CodecError TRUNCATED. */
export class ByteReader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array, private readonly context = 'message') {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) {
      throw new CodecError('TRUNCATED', `${this.context}: ${what} needs ${n} byte(s) at offset ${this.pos}, only ${this.buf.length - this.pos} left`);
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = (this.buf[this.pos] as number) | ((this.buf[this.pos + 1] as number) << 8);
    this.pos += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const b = this.buf;
    const p = this.pos;
    const v = ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24)) >>> 0;
    this.pos += 4;
    return v;
  }

  /** Unsigned LEB128 up to 2^32-1; overlong or oversized encodings are rejected so every value has one encoding. */
  varint(what = 'varint'): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      this.need(1, what);
      const byte = this.buf[this.pos++] as number;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (i > 0 && byte === 0) throw new CodecError('BAD_VARINT', `${this.context}: ${what} has an overlong encoding`);
        if (result > 0xffffffff) throw new CodecError('BAD_VARINT', `${this.context}: ${what} exceeds 32 bits`);
        return result;
      }
      scale *= 128;
    }
    throw new CodecError('BAD_VARINT', `${this.context}: ${what} is longer than 5 bytes`);
  }

  bytes(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  rest(): Uint8Array {
    return this.bytes(this.remaining, 'rest');
  }

  shortString(what = 'string'): string {
    const n = this.u8(`${what} length`);
    const raw = this.bytes(n, what);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new CodecError('BAD_VALUE', `${this.context}: ${what} is not valid UTF-8`);
    }
  }

  /** Throws TRAILING_BYTES unless everything was consumed. */
  end(): void {
    if (this.pos !== this.buf.length) {
      throw new CodecError('TRAILING_BYTES', `${this.context}: ${this.buf.length - this.pos} unexpected byte(s) after the last field`);
    }
  }
}

/** Bytes a varint of this value takes. */
export function varintSize(v: number): number {
  let n = 1;
  let x = v;
  while (x >= 0x80) {
    x = Math.floor(x / 128);
    n++;
  }
  return n;
}
