// Drives the built viewer in a real browser (Debian's chromium through
// playwright-core): loads the static build, starts a scenario, and checks that
// nodes, packets and a finished job appear; saves a screenshot.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  it('runs a radio scenario: nodes and packets appear and the run finishes', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base);
    await page.selectOption('#scenario', 'urban-canyon');
    await page.selectOption('#mode', 'radio');
    await page.selectOption('#speed', '1000');
    await page.click('#start');
    await page.waitForFunction(() => Number(document.body.dataset.nodes) > 0 && Number(document.body.dataset.packets) > 0, undefined, { timeout: 60_000 });
    const nodes = Number(await page.evaluate(() => document.body.dataset.nodes));
    expect(nodes).toBeGreaterThan(5);
    await page.click('#pause');
    expect(await page.textContent('#pause')).toBe('Resume');
    await page.click('#pause');
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: join(outDir, 'viewer-radio.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('runs the compute swarm: nodes, packets and a finished job appear, and the OTA update lands', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base);
    await page.selectOption('#scenario', 'disaster-zone');
    await page.selectOption('#mode', 'demo');
    await page.selectOption('#speed', '1000');
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
