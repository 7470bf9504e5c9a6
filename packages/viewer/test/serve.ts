// Serves the viewer's static build (and extra files given by the test) on
// 127.0.0.1 and starts Debian's chromium through playwright-core: shared by the
// browser tests and the screenshot script.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const dist = join(root, 'dist');
/** Screenshots the tests take (ignored by git). */
export const artifacts = join(root, 'test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json',
  '.onnx': 'application/octet-stream', '.bin': 'application/octet-stream', '.png': 'image/png', '.svg': 'image/svg+xml',
};

export interface Served {
  server: Server;
  base: string;
  close(): Promise<void>;
}

/** Builds the viewer when there is no build yet. */
export function ensureBuilt(): void {
  if (existsSync(join(dist, 'index.html'))) return;
  const r = spawnSync('pnpm', ['exec', 'vite', 'build'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vite build failed: ${r.stderr}`);
}

/** Serves dist/, and each of `extra` (path -> body) as a JSONL file. */
export async function serveViewer(extra: Record<string, () => string> = {}): Promise<Served> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^([/\\])+/, '');
    const body = extra[path];
    if (body) {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(body());
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
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { server, base, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

export interface Watched {
  page: Page;
  /** Page errors, console errors and requests to anywhere but the local server (which are blocked). */
  errors: string[];
  offsite: string[];
}

/** A page that records its errors and blocks (and records) every request that leaves the local server. */
export async function watchedPage(browser: Browser, base: string, viewport: { width: number; height: number }): Promise<Watched> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  const offsite: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // A blocked off-site request (map tiles) is reported in `offsite`, not as an error of the page.
    const from = m.location().url;
    if (m.type() === 'error' && !(m.text().startsWith('Failed to load resource') && from && !from.startsWith(base))) errors.push(m.text());
  });
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(base) || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
    offsite.push(url);
    return route.abort('internetdisconnected');
  });
  return { page, errors, offsite };
}
