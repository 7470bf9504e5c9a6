import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@compotastic/orchestrator';
import { SIM_VERSION } from '@compotastic/sim';
import { parseScenarioArgs } from '@compotastic/sim/node';
import { describe, expect, it } from 'vitest';
import { main, parseSwarmArgs } from '../src/cli.js';

describe('compotastic-swarm CLI', () => {
  it('parses swarm options, rejecting bad ones with typed errors', () => {
    const a = parseSwarmArgs(['--scenario', 'disaster-zone', '--churn-fraction', '0.3', '--seed', '4', '--set', 'nodes.count=10', '--port', '287']);
    expect(a).toMatchObject({ scenario: 'disaster-zone', seed: 4, port: 287, overrides: { 'availability.fraction': 0.3, 'nodes.count': '10' } });
    expect(() => parseSwarmArgs(['--scenario'])).toThrow(ConfigError);
    expect(() => parseSwarmArgs(['--churn-fraction', '2', '--scenario', 'x'])).toThrow(ConfigError);
    expect(() => parseSwarmArgs([])).toThrow(/--scenario/);
    expect(() => parseSwarmArgs(['--scenario', 'x', '--port', '600'])).toThrow(ConfigError);
    expect(() => parseSwarmArgs(['--scenario', 'x', '--bogus'])).toThrow(/unknown option "--bogus"/);
  });

  it('takes exactly the simulator\'s scenario flags', () => {
    const flags = ['--scenario=urban-canyon', '--seed', '9', '--nodes', '12', '--duration', '2m', '--preset', 'SHORT_FAST', '--region', 'EU_433', '--hop-limit', '5',
      '--area', '800x600', '--path-loss', 'urban', '--gamma', '3.5', '--sigma', '2', '--extra-loss', '4', '--latency-ms', '7', '--processing-ms', '3',
      '--churn-per-hour', '0.5', '--churn-fraction', '0.2', '--mean-down-s', '30', '--battery-mah', '500', '--battery-pct', '40', '--set', 'snrCeilingDb=10'];
    const sim = parseScenarioArgs(flags);
    expect(Object.keys(sim.overrides)).toHaveLength(20);
    expect(parseSwarmArgs([...flags, '--quiet'])).toMatchObject({ ...sim, quiet: true });
  });

  it('prints its usage with --help', async () => {
    let out = '';
    const io = { out: (s: string) => (out += s), err: () => undefined };
    expect(await main(['--help'], io)).toBe(0);
    expect(out).toMatch(/^Usage: compotastic-swarm --scenario/);
    expect(out).toMatch(/--churn-fraction/);
    expect(out).toMatch(/Built-in scenarios: .*disaster-zone/);
    // One option a line: no line goes on to a second option.
    expect(out.split('\n').filter((l) => /\S\s{2,}--\w/.test(l.trim()))).toEqual([]);
    expect(out).toMatch(/\n {2}--help +this text/);
    expect(await main([], io)).toBe(1);
  });

  it('runs a swarm from a scenario file and a job file and prints job statistics', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'compotastic-'));
    const scenario = join(dir, 'pair.json');
    const jobs = join(dir, 'jobs.json');
    await writeFile(scenario, JSON.stringify({ name: 'pair', duration: '15m', preset: 'SHORT_FAST', pathLoss: { model: 'log-distance', sigmaDb: 0 }, nodes: { list: [{ x: 0, y: 0 }, { x: 200, y: 0, deviceClass: 'phone' }] } }));
    await writeFile(jobs, JSON.stringify([{ id: 'c', kernel: 'gemv', k: 256, n: 64, from: 0, atS: 200, count: 2, everyS: 60 }]));
    let out = '';
    const io = { out: (s: string) => (out += s), err: () => undefined };
    // The separator `pnpm swarm -- ...` passes through is ignored.
    expect(await main(['--', '--scenario', scenario, '--jobs', jobs, '--quiet'], io)).toBe(0);
    expect(out).toMatch(/jobs: 2 submitted, 2 done \(100\.0%\), 0 failed, 0 lost, 0 not done because their owner is switched off/);
    expect(out).toMatch(/results recomputed by the plain-TS reference: 2, mismatches 0/);
    expect(out).toMatch(/latency of finished jobs: p50 [\d.]+ s/);
    out = '';
    expect(await main(['--scenario', scenario, '--jobs', jobs, '--quiet', '--json'], io)).toBe(0);
    expect(JSON.parse(out).jobs.done).toBe(2);
    let err = '';
    expect(await main(['--scenario', join(dir, 'missing.json')], { out: () => undefined, err: (s) => (err += s) })).toBe(1);
    expect(err).toMatch(/error: .*missing\.json/);
  });

  it('refuses a misspelled --set path or an unwritable trace before the run, naming the nearest key', async () => {
    let err = '';
    const io = { out: () => undefined, err: (s: string) => (err += s) };
    expect(await main(['--scenario', 'disaster-zone', '--set', 'nodes.cuont=5'], io)).toBe(1);
    expect(err).toBe('error: unknown key nodes.cuont; did you mean nodes.count?\n');
    err = '';
    expect(await main(['--scenario', 'disaster-zone', '--trace', '/nonexistent-dir/t.jsonl'], io)).toBe(1);
    expect(err).toMatch(/^error: --trace \/nonexistent-dir\/t\.jsonl: cannot write there/);
  });

  it('shows progress when piped, and says where the trace went', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'compotastic-'));
    const scenario = join(dir, 'pair.json');
    await writeFile(scenario, JSON.stringify({ name: 'pair', duration: '10m', preset: 'SHORT_FAST', pathLoss: { model: 'log-distance', sigmaDb: 0 }, nodes: { list: [{ x: 0, y: 0 }, { x: 200, y: 0, deviceClass: 'phone' }] } }));
    let out = '';
    let err = '';
    const io = { out: (s: string) => (out += s), err: (s: string) => (err += s), isTty: false };
    expect(await main(['--scenario', scenario, '--trace', join(dir, 't.jsonl')], io)).toBe(0);
    const lines = err.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(lines.every((l) => /^progress \d+% \(\d+m\d\ds\/\d+m\d\ds, \d+ s elapsed/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^progress 100% /);
    const records = (await readFile(join(dir, 't.jsonl'), 'utf8')).trim().split('\n');
    expect(out).toContain(`trace: ${join(dir, 't.jsonl')} (${records.length} records)`);
    // The file says what made it: the run header first, as pnpm start's and pnpm sim --trace's do.
    expect(JSON.parse(records[0]!)).toEqual({ t: 0, ev: 'run', scenario: 'pair', seed: 1, version: SIM_VERSION, durationMs: 600_000, origin: expect.objectContaining({ lat: expect.any(Number), lon: expect.any(Number) }) });
    expect(records.slice(1).some((l) => JSON.parse(l).ev === 'run')).toBe(false);
  });
});
