// Drives the built viewer in a real browser (Debian's chromium through
// playwright-core): loads the static build, runs a small radio scenario in the
// worker and replays a hand-written trace of jobs and an OTA update, and checks
// what the page shows; saves screenshots. Playback runs at the 'max' speed, so
// the tests wait for a fixed amount of simulation, never for the wall clock.
// The full compute swarm (several seconds of simulation in the browser) runs in
// `pnpm --filter @compotastic/viewer e2e`.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Simulation, applyOverrides, builtinScenario, resolveScenario } from '@compotastic/sim';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const outDir = join(root, 'out');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json',
  '.onnx': 'application/octet-stream', '.bin': 'application/octet-stream', '.png': 'image/png', '.svg': 'image/svg+xml',
};

const E2E = process.env['VIEWER_E2E'] === '1';

/** A swarm in miniature: three nodes, two packets, one job done and one failed, an OTA applied on two nodes. */
const TRACE = [
  { t: 0, ev: 'node_info', node: 1, name: 'gateway', x: 0, y: 0, role: 'ROUTER', deviceClass: 'jetson' },
  { t: 0, ev: 'node_info', node: 2, name: 'phone-a', x: 500, y: 0, role: 'CLIENT', deviceClass: 'phone' },
  { t: 0, ev: 'node_info', node: 3, name: 'phone-b', x: 0, y: 500, role: 'CLIENT', deviceClass: 'phone' },
  { t: 1000, ev: 'tx_start', node: 2, from: 2, id: 1, port: 290, airtimeMs: 300 },
  { t: 1300, ev: 'tx_end', node: 2, from: 2, id: 1 },
  { t: 2000, ev: 'tx_start', node: 1, from: 1, id: 2, port: 290, airtimeMs: 300 },
  { t: 2300, ev: 'tx_end', node: 1, from: 1, id: 2 },
  { t: 3000, ev: 'app', node: 2, type: 'job_requested', data: { jobId: 'j1', tag: 'classify-7' } },
  { t: 3100, ev: 'app', node: 2, type: 'job_planned', data: { jobId: 'j1', kind: 'delegate', explanation: 'the gateway is fastest', peers: [1] } },
  { t: 3200, ev: 'app', node: 1, type: 'accept', data: { jobId: 'j1', owner: 2 } },
  { t: 9000, ev: 'app', node: 2, type: 'job_done', data: { jobId: 'j1', latencyMs: 6000 } },
  { t: 9500, ev: 'app', node: 3, type: 'job_requested', data: { jobId: 'j2', tag: 'classify-8' } },
  { t: 9600, ev: 'app', node: 3, type: 'job_failed', data: { jobId: 'j2', reason: 'no capable peer' } },
  { t: 10_000, ev: 'app', node: 1, type: 'ota_started', data: { bundle: 'kws-v2', bytes: 4096 } },
  { t: 20_000, ev: 'app', node: 2, type: 'ota_applied', data: { bundle: 'kws-v2' } },
  { t: 21_000, ev: 'app', node: 3, type: 'ota_applied', data: { bundle: 'kws-v2' } },
  { t: 22_000, ev: 'app', node: 1, type: 'ota_done', data: { bundle: 'kws-v2', installed: 2, targets: 2 } },
];

