// A self-contained HTML report: for each group of cases and each peer, an SVG
// bar chart of the ratio per shape and build (log scale, bars grow right of 1x
// when ours is faster), then the tables and the gates. No external resources.

import type { GateOutcome } from './gates.js';
import { formatRatio, formatTime } from './report.js';
import type { CaseResult, SuiteResult } from './results.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

const PALETTE = ['#4e79a7', '#59a14f', '#9c755f', '#f28e2b', '#b07aa1', '#76b7b2', '#e15759', '#edc948', '#bab0ac', '#ff9da7'];

/** A stable colour per contender id, shared by every chart of the report. */
export function colourMap(ids: readonly string[]): Map<string, string> {
  const unique = [...new Set(ids)].sort();
  return new Map(unique.map((id, i) => [id, PALETTE[i % PALETTE.length]!]));
}

export interface ChartBar {
  caseId: string;
  contender: string;
  label: string;
  value: number;
}

/** Log-scale axis bounds covering the values, 1x and the targets, on 1-2-5 ticks. */
export function axisRange(values: readonly number[]): { lo: number; hi: number; ticks: number[] } {
  const finite = values.filter((v) => v > 0 && Number.isFinite(v));
  const lo0 = Math.min(1, ...finite) / 1.15;
  const hi0 = Math.max(1, ...finite) * 1.15;
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo0)); e <= Math.ceil(Math.log10(hi0)); e++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t >= lo0 && t <= hi0) ticks.push(Number(t.toPrecision(3)));
    }
  }
  return { lo: lo0, hi: hi0, ticks };
}

