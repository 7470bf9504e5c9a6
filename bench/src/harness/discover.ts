// Finds the suites (every module in the suites folder whose default export is a
// Suite) and applies the command-line filter.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchCase, Suite } from './suite.js';

export class BenchUsageError extends Error {
  readonly code = 'USAGE';
}

export interface DiscoveredSuite {
  suite: Suite;
  /** The module file, so child processes can load the same suite. */
  file: string;
}

function isSuite(value: unknown): value is Suite {
  const s = value as Suite | undefined;
  return typeof s === 'object' && s !== null && typeof s.name === 'string' && typeof s.cases === 'function';
}

/** Loads every suite module in `dir` (files ending in one of `extensions`), sorted by name. */
export async function discoverSuites(dir: string, extensions: readonly string[] = ['.js']): Promise<DiscoveredSuite[]> {
  const files = readdirSync(dir)
    .filter((f) => extensions.some((e) => f.endsWith(e)) && !f.endsWith('.d.ts'))
    .sort();
  const found: DiscoveredSuite[] = [];
  const names = new Set<string>();
  for (const f of files) {
    const file = join(dir, f);
    const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    if (!isSuite(mod.default)) throw new BenchUsageError(`${f} does not export a suite as its default export`);
    if (names.has(mod.default.name)) throw new BenchUsageError(`two suites are named '${mod.default.name}'`);
    names.add(mod.default.name);
    found.push({ suite: mod.default, file });
  }
  return found.sort((a, b) => a.suite.name.localeCompare(b.suite.name));
}

export interface SuiteSelection {
  suite: string;
  /** Case-id substrings; empty means every case. */
  cases: string[];
}

/**
 * Parses filters of the form `suite` or `suite:case-substring` against the
 * known suite names. No filter selects every suite.
 */
export function selectSuites(filters: readonly string[], available: readonly string[]): SuiteSelection[] {
  if (filters.length === 0) return available.map((suite) => ({ suite, cases: [] }));
  const whole = new Set<string>();
  const parts = new Map<string, string[]>();
  for (const f of filters) {
    const at = f.indexOf(':');
    const name = at < 0 ? f : f.slice(0, at);
    const caseFilter = at < 0 ? '' : f.slice(at + 1).trim();
    if (!available.includes(name)) {
      throw new BenchUsageError(`unknown suite '${name}'; available: ${available.join(', ') || '(none)'}`);
    }
    if (!parts.has(name)) parts.set(name, []);
    if (caseFilter === '') whole.add(name);
    else parts.get(name)!.push(caseFilter);
  }
  return [...parts].map(([suite, cases]) => ({ suite, cases: whole.has(suite) ? [] : cases }));
}

/** The cases a selection keeps (case ids containing any of its substrings, case-insensitive). */
export function filterCases(cases: readonly BenchCase[], selection: SuiteSelection): BenchCase[] {
  if (selection.cases.length === 0) return [...cases];
  const wanted = selection.cases.map((c) => c.toLowerCase());
  return cases.filter((c) => wanted.some((w) => c.id.toLowerCase().includes(w) || c.group.toLowerCase() === w));
}
