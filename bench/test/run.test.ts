// The harness end to end on a stand-in suite: contenders in this process and in
// a child process, skipped, broken and wrong contenders, ratios, the result
// file and gate evaluation. Nothing here asserts a speed.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverSuites } from '../src/harness/discover.js';
import { evaluateGates, gatesFailed, parseGates } from '../src/harness/gates.js';
import { Progress } from '../src/harness/progress.js';
import { formatGates, formatSuite } from '../src/harness/report.js';
import { isSuiteResult, resultFileName, writeResult } from '../src/harness/results.js';
import { casesToRetry } from '../src/harness/retry.js';
import { Hosts, runSuite } from '../src/harness/run.js';

const WORKER = fileURLToPath(new URL('../dist/worker.js', import.meta.url));

const SUITE = `
const expected = [1, 2, 3];
const ok = (value) => ({ run: () => Int32Array.from(value) });
export default {
  name: 'fake',
  description: 'stand-in suite',
  gates: [{ case: 'sum', ours: 'fast', peer: 'slow' }, { case: 'sum', ours: 'child', peer: 'slow' }],
  cases: () => [
    {
      id: 'sum',
      group: 'arith',
      work: { ops: 6, bytes: 12 },
      note: 'a note',
      contenders: [
        { id: 'fast', role: 'ours', setup: () => ok(expected) },
        { id: 'child', role: 'ours', nodeFlags: ['--no-warnings'], setup: () => ({ run: () => Int32Array.from([process.execArgv.includes('--no-warnings') ? 1 : 0, 2, 3]) }) },
        { id: 'liar', role: 'ours', setup: () => ok([1, 2, 4]) },
        { id: 'slow', role: 'peer', setup: () => ({ async: true, run: async () => { let s = 0; for (let i = 0; i < 2000; i++) s += i; return Int32Array.from(expected); } }) },
        { id: 'gone', role: 'peer', setup: () => { throw Object.assign(new Error('not installed here'), { code: 'SKIP' }); } },
        { id: 'broken', role: 'peer', setup: () => { throw new Error('boom'); } },
      ],
      verify: (id, out) => (Array.from(out).join() === expected.join() ? undefined : id + ' is wrong'),
    },
    { id: 'offline', group: 'arith', skipped: 'no network', contenders: [] },
  ],
};
`;

// Quantities instead of times: bytes each contender reports in setup, one of them from a child process, a budget as
// a fixed peer, and a contender that forgets its figure.
const SIZES = `
export default {
  name: 'sizes',
  description: 'stand-in figure suite',
  gates: [{ case: 'patch bytes', ours: 'ours', peer: 'rival' }, { case: 'patch bytes', ours: 'ours', peer: 'budget' }],
  cases: () => [{
    id: 'patch bytes',
    group: 'size',
    figure: 'B',
    contenders: [
      { id: 'ours', role: 'ours', setup: () => ({ run: () => 1, figure: 1000 }) },
      { id: 'child', role: 'ours', nodeFlags: ['--no-warnings'], setup: () => ({ run: () => 1, figure: process.execArgv.includes('--no-warnings') ? 4000 : 1 }) },
      { id: 'rival', role: 'peer', setup: () => ({ run: () => 1, figure: 2500 }) },
      { id: 'budget', role: 'peer', setup: () => ({ run: () => 1, figure: 1024 }) },
      { id: 'forgot', role: 'peer', setup: () => ({ run: () => 1 }) },
    ],
  }],
};
`;

let dir: string;
let hosts: Hosts;
const lines: string[] = [];

beforeAll(() => {
  if (!existsSync(WORKER)) throw new Error('build the package first (pnpm build): the child-process test needs dist/worker.js');
  dir = mkdtempSync(join(tmpdir(), 'bench-run-'));
  writeFileSync(join(dir, 'fake.mjs'), SUITE);
  writeFileSync(join(dir, 'sizes.mjs'), SIZES);
  hosts = new Hosts(WORKER, new Progress({ write: (t: string) => lines.push(t) }, false));
});

