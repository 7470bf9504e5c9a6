/**
 * Every failure this package reports is an OtaError with a stable `code`. Codes name the reason a bundle, patch,
 * fragment or install was refused, so callers (and the reports a receiver sends back) can act on them.
 */
export type OtaErrorCode =
  /** Bytes that do not parse: wrong magic, truncated field, bad length, unknown version. */
  | 'MALFORMED'
  /** A checksum or SHA-256 over data does not match (corruption in storage or transit). */
  | 'CORRUPT'
  /** The Ed25519 signature does not verify. */
  | 'BAD_SIGNATURE'
  /** The bundle is signed by a key the receiver does not trust. */
  | 'UNKNOWN_KEY'
  /** The manifest does not match the parts it describes (sizes, hashes, count). */
  | 'MANIFEST_MISMATCH'
  /** A lower security counter or version than the one installed. */
  | 'DOWNGRADE'
  /** The bundle is for a different device class, model, base version, or needs Wasm features the device lacks. */
  | 'INCOMPATIBLE'
  /** A delta was built against a base the receiver does not have. */
  | 'BASE_MISMATCH'
  /** A fragment that does not belong to the current transfer or does not fit it. */
  | 'BAD_FRAGMENT'
  /** Something exceeds a configured limit (bundle size, symbol count, memory). */
  | 'TOO_LARGE'
  /** An argument outside its documented range. */
  | 'INVALID_ARGUMENT'
  /** An operation that is not allowed in the current state (e.g. confirm with nothing on trial). */
  | 'INVALID_STATE'
  /** No bootable, verified image in either slot. */
  | 'NO_VALID_IMAGE'
  /** The device's self-test of a new image failed. */
  | 'SELF_TEST_FAILED'
  /** Storage refused an operation (out of bounds, write to unerased flash, I/O error). */
  | 'STORAGE'
  /** A message or format of a protocol version this node does not speak (an older sender, unauthenticated). */
  | 'UNSUPPORTED_VERSION';

export class OtaError extends Error {
  readonly code: OtaErrorCode;

  constructor(code: OtaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OtaError';
    this.code = code;
  }
}

/** True when `e` is an OtaError (optionally with the given code). */
export function isOtaError(e: unknown, code?: OtaErrorCode): e is OtaError {
  return e instanceof OtaError && (code === undefined || e.code === code);
}
