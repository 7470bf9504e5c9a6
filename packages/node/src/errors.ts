/**
 * Every failure of the state layer is a StateError with a stable `code`. Corruption codes (TRUNCATED ... BAD_CONTENT)
 * are also what a node reports, once, when it sets a damaged file aside and starts that part fresh.
 */
export type StateErrorCode =
  /** The file ends before its header or body does. */
  | 'TRUNCATED'
  /** The file is longer than its header says. */
  | 'BAD_LENGTH'
  /** Not a state file, or a state file of another kind. */
  | 'BAD_MAGIC'
  /** A state file written in a format version this code does not read. */
  | 'WRONG_VERSION'
  /** The body does not match the CRC-32 in the header. */
  | 'BAD_CHECKSUM'
  /** The body is not UTF-8 JSON. */
  | 'BAD_JSON'
  /** Well-formed JSON or bytes whose fields are missing, of the wrong type, or inconsistent. */
  | 'BAD_CONTENT'
  /** Another live process holds the state directory. */
  | 'LOCKED'
  /** The state directory belongs to a different node number. */
  | 'NODE_MISMATCH'
  /** The device flash on disk does not have the geometry asked for. */
  | 'GEOMETRY_MISMATCH'
  /** An argument outside its documented range. */
  | 'INVALID_ARGUMENT'
  /** The state was used after close(). */
  | 'CLOSED'
  /** The file system refused an operation (permissions, full disk, I/O error). */
  | 'IO';

/** Codes that mean a file was damaged (and is set aside), as opposed to a refusal or an I/O failure. */
export const CORRUPTION_CODES: readonly StateErrorCode[] = ['TRUNCATED', 'BAD_LENGTH', 'BAD_MAGIC', 'WRONG_VERSION', 'BAD_CHECKSUM', 'BAD_JSON', 'BAD_CONTENT'];

export class StateError extends Error {
  readonly code: StateErrorCode;
  /** The file concerned, when there is one. */
  readonly file: string | null;
  /** Where a corrupted file was moved for inspection; set when it was set aside. */
  quarantinedAs: string | null = null;

  constructor(code: StateErrorCode, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StateError';
    this.code = code;
    this.file = options.file ?? null;
  }
}

/** True when `e` is a StateError (optionally with the given code). */
export function isStateError(e: unknown, code?: StateErrorCode): e is StateError {
  return e instanceof StateError && (code === undefined || e.code === code);
}

/** Receives each corruption once, when its file is set aside. */
export type StateWarningHandler = (warning: StateError) => void;

/** Wraps a file-system error (anything that is not already a StateError) as IO. */
export function ioError(what: string, file: string, cause: unknown): StateError {
  if (cause instanceof StateError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new StateError('IO', `${what} ${file}: ${detail}`, { file, cause });
}