let server: Server;
let base: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(join(dist, 'index.html'))) {
    const r = spawnSync('pnpm', ['exec', 'vite', 'build'], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`vite build failed: ${r.stderr}`);
  }
  server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^([/\\])+/, '');
    if (path === 'test-trace.jsonl') {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(TRACE.map((e) => JSON.stringify(e)).join('\n'));
      return;
    }
    const file = join(dist, path || 'index.html');
    if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe('viewer in Chromium', () => {
  it('runs a radio scenario in the worker: nodes and packets appear and the run finishes', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base);
    await page.selectOption('#scenario', 'urban-canyon');
    await page.selectOption('#mode', 'radio');
    await page.fill('#nodes', '12'); // a small mesh: the same code paths, a fraction of the simulation
    // Start at 60x and pause: the worker runs the whole simulation meanwhile, but the simulated clock stands still
    // (at 60x it would move 18 s between two panel refreshes 300 ms apart). Then resume as fast as it runs, to the end.
    await page.selectOption('#speed', '60');
    await page.click('#start');
    await page.click('#pause');
    expect(await page.textContent('#pause')).toBe('Resume');
    const clock = () => page.textContent('#clock');
    await page.waitForFunction(() => /paused .*simulation complete/.test(document.getElementById('clock')?.textContent ?? ''), undefined, { timeout: 60_000 });
    const pausedAt = await clock();
    await page.waitForTimeout(300);
    expect(await clock()).toBe(pausedAt);
    await page.selectOption('#speed', 'max');
    await page.click('#pause');
    expect(await page.textContent('#pause')).toBe('Pause');
    await page.waitForFunction(() => document.body.dataset.state === 'finished', undefined, { timeout: 60_000 });
    const shown = await page.evaluate(() => ({ nodes: Number(document.body.dataset.nodes), packets: Number(document.body.dataset.packets) }));
    // The same scenario, overrides and seed (the page's default, 1) run here through the simulator directly: the page
    // must show every node and every transmission the simulation traced.
    const want = { nodes: new Set<unknown>(), packets: 0 };
    new Simulation(resolveScenario(applyOverrides(builtinScenario('urban-canyon'), { 'nodes.count': 12 })), {
      seed: 1,
      trace: (e) => {
        if (e.ev === 'node_info') want.nodes.add(e.node);
        if (e.ev === 'tx_start') want.packets++;
      },
    }).run();
    expect(want.packets).toBeGreaterThan(50);
    expect(shown).toEqual({ nodes: want.nodes.size, packets: want.packets });
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: join(outDir, 'viewer-radio.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('replays a trace: nodes, packets, the done and the failed job, and the OTA update are shown', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}?trace=test-trace.jsonl&speed=max`);
    await page.waitForFunction(() => document.body.dataset.state === 'finished', undefined, { timeout: 30_000 });
    // Panels refresh every 200 ms: wait for the last refresh to have the final counts.
    await page.waitForFunction(() => document.body.dataset.otaApplied === '2', undefined, { timeout: 30_000 });
    const b = await page.evaluate(() => ({ ...document.body.dataset }));
    expect(b).toMatchObject({ nodes: '3', packets: '2', jobsDone: '1', otaApplied: '2' });
    const jobs = await page.$$eval('#jobs li', (items) => items.map((li) => [li.dataset.state, li.textContent ?? '']));
    expect(jobs).toEqual([
      ['done', expect.stringMatching(/^classify-7 from phone-a: done in 6\.0 s/)],
      ['failed', expect.stringMatching(/^classify-8 from phone-b: failed/)],
    ]);
    expect(await page.textContent('#ota')).toMatch(/kws-v2 \(4096 B\): 2\/2 applied/);
    expect(await page.textContent('#log')).toMatch(/job classify-8 failed: no capable peer/);
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: join(outDir, 'viewer-replay.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it.runIf(E2E)('e2e (pnpm e2e): runs the compute swarm: nodes, packets and a finished job appear, and the OTA update lands', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base);
    await page.selectOption('#scenario', 'disaster-zone');
    await page.selectOption('#mode', 'demo');
    await page.selectOption('#speed', 'max');
    await page.click('#start');
    await page.waitForFunction(() => Number(document.body.dataset.nodes) > 0 && Number(document.body.dataset.packets) > 0, undefined, { timeout: 120_000 });
    await page.waitForFunction(() => Number(document.body.dataset.jobsDone) >= 1, undefined, { timeout: 150_000 });
    const jobs = await page.$$eval('#jobs li[data-state="done"]', (items) => items.map((li) => li.textContent ?? ''));
    expect(jobs.length).toBeGreaterThanOrEqual(1);
    expect(jobs[0]).toMatch(/classify-\d/);
    const log = await page.textContent('#log');
    expect(log).toMatch(/asks for a vibration classification/);
    await page.waitForFunction(() => Number(document.body.dataset.otaApplied) >= 1, undefined, { timeout: 150_000 });
    expect(await page.textContent('#ota')).toMatch(/applied/);
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: join(outDir, 'viewer-demo.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});
