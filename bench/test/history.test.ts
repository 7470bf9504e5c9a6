// The estimate printed before each case and the status lines during it, from recorded results and a fake clock.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { estimateCase, formatDuration, formatEstimate, loadHistory } from '../src/harness/history.js';
import { LOG_STATUS_EVERY_MS, Progress } from '../src/harness/progress.js';
import { RESULT_SCHEMA, type CaseResult, type SuiteResult } from '../src/harness/results.js';

const settings = { rounds: 5, timeMs: 150, minIterations: 10, warmupMs: 300 };

function suiteResult(mode: 'full' | 'short', startedAt: string, cases: CaseResult[]): SuiteResult {
  return {
    schema: RESULT_SCHEMA, suite: 'sim', description: '', mode, startedAt, finishedAt: startedAt,
    machine: { cpu: 'c', cores: 2, memoryGiB: 8, os: 'Linux', arch: 'x64', node: 'v20', v8: '11' },
    build: {}, settings, cases, gates: [],
  };
}
const hour = (wallMs?: number, medianMs = 60_000): CaseResult => ({
  id: 'node-hour', group: 'simulator', ratios: [], ...(wallMs === undefined ? {} : { wallMs }),
  contenders: [{ id: 'ours', label: 'ours', role: 'ours', status: 'ok', medianMs }],
});

const dir = mkdtempSync(join(tmpdir(), 'bench-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('case estimates', () => {
  it('takes the newest result of the same suite and mode, passing over other files', () => {
    writeFileSync(join(dir, 'sim-2026-01-01T00-00-00Z.json'), JSON.stringify(suiteResult('full', '2026-01-01T00:00:00Z', [hour(100_000)])));
    writeFileSync(join(dir, 'sim-2026-01-02T00-00-00Z.json'), JSON.stringify(suiteResult('full', '2026-01-02T00:00:00Z', [hour(400_000)])));
    writeFileSync(join(dir, 'sim-2026-01-03T00-00-00Z.json'), JSON.stringify(suiteResult('short', '2026-01-03T00:00:00Z', [hour(9)])));
    writeFileSync(join(dir, 'sim-2026-01-04T00-00-00Z.json'), '{"half a file');
    writeFileSync(join(dir, 'ota-2026-01-05T00-00-00Z.json'), JSON.stringify({ ...suiteResult('full', 'x', [hour(1)]), suite: 'ota' }));
    const history = loadHistory(dir, 'sim', 'full');
    expect(estimateCase({ id: 'node-hour' }, 1, settings, history)).toEqual({ ms: 400_000, basis: 'last run' });
    expect(estimateCase({ id: 'node-hour' }, 1, settings, loadHistory(dir, 'sim', 'short')).ms).toBe(9);
    expect(loadHistory(join(dir, 'none'), 'sim', 'full').size).toBe(0);
  });

  it('without a recorded wall time, works it out from the last time per call and the case’s own iteration floor', () => {
    const history = new Map([['node-hour', hour(undefined, 60_000)]]);
    // 5 rounds of one 60 s call, the warm-up budget, and setup's call plus two warm-up calls.
    expect(estimateCase({ id: 'node-hour', minIterations: 1 }, 1, settings, history)).toEqual({ ms: 5 * 60_000 + 300 + 3 * 60_000, basis: 'last timings' });
    // A fast call is bounded by the time budget instead.
    const fast = new Map([['node-hour', hour(undefined, 0.001)]]);
    expect(estimateCase({ id: 'node-hour' }, 1, settings, fast).ms).toBeCloseTo(5 * 150 + 300, 0);
  });

  it('with no history at all, says the settings give only a lower bound', () => {
    const e = estimateCase({ id: 'new case' }, 3, settings);
    expect(e).toEqual({ ms: 3 * (5 * 150 + 300), basis: 'settings (at least)' });
    expect(formatEstimate(e)).toBe('about 3 s (settings (at least))');
  });

  it('formats durations for people', () => {
    expect(formatDuration(42_400)).toBe('42 s');
    expect(formatDuration(200_000)).toBe('3 min 20 s');
    expect(formatDuration(120_000)).toBe('2 min');
    expect(formatDuration(3_900_000)).toBe('1 h 5 min');
    expect(formatDuration(12)).toBe('12.0 ms');
  });
});

describe('status in logs', () => {
  it('becomes a line only when no line came for a while, and stays in place on a terminal', () => {
    let clock = 0;
    const log: string[] = [];
    const p = new Progress({ write: (t: string) => log.push(t) }, false, () => clock);
    p.tick('round 1');
    clock = LOG_STATUS_EVERY_MS;
    p.tick('round 2');
    p.tick('round 3');
    clock += LOG_STATUS_EVERY_MS - 1;
    p.tick('round 4');
    clock += 1;
    p.tick('round 5');
    expect(log).toEqual(['round 2\n', 'round 5\n']);
    const tty: string[] = [];
    const q = new Progress({ write: (t: string) => tty.push(t), isTTY: true }, true, () => clock);
    q.tick('round 1');
    expect(tty).toEqual(['\r\x1b[2Kround 1']);
  });
});
