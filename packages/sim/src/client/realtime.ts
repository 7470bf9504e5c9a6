import type { Simulation } from '../simulation.js';

const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const perf = globalThis.performance;

export interface RealtimeOptions {
  /** Simulated ms per wall ms (default 1). */
  speed?: number;
  /** Stop at this simulated time (default: the scenario's duration). */
  untilMs?: number;
}

export interface RealtimeRun {
  /** Resolves when the run reaches its end or is stopped. */
  done: Promise<void>;
  stop(): void;
}

/**
 * Drive a simulation against the wall clock, for clients that live in real time (TCP-attached apps, MeshDevice with
 * real timers). Simulated time follows wall time times `speed`; input from clients is stamped with the current time.
 */
export function runRealtime(sim: Simulation, options: RealtimeOptions = {}): RealtimeRun {
  const speed = options.speed ?? 1;
  const until = options.untilMs ?? sim.scenario.durationMs;
  const wallStart = perf.now();
  const simStart = sim.now;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const target = (): number => Math.min(until, simStart + (perf.now() - wallStart) * speed);
  const sync = (): void => {
    const t = target();
    if (t > sim.now) sim.scheduler.runUntil(t);
  };
  const tick = (): void => {
    if (stopped) return;
    sync();
    if (sim.now >= until) {
      stop();
      return;
    }
    const next = sim.scheduler.nextEventTime();
    const waitMs = Math.max(1, Math.min(50, (next - sim.now) / speed));
    timer = realSetTimeout(tick, waitMs);
  };
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    if (timer !== undefined) realClearTimeout(timer);
    sim.externalSync = null;
    finish();
  };
  sim.externalSync = sync;
  tick();
  return { done, stop };
}
