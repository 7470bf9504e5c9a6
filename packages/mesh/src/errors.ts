/** Error raised for bad input anywhere in the mesh helpers; `code` is stable and machine-readable. */
export class MeshError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'MeshError';
    this.code = code;
  }
}
