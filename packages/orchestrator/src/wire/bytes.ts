import { ByteReader as SharedByteReader, ByteWriter as SharedByteWriter, type ByteErrorCode, type ByteFormatError } from '@compotastic/mesh';
import { CodecError, type CodecErrorCode } from '../errors.js';

// The shared little-endian reader and writer from @compotastic/mesh, raising this package's CodecError with the
// codes the message profile documents (TRUNCATED, BAD_VARINT, TRAILING_BYTES, BAD_VALUE).

const CODEC_CODES: Record<ByteErrorCode, CodecErrorCode> = {
  TRUNCATED: 'TRUNCATED',
  BAD_VARINT: 'BAD_VARINT',
  TRAILING_BYTES: 'TRAILING_BYTES',
  BAD_UTF8: 'BAD_VALUE',
  BAD_LENGTH: 'BAD_VALUE',
  OUT_OF_RANGE: 'BAD_VALUE',
  BAD_HEX: 'BAD_VALUE',
};

function toCodecError(e: ByteFormatError): CodecError {
  return new CodecError(CODEC_CODES[e.code], e.message, { cause: e });
}

/** Bounds-checked reader: every read past the end throws CodecError TRUNCATED; varints are 32-bit and minimal. */
export class ByteReader extends SharedByteReader {
  constructor(buf: Uint8Array, context = 'message') {
    super(buf, { context, mapError: toCodecError });
  }
}

/** Growable writer: a value out of its field's range throws CodecError BAD_VALUE. */
export class ByteWriter extends SharedByteWriter {
  constructor(initialCapacity = 64) {
    super(initialCapacity, { mapError: toCodecError });
  }
}
