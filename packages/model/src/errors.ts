// Typed errors. Every error this package throws is a ModelError with a stable
// `code`, so callers can tell bad input from a missing feature without parsing
// messages.

export class ModelError extends Error {
  /** A stable machine-readable code. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/**
 * Bytes that are not a well-formed ONNX model, or a model object that cannot be
 * serialized. Codes: PROTOBUF (wire format), MISSING_FIELD, DIMS, TENSOR_DATA,
 * ATTRIBUTE, TYPE, UTF8, DUPLICATE_KEY, NESTING.
 */
export class OnnxFormatError extends ModelError {}

/** Valid ONNX that uses something this package does not handle (code UNSUPPORTED). */
export class UnsupportedOnnxError extends ModelError {
  constructor(message: string) {
    super('UNSUPPORTED', message);
  }
}

/** A tensor whose data lives in an external file that was not supplied or does not fit (code EXTERNAL_DATA). */
export class ExternalDataError extends ModelError {
  constructor(message: string) {
    super('EXTERNAL_DATA', message);
  }
}

/** A graph built with the builder that is not valid (code GRAPH). */
export class GraphBuildError extends ModelError {
  constructor(message: string) {
    super('GRAPH', message);
  }
}
