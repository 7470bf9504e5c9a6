/** Error raised for bad input anywhere in the mesh helpers; `code` is stable and machine-readable. */
export class MeshError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MeshError';
    this.code = code;
  }
}
