// Parses a JSONL trace (one event per line, as the simulator and `pnpm start`
// write them) into time-ordered events. A damaged trace (cut off while being
// written, or edited by hand) keeps the valid events before the first bad line,
// and says which line is bad and why, so the viewer can replay the prefix.

import type { TraceEvent } from './world.js';

export class TraceParseError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'TraceParseError';
  }
}

export interface ParsedTrace {
  events: TraceEvent[];
  /** The first bad line, when the trace is damaged; `events` then holds the lines before it. */
  error: TraceParseError | null;
}

function parseLine(line: string, lineNo: number, isLast: boolean): TraceEvent {
  let e: unknown;
  try {
    e = JSON.parse(line);
  } catch {
    throw new TraceParseError(lineNo, isLast ? 'the last line is cut off (the trace looks truncated)' : 'not JSON');
  }
  if (typeof e !== 'object' || e === null || typeof (e as TraceEvent).t !== 'number' || !Number.isFinite((e as TraceEvent).t) || typeof (e as TraceEvent).ev !== 'string') {
    throw new TraceParseError(lineNo, 'an event needs a numeric "t" and a string "ev"');
  }
  return e as TraceEvent;
}

export function parseTrace(text: string): ParsedTrace {
  const events: TraceEvent[] = [];
  const lines = text.split('\n');
  let lastNonEmpty = lines.length - 1;
  while (lastNonEmpty >= 0 && !lines[lastNonEmpty]!.trim()) lastNonEmpty--;
  let error: TraceParseError | null = null;
  for (let i = 0; i <= lastNonEmpty; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    try {
      events.push(parseLine(line, i + 1, i === lastNonEmpty));
    } catch (err) {
      error = err as TraceParseError;
      break;
    }
  }
  if (!error && events.length === 0) error = new TraceParseError(1, 'the trace holds no events');
  // Stable sort by time: traces are written in order, merged ones may not be.
  const sorted = events.map((e, i) => [e, i] as const).sort((a, b) => a[0].t - b[0].t || a[1] - b[1]).map(([e]) => e);
  return { events: sorted, error };
}
