// Runs the cases of a suite: sets up every contender, then measures them in
// rounds, rotating the order each round, so that a ratio compares two
// contenders timed moments apart. Each figure is the median over rounds.

import type { DiscoveredSuite, SuiteSelection } from './discover.js';
import { filterCases } from './discover.js';
import { ChildHost, type ContenderHost, LocalHost } from './hosts.js';
import { type CaseHistory, estimateCase, formatDuration, formatEstimate } from './history.js';
import type { Progress } from './progress.js';
import { type CaseResult, type ContenderResult, type RunSettings, type SuiteResult, RESULT_SCHEMA, machineInfo, throughput } from './results.js';
import { median } from './stats.js';
import { type BenchCase, type Contender, caseRatios, ratioKey } from './suite.js';

export interface RunOptions {
  short: boolean;
  settings: RunSettings;
  cacheDir: string;
  progress: Progress;
  /** Short mode: only these contenders of these cases (from the gates). */
  focus?: Map<string, Set<string>>;
  /** Wall-clock source for the result's timestamps (injected so tests stay deterministic). */
  now?: () => Date;
  /** Earlier results of this suite and mode, for the estimate printed before each case. */
  history?: CaseHistory;
}

/** The processes contenders run in, one child per distinct set of Node flags. */
export class Hosts {
  readonly local: LocalHost;
  private readonly children = new Map<string, ChildHost>();

  constructor(private readonly workerFile: string, private readonly progress: Progress) {
    this.local = new LocalHost((m) => progress.line(`  ${m}`));
  }

  for(contender: Contender): ContenderHost {
    const flags = contender.nodeFlags ?? [];
    if (flags.length === 0) return this.local;
    const key = flags.join(' ');
    let host = this.children.get(key);
    if (!host) {
      host = new ChildHost(this.workerFile, flags, (m) => this.progress.line(`  ${m}`));
      this.children.set(key, host);
    }
    return host;
  }

  async close(): Promise<void> {
    await this.local.close();
    for (const child of this.children.values()) await child.close();
  }
}

interface Active {
  contender: Contender;
  host: ContenderHost;
  handle: string;
  result: ContenderResult;
}

/** The contenders of a case this run measures (in short mode, only those its gates name). */
function focusedContenders(c: BenchCase, focus: RunOptions['focus']): Contender[] {
  const wanted = focus?.get(c.id);
  return wanted ? c.contenders.filter((x) => wanted.has(x.id)) : c.contenders;
}

/** A figure case's one value for a contender, in the shape of its per-round times. */
function figureOf(r: ContenderResult | undefined): number[] | undefined {
  return r?.figure === undefined ? undefined : [r.figure];
}

