#!/usr/bin/env node
// pnpm bench: runs the suites in src/suites/, prints tables with ratios
// against the peers measured in the same run, writes
// bench/results/<suite>-<timestamp>.json, and evaluates bench/gates.json.

import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { USAGE, parseArgs } from './harness/args.js';
import { BenchUsageError, discoverSuites, selectSuites, filterCases } from './harness/discover.js';
import { GateFileError, checkDeclared, evaluateGates, focusOf, gatesFailed, loadGates, ratchet, saveGates } from './harness/gates.js';
import { loadHistory } from './harness/history.js';
import { renderHtml } from './harness/html.js';
import { Progress } from './harness/progress.js';
import { formatGates, formatSuite } from './harness/report.js';
import { type SuiteResult, fileStamp, isSuiteResult, writeResult } from './harness/results.js';
import { casesToRetry, mergeRetried } from './harness/retry.js';
import { Hosts, runSuite } from './harness/run.js';

/** Extra attempts for a case whose gate failed, before the gate run fails. */
const GATE_RETRIES = 2;

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const paths = {
  suites: join(here, 'suites'),
  worker: join(here, 'worker.js'),
  gates: join(root, 'gates.json'),
  results: join(root, 'results'),
  cache: join(root, '.cache'),
};

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const found = await discoverSuites(paths.suites);
  const gates = loadGates(paths.gates);
  checkDeclared(gates, found.map((f) => f.suite));

  if (args.ratchet) {
    const runs = args.ratchet.map((file) => {
      const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (!isSuiteResult(json)) throw new BenchUsageError(`${file} is not a bench result file`);
      const suite = found.find((f) => f.suite.name === json.suite)?.suite;
      if (!suite) throw new BenchUsageError(`${file}: unknown suite '${json.suite}'`);
      return { suite, outcomes: evaluateGates(suite, json.cases, gates) };
    });
    const { gates: next, changes } = ratchet(gates, runs);
    for (const c of changes) console.log(`${c.suite} '${c.key}': ${c.from ?? 'none'} -> ${c.to}`);
    if (changes.length === 0) console.log('no gate can be raised');
    else saveGates(paths.gates, next);
    return 0;
  }

  const selections = selectSuites(args.filters, found.map((f) => f.suite.name));
  if (args.list) {
    for (const sel of selections) {
      const f = found.find((x) => x.suite.name === sel.suite)!;
      console.log(`${f.suite.name}: ${f.suite.description}`);
      const cases = await f.suite.cases({ short: args.short, cacheDir: paths.cache, log: () => undefined });
      for (const c of filterCases(cases, sel)) console.log(`  ${c.id}  [${c.contenders.map((x) => x.id).join(', ')}]`);
    }
    return 0;
  }

  const progress = new Progress();
  const hosts = new Hosts(paths.worker, progress);
  const results: SuiteResult[] = [];
  let failed = false;
  try {
    for (const sel of selections) {
      const f = found.find((x) => x.suite.name === sel.suite)!;
      const focus = args.gate ? focusOf(f.suite, gates) : undefined;
      if (focus && focus.size === 0) continue;
      const history = loadHistory(paths.results, f.suite.name, args.short ? 'short' : 'full');
      const options = { short: args.short, settings: args.settings, cacheDir: paths.cache, progress, history };
      const result = await runSuite(f, sel, { ...options, ...(focus ? { focus } : {}) }, hosts);
      result.gates = evaluateGates(f.suite, result.cases, gates);
      for (let attempt = 1; args.gate && attempt <= GATE_RETRIES; attempt++) {
        const retry = casesToRetry(result.gates);
        if (retry.size === 0) break;
        progress.line(`re-measuring ${[...retry].join(', ')} (a gate failed; attempt ${attempt + 1} of ${GATE_RETRIES + 1})`);
        const again = await runSuite(f, sel, { ...options, focus: new Map([...focus!].filter(([id]) => retry.has(id))) }, hosts);
        const merged = mergeRetried(result.cases, again.cases, result.gates);
        result.cases = merged.cases;
        result.gates = evaluateGates(f.suite, result.cases, gates);
      }
      results.push(result);
      console.log(`\n${formatSuite(result)}`);
      const g = formatGates(result.gates);
      if (g) console.log(`\n${g}`);
      console.log(`\nwrote ${writeResult(paths.results, result)}`);
      if (gatesFailed(result.gates)) failed = true;
    }
  } finally {
    await hosts.close();
  }
  if (args.html && results.length > 0) {
    mkdirSync(paths.results, { recursive: true });
    const file = join(paths.results, `report-${fileStamp(results[0]!.startedAt)}.html`);
    writeFileSync(file, renderHtml(results));
    console.log(`wrote ${file}`);
  }
  if (args.gate) {
    console.log(failed ? '\nbench gate: FAILED (a ratio fell below its gate in bench/gates.json)' : '\nbench gate: all gates passed');
    return failed ? 1 : 0;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof BenchUsageError || err instanceof GateFileError) {
      console.error(`bench: ${err.message}`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  },
);
