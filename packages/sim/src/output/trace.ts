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

/** The simulator's version, written in run headers so that a trace says which code made it (package.json's). */
export const SIM_VERSION = '0.1.0';

/**
 * The `run` header a trace file starts with: which scenario and seed made it, with which version, its length and its
 * map origin, so a trace replayed alone can say what it is. The simulation itself never writes it (a trace's content
 * depends on the scenario and seed only); the programs that write trace files put it first.
 */
export function runHeader(scenario: { name: string; seed: number; durationMs: number; origin: { lat: number; lon: number } }, seed = scenario.seed): TraceEvent {
  return { t: 0, ev: 'run', scenario: scenario.name, seed, version: SIM_VERSION, durationMs: scenario.durationMs, origin: scenario.origin };
}

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