function rotate<T>(list: readonly T[], by: number): T[] {
  if (list.length === 0) return [];
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

async function runCase(c: BenchCase, suiteFile: string, opts: RunOptions, hosts: Hosts, label: string): Promise<CaseResult> {
  const started = performance.now();
  const out: CaseResult = { id: c.id, group: c.group, contenders: [], ratios: [] };
  if (c.minIterations !== undefined) out.minIterations = c.minIterations;
  if (c.work) out.work = c.work;
  if (c.note) out.note = c.note;
  if (c.untimed) out.untimed = c.untimed;
  if (c.figure) out.figure = c.figure;
  const wanted = opts.focus?.get(c.id);
  const contenders = focusedContenders(c, opts.focus);
  const ratios = caseRatios(c).filter((r) => !wanted || (wanted.has(r.ours) && wanted.has(r.peer)));
  if (c.skipped) {
    out.skipped = c.skipped;
    opts.progress.line(`${label} skipped: ${c.skipped}`);
  }
  const active: Active[] = [];
  const results = new Map<string, ContenderResult>();
  let work = c.work;
  for (const contender of c.skipped ? [] : contenders) {
    const result: ContenderResult = { id: contender.id, label: contender.label ?? contender.id, role: contender.role, status: 'ok' };
    if (contender.nodeFlags?.length) result.nodeFlags = [...contender.nodeFlags];
    results.set(contender.id, result);
    out.contenders.push(result);
    opts.progress.status(`${label} setting up ${result.label}`);
    const host = hosts.for(contender);
    const reply = await host.setup({ suiteFile, caseId: c.id, contenderId: contender.id, short: opts.short, cacheDir: opts.cacheDir });
    if (reply.status !== 'ready') {
      result.status = reply.status;
      result.reason = reply.reason;
      opts.progress.line(`  ${result.label}: ${reply.status} (${reply.reason})`);
      continue;
    }
    if (reply.wrong) {
      result.status = 'wrong';
      result.reason = reply.wrong;
      opts.progress.line(`  ${result.label}: WRONG RESULT (${reply.wrong})`);
      await host.dispose(reply.handle);
      continue;
    }
    if (reply.work) work = reply.work;
    if (c.figure) {
      // A figure case compares what setup reported: nothing to time.
      await host.dispose(reply.handle);
      if (reply.figure !== undefined && reply.figure > 0 && Number.isFinite(reply.figure)) {
        result.figure = reply.figure;
      } else {
        result.status = 'failed';
        result.reason = `reported no ${c.figure} figure (a positive number)`;
        opts.progress.line(`  ${result.label}: failed (${result.reason})`);
      }
      continue;
    }
    active.push({ contender, host, handle: reply.handle, result });
  }
  if (work) out.work = work;
  const settings = { ...opts.settings, minIterations: Math.min(opts.settings.minIterations, c.minIterations ?? Infinity) };

  const times = new Map<string, number[]>();
  const { rounds } = opts.settings;
  const measurements = rounds * active.length;
  let measured = 0;
  const roundsStarted = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (const a of rotate(active, r)) {
      if (a.result.status !== 'ok') continue;
      // Time left, extrapolated from the measurements done in this run (the first one includes the warm-up).
      const spent = performance.now() - roundsStarted;
      const left = measured > 0 ? ` (${formatDuration(performance.now() - started)} so far, about ${formatDuration((spent / measured) * (measurements - measured))} left)` : '';
      opts.progress.tick(`${label}: round ${r + 1}/${rounds} ${a.result.label}${left}`);
      measured++;
      try {
        const sample = await a.host.measure(a.handle, r === 0 ? settings : { ...settings, warmupMs: 0 });
        const list = times.get(a.contender.id) ?? [];
        list.push(sample.medianMs);
        times.set(a.contender.id, list);
      } catch (err) {
        a.result.status = 'failed';
        a.result.reason = err instanceof Error ? err.message : String(err);
        opts.progress.line(`  ${a.result.label}: failed (${a.result.reason})`);
      }
    }
  }
  for (const a of [...active].reverse()) await a.host.dispose(a.handle).catch(() => undefined);
  out.wallMs = Math.round(performance.now() - started);

  for (const [id, list] of times) {
    const result = results.get(id)!;
    if (result.status !== 'ok') continue;
    result.roundsMs = list;
    result.medianMs = median(list);
    Object.assign(result, throughput(work, result.medianMs));
  }
  for (const spec of ratios) {
    const key = ratioKey(c.id, spec);
    const a = results.get(spec.ours), b = results.get(spec.peer);
    const ta = c.figure ? figureOf(a) : times.get(spec.ours), tb = c.figure ? figureOf(b) : times.get(spec.peer);
    if (!a || !b || a.status !== 'ok' || b.status !== 'ok' || !ta || !tb) {
      const why = [a ?? { id: spec.ours, status: 'absent' }, b ?? { id: spec.peer, status: 'absent' }]
        .filter((x) => x.status !== 'ok').map((x) => `${x.id} ${x.status}`).join(', ');
      out.ratios.push({ key, ours: spec.ours, peer: spec.peer, missing: why || 'not measured' });
      continue;
    }
    const per = ta.map((t, i) => (tb[i] ?? NaN) / t).filter((v) => Number.isFinite(v));
    out.ratios.push({ key, ours: spec.ours, peer: spec.peer, value: median(per), rounds: per });
  }
  return out;
}

/** Runs the selected cases of one suite. Gates are evaluated by the caller. */
export async function runSuite(found: DiscoveredSuite, selection: SuiteSelection, opts: RunOptions, hosts: Hosts): Promise<SuiteResult> {
  const now = opts.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const env = { short: opts.short, cacheDir: opts.cacheDir, log: (m: string) => opts.progress.line(`  ${m}`) };
  let cases = filterCases(await hosts.local.casesOf(found.file, env), selection);
  if (opts.focus) cases = cases.filter((c) => opts.focus!.has(c.id));
  const caseResults: CaseResult[] = [];
  for (const [i, c] of cases.entries()) {
    const label = `${found.suite.name} [${i + 1}/${cases.length}] ${c.id}`;
    const contenders = focusedContenders(c, opts.focus).length;
    opts.progress.line(c.skipped ? label : `${label}: ${formatEstimate(estimateCase(c, contenders, opts.settings, opts.history))}`);
    const result = await runCase(c, found.file, opts, hosts, label);
    if (!c.skipped) opts.progress.line(`${label}: done in ${formatDuration(result.wallMs ?? 0)}`);
    caseResults.push(result);
  }
  opts.progress.clear();
  return {
    schema: RESULT_SCHEMA,
    suite: found.suite.name,
    description: found.suite.description,
    mode: opts.short ? 'short' : 'full',
    startedAt,
    finishedAt: now().toISOString(),
    machine: machineInfo(),
    build: (await found.suite.describe?.({ short: opts.short })) ?? {},
    settings: opts.settings,
    cases: caseResults,
    gates: [],
  };
}
