// Gates: ratio thresholds in bench/gates.json, never absolute times (a ratio is of two times measured in the same
// round, or of two quantities, such as patch bytes or peak memory, in a figure case). A gate
// fails when its measured ratio falls below `min`; `target` is where we want to
// be and is only reported. Gates ratchet: ratchet() raises them toward what is
// reliably measured and never lowers them.

import { readFileSync, writeFileSync } from 'node:fs';
import { floorSignificant } from './stats.js';
import { type GateSpec, type Suite, ratioKey } from './suite.js';
import type { CaseResult } from './results.js';

export class GateFileError extends Error {
  readonly code = 'GATES';
}

export interface GateEntry {
  /** The gate: the ratio must reach this. */
  min?: number;
  /** The goal, reported as met or not. */
  target?: number;
  note?: string;
}

export interface GatesFile {
  $comment?: string;
  /** Gates are set at measured * ratchetMargin (0 < margin <= 1). */
  ratchetMargin: number;
  suites: Record<string, Record<string, GateEntry>>;
}

export interface GateOutcome {
  key: string;
  case: string;
  ours: string;
  peer: string;
  measured?: number;
  /** Set when the ratio is between quantities (the case's figure unit, e.g. 'B'), not times. */
  figure?: string;
  min?: number;
  target?: number;
  /** pass/fail against min; 'none' without a min; 'skipped' when a contender is unavailable here; 'missing' when it failed. */
  gate: 'pass' | 'fail' | 'none' | 'skipped' | 'missing';
  targetMet?: boolean;
  reason?: string;
}

/** Splits 'gemv 1x1024x1024: simd/ort-web' into its parts. */
export function parseRatioKey(key: string): GateSpec {
  const at = key.lastIndexOf(': ');
  const pair = at < 0 ? [] : key.slice(at + 2).split('/');
  if (at <= 0 || pair.length !== 2 || !pair[0] || !pair[1]) throw new GateFileError(`'${key}' is not of the form '<case>: <ours>/<peer>'`);
  return { case: key.slice(0, at), ours: pair[0], peer: pair[1] };
}

function positive(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new GateFileError(`${what} must be a positive number`);
  return v;
}

/** Validates parsed gates.json content. */
export function parseGates(json: unknown): GatesFile {
  const f = json as GatesFile;
  if (typeof f !== 'object' || f === null || typeof f.suites !== 'object' || f.suites === null) {
    throw new GateFileError('gates file needs a "suites" object');
  }
  const margin = positive(f.ratchetMargin, 'ratchetMargin');
  if (margin === undefined || margin > 1) throw new GateFileError('ratchetMargin must be in (0, 1]');
  const suites: GatesFile['suites'] = {};
  for (const [suite, entries] of Object.entries(f.suites)) {
    if (typeof entries !== 'object' || entries === null) throw new GateFileError(`suites.${suite} must be an object`);
    suites[suite] = {};
    for (const [key, e] of Object.entries(entries)) {
      parseRatioKey(key);
      if (typeof e !== 'object' || e === null) throw new GateFileError(`${suite} '${key}' must be an object`);
      const entry: GateEntry = {};
      const min = positive(e.min, `${suite} '${key}' min`);
      const target = positive(e.target, `${suite} '${key}' target`);
      if (min !== undefined) entry.min = min;
      if (target !== undefined) entry.target = target;
      if (typeof e.note === 'string') entry.note = e.note;
      suites[suite]![key] = entry;
    }
  }
  return { ...(f.$comment ? { $comment: f.$comment } : {}), ratchetMargin: margin, suites };
}

export function loadGates(path: string): GatesFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new GateFileError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return parseGates(JSON.parse(text));
  } catch (err) {
    if (err instanceof GateFileError) throw err;
    throw new GateFileError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}

export function saveGates(path: string, gates: GatesFile): void {
  // A stable key order keeps diffs of the file small.
  const suites: GatesFile['suites'] = {};
  for (const [suite, entries] of Object.entries(gates.suites)) {
    suites[suite] = {};
    for (const [key, e] of Object.entries(entries)) {
      suites[suite]![key] = { ...(e.min !== undefined ? { min: e.min } : {}), ...(e.target !== undefined ? { target: e.target } : {}), ...(e.note ? { note: e.note } : {}) };
    }
  }
  writeFileSync(path, JSON.stringify({ ...gates, suites }, null, 2) + '\n');
}

