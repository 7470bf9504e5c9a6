/** Opaque handle returned by Clock.setTimer. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

/**
 * Time source for code that must run unchanged on simulated and real time. now() is milliseconds from an arbitrary
 * origin, never decreasing.
 */
export interface Clock {
  now(): number;
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

// Captured at load so a later global patch (such as a simulator's virtual-time mode) cannot redirect wall time.
const realSetTimeout = globalThis.setTimeout.bind(globalThis);
const realClearTimeout = globalThis.clearTimeout.bind(globalThis);
const perf = globalThis.performance;

/** Clock on real time (performance.now, setTimeout). */
export class WallClock implements Clock {
  private readonly origin = perf.now();

  now(): number {
    return perf.now() - this.origin;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    return { id: realSetTimeout(fn, Math.max(0, ms)) };
  }

  clearTimer(handle: TimerHandle): void {
    const id = (handle as { id?: ReturnType<typeof setTimeout> }).id;
    if (id !== undefined) realClearTimeout(id);
  }
}
