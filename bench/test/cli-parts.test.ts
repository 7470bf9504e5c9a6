import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FULL_SETTINGS, SHORT_SETTINGS, parseArgs } from '../src/harness/args.js';
import { BenchUsageError, discoverSuites, filterCases, selectSuites } from '../src/harness/discover.js';
import { Progress } from '../src/harness/progress.js';
import { formatRatio, formatTime, table } from '../src/harness/report.js';
import type { BenchCase, Contender } from '../src/harness/suite.js';
import { caseRatios, ratioKey } from '../src/harness/suite.js';

describe('suite filter', () => {
  const names = ['kernels', 'ota', 'sim'];
  it('selects every suite, one suite, or cases of a suite', () => {
    expect(selectSuites([], names)).toEqual(names.map((suite) => ({ suite, cases: [] })));
    expect(selectSuites(['kernels'], names)).toEqual([{ suite: 'kernels', cases: [] }]);
    expect(selectSuites(['kernels:gemv', 'kernels:gemm 64'], names)).toEqual([{ suite: 'kernels', cases: ['gemv', 'gemm 64'] }]);
    expect(selectSuites(['kernels:gemv', 'kernels', 'sim'], names)).toEqual([{ suite: 'kernels', cases: [] }, { suite: 'sim', cases: [] }]);
    expect(() => selectSuites(['kernel'], names)).toThrow(BenchUsageError);
    expect(() => selectSuites(['kernel'], names)).toThrow(/available: kernels, ota, sim/);
  });

  it('matches case ids by substring (case-insensitive) or a whole group name', () => {
    const cases = ['gemv 1x256x256', 'gemv 1x1024x1024', 'gemm 64x1024x1024', 'QuantizeLinear 1M'].map(
      (id): BenchCase => ({ id, group: id.startsWith('gem') ? id.slice(0, 4).toUpperCase() : 'quantization', contenders: [] }),
    );
    const ids = (cs: BenchCase[]) => cs.map((c) => c.id);
    expect(ids(filterCases(cases, { suite: 'k', cases: [] }))).toHaveLength(4);
    expect(ids(filterCases(cases, { suite: 'k', cases: ['1024'] }))).toEqual(['gemv 1x1024x1024', 'gemm 64x1024x1024']);
    expect(ids(filterCases(cases, { suite: 'k', cases: ['quantizelinear'] }))).toEqual(['QuantizeLinear 1M']);
    expect(ids(filterCases(cases, { suite: 'k', cases: ['quantization'] }))).toEqual(['QuantizeLinear 1M']);
    expect(ids(filterCases(cases, { suite: 'k', cases: ['nothing'] }))).toEqual([]);
  });

  it('discovers suite modules and rejects files that are not suites', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'suites-'));
    writeFileSync(join(dir, 'b.mjs'), "export default { name: 'beta', description: '', cases: () => [] };\n");
    writeFileSync(join(dir, 'a.mjs'), "export default { name: 'alpha', description: '', cases: () => [] };\n");
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    expect((await discoverSuites(dir, ['.mjs'])).map((d) => d.suite.name)).toEqual(['alpha', 'beta']);
    writeFileSync(join(dir, 'c.mjs'), "export default { name: 'alpha', description: '', cases: () => [] };\n");
    await expect(discoverSuites(dir, ['.mjs'])).rejects.toThrow(/two suites are named 'alpha'/);
    const bad = mkdtempSync(join(tmpdir(), 'suites-'));
    writeFileSync(join(bad, 'x.mjs'), 'export const helper = 1;\n');
    await expect(discoverSuites(bad, ['.mjs'])).rejects.toThrow(/does not export a suite/);
    for (const d of [dir, bad]) rmSync(d, { recursive: true, force: true });
  });
});

describe('command line', () => {
  it('parses filters and options', () => {
    expect(parseArgs([])).toMatchObject({ filters: [], short: false, gate: false, html: false, settings: FULL_SETTINGS });
    expect(parseArgs(['kernels', '--html'])).toMatchObject({ filters: ['kernels'], html: true });
    expect(parseArgs(['--gate'])).toMatchObject({ gate: true, short: true, settings: SHORT_SETTINGS });
    expect(parseArgs(['--short', '--rounds', '7', '--time', '40']).settings).toEqual({ ...SHORT_SETTINGS, rounds: 7, timeMs: 40 });
    expect(parseArgs(['--ratchet', 'a.json', 'b.json']).ratchet).toEqual(['a.json', 'b.json']);
    expect(parseArgs(['--', 'kernels']).filters).toEqual(['kernels']);
    expect(() => parseArgs(['--rounds', '0'])).toThrow(BenchUsageError);
    expect(() => parseArgs(['--rounds'])).toThrow(BenchUsageError);
    expect(() => parseArgs(['--ratchet'])).toThrow(BenchUsageError);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option --fast/);
  });
});

describe('suite helpers', () => {
  it('pairs every ours contender with every peer unless ratios are given', () => {
    const c: BenchCase = {
      id: 'x', group: 'g',
      contenders: [
        ...['simd', 'scalar'].map((id): Contender => ({ id, role: 'ours', setup: () => ({ run: () => 0 }) })),
        ...['ort-web', 'js'].map((id): Contender => ({ id, role: 'peer', setup: () => ({ run: () => 0 }) })),
      ],
    };
    expect(caseRatios(c).map((r) => ratioKey(c.id, r))).toEqual(['x: simd/ort-web', 'x: simd/js', 'x: scalar/ort-web', 'x: scalar/js']);
    expect(caseRatios({ ...c, ratios: [{ ours: 'simd', peer: 'scalar' }] })).toEqual([{ ours: 'simd', peer: 'scalar' }]);
  });
});

describe('text report', () => {
  it('formats times, ratios and aligned tables', () => {
    expect(formatTime(0.0000123)).toBe('12 ns');
    expect(formatTime(0.0123)).toBe('12.3 µs');
    expect(formatTime(12.34)).toBe('12.3 ms');
    expect(formatTime(1234)).toBe('1.23 s');
    expect(formatTime(undefined)).toBe('-');
    expect(formatRatio(1.234)).toBe('1.23x');
    expect(formatRatio(12.34)).toBe('12.3x');
    expect(formatRatio(123.4)).toBe('123x');
    expect(formatRatio(NaN)).toBe('-');
    expect(table([['a', 'bb', '1'], ['ccc', 'd', '22']])).toBe('a    bb   1\nccc  d   22');
  });

  it('shows progress in place on a terminal and as lines in logs', () => {
    const tty: string[] = [];
    const p = new Progress({ write: (t: string) => tty.push(t), isTTY: true });
    p.status('round 1');
    p.line('case 2');
    expect(tty.join('')).toBe('\r\x1b[2Kround 1\r\x1b[2Kcase 2\n');
    const log: string[] = [];
    const q = new Progress({ write: (t: string) => log.push(t), isTTY: false });
    q.status('round 1');
    q.line('case 2');
    expect(log.join('')).toBe('case 2\n');
  });
});