/** One horizontal bar chart (SVG markup). */
export function barChart(title: string, bars: readonly ChartBar[], colours: Map<string, string>, targets: readonly number[] = []): string {
  const rowH = 18, gap = 8, labelW = 260, plotW = 440, top = 28, bottom = 26;
  const cases = [...new Set(bars.map((b) => b.caseId))];
  let y = top;
  const rows: { bar: ChartBar; y: number; first: boolean }[] = [];
  for (const c of cases) {
    bars.filter((b) => b.caseId === c).forEach((bar, i) => {
      rows.push({ bar, y, first: i === 0 });
      y += rowH;
    });
    y += gap;
  }
  const height = y + bottom;
  const { lo, hi, ticks } = axisRange([...bars.map((b) => b.value), ...targets]);
  const x = (v: number) => labelW + ((Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * plotW;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${labelW + plotW + 70}" height="${height}" role="img" aria-label="${escapeHtml(title)}">`);
  parts.push(`<text x="0" y="16" class="title">${escapeHtml(title)}</text>`);
  for (const t of ticks) {
    parts.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${top - 4}" y2="${y}" class="${t === 1 ? 'one' : 'grid'}"/>`);
    parts.push(`<text x="${x(t).toFixed(1)}" y="${y + 16}" class="tick">${Number(t.toPrecision(2))}x</text>`);
  }
  for (const t of targets) {
    parts.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${top - 4}" y2="${y}" class="target"><title>target ${escapeHtml(formatRatio(t))}</title></line>`);
  }
  for (const { bar, y: ry, first } of rows) {
    const x0 = x(1), x1 = x(bar.value);
    const left = Math.min(x0, x1), width = Math.max(1, Math.abs(x1 - x0));
    if (first) parts.push(`<text x="0" y="${ry + 13}" class="case">${escapeHtml(bar.caseId)}</text>`);
    parts.push(`<text x="${labelW - 6}" y="${ry + 13}" class="label">${escapeHtml(bar.label)}</text>`);
    parts.push(`<rect class="bar" data-contender="${escapeHtml(bar.contender)}" x="${left.toFixed(1)}" y="${ry + 2}" width="${width.toFixed(1)}" height="${rowH - 4}" fill="${colours.get(bar.contender) ?? '#888'}"><title>${escapeHtml(`${bar.caseId} ${bar.label}: ${formatRatio(bar.value)}`)}</title></rect>`);
    parts.push(`<text x="${(Math.max(x0, x1) + 4).toFixed(1)}" y="${ry + 13}" class="value">${escapeHtml(formatRatio(bar.value))}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function chartsFor(suite: SuiteResult, group: string, cases: readonly CaseResult[], colours: Map<string, string>): string[] {
  const peers = [...new Set(cases.flatMap((c) => c.ratios.filter((r) => r.value !== undefined).map((r) => r.peer)))];
  return peers.map((peer) => {
    const bars: ChartBar[] = [];
    const targets = new Set<number>();
    for (const c of cases) {
      for (const r of c.ratios) {
        if (r.peer !== peer || r.value === undefined) continue;
        const label = c.contenders.find((x) => x.id === r.ours)?.label ?? r.ours;
        bars.push({ caseId: c.id, contender: r.ours, label, value: r.value });
        const t = suite.gates.find((g) => g.key === r.key)?.target;
        if (t !== undefined) targets.add(t);
      }
    }
    return barChart(`${group}: how many times faster than ${peer}`, bars, colours, [...targets]);
  });
}

function caseTable(cases: readonly CaseResult[]): string {
  const rows = cases.flatMap((c) => {
    if (c.skipped) return [`<tr><td>${escapeHtml(c.id)}</td><td colspan="4">skipped: ${escapeHtml(c.skipped)}</td></tr>`];
    return c.contenders.map((x, i) => {
      const rate = x.gops !== undefined ? `${x.gops.toPrecision(3)} GOPS` : x.gbps !== undefined ? `${x.gbps.toPrecision(3)} GB/s` : '';
      const status = x.status === 'ok' ? '' : `${x.status}${x.reason ? `: ${x.reason}` : ''}`;
      return `<tr${x.status === 'ok' ? '' : ' class="bad"'}><td>${i === 0 ? escapeHtml(c.id) : ''}</td><td>${escapeHtml(x.label)}</td>`
        + `<td class="num">${escapeHtml(formatTime(x.medianMs))}</td><td class="num">${escapeHtml(rate)}</td><td>${escapeHtml(status)}</td></tr>`;
    });
  });
  return `<table><thead><tr><th>case</th><th>contender</th><th>time/call</th><th>throughput</th><th></th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

function gateTable(outcomes: readonly GateOutcome[]): string {
  if (outcomes.length === 0) return '';
  const rows = outcomes.map((o) => {
    const cls = o.gate === 'fail' || o.gate === 'missing' ? 'bad' : o.gate === 'pass' ? 'good' : '';
    const target = o.target === undefined ? '' : `${formatRatio(o.target)} ${o.targetMet === undefined ? '(not measured)' : o.targetMet ? 'met' : 'not met'}`;
    return `<tr class="${cls}"><td>${escapeHtml(o.gate)}</td><td>${escapeHtml(o.key)}</td><td class="num">${escapeHtml(o.measured !== undefined ? formatRatio(o.measured) : (o.reason ?? ''))}</td>`
      + `<td class="num">${o.min !== undefined ? escapeHtml(formatRatio(o.min)) : ''}</td><td>${escapeHtml(target)}</td></tr>`;
  });
  return `<h3>Gates and targets</h3><table><thead><tr><th>gate</th><th>ratio</th><th>measured</th><th>gate</th><th>target</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #ccc}table{border-collapse:collapse;margin:1em 0}
td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.bad td{background:#fde2e1}tr.good td:first-child{color:#2b7a2b}.chart{display:block;margin:1em 0}
.chart .title{font-weight:600;font-size:13px}.chart .case{font-size:12px;font-weight:600}.chart .label{font-size:12px;text-anchor:end}
.chart .value,.chart .tick{font-size:11px}.chart .tick{text-anchor:middle;fill:#666}.chart .grid{stroke:#eee}.chart .one{stroke:#333}
.chart .target{stroke:#e15759;stroke-dasharray:4 3}.machine{color:#555}`;

/** The whole report for one run (one or more suites). */
export function renderHtml(results: readonly SuiteResult[], title = 'Compotastic benchmarks'): string {
  const colours = colourMap(results.flatMap((r) => r.cases.flatMap((c) => c.contenders.map((x) => x.id))));
  const body: string[] = [`<h1>${escapeHtml(title)}</h1>`];
  for (const r of results) {
    const m = r.machine;
    body.push(`<h2>${escapeHtml(r.suite)}</h2><p>${escapeHtml(r.description)}</p>`);
    body.push(`<p class="machine">${escapeHtml(`${m.cpu}, ${m.cores} cores, ${m.os} ${m.arch}, Node ${m.node}, V8 ${m.v8}; ${r.mode} mode, ${r.settings.rounds} rounds, ${r.startedAt}`)}</p>`);
    body.push('<p>Ratios are time(peer) / time(ours), the median over rounds in which both were timed moments apart: right of 1x, ours is faster. Dashed lines are targets.</p>');
    for (const group of [...new Set(r.cases.map((c) => c.group))]) {
      const cases = r.cases.filter((c) => c.group === group);
      body.push(`<h3>${escapeHtml(group)}</h3>`, ...chartsFor(r, group, cases, colours), caseTable(cases));
    }
    body.push(gateTable(r.gates));
  }
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body>\n${body.join('\n')}\n</body></html>\n`;
}
