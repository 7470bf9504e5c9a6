import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main, parseArgs } from '../src/cli.js';
import { SIM_VERSION, SimError } from '../src/index.js';
import { parseScenarioArgs } from '../src/node.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), isTty: false } };
}

describe('cli', () => {
  it('maps every override flag onto the scenario', () => {
    const p = parseArgs(['--', '--scenario', 'urban-canyon', '--nodes', '12', '--seed', '9', '--duration', '2m', '--preset', 'SHORT_FAST', '--region', 'EU_433', '--area', '800x600', '--path-loss', 'urban', '--gamma', '3.5', '--sigma', '2', '--extra-loss', '4', '--latency-ms', '7', '--processing-ms', '3', '--churn-per-hour', '0.5', '--mean-down-s', '30', '--battery-mah', '500', '--battery-pct', '40', '--hop-limit', '5', '--set', 'snrCeilingDb=10']);
    expect(p.scenario).toBe('urban-canyon');
    expect(p.seed).toBe(9);
    expect(p.overrides).toEqual({
      'nodes.count': 12,
      duration: '2m',
      preset: 'SHORT_FAST',
      region: 'EU_433',
      'area.widthM': 800,
      'area.heightM': 600,
      'pathLoss.model': 'urban',
      'pathLoss.gamma': 3.5,
      'pathLoss.sigmaDb': 2,
      extraLossDb: 4,
      'latency.clientMs': 7,
      'latency.processingMs': 3,
      'availability.churnPerHour': 0.5,
      'availability.meanDownS': 30,
      'battery.capacityMah': 500,
      'battery.enabled': true,
      'battery.initialPct': 40,
      hopLimit: 5,
      snrCeilingDb: '10',
    });
    expect(() => parseArgs(['--bogus'])).toThrow(SimError);
    expect(() => parseArgs(['--nodes', 'many'])).toThrow(SimError);
    expect(() => parseArgs(['--duration', 'later'])).toThrow(SimError);
  });

  it('shares its scenario flags through parseScenarioArgs, handing the others to the command', () => {
    const seen: string[] = [];
    const p = parseScenarioArgs(['--scenario=disaster-zone', '--churn-fraction', '0.3', '--jobs', 'w.json', '--set=app.x=1', '--json', '--seed=4'], (a) => {
      if (a.flag === '--jobs') seen.push(`jobs:${a.value()}`);
      else if (a.flag === '--json') seen.push('json');
      else return false;
      return true;
    });
    expect(p).toEqual({ scenario: 'disaster-zone', seed: 4, overrides: { 'availability.fraction': 0.3, 'app.x': '1' } });
    expect(seen).toEqual(['jobs:w.json', 'json']);
    // The same flags, the same meaning, for the simulator's own CLI.
    expect(parseArgs(['--scenario', 'disaster-zone', '--churn-fraction', '0.3', '--seed', '4', '--set', 'app.x=1'])).toMatchObject(p);
  });

  it('refuses unknown flags, missing values and out-of-range numbers with SimError INVALID_ARGUMENT naming the flag', () => {
    const bad: Array<[string[], RegExp]> = [
      [['--jobs', 'x'], /unknown option "--jobs"/],
      [['--seed'], /--seed needs a value/],
      [['--seed', '-1'], /--seed must be 0\.\.4294967295/],
      [['--seed', '1.5'], /--seed expects a whole number/],
      [['--nodes', '-3'], /--nodes/],
      [['--hop-limit', '8'], /--hop-limit must be 0\.\.7/],
      [['--churn-fraction', '2'], /--churn-fraction must be 0\.\.1/],
      [['--battery-pct', '101'], /--battery-pct/],
      [['--battery', 'maybe'], /on or off/],
      [['--gamma', '0'], /--gamma must be above 0/],
      [['--area', '10by10'], /--area/],
      [['--set', 'novalue'], /path=value/],
      [['--duration', 'soon'], /duration/],
      [['--latency-ms', ''], /--latency-ms expects a number/],
    ];
    for (const [argv, message] of bad) {
      try {
        parseScenarioArgs(argv);
        expect.unreachable(argv.join(' '));
      } catch (e) {
        expect(e).toBeInstanceOf(SimError);
        expect((e as SimError).code).toBe('INVALID_ARGUMENT');
        expect((e as Error).message).toMatch(message);
      }
    }
    expect(parseArgs(['--serve']).serve).toBe(4403);
    expect(parseArgs(['--serve', '5000', '--quiet'])).toMatchObject({ serve: 5000, quiet: true });
    expect(parseArgs(['--serve', '--quiet'])).toMatchObject({ serve: 4403, quiet: true });
    expect(() => parseArgs(['--speed', '0'])).toThrow(SimError);
  });

  it('runs a scenario and writes the trace, summary and plot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    const t = io();
    const code = await main(['--scenario', 'rural-sparse', '--duration', '10m', '--seed', '3', '--trace', join(dir, 'out.jsonl'), '--summary', join(dir, 's.json'), '--plot', join(dir, 'p.html')], t.io);
    expect(code).toBe(0);
    expect(t.out.join('')).toMatch(/reachability\s+\d/);
    expect(t.err.join('')).toMatch(/progress 100%/);
    const events = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: number; ev: string });
    const summary = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')) as { scenario: string; seed: number; durationS: number; nodes: number; messages: number; transmissions: number };
    expect(summary).toMatchObject({ scenario: 'rural-sparse', seed: 3, durationS: 600, nodes: 28 });
    // The file says what made it: the run header first, with the scenario, the seed and the simulator's version.
    expect(events[0]).toEqual({ t: 0, ev: 'run', scenario: 'rural-sparse', seed: 3, version: SIM_VERSION, durationMs: 600_000, origin: expect.objectContaining({ lat: expect.any(Number) }) });
    expect(events.filter((e) => e.ev === 'run')).toHaveLength(1);
    // The trace and the summary describe the same run: a node_info per node at t = 0, then the events they count.
    const count = (ev: string) => events.filter((e) => e.ev === ev).length;
    expect(events.slice(1, 29).map((e) => [e.t, e.ev])).toEqual(Array.from({ length: 28 }, () => [0, 'node_info']));
    expect(count('node_info')).toBe(summary.nodes);
    expect(summary.messages).toBeGreaterThan(0);
    expect(count('gen')).toBe(summary.messages);
    expect(count('tx_start')).toBe(summary.transmissions);
    expect(events.every((e, i) => i === 0 || e.t >= events[i - 1]!.t)).toBe(true);
    expect(readFileSync(join(dir, 'p.html'), 'utf8')).toContain('<svg');
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the version of package.json in run headers', () => {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version: string };
    expect(SIM_VERSION).toBe(pkg.version);
  });

  it('reports bad input with an exit code, not a crash', async () => {
    const t = io();
    expect(await main(['--scenario', 'no-such-place'], t.io)).toBe(2);
    expect(t.err.join('')).toMatch(/neither a built-in scenario/);
    const u = io();
    expect(await main(['--scenario', 'urban-canyon', '--preset', 'WARP'], u.io)).toBe(2);
    expect(u.err.join('')).toMatch(/preset/);
    const h = io();
    expect(await main(['--help'], h.io)).toBe(0);
    const help = h.out.join('');
    expect(help).toMatch(/\n {2}--plot FILE +summary plot/);
    // One option a line: no line goes on to a second option.
    expect(help.split('\n').filter((l) => /\S\s{2,}--\w/.test(l.trim()))).toEqual([]);
    const l = io();
    expect(await main(['--list'], l.io)).toBe(0);
    expect(l.out.join('')).toContain('dense-festival');
  });

  it('says where each output went', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    const t = io();
    expect(await main(['--scenario', 'rural-sparse', '--duration', '2m', '--trace', join(dir, 't.jsonl'), '--summary', join(dir, 's.json'), '--plot', join(dir, 'p.svg')], t.io)).toBe(0);
    const out = t.out.join('');
    const records = readFileSync(join(dir, 't.jsonl'), 'utf8').trim().split('\n').length;
    expect(out).toContain(`trace          ${join(dir, 't.jsonl')} (${records} records)`);
    expect(out).toContain(`summary        ${join(dir, 's.json')}`);
    expect(out).toContain(`plot           ${join(dir, 'p.svg')}`);
    expect(readFileSync(join(dir, 'p.svg'), 'utf8')).toMatch(/^<svg /);
    // With --json, stdout is the JSON alone and the paths go to stderr.
    const j = io();
    expect(await main(['--scenario', 'rural-sparse', '--duration', '2m', '--quiet', '--json', '--summary', join(dir, 's2.json')], j.io)).toBe(0);
    expect(() => JSON.parse(j.out.join(''))).not.toThrow();
    expect(j.err.join('')).toContain(`summary        ${join(dir, 's2.json')}`);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('the built CLI with an output it cannot write', () => {
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  const run = (args: string[]) => spawnSync(process.execPath, [cli, '--scenario', 'rural-sparse', '--duration', '2m', ...args], { encoding: 'utf8' });

  it.each([
    ['/proc/t.jsonl', /^error: --trace \/proc\/t\.jsonl: cannot write there \(/],
    ['FILE/t.jsonl', /^error: --trace .*\/t\.jsonl: cannot write there \(/],
  ])('--trace %s is refused in one line before the run, with no crash', (where, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    // A folder path through a plain file can never be made, whoever runs the test.
    writeFileSync(join(dir, 'FILE'), 'x');
    const r = run(['--trace', where.replace('FILE', join(dir, 'FILE')), '--summary', join(dir, 's.json')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at |Unhandled 'error' event/);
    expect(r.stdout).toBe('');
    expect(existsSync(join(dir, 's.json'))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses --plot p.png (the plot is HTML or SVG) before the run, with exit code 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    const r = run(['--plot', join(dir, 'p.png')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: --plot writes an HTML page \(\.html\) or an SVG image \(\.svg\), got ".*p\.png"\n$/);
    expect(existsSync(join(dir, 'p.png'))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a misspelled --set path with the nearest name and exit code 2', () => {
    const r = run(['--set', 'nodes.cuont=5']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error: unknown key nodes.cuont; did you mean nodes.count?\n');
  });
});
