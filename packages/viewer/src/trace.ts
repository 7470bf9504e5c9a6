// Parses a JSONL trace (one event per line, as the simulator and `pnpm start`
// write them) into time-ordered events, with line numbers in errors.

import type { TraceEvent } from './world.js';

export class TraceParseError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'TraceParseError';
  }
}

export function parseTrace(text: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch {
      throw new TraceParseError(i + 1, 'not JSON');
    }
    if (typeof e !== 'object' || e === null || typeof (e as TraceEvent).t !== 'number' || typeof (e as TraceEvent).ev !== 'string') {
      throw new TraceParseError(i + 1, 'an event needs a numeric "t" and a string "ev"');
    }
    events.push(e as TraceEvent);
  }
  // Stable sort by time: traces are written in order, merged ones may not be.
  return events.map((e, i) => [e, i] as const).sort((a, b) => a[0].t - b[0].t || a[1] - b[1]).map(([e]) => e);
}
