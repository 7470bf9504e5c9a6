import type { Clock, TimerHandle } from '@compotastic/mesh';
import { DEVICE_PROFILES, type Simulation } from '@compotastic/sim';
import { type JobSpec, type NodeHost, computeMs } from '@compotastic/orchestrator';

/**
 * The simulator's clock for orchestrator timers. Each firing marks client activity, so the virtual-time loop lets the
 * promise work it starts (MeshDevice writes, executor runs) settle before simulated time moves on.
 */
export function simClock(sim: Simulation): Clock {
  const base = sim.clock;
  return {
    now: () => base.now(),
    setTimer: (ms: number, fn: () => void): TimerHandle =>
      base.setTimer(ms, () => {
        sim.notifyClientActivity();
        fn();
      }),
    clearTimer: (h: TimerHandle) => base.clearTimer(h),
  };
}

export interface SimHostOptions {
  /** Share of the device's RAM offered to jobs (default 0.5). */
  ramShareForJobs?: number;
}

/** A simulated device as the orchestrator's host: battery, memory and compute speed come from the simulator. */
export class SimNodeHost implements NodeHost {
  readonly clock: Clock;
  private readonly ramShare: number;

  constructor(private readonly sim: Simulation, readonly num: number, options: SimHostOptions = {}, clock?: Clock) {
    this.clock = clock ?? simClock(sim);
    this.ramShare = options.ramShareForJobs ?? 0.5;
  }

  private get node() {
    return this.sim.requireNode(this.num);
  }

  batteryPct(): number | null {
    const b = this.node.battery;
    return b ? b.percent(this.sim.now) : null;
  }

  freeRamKiB(): number {
    return Math.floor(DEVICE_PROFILES[this.node.deviceClass].ramMb * 1024 * this.ramShare);
  }

  get gops(): number {
    return DEVICE_PROFILES[this.node.deviceClass].gops;
  }

  /** The device's modelled speed decides how long a job takes in simulated time; the result is computed for real. */
  computeTimeMs(_spec: JobSpec, ops: number | null): number | null {
    return ops === null ? null : computeMs(ops, this.gops);
  }

  chargeCompute(ms: number): void {
    if (this.node.up && ms > 0) this.sim.consumeCompute(this.num, ms);
  }

  report(type: string, data: Record<string, unknown>): void {
    // The trace record's `node` is this node; a `node` in the data names another one (a worker, a peer).
    const { node, ...rest } = data;
    this.sim.reportApp(this.num, type, node === undefined || node === this.num ? rest : { ...rest, peer: node });
  }
}
