// A self-contained HTML report: for each group of cases and each peer, an SVG
// bar chart of the ratio per shape and build (log scale, bars grow right of 1x
// when ours is faster), then the tables, the figures the suite stored beside its
// timings (patch sizes, reachability) and the gates. No external resources.

import { type ChartBar, barChart, colourMap, escapeHtml } from './chart.js';
import { figureSections } from './figures.js';
import type { GateOutcome } from './gates.js';
import { formatCaseTime, formatRatio, formatThroughput, machineLine, timeHeading } from './report.js';
import type { CaseResult, SuiteResult } from './results.js';

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
    const how = cases.every((c) => c.figure) ? 'smaller' : 'faster';
    return barChart(`${group}: how many times ${how} than ${peer}`, bars, colours, [...targets]);
  });
}

/** Time per call and throughput of each contender; the throughput column only when some case has work per call. */
function caseTable(cases: readonly CaseResult[]): string {
  const withRate = cases.some((c) => !c.untimed && !c.figure && c.contenders.some((x) => formatThroughput(x) !== ''));
  const rows = cases.flatMap((c) => {
    if (c.skipped) return [`<tr><td>${escapeHtml(c.id)}</td><td colspan="${withRate ? 4 : 3}">skipped: ${escapeHtml(c.skipped)}</td></tr>`];
    return c.contenders.map((x, i) => {
      const rate = withRate ? `<td class="num">${escapeHtml(c.untimed || c.figure ? '' : formatThroughput(x))}</td>` : '';
      const status = x.status === 'ok' ? '' : `${x.status}${x.reason ? `: ${x.reason}` : ''}`;
      return `<tr${x.status === 'ok' ? '' : ' class="bad"'}><td>${i === 0 ? escapeHtml(c.id) : ''}</td><td>${escapeHtml(x.label)}</td>`
        + `<td class="num">${escapeHtml(formatCaseTime(c, x))}</td>${rate}<td>${escapeHtml(status)}</td></tr>`;
    });
  });
  const head = `<th>case</th><th>contender</th><th>${timeHeading(cases)}</th>${withRate ? '<th>throughput</th>' : ''}<th></th>`;
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
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
    body.push(`<p class="machine">${escapeHtml(`${machineLine(m)}; ${r.mode} mode, ${r.settings.rounds} rounds, ${r.startedAt}`)}</p>`);
    body.push('<p>Ratios are time(peer) / time(ours), the median over rounds in which both were timed moments apart: right of 1x, ours is faster. Dashed lines are targets.</p>');
    for (const group of [...new Set(r.cases.map((c) => c.group))]) {
      const cases = r.cases.filter((c) => c.group === group);
      body.push(`<h3>${escapeHtml(group)}</h3>`, ...chartsFor(r, group, cases, colours), caseTable(cases));
    }
    body.push(...figureSections(r, colours), gateTable(r.gates));
  }
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body>\n${body.join('\n')}\n</body></html>\n`;
}
