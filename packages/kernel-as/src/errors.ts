// Typed errors. Everything the TS API rejects is rejected before any byte reaches
// Wasm; the Wasm codes are a second line of defence for other hosts.

import { ErrorCode, errorCodeName, type ErrorCodeName } from './abi.js';

/** Base class: every error thrown by this package is a KernelError. */
export class KernelError extends Error {
  /** A stable machine-readable code. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Wrong dimensions, lengths or ranks. */
export class ShapeError extends KernelError {
  constructor(message: string) {
    super('SHAPE', message);
  }
}

/** A value outside its allowed range: zero points, scales, modes, NaN where finite is required. */
export class ValueRangeError extends KernelError {
  constructor(message: string) {
    super('RANGE', message);
  }
}

/** An element type this operation does not accept. */
export class TypeMismatchError extends KernelError {
  constructor(message: string) {
    super('TYPE', message);
  }
}

/** The requested build cannot run on this host (e.g. relaxed SIMD without engine support). */
export class UnsupportedBuildError extends KernelError {
  constructor(message: string) {
    super('UNSUPPORTED_BUILD', message);
  }
}

/** The module's linear memory could not grow. */
export class OutOfMemoryError extends KernelError {
  constructor(message: string) {
    super('NO_MEMORY', message);
  }
}

/** A handle (packed matrix, diff index) used after it was disposed or the arena was reset. */
export class StaleHandleError extends KernelError {
  constructor(message: string) {
    super('STALE_HANDLE', message);
  }
}

/** A patch whose operations do not fit the old image or its streams. */
export class PatchError extends KernelError {
  constructor(message: string) {
    super('PATCH', message);
  }
}

/** The Wasm module trapped; the original RuntimeError is the cause. */
export class KernelTrapError extends KernelError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TRAP', message);
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** An error code returned by a kernel export (reaching this means a host-side check is missing). */
export class KernelStatusError extends KernelError {
  readonly status: number;
  constructor(op: string, status: number) {
    const name: ErrorCodeName | 'UNKNOWN' = errorCodeName(status) ?? 'UNKNOWN';
    super(`WASM_${name}`, `${op} failed with ${name} (${status})`);
    this.status = status;
  }
}

/** Converts a kernel status code into the matching typed error. */
export function statusError(op: string, status: number): KernelError {
  switch (status) {
    case ErrorCode.NO_MEMORY:
      return new OutOfMemoryError(`${op}: the kernel's memory could not grow`);
    case ErrorCode.SCALE:
      return new ValueRangeError(`${op}: scales must be finite (and non-zero to quantize)`);
    case ErrorCode.NOT_FINITE:
      return new ValueRangeError(`${op}: input contains NaN or an infinity`);
    case ErrorCode.ZERO_POINT:
      return new ValueRangeError(`${op}: zero point out of range for its type`);
    case ErrorCode.MULTIPLIER:
      return new ValueRangeError(`${op}: requantization multiplier out of range ([0, 2^31), shift [-31, 30])`);
    case ErrorCode.RANGE:
      return new ValueRangeError(`${op}: the input's range has no finite, non-zero float32 scale (max - min overflows float32 or is below 128 * 2^-149)`);
    case ErrorCode.PATCH:
      return new PatchError(`${op}: the patch operations do not match the images or streams`);
    default:
      return new KernelStatusError(op, status);
  }
}
