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
  /** The run about to start. `durationMs` is exact for a radio run; a swarm run may end before it (`upTo`). */
  | { type: 'meta'; durationMs: number; upTo: boolean; scenario: string; seed: number; nodes: number; origin: { lat: number; lon: number } }
  /** What the worker is busy with before the first simulated second (building a large swarm takes a while). */
  | { type: 'phase'; text: string }
  | { type: 'events'; events: TraceEvent[] }
  | { type: 'progress'; simMs: number; durationMs: number }
  /** The run is over at simulated time `endMs`. */
  | { type: 'done'; endMs: number; summary: unknown }
  | { type: 'error'; message: string };
