// How long a case will take, said before it starts: from the wall time the case took in the last result file that
// has it, else from its last timings and the run's settings, else from the settings alone (a lower bound). Some cases
// run for minutes with nothing to print; an estimate tells whoever watches that the bench is not stuck.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatTime } from './report.js';
import { type CaseResult, type RunSettings, isSuiteResult } from './results.js';

/** The latest recorded result of each case of one suite and mode, by case id. */
export type CaseHistory = Map<string, CaseResult>;

/** Reads bench/results/<suite>-*.json (oldest first, so the newest wins); unreadable files are passed over. */
export function loadHistory(dir: string, suite: string, mode: 'full' | 'short'): CaseHistory {
  const history: CaseHistory = new Map();
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.startsWith(`${suite}-`) && f.endsWith('.json')).sort();
  } catch {
    return history; // no results folder yet: the first run
  }
  for (const file of files) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch {
      continue; // a half-written or hand-edited file says nothing about timing
    }
    if (!isSuiteResult(json) || json.suite !== suite || json.mode !== mode) continue;
    for (const c of json.cases) if (!c.skipped) history.set(c.id, c);
  }
  return history;
}

export interface CaseEstimate {
  ms: number;
  /** Where the figure comes from, said beside it. */
  basis: 'last run' | 'last timings' | 'settings (at least)';
}

/**
 * The expected wall time of a case with `contenders` contenders. One measurement lasts at least the time budget and
 * at least minIterations calls; the first round adds the warm-up and setup's own call.
 */
export function estimateCase(
  c: { id: string; minIterations?: number },
  contenders: number,
  settings: RunSettings,
  history?: CaseHistory,
): CaseEstimate {
  const last = history?.get(c.id);
  if (last?.wallMs !== undefined) return { ms: last.wallMs, basis: 'last run' };
  const minIterations = Math.min(settings.minIterations, c.minIterations ?? Infinity);
  const timed = last?.contenders.filter((x) => x.medianMs !== undefined) ?? [];
  if (timed.length > 0) {
    const ms = timed.reduce((sum, x) => {
      const call = x.medianMs!;
      const round = Math.max(settings.timeMs, minIterations * call);
      return sum + settings.rounds * round + settings.warmupMs + 3 * call; // setup's call and the warm-up calls
    }, 0);
    return { ms, basis: 'last timings' };
  }
  return { ms: contenders * (settings.rounds * settings.timeMs + settings.warmupMs), basis: 'settings (at least)' };
}

export function formatEstimate(e: CaseEstimate): string {
  return `about ${formatDuration(e.ms)} (${e.basis})`;
}

/** A duration for people: 42 s, 3 min 20 s, 1 h 5 min; below a second, formatTime's units. */
export function formatDuration(ms: number): string {
  if (!(ms >= 1000)) return formatTime(ms);
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}
