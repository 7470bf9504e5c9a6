import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Ordinary mistakes on the command line: each is refused in one line, before any work, with exit code 2, and the
// previous run's trace is left as it was.
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const PREVIOUS = '{"t":0,"ev":"previous run"}\n';

function runInOut(args: string[]): { status: number | null; stderr: string; stdout: string; out: string } {
  const out = mkdtempSync(join(tmpdir(), 'demo-errors-'));
  writeFileSync(join(out, 'demo-trace.jsonl'), PREVIOUS);
  const badJson = join(out, 'bad.json');
  writeFileSync(badJson, '{"name": "half", "nodes": ');
  const r = spawnSync(process.execPath, [cli, '--out', out, ...args.map((a) => a.replace('BAD_JSON', badJson))], { encoding: 'utf8', env: { ...process.env, INIT_CWD: out } });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout, out };
}

describe('pnpm start with a mistake', () => {
  it.each([
    [['--scenario', 'no-such-scenario'], /^error: ".*no-such-scenario" is neither a built-in scenario \(.*disaster-zone.*\) nor a readable file/],
    [['--scenario', 'BAD_JSON'], /^error: .*bad\.json is not valid JSON/],
    [['--set', 'nodes.count=abc'], /^error: nodes\.count: expected a number, got "abc"/],
    [['--set', 'nodes.cuont=5'], /^error: unknown key nodes\.cuont; did you mean nodes\.count\?/],
    [['--set', 'nodes.placement.clusters=2147483648'], /^error: nodes\.placement\.clusters: must be between 1 and 100000, got 2147483648/],
    [['--serve', '99999'], /^error: --serve needs a port 1\.\.65535, got 99999/],
    [['--acoustic', 'loud'], /^error: --acoustic needs full, small or off, got loud/],
  ])('%j is refused in one line with exit code 2, and the previous trace survives', (args, message) => {
    const r = runInOut(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
    expect(readFileSync(join(r.out, 'demo-trace.jsonl'), 'utf8')).toBe(PREVIOUS);
    // No half-written trace is left beside it.
    expect(readdirSync(r.out).sort()).toEqual(['bad.json', 'demo-trace.jsonl']);
  });
});
