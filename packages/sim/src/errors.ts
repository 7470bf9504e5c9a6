/** Error for bad scenarios, arguments or API use in the simulator; `code` is stable and machine-readable. */
export class SimError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'SimError';
    this.code = code;
  }
}
