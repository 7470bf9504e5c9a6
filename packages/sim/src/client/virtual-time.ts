import { Prng } from '@compotastic/mesh';
import type { SimEvent } from '../engine/event-queue.js';
import { SimError } from '../errors.js';
import type { Simulation } from '../simulation.js';

// Real timer functions, captured before anyone patches them.
const real = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
  setImmediate: (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate,
};

/** Yield to the host event loop so pending promise and stream work runs. */
function settle(): Promise<void> {
  return new Promise((resolve) => {
    if (real.setImmediate) real.setImmediate(resolve);
    else {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        ch.port1.close();
        resolve();
      };
      ch.port2.postMessage(null);
    }
  });
}

/** A timer handle shaped like Node's Timeout, living on the simulation's event queue. */
class VirtualTimer {
  event: SimEvent | null = null;
  constructor(readonly repeat: boolean) {}
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  refresh(): this {
    return this;
  }
  close(): this {
    return this;
  }
  [Symbol.toPrimitive](): number {
    return this.event ? this.event.seq : -1;
  }
}

export interface VirtualTimeOptions {
  /** Route crypto.getRandomValues to a seeded stream while running, so client-chosen ids repeat (default true). */
  patchRandom?: boolean;
}

export interface VirtualRunOptions {
  /** Stop when simulated time reaches this (default: the scenario's duration). */
  untilMs?: number;
}

/**
 * Virtual-time mode for swarms of attached clients. While `run()` is active, the global setTimeout / setInterval /
 * clearTimeout / clearInterval are served by the simulation's event queue (restored afterwards), and after any event
 * that touched a client the loop yields to the host so promise and stream work settles before simulated time moves
 * on. Pure radio events run back to back at full speed. @meshtastic/core's MeshDevice (200 ms queue pacing, 60 s
 * timeouts, heartbeat intervals) then completes in simulated time, deterministically.
 */
export class VirtualTime {
  private dirty = false;
  private active = false;
  private readonly rng: Prng;

  constructor(readonly sim: Simulation, private readonly options: VirtualTimeOptions = {}) {
    this.rng = sim.rng.derive('virtual-time');
  }

  private install(): () => void {
    const sim = this.sim;
    const g = globalThis as Record<string, unknown>;
    const saved = { setTimeout: g.setTimeout, clearTimeout: g.clearTimeout, setInterval: g.setInterval, clearInterval: g.clearInterval };
    const arm = (timer: VirtualTimer, fn: (...a: unknown[]) => void, ms: number, args: unknown[]): void => {
      const delay = Number.isFinite(ms) && ms >= 1 ? ms : 1;
      timer.event = sim.scheduler.schedule(delay, () => {
        this.dirty = true;
        if (timer.repeat) arm(timer, fn, delay, args);
        else timer.event = null;
        fn(...args);
      });
    };
    const clear = (handle: unknown): void => {
      if (handle instanceof VirtualTimer) {
        sim.scheduler.cancel(handle.event);
        handle.event = null;
      } else if (handle !== undefined && handle !== null) {
        (real.clearTimeout as (h: unknown) => void)(handle);
      }
    };
    g.setTimeout = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const t = new VirtualTimer(false);
      arm(t, fn, Number(ms ?? 0), args);
      return t;
    };
    g.setInterval = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const t = new VirtualTimer(true);
      arm(t, fn, Number(ms ?? 0), args);
      return t;
    };
    g.clearTimeout = clear;
    g.clearInterval = clear;

    let restoreRandom = (): void => {};
    const c = (globalThis as { crypto?: Crypto }).crypto;
    if ((this.options.patchRandom ?? true) && c) {
      const rng = this.rng;
      Object.defineProperty(c, 'getRandomValues', {
        configurable: true,
        writable: true,
        value: <T extends ArrayBufferView | null>(array: T): T => {
          if (array) {
            const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
            bytes.set(rng.bytes(bytes.length));
          }
          return array;
        },
      });
      restoreRandom = () => {
        delete (c as unknown as Record<string, unknown>).getRandomValues;
      };
    }
    sim.clientActivity = () => {
      this.dirty = true;
    };
    // Timers set through sim.clock (how higher layers wait) settle the clients too: otherwise, while the radios have
    // events of their own (periodic broadcasts), a promise resolved by such a timer would wait until simulated time ran out.
    const clock = sim.clock as { setTimer: (ms: number, fn: () => void) => unknown };
    const savedSetTimer = clock.setTimer;
    clock.setTimer = (ms: number, fn: () => void) =>
      savedSetTimer(ms, () => {
        this.dirty = true;
        fn();
      });
    return () => {
      clock.setTimer = savedSetTimer;
      Object.assign(g, saved);
      restoreRandom();
      sim.clientActivity = null;
    };
  }

  /**
   * Run `fn` (which may create MeshDevices, call configure(), send packets...) with the simulation driving time.
   * Resolves with fn's result as soon as it settles; rejects with SimError DEADLOCK if fn is still waiting when nothing
   * is left to simulate, or TIME_LIMIT if the simulated deadline passes first.
   */
  async run<T>(fn: () => Promise<T> | T, options: VirtualRunOptions = {}): Promise<T> {
    if (this.active) throw new SimError('VIRTUAL_TIME_BUSY', 'virtual time is already running');
    this.active = true;
    const until = options.untilMs ?? this.sim.scenario.durationMs;
    const restore = this.install();
    let done = false;
    let failed = false;
    let result: T | undefined;
    let error: unknown;
    const sched = this.sim.scheduler;
    try {
      Promise.resolve()
        .then(fn)
        .then(
          (r) => {
            done = true;
            result = r;
          },
          (e: unknown) => {
            done = true;
            failed = true;
            error = e;
          },
        );
      await settle();
      while (!done) {
        const next = sched.nextEventTime();
        if (next > until) {
          await settle();
          if (done) break;
          if (sched.nextEventTime() <= until) continue;
          if (next === Infinity) throw new SimError('DEADLOCK', `clients are waiting but nothing is scheduled (t=${this.sim.now} ms)`);
          sched.runUntil(until);
          throw new SimError('TIME_LIMIT', `simulated time reached ${until} ms before the clients finished`);
        }
        sched.step();
        if (this.dirty) {
          this.dirty = false;
          await settle();
        }
      }
    } finally {
      restore();
      this.active = false;
    }
    if (failed) throw error;
    return result as T;
  }
}
