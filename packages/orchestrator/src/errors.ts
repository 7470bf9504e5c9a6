/**
 * Every error the orchestrator raises on bad input or a broken contract. `code` is stable and machine-readable;
 * the subclasses let callers catch one family (codec, registry, planning, job) without string matching.
 */
export class OrchestratorError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OrchestratorError';
    this.code = code;
  }
}

/** A frame that is not a valid message of this profile: truncated, unknown type, out-of-range field... */
export class CodecError extends OrchestratorError {
  constructor(code: CodecErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'CodecError';
  }
}

export type CodecErrorCode =
  | 'TRUNCATED'
  | 'BAD_MAGIC'
  | 'UNSUPPORTED_VERSION'
  | 'UNKNOWN_TYPE'
  | 'BAD_VARINT'
  | 'BAD_VALUE'
  | 'TRAILING_BYTES'
  | 'TOO_LARGE'
  | 'INTEGRITY';

/** Fragment reassembly refused a fragment or a whole message. */
export class ReassemblyError extends OrchestratorError {
  constructor(code: 'FRAGMENT_MISMATCH' | 'INTEGRITY' | 'CAPACITY' | 'BAD_VALUE', message: string) {
    super(code, message);
    this.name = 'ReassemblyError';
  }
}

/** A job specification that cannot be run or split as given. */
export class JobSpecError extends OrchestratorError {
  constructor(code: 'BAD_SHAPE' | 'BAD_VALUE' | 'UNSUPPORTED_KIND' | 'TOO_LARGE', message: string) {
    super(code, message);
    this.name = 'JobSpecError';
  }
}

/** The planner found no plan that satisfies the constraints. */
export class PlanningError extends OrchestratorError {
  constructor(code: 'NO_FEASIBLE_PLAN' | 'BAD_VALUE', message: string) {
    super(code, message);
    this.name = 'PlanningError';
  }
}

/** Bad configuration or arguments (CLI, options, scenario application fields). */
export class ConfigError extends OrchestratorError {
  constructor(code: 'BAD_OPTION' | 'BAD_SCENARIO' | 'BAD_ADDRESS', message: string) {
    super(code, message);
    this.name = 'ConfigError';
  }
}

/** The radio link refused or lost something. */
export class TransportError extends OrchestratorError {
  constructor(code: 'NOT_CONFIGURED' | 'SEND_FAILED' | 'CLOSED' | 'TIMEOUT', message: string) {
    super(code, message);
    this.name = 'TransportError';
  }
}

/** A packet, key, certificate or auth state that did not pass authentication, or cannot be produced. */
export class AuthError extends OrchestratorError {
  constructor(code: AuthErrorCode, message: string) {
    super(code, message);
    this.name = 'AuthError';
  }
}

export type AuthErrorCode =
  | 'BAD_TRAILER'
  | 'BAD_MAC'
  | 'BAD_SIGNATURE'
  | 'UNKNOWN_PEER'
  | 'KEY_CONFLICT'
  | 'REPLAY'
  | 'NOT_ADMITTED'
  | 'NO_PEER_KEY'
  | 'COUNTER_EXHAUSTED'
  | 'BAD_KEY'
  | 'BAD_STATE';
