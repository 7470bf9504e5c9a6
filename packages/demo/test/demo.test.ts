import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadKernel, type Kernel } from '@compotastic/kernel';
import type { TraceEvent } from '@compotastic/sim';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDemo, type DemoSummary } from '../src/index.js';

let kernel: Kernel;
let summary: DemoSummary;
const events: TraceEvent[] = [];

beforeAll(async () => {
  kernel = await loadKernel({ build: 'simd' });
  summary = await runDemo({ kernel, trace: (e) => events.push(e) });
});

describe('the demo on the default scenario', () => {
  it('discovers capabilities across the swarm', () => {
    expect(summary.scenario).toBe('disaster-zone');
    // Five clusters kilometres apart: each node ends up knowing well over a third of the swarm.
    expect(summary.discovery.coverage).toBeGreaterThan(0.35);
    const advertised = new Set(events.filter((e) => e.ev === 'app' && e.type === 'capability').map((e) => e.node));
    const infos = events.filter((e) => e.ev === 'node_info');
    expect(advertised.size).toBeGreaterThanOrEqual(infos.length - 3); // every node that was up long enough advertised
  });

  it('delegates a sensor\'s inference to a peer and the result equals local execution', () => {
    const delegated = summary.story.find((s) => s.tag === 'classify-2')!;
    expect(delegated.status).toBe('done');
    expect(delegated.plan).toBe('offload');
    expect(delegated.workers.length).toBeGreaterThan(0);
    expect(delegated.workers).not.toContain(delegated.owner);
    expect(delegated.matchesLocal).toBe(true);
  });

  it('recovers a job whose worker drops mid-job', () => {
    const dropped = events.find((e) => e.ev === 'node_down' && e.reason === 'battery pulled');
    expect(dropped).toBeDefined();
    const first = summary.story.find((s) => s.tag === 'classify-1')!;
    expect(first.status).toBe('done');
    expect(first.attempts).toBeGreaterThan(1);
    expect(first.matchesLocal).toBe(true);
    expect(events.some((e) => e.ev === 'app' && e.type === 'attempt_lost' && (e.data as { peer: number }).peer === dropped!.node)).toBe(true);
    // The narration tells each reassignment of the story's shard as it happens.
    const reassigned = events.filter((e) => e.ev === 'app' && e.type === 'job_reassigned' && (e.data as { job: string }).job === 'classify-1');
    expect(reassigned.length).toBe(first.attempts - 1);
    expect(summary.steps.filter((s) => s.kind === 'recovery' && s.text.startsWith('classify-1: attempt ')).length).toBe(reassigned.length);
  });

  it('a passing Jetson builds tailored bundles and pushes the new model over the air', () => {
    expect(summary.ota.length).toBeGreaterThan(0);
    const installed = summary.ota.reduce((n, o) => n + o.installed.length, 0);
    expect(installed).toBeGreaterThan(0);
    for (const o of summary.ota) {
      expect(o.bundleBytes).toBeGreaterThan(0);
      expect(o.packets).toBeGreaterThan(0);
    }
    const applied = events.filter((e) => e.ev === 'app' && e.type === 'ota_applied');
    expect(applied.length).toBe(installed);
  });

  it('updated sensors then classify with the new model, locally when their battery allows', () => {
    const local = summary.story.filter((s) => s.tag.startsWith('classify-local'));
    expect(local.length).toBeGreaterThan(0);
    for (const s of local) {
      expect(s.status).toBe('done');
      expect(s.matchesLocal).toBe(true);
    }
    expect(local.some((s) => s.plan === 'local' && s.workers.length <= 1)).toBe(true);
  });

  it('loses no job and every verified result matches', () => {
    expect(summary.jobs.lost).toBe(0);
    expect(summary.jobs.mismatches).toBe(0);
    expect(summary.jobs.verified).toBeGreaterThanOrEqual(summary.story.filter((s) => s.status === 'done').length);
  });
});

describe('the pnpm start command', () => {
  it('runs the demo, writes the trace and the summary, and exits 0', () => {
    const out = mkdtempSync(join(tmpdir(), 'demo-'));
    const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
    const r = spawnSync(process.execPath, [cli, '--out', out, '--set', 'duration="20m"', '--seed', '3'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Summary: disaster-zone, seed 3/);
    expect(r.stdout).toMatch(/discovery/);
    expect(existsSync(join(out, 'demo-trace.jsonl'))).toBe(true);
    const lines = readFileSync(join(out, 'demo-trace.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(100);
    expect(JSON.parse(lines[0]!)).toMatchObject({ t: 0, ev: 'node_info' });
    const saved = JSON.parse(readFileSync(join(out, 'demo-summary.json'), 'utf8')) as DemoSummary;
    expect(saved.seed).toBe(3);
    expect(spawnSync(process.execPath, [cli, '--bogus'], { encoding: 'utf8' }).status).toBe(2);
  });
});
