// The figures a suite stores beside its timings (its describe()), as HTML: OTA patch sizes against bsdiff, the
// fountain code's overhead and the rollout airtime; the simulator's reachability against Meshtasticator, its event
// rate and its memory. Each reader checks the shape it expects and shows nothing for anything else, so a result file
// from an older or newer suite still renders.

import { type ChartBar, barChart, escapeHtml } from './chart.js';
import type { SuiteResult } from './results.js';

type Row = readonly (string | number)[];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function grouped(n: number): string {
  return n.toLocaleString('en');
}

function htmlTable(caption: string, head: Row, rows: readonly Row[], note?: string): string {
  const cell = (v: string | number, tag: 'td' | 'th') => `<${tag}${typeof v === 'number' && tag === 'td' ? ' class="num"' : ''}>${escapeHtml(typeof v === 'number' ? grouped(v) : v)}</${tag}>`;
  return `<h4>${escapeHtml(caption)}</h4>${note ? `<p>${escapeHtml(note)}</p>` : ''}<table><thead><tr>${head.map((h) => cell(h, 'th')).join('')}</tr></thead><tbody>\n`
    + `${rows.map((r) => `<tr>${r.map((v) => cell(v, 'td')).join('')}</tr>`).join('\n')}\n</tbody></table>`;
}

interface PatchSize {
  ours: number;
  bsdiff: number | null;
  newBytes: number;
}

function patchSizes(build: Record<string, unknown>, colours: Map<string, string>): string[] {
  const sizes = build.patchSizes;
  if (!isRecord(sizes)) return [];
  const pairs = Object.entries(sizes).filter((e): e is [string, PatchSize] =>
    isRecord(e[1]) && isNumber(e[1].ours) && e[1].ours > 0 && isNumber(e[1].newBytes) && (e[1].bsdiff === null || isNumber(e[1].bsdiff)));
  if (pairs.length === 0) return [];
  const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(2)}%`;
  const rows = pairs.map(([pair, s]) => [
    pair, s.newBytes, s.ours, pct(s.ours, s.newBytes),
    s.bsdiff ?? 'not measured', s.bsdiff === null ? '' : pct(s.bsdiff, s.newBytes), s.bsdiff === null ? '' : (s.ours / s.bsdiff).toFixed(3),
  ]);
  const bars: ChartBar[] = pairs.filter(([, s]) => s.bsdiff !== null)
    .map(([pair, s]) => ({ caseId: pair, contender: 'ours', label: 'patch size', value: s.bsdiff! / s.ours }));
  return [
    htmlTable('OTA patch sizes (bytes)', ['pair', 'new file', 'our patch', 'of the new file', 'bsdiff', 'of the new file', 'ours / bsdiff'], rows,
      'The bytes a node receives to go from one release to the next; smaller is better.'),
    ...(bars.length ? [barChart('patch size: how many times smaller than bsdiff’s', bars, colours)] : []),
  ];
}

function fecOverhead(build: Record<string, unknown>): string[] {
  const fec = build.fecOverhead;
  if (!Array.isArray(fec)) return [];
  const rows = fec.filter((f): f is { loss: number; mean: number; p99: number; bound: number } =>
    isRecord(f) && isNumber(f.loss) && isNumber(f.mean) && isNumber(f.p99) && isNumber(f.bound))
    .map((f) => [`${Math.round(f.loss * 100)}%`, `${f.mean.toFixed(3)}x`, `${f.p99.toFixed(3)}x`, `${f.bound.toFixed(3)}x`]);
  if (rows.length === 0) return [];
  return [htmlTable('Fountain-code overhead', ['symbol loss', 'symbols sent / needed, mean', '99th percentile', 'bound'], rows,
    'Symbols transmitted for every source symbol before the receiver decodes, 64 KiB.')];
}

function rolloutAirtime(build: Record<string, unknown>): string[] {
  const a = build.rolloutAirtime;
  if (!isRecord(a) || !isNumber(a.broadcastAirtimeS) || !isNumber(a.unicastAirtimeS)) return [];
  const rows: Row[] = [
    ['broadcast', a.broadcastAirtimeS, isNumber(a.broadcastDelivered) ? a.broadcastDelivered : ''],
    ['unicast with want_ack', a.unicastAirtimeS, isNumber(a.unicastDelivered) ? a.unicastDelivered : ''],
  ];
  const ratio = a.broadcastAirtimeS / a.unicastAirtimeS;
  return [htmlTable('Rollout airtime', ['delivery', 'airtime (s)', 'nodes updated'], rows,
    `${typeof a.scenario === 'string' ? `${a.scenario}. ` : ''}Broadcast takes ${ratio.toFixed(3)} of unicast's airtime.`)];
}