/** Every gate key with a `min` must be declared by its suite (stale gates are an error, not a silent pass). */
export function checkDeclared(gates: GatesFile, suites: readonly Suite[]): void {
  for (const [name, entries] of Object.entries(gates.suites)) {
    const suite = suites.find((s) => s.name === name);
    if (!suite) throw new GateFileError(`gates.json names suite '${name}', which does not exist`);
    const declared = new Set((suite.gates ?? []).map((g) => ratioKey(g.case, g)));
    for (const [key, e] of Object.entries(entries)) {
      if (e.min !== undefined && !declared.has(key)) throw new GateFileError(`gate '${key}' is not declared in suite '${name}'`);
    }
  }
}

/** The ratios short mode measures for a suite: its declared gates and every gates.json entry, by case. */
export function focusOf(suite: Suite, gates: GatesFile): Map<string, Set<string>> {
  const specs = [...(suite.gates ?? []), ...Object.keys(gates.suites[suite.name] ?? {}).map(parseRatioKey)];
  const focus = new Map<string, Set<string>>();
  for (const g of specs) {
    const set = focus.get(g.case) ?? new Set<string>();
    set.add(g.ours).add(g.peer);
    focus.set(g.case, set);
  }
  return focus;
}

/** Evaluates the gates and targets of one suite against its measured cases. */
export function evaluateGates(suite: Suite, cases: readonly CaseResult[], gates: GatesFile): GateOutcome[] {
  const entries = gates.suites[suite.name] ?? {};
  const keys = new Set([...(suite.gates ?? []).map((g) => ratioKey(g.case, g)), ...Object.keys(entries)]);
  const outcomes: GateOutcome[] = [];
  for (const key of keys) {
    const spec = parseRatioKey(key);
    const entry = entries[key] ?? {};
    const c = cases.find((x) => x.id === spec.case);
    if (!c) continue; // not selected in this run
    const out: GateOutcome = { key, case: spec.case, ours: spec.ours, peer: spec.peer, gate: 'none' };
    if (c.figure) out.figure = c.figure;
    if (entry.min !== undefined) out.min = entry.min;
    if (entry.target !== undefined) out.target = entry.target;
    const ratio = c.ratios.find((r) => r.ours === spec.ours && r.peer === spec.peer);
    if (ratio?.value !== undefined) {
      out.measured = ratio.value;
      if (entry.min !== undefined) out.gate = ratio.value >= entry.min ? 'pass' : 'fail';
      if (entry.target !== undefined) out.targetMet = ratio.value >= entry.target;
    } else {
      const states = [spec.ours, spec.peer].map((id) => c.contenders.find((x) => x.id === id));
      const broken = states.find((s) => s && (s.status === 'failed' || s.status === 'wrong'));
      const skipped = c.skipped ?? states.find((s) => s?.status === 'skipped')?.reason;
      out.reason = broken ? `${broken.id} ${broken.status}: ${broken.reason ?? ''}`.trim()
        : skipped ?? ratio?.missing ?? 'not measured';
      if (entry.min !== undefined) out.gate = broken || (!skipped && !c.skipped) ? 'missing' : 'skipped';
    }
    outcomes.push(out);
  }
  return outcomes;
}

/** True when any gate failed or could not be measured because a contender broke. */
export function gatesFailed(outcomes: readonly GateOutcome[]): boolean {
  return outcomes.some((o) => o.gate === 'fail' || o.gate === 'missing');
}

export interface RatchetChange {
  suite: string;
  key: string;
  from?: number;
  to: number;
}

/**
 * Raises gates toward the lowest measured value over the given runs times the
 * margin (rounded down to 2 significant digits). A gate is never lowered;
 * declared gates without a threshold get one.
 */
export function ratchet(gates: GatesFile, runs: readonly { suite: Suite; outcomes: readonly GateOutcome[] }[]): { gates: GatesFile; changes: RatchetChange[] } {
  const lowest = new Map<string, { suite: Suite; key: string; value: number }>();
  for (const { suite, outcomes } of runs) {
    const declared = new Set((suite.gates ?? []).map((g) => ratioKey(g.case, g)));
    for (const o of outcomes) {
      if (o.measured === undefined || !declared.has(o.key)) continue;
      const id = `${suite.name}\n${o.key}`;
      const seen = lowest.get(id);
      if (!seen || o.measured < seen.value) lowest.set(id, { suite, key: o.key, value: o.measured });
    }
  }
  const next: GatesFile = structuredClone(gates);
  const changes: RatchetChange[] = [];
  for (const { suite, key, value } of lowest.values()) {
    const candidate = floorSignificant(value * gates.ratchetMargin, 2);
    const entries = (next.suites[suite.name] ??= {});
    const entry = (entries[key] ??= {});
    if (candidate > 0 && candidate > (entry.min ?? 0)) {
      changes.push({ suite: suite.name, key, ...(entry.min !== undefined ? { from: entry.min } : {}), to: candidate });
      entry.min = candidate;
    }
  }
  return { gates: next, changes };
}
