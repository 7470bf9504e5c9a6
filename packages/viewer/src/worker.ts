// Runs a simulation in a Web Worker and streams its trace to the page in
// batches. The simulator's core is browser-safe; the same code runs in Node.

import { builtinScenario, applyOverrides, resolveScenario, Simulation } from '@compotastic/sim';
import type { StartRequest, WorkerMessage } from './protocol.js';
import type { TraceEvent } from './world.js';

const post = (m: WorkerMessage) => (self as unknown as Worker).postMessage(m);
const BATCH = 2000;

async function runRadio(req: StartRequest): Promise<void> {
  const scenario = applyOverrides(builtinScenario(req.scenario), req.overrides);
  const resolved = resolveScenario(scenario);
  post({ type: 'meta', durationMs: resolved.durationMs, scenario: req.scenario });
  let batch: TraceEvent[] = [];
  const flush = () => {
    if (batch.length) post({ type: 'events', events: batch });
    batch = [];
  };
  const sim = new Simulation(resolved, {
    seed: req.seed,
    trace: (e) => {
      batch.push(e as TraceEvent);
      if (batch.length >= BATCH) flush();
    },
    onProgress: (simMs, durationMs) => post({ type: 'progress', simMs, durationMs }),
  });
  sim.run();
  flush();
  post({ type: 'done', summary: sim.summary() });
}

self.onmessage = (msg: MessageEvent<StartRequest>) => {
  const req = msg.data;
  if (req.type !== 'start') return;
  runRadio(req).catch((err: unknown) => post({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
};