interface Reachability {
  meanReachabilityPct: number;
  sdReachabilityPct: number;
  reachabilityPct: number[];
  meanUsefulnessPct?: number;
}

const isReachability = (v: unknown): v is Reachability =>
  isRecord(v) && isNumber(v.meanReachabilityPct) && isNumber(v.sdReachabilityPct) && Array.isArray(v.reachabilityPct);

function meshtasticator(figures: Record<string, unknown>): string[] {
  const m = figures.meshtasticator;
  if (!isRecord(m) || !isRecord(m.reference)) return [];
  const ref = m.reference;
  const seeds = Array.isArray(ref.seeds) ? ref.seeds.length : undefined;
  const modes: [string, unknown, unknown][] = [['moving nodes (its default)', m.movingNodes, ref.movingNodes], ['movement off', m.movementOff, ref.movementOff]];
  const rows = modes.filter((x): x is [string, Reachability, number] => isReachability(x[1]) && isNumber(x[2])).map(([mode, ours, theirs]) => {
    const d = ours.meanReachabilityPct - theirs;
    return [mode, `${ours.meanReachabilityPct.toFixed(1)}% (sd ${ours.sdReachabilityPct.toFixed(1)})`, `${theirs.toFixed(1)}%`, `${d >= 0 ? '+' : ''}${d.toFixed(1)} points`,
      ours.reachabilityPct.map((p) => (isNumber(p) ? p.toFixed(0) : '?')).join(' ')];
  });
  if (rows.length === 0) return [];
  return [htmlTable('Reachability in the Meshtasticator default scenario', ['mode', 'ours, mean', 'Meshtasticator, mean', 'difference', 'ours per seed (%)'], rows,
    `Share of the nodes each message reached, mean over ${seeds ?? 'the same'} seeds on both sides.`)];
}

function eventRates(figures: Record<string, unknown>): string[] {
  const rows = Object.entries(figures)
    .filter((e): e is [string, { nodes: number; wallMs: number; cpuMs: number; events: number; eventsPerSecond: number; eventsPerCpuSecond: number; goal?: number }] =>
      isRecord(e[1]) && isNumber(e[1].eventsPerSecond) && isNumber(e[1].eventsPerCpuSecond) && isNumber(e[1].wallMs) && isNumber(e[1].cpuMs))
    .map(([label, f]) => [label, (f.wallMs / 1000).toFixed(1), (f.cpuMs / 1000).toFixed(1), f.events, f.eventsPerSecond, f.eventsPerCpuSecond,
      isNumber(f.goal) ? `${(f.eventsPerCpuSecond / f.goal).toFixed(2)} of ${grouped(f.goal)}/s` : '']);
  if (rows.length === 0) return [];
  return [htmlTable('Simulator event rate', ['run', 'wall (s)', 'CPU (s)', 'scheduler events', 'events / wall s', 'events / CPU s', 'CPU rate against the goal'], rows,
    'CPU time beside wall time: on a machine shared with other work, wall time mostly measures the others.')];
}

function memory(figures: Record<string, unknown>): string[] {
  const rows = Object.entries(figures)
    .filter((e): e is [string, { nodes: number; heapUsedMb: number; peakRssMb: number; events?: number }] =>
      isRecord(e[1]) && isNumber(e[1].heapUsedMb) && isNumber(e[1].peakRssMb) && isNumber(e[1].nodes))
    .map(([label, f]) => [label, f.nodes, f.heapUsedMb, f.peakRssMb]);
  if (rows.length === 0) return [];
  return [htmlTable('Simulator memory', ['run', 'nodes', 'heap used (MB)', 'peak RSS (MB)'], rows)];
}

/** The HTML sections for the figures in a result's build record (none when it holds none this file knows). */
export function figureSections(result: SuiteResult, colours: Map<string, string>): string[] {
  const build = result.build;
  const figures = isRecord(build.figures) ? build.figures : {};
  const parts = [
    ...patchSizes(build, colours), ...fecOverhead(build), ...rolloutAirtime(build),
    ...meshtasticator(figures), ...eventRates(figures), ...memory(figures),
  ];
  return parts.length ? ['<h3>Figures measured beside the timings</h3>', ...parts] : [];
}
