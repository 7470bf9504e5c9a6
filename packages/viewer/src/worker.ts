// Runs a simulation in a Web Worker and streams its trace to the page in
// batches: the whole compute swarm (the demo: orchestrator, kernel, OTA) or the
// radio alone. The simulator, orchestrator and kernel cores are browser-safe.
import './shims/process.js';
import { Simulation, applyOverrides, builtinScenario, resolveScenario, runHeader } from '@compotastic/sim';
import type { StartRequest, WorkerMessage } from './protocol.js';
import type { TraceEvent } from './world.js';

const post = (m: WorkerMessage) => (self as unknown as Worker).postMessage(m);
const BATCH = 2000;

function batcher(): { push: (e: TraceEvent) => void; flush: () => void } {
  let batch: TraceEvent[] = [];
  const flush = () => {
    if (batch.length) post({ type: 'events', events: batch });
    batch = [];
  };
  return {
    push: (e) => {
      batch.push(e);
      if (batch.length >= BATCH) flush();
    },
    flush,
  };
}

/** Resolves the scenario (throwing a clear error for a bad name or override) and tells the page what will run. */
function announce(req: StartRequest, upTo: boolean): ReturnType<typeof resolveScenario> {
  const resolved = resolveScenario(applyOverrides(builtinScenario(req.scenario), req.overrides));
  const durationMs = resolved.durationMs;
  post({ type: 'meta', durationMs, upTo, scenario: req.scenario, seed: req.seed, nodes: resolved.nodes.count, origin: resolved.origin });
  // The run header trace files carry: the page shows the scenario, seed and origin from it.
  post({ type: 'events', events: [runHeader(resolved, req.seed)] });
  post({ type: 'phase', text: `setting up ${resolved.nodes.count} nodes` });
  return resolved;
}

async function runRadio(req: StartRequest): Promise<void> {
  const resolved = announce(req, false);
  const out = batcher();
  const sim = new Simulation(resolved, {
    seed: req.seed,
    trace: (e) => out.push(e as TraceEvent),
    onProgress: (simMs, durationMs) => post({ type: 'progress', simMs, durationMs }),
  });
  sim.run();
  out.flush();
  post({ type: 'done', endMs: resolved.durationMs, summary: sim.summary() });
}

async function runSwarmDemo(req: StartRequest): Promise<void> {
  // Loaded on demand: the compute swarm (orchestrator, models, OTA) is most of the worker's code, and a radio-only run
  // needs none of it.
  const resolved = announce(req, true);
  post({ type: 'phase', text: `loading the compute swarm for ${resolved.nodes.count} nodes` });
  const { runDemo } = await import('@compotastic/demo');
  post({ type: 'phase', text: `setting up ${resolved.nodes.count} nodes (orchestrators, kernels, models)` });
  const out = batcher();
  let announced = false;
  const summary = await runDemo({
    scenario: req.scenario,
    seed: req.seed,
    overrides: req.overrides,
    trace: (e) => out.push(e as TraceEvent),
    onProgress: (simMs, untilMs) => {
      if (!announced) {
        // The swarm runs on after the scenario until updates on the air finish, up to untilMs.
        post({ type: 'meta', durationMs: untilMs, upTo: true, scenario: req.scenario, seed: req.seed, nodes: resolved.nodes.count, origin: resolved.origin });
        announced = true;
      }
      out.flush(); // keep the page's playback fed while the swarm runs
      post({ type: 'progress', simMs, durationMs: untilMs });
    },
  });
  out.flush();
  post({ type: 'done', endMs: summary.simulatedS * 1000, summary });
}

self.onmessage = (msg: MessageEvent<StartRequest>) => {
  const req = msg.data;
  if (req.type !== 'start') return;
  const run = req.mode === 'radio' ? runRadio : runSwarmDemo;
  run(req).catch((err: unknown) => post({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
};
