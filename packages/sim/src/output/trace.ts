/**
 * One trace record. Every record has `t` (simulated ms, rounded to the microsecond) and `ev` (its type); the other
 * fields depend on the type and are documented in the package README.
 */
export interface TraceEvent {
  t: number;
  ev: string;
  [field: string]: unknown;
}

export type TraceSink = (event: TraceEvent) => void;

/** Collects the trace as JSON lines, in memory or through a writer. */
export class JsonlTrace {
  readonly lines: string[] = [];

  constructor(private readonly write?: (line: string) => void) {}

  readonly sink: TraceSink = (event) => {
    const line = JSON.stringify(event);
    if (this.write) this.write(line + '\n');
    else this.lines.push(line);
  };

  text(): string {
    return this.lines.length ? this.lines.join('\n') + '\n' : '';
  }
}

export function roundTime(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
