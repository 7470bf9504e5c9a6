// Plays buffered trace events at a chosen speed: simulated time advances with
// wall time times the speed, and every event up to it is applied to the world.
// Events may keep arriving while playing (a simulation running in a worker).

import { World, type TraceEvent } from './world.js';

export type PlayerState = 'idle' | 'running' | 'paused' | 'finished';

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

  reset(): void {
    this.world = new World();
    this.events = [];
    this.cursor = 0;
    this.playTime = 0;
    this.complete = false;
    this.durationMs = 0;
    this.state = 'idle';
  }

  start(): void {
    this.state = 'running';
    this.lastWall = performance.now();
  }

  push(batch: TraceEvent[]): void {
    for (const e of batch) this.events.push(e);
  }

  /** The source has sent everything. */
  finish(): void {
    this.complete = true;
  }

  get buffered(): number {
    return this.events.length;
  }

  get simulatedMs(): number {
    return this.playTime;
  }

  togglePause(): void {
    if (this.state === 'running') this.state = 'paused';
    else if (this.state === 'paused') {
      this.state = 'running';
      this.lastWall = performance.now();
    }
  }

  /** Advances playback to the current wall time; returns true when the world changed. */
  tick(now = performance.now()): boolean {
    if (this.state !== 'running') return false;
    const dt = Math.min(250, now - this.lastWall);
    this.lastWall = now;
    // Never run ahead of what the source has produced. At speed Infinity ('as fast as it runs') play whatever the
    // source has produced so far: playback then waits only for the simulation, not for the wall clock.
    const last = this.events[this.events.length - 1]?.t ?? 0;
    const available = this.complete ? Infinity : last;
    const next = this.playTime + dt * this.speed;
    this.playTime = Number.isFinite(next) ? Math.min(next, available) : Math.max(this.playTime, last);
    let changed = false;
    while (this.cursor < this.events.length && this.events[this.cursor]!.t <= this.playTime) {
      this.world.apply(this.events[this.cursor]!);
      this.cursor++;
      changed = true;
    }
    this.world.now = Math.max(this.world.now, this.playTime);
    if (this.complete && this.cursor >= this.events.length) this.state = 'finished';
    return changed;
  }
}