afterAll(async () => {
  await hosts?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('runSuite', () => {
  it('measures every contender, classifies the broken ones and computes paired ratios', async () => {
    const found = (await discoverSuites(dir, ['.mjs'])).find((f) => f.suite.name === 'fake');
    const progress = new Progress({ write: (t: string) => lines.push(t) }, false);
    const settings = { rounds: 3, timeMs: 2, minIterations: 3, warmupMs: 0 };
    const result = await runSuite(found!, { suite: 'fake', cases: [] }, {
      short: false, settings, cacheDir: dir, progress, now: () => new Date('2025-01-02T03:04:05.678Z'),
    }, hosts);
    expect(isSuiteResult(result)).toBe(true);
    expect(result).toMatchObject({ suite: 'fake', mode: 'full', startedAt: '2025-01-02T03:04:05.678Z', settings });
    const [sum, offline] = result.cases;
    expect(offline).toMatchObject({ id: 'offline', skipped: 'no network', contenders: [] });
    const status = Object.fromEntries(sum!.contenders.map((c) => [c.id, c.status]));
    expect(status).toEqual({ fast: 'ok', child: 'ok', liar: 'wrong', slow: 'ok', gone: 'skipped', broken: 'failed' });
    expect(sum!.contenders.find((c) => c.id === 'child')!.nodeFlags).toEqual(['--no-warnings']);
    expect(sum!.contenders.find((c) => c.id === 'gone')!.reason).toBe('not installed here');
    expect(sum!.contenders.find((c) => c.id === 'liar')!.reason).toBe('liar is wrong');
    for (const id of ['fast', 'child', 'slow']) {
      const c = sum!.contenders.find((x) => x.id === id)!;
      expect(c.roundsMs).toHaveLength(3);
      expect(c.medianMs).toBeGreaterThan(0);
      expect(c.gops! * c.medianMs! * 1e6).toBeCloseTo(6, 6);
      expect(c.gbps! * c.medianMs! * 1e6).toBeCloseTo(12, 6);
    }
    const ratios = Object.fromEntries(sum!.ratios.map((r) => [r.key, r]));
    expect(Object.keys(ratios).sort()).toEqual(['sum: child/broken', 'sum: child/gone', 'sum: child/slow', 'sum: fast/broken', 'sum: fast/gone', 'sum: fast/slow', 'sum: liar/broken', 'sum: liar/gone', 'sum: liar/slow']);
    expect(ratios['sum: fast/slow']!.rounds).toHaveLength(3);
    expect(ratios['sum: fast/slow']!.value).toBeGreaterThan(0);
    expect(ratios['sum: fast/gone']).toMatchObject({ missing: 'gone skipped' });
    expect(ratios['sum: liar/slow']).toMatchObject({ missing: 'liar wrong' });
    expect(lines.join('')).toContain('liar: WRONG RESULT (liar is wrong)');
    // A line before each case with its estimate, one after with its wall time, which the next run's estimate uses.
    expect(lines.join('')).toMatch(/^fake \[1\/2\] sum: about [\d.]+ \S+ \(settings \(at least\)\)$/m);
    expect(lines.join('')).toMatch(/^fake \[1\/2\] sum: done in [\d.]+ \S+$/m);
    expect(sum!.wallMs).toBeGreaterThan(0);

    const gates = parseGates({ ratchetMargin: 0.5, suites: { fake: { 'sum: fast/slow': { min: 1e-9 }, 'sum: child/slow': { min: 1e9 } } } });
    result.gates = evaluateGates(found!.suite, result.cases, gates);
    expect(result.gates.map((g) => [g.key, g.gate])).toEqual([['sum: fast/slow', 'pass'], ['sum: child/slow', 'fail']]);
    expect(gatesFailed(result.gates)).toBe(true);

    const file = writeResult(join(dir, 'results'), result);
    expect(file.endsWith('fake-2025-01-02T03-04-05Z.json')).toBe(true);
    expect(resultFileName(result)).toBe('fake-2025-01-02T03-04-05Z.json');
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    expect(isSuiteResult(parsed)).toBe(true);
    expect(parsed).toEqual(JSON.parse(JSON.stringify(result)));
    const text = formatSuite(result);
    expect(text).toContain('a note');
    expect(text).toContain('gone (skipped)');
    expect(text).toContain('  skipped gone: not installed here');
    expect(text).toContain('  wrong liar: liar is wrong');
    expect(formatGates(result.gates).split('\n')[0]).toBe('gates and targets (bench/gates.json): 1 passed, 1 failed, 0 skipped');
  });

  it('runs only the focused contenders in short mode', async () => {
    const found = (await discoverSuites(dir, ['.mjs'])).find((f) => f.suite.name === 'fake');
    const result = await runSuite(found!, { suite: 'fake', cases: [] }, {
      short: true, settings: { rounds: 1, timeMs: 1, minIterations: 2, warmupMs: 0 }, cacheDir: dir,
      progress: new Progress({ write: () => undefined }, false), focus: new Map([['sum', new Set(['fast', 'slow'])]]),
    }, hosts);
    expect(result.mode).toBe('short');
    expect(result.cases.map((c) => c.id)).toEqual(['sum']);
    expect(result.cases[0]!.contenders.map((c) => c.id)).toEqual(['fast', 'slow']);
    expect(result.cases[0]!.ratios.map((r) => r.key)).toEqual(['sum: fast/slow']);
  });

  it('compares figures without timing anything, and gates their ratios like times', async () => {
    const found = (await discoverSuites(dir, ['.mjs'])).find((f) => f.suite.name === 'sizes')!;
    const result = await runSuite(found, { suite: 'sizes', cases: [] }, {
      short: true, settings: { rounds: 3, timeMs: 1, minIterations: 2, warmupMs: 0 }, cacheDir: dir,
      progress: new Progress({ write: () => undefined }, false),
    }, hosts);
    const [c] = result.cases;
    expect(c!.figure).toBe('B');
    expect(Object.fromEntries(c!.contenders.map((x) => [x.id, [x.status, x.figure]]))).toEqual({
      ours: ['ok', 1000], child: ['ok', 4000], rival: ['ok', 2500], budget: ['ok', 1024], forgot: ['failed', undefined],
    });
    for (const x of c!.contenders) expect(x.roundsMs).toBeUndefined();
    const ratios = Object.fromEntries(c!.ratios.map((r) => [r.key, r]));
    expect(ratios['patch bytes: ours/rival']).toMatchObject({ value: 2.5, rounds: [2.5] });
    expect(ratios['patch bytes: ours/budget']!.value).toBeCloseTo(1.024, 12);
    expect(ratios['patch bytes: child/budget']!.value).toBeCloseTo(0.256, 12);
    expect(ratios['patch bytes: ours/forgot']).toMatchObject({ missing: 'forgot failed' });
    expect(c!.contenders.find((x) => x.id === 'forgot')!.reason).toBe('reported no B figure (a positive number)');

    const gates = parseGates({ ratchetMargin: 0.7, suites: { sizes: { 'patch bytes: ours/rival': { min: 2.4 }, 'patch bytes: ours/budget': { min: 1.1 } } } });
    result.gates = evaluateGates(found.suite, result.cases, gates);
    expect(result.gates.map((g) => [g.key, g.gate, g.figure])).toEqual([['patch bytes: ours/rival', 'pass', 'B'], ['patch bytes: ours/budget', 'fail', 'B']]);
    expect(gatesFailed(result.gates)).toBe(true);
    // A quantity does not change with the machine's load: a failed figure gate is not measured again.
    expect(casesToRetry(result.gates).size).toBe(0);
    const text = formatSuite(result);
    expect(text).toMatch(/^case\s+contender\s+figure\s+vs rival/m);
    expect(text).toMatch(/^patch bytes\s+ours\s+1,000 B\s+2\.50x\s+1\.02x/m);
    expect(formatGates(result.gates)).toMatch(/FAIL\s+patch bytes: ours\/budget\s+1\.02x\s+gate 1\.10x/);
  });

  it('rejects result files of another shape', () => {
    expect(isSuiteResult({ schema: 'other' })).toBe(false);
    expect(isSuiteResult(null)).toBe(false);
  });
});
