import {
  ByteReader as SharedByteReader,
  ByteWriter as SharedByteWriter,
  fromHex as sharedFromHex,
  type ByteFormatError,
} from '@compotastic/mesh';
import { OtaError } from './errors.js';

// The shared little-endian reader and writer from @compotastic/mesh, raising this package's OtaError: MALFORMED for
// bytes that do not parse (so a decoder never reads past its input), INVALID_ARGUMENT for values a writer cannot hold.

export { bytesEqual, concatBytes, crc32, toHex } from '@compotastic/mesh';

function toOtaError(e: ByteFormatError): OtaError {
  return new OtaError(e.code === 'OUT_OF_RANGE' || e.code === 'BAD_HEX' ? 'INVALID_ARGUMENT' : 'MALFORMED', e.message, { cause: e });
}

export class ByteReader extends SharedByteReader {
  constructor(buf: Uint8Array, what = 'input') {
    super(buf, { context: what, mapError: toOtaError });
  }
}

export class ByteWriter extends SharedByteWriter {
  constructor(initialCapacity = 256) {
    super(initialCapacity, { mapError: toOtaError });
  }
}

/** Throws OtaError INVALID_ARGUMENT for an odd length or a non-hex character. */
export function fromHex(hex: string): Uint8Array {
  try {
    return sharedFromHex(hex);
  } catch (e) {
    throw toOtaError(e as ByteFormatError);
  }
}
