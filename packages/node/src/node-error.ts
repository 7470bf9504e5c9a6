// Errors of the node's commands and control socket (state files have their own StateError).

export type NodeErrorCode =
  /** A malformed control request (bad JSON, a field out of range). */
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  /** The node refused a request (the message carries its reason). */
  | 'REFUSED'
  | 'BAD_RESPONSE'
  /** No running node could be reached. */
  | 'NO_NODE'
  /** A command-line option is missing, unknown or out of range. */
  | 'BAD_OPTION'
  /** A model or bundle file could not be read or is not what it should be. */
  | 'BAD_FILE';

export class NodeError extends Error {
  constructor(readonly code: NodeErrorCode, message: string) {
    super(message);
    this.name = 'NodeError';
  }
}
