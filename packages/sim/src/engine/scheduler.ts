import type { Clock, TimerHandle } from '@compotastic/mesh';
import { SimError } from '../errors.js';
import { EventQueue, type SimEvent } from './event-queue.js';

/** Discrete-event scheduler: simulated milliseconds, no wall clock anywhere. */
export class Scheduler {
  now = 0;
  eventsProcessed = 0;
  private readonly queue = new EventQueue();

  get pending(): number {
    return this.queue.size;
  }

  /** Run fn(arg) after delay ms of simulated time. */
  schedule(delayMs: number, fn: (arg: unknown) => void, arg?: unknown): SimEvent {
    if (!(delayMs >= 0) || !Number.isFinite(delayMs)) {
      throw new SimError('INVALID_DELAY', `delay must be a finite non-negative number of ms, got ${delayMs}`);
    }
    return this.queue.push(this.now + delayMs, fn, arg);
  }

  scheduleAt(timeMs: number, fn: (arg: unknown) => void, arg?: unknown): SimEvent {
    return this.schedule(Math.max(0, timeMs - this.now), fn, arg);
  }

  cancel(ev: SimEvent | null | undefined): void {
    if (ev) this.queue.cancel(ev);
  }

  nextEventTime(): number {
    return this.queue.peekTime();
  }

  /** Process one event; false when none is left. */
  step(): boolean {
    const ev = this.queue.pop();
    if (!ev) return false;
    this.now = ev.time;
    this.eventsProcessed++;
    const fn = ev.fn as (arg: unknown) => void;
    // A fired event can no longer be cancelled (keeps the live count right if a handler cancels its own event).
    ev.fn = null;
    fn(ev.arg);
    return true;
  }

  /** Process every event up to and including time t, then set the clock to t. */
  runUntil(t: number): void {
    while (this.queue.peekTime() <= t) this.step();
    if (t > this.now) this.now = t;
  }

  /** A Clock bound to simulated time. */
  readonly clock: Clock = {
    now: () => this.now,
    setTimer: (ms: number, fn: () => void): TimerHandle => this.schedule(Math.max(0, ms), () => fn()),
    clearTimer: (handle: TimerHandle) => this.cancel(handle as SimEvent),
  };
}
