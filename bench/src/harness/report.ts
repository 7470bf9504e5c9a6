// Plain-text tables for the terminal: per group, one row per contender with
// its time per call, throughput, and its ratio against each peer.

import type { GateOutcome } from './gates.js';
import type { CaseResult, ContenderResult, MachineInfo, SuiteResult } from './results.js';

export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1e-3) return `${(ms * 1e6).toFixed(0)} ns`;
  if (ms < 1) return `${(ms * 1e3).toPrecision(3)} µs`;
  if (ms < 1000) return `${ms.toPrecision(3)} ms`;
  return `${(ms / 1000).toPrecision(3)} s`;
}

export function formatRatio(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  return v >= 100 ? `${v.toFixed(0)}x` : v >= 10 ? `${v.toFixed(1)}x` : `${v.toFixed(2)}x`;
}

/** A number with three significant figures at most, never a row of zeros. */
function threeFigures(v: number): string {
  return v >= 100 ? v.toFixed(0) : v.toPrecision(3);
}

/**
 * Throughput in the unit that fits it: GOPS/MOPS for operations, GB/s, MB/s or kB/s for bytes, so that a patch
 * made at 3 MB/s reads "3.00 MB/s", not "0.00 GB/s". Empty when the case has no work per call.
 */
export function formatThroughput(x: { gops?: number; gbps?: number }): string {
  const scaled = (v: number, units: readonly [number, string][]) => {
    const [factor, unit] = units.find(([f]) => v * f >= 1) ?? units[units.length - 1]!;
    return `${threeFigures(v * factor)} ${unit}`;
  };
  if (x.gops !== undefined && Number.isFinite(x.gops)) return scaled(x.gops, [[1, 'GOPS'], [1e3, 'MOPS'], [1e6, 'kOPS']]);
  if (x.gbps !== undefined && Number.isFinite(x.gbps)) return scaled(x.gbps, [[1, 'GB/s'], [1e3, 'MB/s'], [1e6, 'kB/s']]);
  return '';
}

/** A figure case's quantity with its unit: '62,956 B'. */
export function formatFigure(value: number | undefined, unit: string): string {
  return value === undefined || !Number.isFinite(value) ? '-' : `${value.toLocaleString('en')} ${unit}`;
}

/**
 * A contender's time per call; in a figure case the quantity it reported; what the case measures instead when its
 * time per call is not the point.
 */
export function formatCaseTime(c: Pick<CaseResult, 'untimed' | 'figure'>, x: Pick<ContenderResult, 'medianMs' | 'figure'>): string {
  if (c.figure) return formatFigure(x.figure, c.figure);
  return c.untimed ? `- (${c.untimed})` : formatTime(x.medianMs);
}

/** The heading of the time column for a group of cases: 'figure' when none of them is timed. */
export function timeHeading(cases: readonly Pick<CaseResult, 'figure'>[]): string {
  const figures = cases.filter((c) => c.figure).length;
  return figures === 0 ? 'time/call' : figures === cases.length ? 'figure' : 'time/call or figure';
}

/** Lays out rows as aligned columns (first column left-aligned, the rest right-aligned). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return rows
    .map((row) => row.map((cell, i) => (i <= 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}

function groupTable(cases: readonly CaseResult[]): string {
  const peers = [...new Set(cases.flatMap((c) => c.ratios.map((r) => r.peer)))];
  const rate = cases.some((c) => c.work?.ops || c.work?.bytes) ? 'throughput' : '';
  const rows: string[][] = [['case', 'contender', timeHeading(cases), rate, ...peers.map((p) => `vs ${p}`)]];
  for (const c of cases) {
    if (c.skipped) {
      rows.push([c.id, `skipped: ${c.skipped}`, '', '', ...peers.map(() => '')]);
      continue;
    }
    c.contenders.forEach((x, i) => {
      const name = i === 0 ? c.id : '';
      if (x.status !== 'ok') {
        rows.push([name, `${x.label} (${x.status})`, '', '', ...peers.map(() => '')]);
        return;
      }
      const cells = peers.map((p) => formatRatio(c.ratios.find((r) => r.ours === x.id && r.peer === p)?.value));
      rows.push([name, x.label, formatCaseTime(c, x), c.untimed || c.figure ? '' : formatThroughput(x), ...cells]);
    });
  }
  return table(rows);
}

/** The machine a result was measured on, with how busy it was (figures on a loaded machine are slower). */
export function machineLine(m: MachineInfo): string {
  const load = m.load1 === undefined ? '' : `, load average ${m.load1} at the start`;
  return `${m.cpu}, ${m.cores} cores, ${m.os} ${m.arch}, Node ${m.node}, V8 ${m.v8}${load}`;
}

export function formatSuite(result: SuiteResult): string {
  const m = result.machine;
  const lines = [
    `${result.suite} (${result.mode} mode): ${result.description}`,
    `machine: ${machineLine(m)}`,
    `ratios are time(peer) / time(ours): above 1 means ours is faster. Median of ${result.settings.rounds} rounds.`,
  ];
  const groups = [...new Set(result.cases.map((c) => c.group))];
  for (const g of groups) {
    const cases = result.cases.filter((c) => c.group === g);
    lines.push('', g, groupTable(cases));
    for (const c of cases) if (c.note) lines.push(`  ${c.id}: ${c.note}`);
    // Why contenders did not run, once per distinct reason.
    const reasons = new Map<string, string[]>();
    for (const c of cases) {
      for (const x of c.contenders) {
        if (x.status === 'ok' || !x.reason) continue;
        const who = `${x.status} ${x.id}`;
        const list = reasons.get(x.reason) ?? [];
        if (!list.includes(who)) list.push(who);
        reasons.set(x.reason, list);
      }
    }
    for (const [reason, who] of reasons) lines.push(`  ${who.join(', ')}: ${reason}`);
  }
  return lines.join('\n');
}

export function formatGates(outcomes: readonly GateOutcome[]): string {
  if (outcomes.length === 0) return '';
  const mark: Record<GateOutcome['gate'], string> = { pass: 'PASS', fail: 'FAIL', none: '    ', skipped: 'SKIP', missing: 'FAIL' };
  const rows = outcomes.map((o) => [
    mark[o.gate],
    o.key,
    o.measured !== undefined ? formatRatio(o.measured) : (o.reason ?? 'not measured'),
    o.min !== undefined ? `gate ${formatRatio(o.min)}` : 'no gate',
    o.target !== undefined ? `target ${formatRatio(o.target)}: ${o.targetMet === undefined ? 'not measured' : o.targetMet ? 'met' : 'not met'}` : '',
  ]);
  const count = (g: GateOutcome['gate']) => outcomes.filter((o) => o.gate === g).length;
  const summary = `${count('pass')} passed, ${count('fail') + count('missing')} failed, ${count('skipped')} skipped`;
  return [`gates and targets (bench/gates.json): ${summary}`, table(rows)].join('\n');
}
