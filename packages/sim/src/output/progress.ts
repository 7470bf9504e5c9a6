/** Where a run's progress goes: a terminal gets one line redrawn in place, a pipe or a log gets occasional lines. */
export interface ProgressOutput {
  write: (text: string) => void;
  isTty: boolean;
}

export interface ProgressOptions {
  /** Off a terminal, a line at least every this many percent... */
  everyPct?: number;
  /** ...and at least every this many ms of wall time, so a slow run never goes quiet. */
  everyMs?: number;
  /** Wall clock (injected by tests). */
  now?: () => number;
}

function simTime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

function wallTime(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 90 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/**
 * A progress callback for a simulation (`onProgress(simMs, durationMs)`): the share simulated, the simulated clock,
 * the wall time so far and, once there is something to go by, an estimate of the time left.
 */
export function simulationProgress(out: ProgressOutput, { everyPct = 10, everyMs = 5000, now = Date.now }: ProgressOptions = {}): (simMs: number, durationMs: number) => void {
  const started = now();
  let lastPct = -1;
  let lastLineAt = started;
  return (simMs, durationMs) => {
    const pct = Math.min(100, Math.floor((simMs / Math.max(1, durationMs)) * 100));
    const t = now();
    const elapsed = t - started;
    const left = pct > 0 && pct < 100 ? `, about ${wallTime((elapsed * (100 - pct)) / pct)} left` : '';
    const where = `${simTime(simMs)}/${simTime(durationMs)}, ${wallTime(elapsed)} elapsed${left}`;
    if (out.isTty) {
      if (pct === lastPct) return;
      const filled = Math.round(pct / 4);
      out.write(`\r\x1b[K[${'#'.repeat(filled)}${'-'.repeat(25 - filled)}] ${String(pct).padStart(3)}% ${where}`);
      if (pct === 100) out.write('\n');
    } else if (pct >= lastPct + everyPct || (pct === 100 && lastPct !== 100) || (t - lastLineAt >= everyMs && pct !== lastPct)) {
      out.write(`progress ${pct}% (${where})\n`);
      lastLineAt = t;
    } else return;
    lastPct = pct;
  };
}
