// Plays buffered trace events at a chosen speed: simulated time advances with
// wall time times the speed, and every event up to it is applied to the world.
// Events may keep arriving while playing (a simulation running in a worker).
// Seeking back rebuilds the world from the first event; playback never runs
// ahead of what the source has produced, and says how fast it really plays.

import { World, type TraceEvent } from './world.js';

export type PlayerState = 'idle' | 'running' | 'paused' | 'finished';

/** Wall time over which the actual playback speed is measured. */
const SPEED_WINDOW_MS = 3000;

export class Player {
  world = new World();
  state: PlayerState = 'idle';
  /** Simulated ms per wall ms; Infinity plays events as soon as they arrive. */
  speed = 60;
  /** Simulated duration, when the source knows it. */
  durationMs = 0;
  private events: TraceEvent[] = [];
  private cursor = 0;
  private playTime = 0;
  private complete = false;
  private lastWall = 0;
  /** (wall, simulated) pairs of the last few seconds of playing, for the actual speed. */
  private history: [number, number][] = [];

  reset(): void {
    this.world = new World();
    this.events = [];
    this.cursor = 0;
    this.playTime = 0;
    this.complete = false;
    this.durationMs = 0;
    this.state = 'idle';
    this.history = [];
  }

  start(now = performance.now()): void {
    this.state = 'running';
    this.lastWall = now;
    this.history = [];
  }

  push(batch: TraceEvent[]): void {
    for (const e of batch) this.events.push(e);
  }

  /** The source has sent everything. */
  finish(): void {
    this.complete = true;
  }

  get sourceComplete(): boolean {
    return this.complete;
  }

  get buffered(): number {
    return this.events.length;
  }

  /** Simulated time the source has produced events up to. */
  get availableMs(): number {
    return this.events[this.events.length - 1]?.t ?? 0;
  }

  get simulatedMs(): number {
    return this.playTime;
  }

  togglePause(now = performance.now()): void {
    if (this.state === 'running') this.state = 'paused';
    else if (this.state === 'paused') {
      this.state = 'running';
      this.lastWall = now;
      this.history = [];
    }
  }

  /**
   * Jumps to simulated time `t` (clamped to what the source has produced). Going back rebuilds the world from the
   * first event; going forward applies the events in between. A finished replay becomes paused, so it can play on.
   */
  seek(t: number, now = performance.now()): void {
    const limit = this.complete ? Math.max(this.availableMs, this.durationMs) : this.availableMs;
    const target = Math.max(0, Math.min(t, limit));
    if (target < this.playTime) {
      this.world = new World();
      this.cursor = 0;
    }
    this.playTime = target;
    this.applyUpTo(target);
    this.history = [];
    this.lastWall = now;
    const atEnd = this.complete && this.cursor >= this.events.length && target >= limit;
    if (atEnd && this.state !== 'idle') this.state = 'finished';
    else if (this.state === 'finished') this.state = 'paused';
  }

  /**
   * Simulated ms per wall ms over the last few seconds of playing, or null before there is enough to say. Lower than
   * `speed` when the source cannot keep up.
   */
  actualSpeed(): number | null {
    if (this.history.length < 2) return null;
    const [w0, s0] = this.history[0]!;
    const [w1, s1] = this.history[this.history.length - 1]!;
    if (w1 - w0 < SPEED_WINDOW_MS / 2) return null;
    return (s1 - s0) / (w1 - w0);
  }

  /** True while playback is held back by the source (it plays slower than chosen). */
  get starved(): boolean {
    const actual = this.actualSpeed();
    return this.state === 'running' && !this.complete && Number.isFinite(this.speed) && actual !== null && actual < 0.8 * this.speed;
  }

  private applyUpTo(t: number): boolean {
    let changed = false;
    while (this.cursor < this.events.length && this.events[this.cursor]!.t <= t) {
      this.world.apply(this.events[this.cursor]!);
      this.cursor++;
      changed = true;
    }
    this.world.now = Math.max(this.world.now, t);
    return changed;
  }

  /** Advances playback to the current wall time; returns true when the world changed. */
  tick(now = performance.now()): boolean {
    if (this.state !== 'running') return false;
    const dt = Math.min(250, now - this.lastWall);
    this.lastWall = now;
    // Never run ahead of what the source has produced. At speed Infinity ('as fast as it runs') play whatever the
    // source has produced so far: playback then waits only for the simulation, not for the wall clock.
    const last = this.availableMs;
    // A finished source plays on to the run's end (the last minutes may hold no event).
    const available = this.complete ? Math.max(last, this.durationMs) : last;
    const next = this.playTime + dt * this.speed;
    this.playTime = Number.isFinite(next) ? Math.min(next, available) : Math.max(this.playTime, available);
    const changed = this.applyUpTo(this.playTime);
    this.history.push([now, this.playTime]);
    while (this.history.length > 2 && now - this.history[0]![0] > SPEED_WINDOW_MS) this.history.shift();
    if (this.complete && this.cursor >= this.events.length && this.playTime >= available) this.state = 'finished';
    return changed;
  }
}
