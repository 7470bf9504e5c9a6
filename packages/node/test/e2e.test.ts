import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The multi-process end to end (scripts/e2e.mjs) with one seed: NODE_E2E_SEED picks another. It runs in real time
// (about a minute on an idle machine); its limits wait for events, never for a speed.
const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'e2e.mjs');
const seed = Number(process.env.NODE_E2E_SEED ?? 11);

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('five compotastic node processes on a served simulation', () => {
  it(`run a job, roll a delta bundle out to three sensors, and resume a SIGKILLed receiver (seed ${seed})`, async () => {
    const { code, stdout, stderr } = await run(['--seed', String(seed), '--json', '--timeout', '900']);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the JSON summary, checked field by field below
    let summary: Record<string, any>;
    try {
      summary = JSON.parse(stdout.trim().split('\n').pop() ?? '');
    } catch {
      throw new Error(`no JSON summary (exit ${code}); stderr:\n${stderr.slice(-4000)}`);
    }
    if (!summary.ok) console.error(stderr.slice(-6000));
    expect(summary.error).toBeUndefined();
    expect(summary.processes).toBeGreaterThanOrEqual(6); // five nodes, and the restarted receiver
    expect(summary.jobs).toMatchObject({ submitted: 1, done: 1, lost: 0, matchesReference: true });
    expect(summary.jobs.worker).not.toContain('sensor-a');
    expect(summary.ota.installed).toEqual({ 'sensor-a': 1, 'sensor-b': 1, 'sensor-serial': 1 });
    expect(summary.ota.confirmed).toEqual({ 'sensor-a': true, 'sensor-b': true, 'sensor-serial': true });
    expect(summary.ota.bundles.every((b: { from: number }) => b.from === 0)).toBe(true);
    expect(summary.restart.resumedFragments).toBeGreaterThan(0);
    expect(summary.restart.resumedFragments).toBeLessThanOrEqual(summary.restart.fragmentsBeforeKill);
    expect(summary.exitCodes).toMatchObject({ laptop: 0, jetson: 0, 'sensor-a': 0, 'sensor-b': 0, 'sensor-serial': 0, 'sensor-b (killed)': 'SIGKILL', sim: 0 });
    expect(Object.values(summary.checks).every(Boolean)).toBe(true);
    expect(code).toBe(0);
  }, 960_000);
});
