import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@compotastic/orchestrator';
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
});
