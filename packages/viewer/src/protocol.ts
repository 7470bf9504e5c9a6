// Messages between the page and the simulation worker.

import type { TraceEvent } from './world.js';

export interface StartRequest {
  type: 'start';
  scenario: string;
  mode: 'demo' | 'radio';
  seed: number;
  /** Dotted-path scenario overrides (preset, node count, latency, churn ...). */
  overrides: Record<string, unknown>;
}

export type WorkerMessage =
  | { type: 'meta'; durationMs: number; scenario: string }
  | { type: 'events'; events: TraceEvent[] }
  | { type: 'progress'; simMs: number; durationMs: number }
  | { type: 'done'; summary: unknown }
  | { type: 'error'; message: string };
