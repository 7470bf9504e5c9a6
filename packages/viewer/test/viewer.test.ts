// Drives the built viewer in a real browser (Debian's chromium through
// playwright-core): loads the static build, runs small radio scenarios in the
// worker and replays hand-written and simulated traces, and checks what the
// page shows at a desktop (1280x800) and a phone (390x844) size; saves
// screenshots to test-artifacts/. Every request off the local server is
// blocked: the tests run offline. Playback runs at the 'max' speed, or the
// tests seek, so they wait for a fixed amount of simulation, never for the
// wall clock. The full compute swarm (several seconds of simulation in the
// browser) runs in `pnpm --filter @compotastic/viewer e2e`.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Simulation, applyOverrides, builtinScenario, resolveScenario, runHeader } from '@compotastic/sim';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifacts, ensureBuilt, launchChromium, serveViewer, watchedPage, type Served } from './serve.js';

const E2E = process.env['VIEWER_E2E'] === '1';
const GATEWAY = 0x10000001, PHONE_A = 0x10000002, PHONE_B = 0x10000003;

/** A swarm in miniature: three nodes, two packets, one job done and one failed, an OTA update, a detection, an event type the viewer does not know. */
const TRACE = [
  { t: 0, ev: 'run', scenario: 'urban-canyon', seed: 42, durationMs: 30_000, origin: { lat: 37.5665, lon: 126.978 } },
  { t: 0, ev: 'node_info', node: GATEWAY, name: 'gateway', x: 0, y: 0, role: 'ROUTER', deviceClass: 'jetson' },
  { t: 0, ev: 'node_info', node: PHONE_A, name: 'phone-a', x: 500, y: 0, role: 'CLIENT', deviceClass: 'phone' },
  { t: 0, ev: 'node_info', node: PHONE_B, name: 'phone-b', x: 0, y: 500, role: 'CLIENT', deviceClass: 'phone' },
  { t: 900, ev: 'gen', node: PHONE_A, from: PHONE_A, id: 1, to: PHONE_B, port: 1 },
  { t: 1000, ev: 'tx_start', node: PHONE_A, from: PHONE_A, id: 1, port: 290, airtimeMs: 300 },
  { t: 1300, ev: 'tx_end', node: PHONE_A, from: PHONE_A, id: 1 },
  { t: 1300, ev: 'rx', node: GATEWAY, from: PHONE_A, id: 1, sender: PHONE_A, snr: 7.5, rssi: -90 },
  { t: 2000, ev: 'tx_start', node: GATEWAY, from: PHONE_A, id: 1, port: 290, airtimeMs: 300 },
  { t: 2300, ev: 'tx_end', node: GATEWAY, from: PHONE_A, id: 1 },
  { t: 2300, ev: 'rx', node: PHONE_B, from: PHONE_A, id: 1, sender: GATEWAY, snr: -11, rssi: -121 },
  { t: 2300, ev: 'deliver', node: PHONE_B, from: PHONE_A, id: 1, hopsAway: 1 },
  { t: 3000, ev: 'app', node: PHONE_A, type: 'job_requested', data: { jobId: 'j1', tag: 'classify-7' } },
  { t: 3100, ev: 'app', node: PHONE_A, type: 'job_planned', data: { jobId: 'j1', kind: 'delegate', explanation: 'offload: !10000001 (LoRa, 1 hop) is fastest', peers: [GATEWAY] } },
  { t: 3200, ev: 'app', node: GATEWAY, type: 'accept', data: { jobId: 'j1', owner: PHONE_A } },
  { t: 4000, ev: 'app', node: GATEWAY, type: 'router_warning', data: { kind: 'self-blocked', message: 'this radio (!10000001, role ROUTER) drops port 256' } },
  { t: 9000, ev: 'app', node: PHONE_A, type: 'job_done', data: { jobId: 'j1', latencyMs: 6000 } },
  { t: 9500, ev: 'app', node: PHONE_B, type: 'job_requested', data: { jobId: 'j2', tag: 'classify-8' } },
  { t: 9600, ev: 'app', node: PHONE_B, type: 'job_failed', data: { jobId: 'j2', reason: 'no capable peer' } },
  { t: 10_000, ev: 'app', node: GATEWAY, type: 'ota_started', data: { bundle: 'kws-v2', bytes: 4096 } },
  { t: 15_000, ev: 'detection', node: PHONE_B, keyword: 'help', score: 0.93 },
  { t: 20_000, ev: 'app', node: PHONE_A, type: 'ota_applied', data: { bundle: 'kws-v2' } },
  { t: 21_000, ev: 'app', node: PHONE_B, type: 'ota_applied', data: { bundle: 'kws-v2' } },
  { t: 22_000, ev: 'app', node: GATEWAY, type: 'ota_done', data: { bundle: 'kws-v2', installed: 2, targets: 2 } },
];
const jsonl = (events: object[]) => events.map((e) => JSON.stringify(e)).join('\n');

/** A real simulated trace, with the run header `pnpm sim --trace` writes first, and what the simulator says about it. */
function simulatedTrace(): { text: string; delivered: number; sent: number; lines: string[] } {
  const resolved = resolveScenario(applyOverrides(builtinScenario('urban-canyon'), { 'nodes.count': 12 }));
  const lines: string[] = [JSON.stringify(runHeader(resolved, 5))];
  const sim = new Simulation(resolved, {
    seed: 5,
    trace: (e) => lines.push(JSON.stringify(e)),
  });
  sim.run();
  const d = sim.summary().directMessages;
  return { text: lines.join('\n'), delivered: d.delivered, sent: d.sent, lines };
}

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let served: Served;
let browser: Browser;
let sim: ReturnType<typeof simulatedTrace>;
/** The simulated trace cut in the middle of a line, as a crashed writer leaves it. */
let cutAt = 0;

beforeAll(async () => {
  ensureBuilt();
  sim = simulatedTrace();
  cutAt = Math.floor(sim.lines.length / 2);
  served = await serveViewer({
    'test-trace.jsonl': () => jsonl(TRACE),
    'no-header.jsonl': () => jsonl(TRACE.slice(1)),
    'sim-trace.jsonl': () => sim.text,
    'cut-trace.jsonl': () => `${sim.lines.slice(0, cutAt).join('\n')}\n${sim.lines[cutAt]!.slice(0, 20)}`,
  });
  browser = await launchChromium();
  mkdirSync(artifacts, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await served?.close();
});

const state = (page: Page) => page.evaluate(() => ({ ...document.body.dataset }));
const finished = (page: Page) => page.waitForFunction(() => document.body.dataset.state === 'finished', undefined, { timeout: 60_000 });
/** Waits until the panels (refreshed every 200 ms) show a data-* value. */
const shows = (page: Page, key: string, value: string) =>
  page.waitForFunction(([k, v]) => document.body.dataset[k!] === v, [key, value], { timeout: 30_000 });
const box = async (page: Page, selector: string) => (await page.locator(selector).boundingBox())!;

/** A page that has replayed TRACE to its end. */
async function replayedSmallTrace(viewport: { width: number; height: number }): Promise<Awaited<ReturnType<typeof watchedPage>>> {
  const watched = await watchedPage(browser, served.base, viewport);
  await watched.page.goto(`${served.base}?trace=test-trace.jsonl&speed=max`);
  await finished(watched.page);
  await shows(watched.page, 'otaApplied', '2'); // the last refresh of the panels has the final counts
  return watched;
}

/** Drags the timeline to `ms`; a paused or finished replay then shows exactly that time. */
async function seek(page: Page, ms: number, { playing = false } = {}): Promise<void> {
  await page.$eval('#timeline', (el, v) => {
    (el as HTMLInputElement).value = String(v);
    el.dispatchEvent(new Event('input'));
    el.dispatchEvent(new Event('change'));
  }, ms);
  if (!playing) await shows(page, 'simulatedMs', String(ms));
}

describe('viewer in Chromium', () => {
  for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    it(`lays out at ${viewport.width}x${viewport.height}: a wide map, labels, the legend, a compact node panel, no errors`, async () => {
      const { page, errors, offsite } = await replayedSmallTrace(viewport);
      // Offline (every request off the local server is blocked): the map falls back to the plain background.
      await shows(page, 'basemap', 'offline');
      expect(offsite.length).toBeGreaterThan(0);
      expect(offsite.filter((u) => !u.startsWith('https://tile.openstreetmap.org/'))).toEqual([]);
      const map = await box(page, '#map');
      expect(map.width).toBeGreaterThanOrEqual(size === 'phone' ? 300 : 700);
      expect(map.height).toBeGreaterThanOrEqual(300);
      expect(map.y + map.height / 2).toBeLessThan(viewport.height); // the map is on screen when the page opens
      expect(map.x + map.width).toBeLessThanOrEqual(viewport.width);
      const b = await state(page);
      expect(b.labels).toBe('3');
      const legend = await page.textContent('#legend');
      for (const item of ['router', 'battery', 'down', 'OTA progress', 'job', 'transmitting', 'collision', 'detection', 'link SNR', 'route']) expect(legend).toContain(item);
      // Click the gateway: a compact summary; the capability list folded; Jobs and Events still on screen.
      const [x, y] = (await page.evaluate((n) => (window as never as { compotasticViewer: { nodeScreen(n: number): [number, number] } }).compotasticViewer.nodeScreen(n), GATEWAY))!;
      await page.mouse.click(x, y);
      await page.waitForFunction(() => document.querySelector('#node-info strong')?.textContent === 'gateway', undefined, { timeout: 10_000 });
      expect(await page.textContent('#node-info')).toContain('!10000001');
      expect(await page.$eval('#node-info details', (d) => (d as HTMLDetailsElement).open)).toBe(false);
      const node = await box(page, '#node-section');
      expect(node.height).toBeLessThan(220);
      if (size === 'desktop') {
        expect((await box(page, '#jobs-section')).y).toBeLessThan(viewport.height - 40);
        expect((await box(page, '#log-section')).y).toBeLessThan(viewport.height - 40);
      }
      await page.screenshot({ path: join(artifacts, `viewer-${size}.png`), fullPage: size === 'phone' });
      expect(errors).toEqual([]);
      await page.close();
    });
  }

  it('names nodes alike in jobs, log and map; a hover tooltip; readable log lines; a detection; the route of a message', async () => {
    const { page, errors } = await replayedSmallTrace(DESKTOP);
    const b = await state(page);
    expect(b).toMatchObject({ nodes: '3', packets: '2', jobsDone: '1', otaApplied: '2', detections: '1', delivered: '1' });
    const jobs = await page.$$eval('#jobs li', (items) => items.map((li) => [li.dataset.state, li.textContent ?? '']));
    expect(jobs).toEqual([
      ['done', expect.stringMatching(/^classify-7 from phone-a: done in 6\.0 s.*offload: gateway \(LoRa, 1 hop\)/)],
      ['failed', expect.stringMatching(/^classify-8 from phone-b: failed/)],
    ]);
    expect(await page.textContent('#ota')).toMatch(/kws-v2 \(4096 B\): 2\/2 applied/);
    const log = await page.$$eval('#log li', (items) => items.map((li) => [li.className, li.textContent ?? '']));
    expect(log).toContainEqual(['log-detection', '0:00:15 phone-b heard "help" (score 0.93)']);
    expect(log).toContainEqual(['log-warning', '0:00:04 gateway router warning: kind self-blocked, message this radio (gateway, role ROUTER) drops port 256']);
    expect(log.map(([, t]) => t).join('\n')).not.toMatch(/[{}]|!1000000/);
    // Hover: the short name and the node id.
    const [x, y] = (await page.evaluate((n) => (window as never as { compotasticViewer: { nodeScreen(n: number): [number, number] } }).compotasticViewer.nodeScreen(n), PHONE_A))!;
    await page.mouse.move(x, y);
    await page.waitForSelector('#tooltip:not([hidden])', { timeout: 10_000 });
    expect(await page.textContent('#tooltip')).toMatch(/^phone-a !10000002\nphone, client, up/);
    // Select phone-a: its last message went phone-a -> gateway -> phone-b, two hops drawn.
    await page.mouse.click(x, y);
    await shows(page, 'routeHops', '2');
    expect(await page.textContent('#node-info')).toMatch(/route drawn: its last message .* heard by 2 nodes/);
    expect((await state(page)).links).toBe('2');
    await seek(page, 1500); // before the gateway relayed it: one link heard so far, one hop of the route
    expect(await state(page)).toMatchObject({ links: '1', routeHops: '1' });
    await page.screenshot({ path: join(artifacts, 'viewer-route.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('seeks with the timeline, back and forth; shows the trace\'s own scenario and seed; the clock reads the run\'s length', async () => {
    const { page, errors } = await replayedSmallTrace(DESKTOP);
    expect(await page.textContent('#time')).toBe('0:00:30 / 0:00:30 (100%)');
    expect(await page.textContent('#status')).toBe('complete');
    expect(await page.inputValue('#scenario')).toBe('urban-canyon');
    expect(await page.inputValue('#seed')).toBe('42');
    await seek(page, 1500);
    expect(await state(page)).toMatchObject({ packets: '1', jobsDone: '0', otaApplied: '0' });
    expect(await page.textContent('#time')).toBe('0:00:01 / 0:00:30 (5%)');
    await seek(page, 9500);
    expect(await state(page)).toMatchObject({ packets: '2', jobsDone: '1', otaApplied: '0' });
    expect(await page.textContent('#status')).toMatch(/^paused · replaying test-trace.jsonl/);
    // A trace without a run header: the controls say so instead of showing the last scenario.
    await page.goto(`${served.base}?trace=no-header.jsonl&speed=max`);
    await finished(page);
    expect(await page.$eval('#scenario', (s) => (s as HTMLSelectElement).selectedOptions[0]!.textContent)).toBe('not recorded in the trace');
    expect(await page.inputValue('#seed')).toBe('');
    expect((await state(page)).basemap).toBe('no-origin'); // nowhere on Earth to put it: the plain background
    expect(errors).toEqual([]);
    await page.close();
  });

  it('counts "delivered" as the simulator does, and replays the valid part of a truncated trace with a visible error', async () => {
    const { page, errors } = await watchedPage(browser, served.base, DESKTOP);
    await page.goto(`${served.base}?trace=sim-trace.jsonl&speed=max`);
    await finished(page);
    expect(sim.sent).toBeGreaterThan(0);
    await shows(page, 'delivered', String(sim.delivered));
    expect(await page.textContent('#stats')).toContain(`${sim.delivered} / ${sim.sent}`);
    // The run header `pnpm sim --trace` writes first: the controls show the trace's own scenario and seed.
    expect(await page.inputValue('#scenario')).toBe('urban-canyon');
    expect(await page.inputValue('#seed')).toBe('5');
    expect(await page.isVisible('#notice')).toBe(false);

    await page.goto(`${served.base}?trace=cut-trace.jsonl&speed=max`);
    await finished(page);
    const kept = sim.lines.slice(0, cutAt).map((l) => JSON.parse(l) as { ev: string });
    await shows(page, 'packets', String(kept.filter((e) => e.ev === 'tx_start').length));
    expect(await page.isVisible('#notice')).toBe(true);
    expect(await page.textContent('#notice')).toMatch(new RegExp(`cut-trace.jsonl is damaged at line ${cutAt + 1}: .*truncated.*replaying the ${cutAt} events before it`));
    const style = await page.$eval('#notice', (n) => getComputedStyle(n).fontSize);
    expect(parseFloat(style)).toBeGreaterThanOrEqual(13);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('says what is wrong with URL parameters: ?speed=7 plays at 10x, ?scenario=bogus is an error; ?tiles=off fetches no tile', async () => {
    const { page, errors, offsite } = await watchedPage(browser, served.base, DESKTOP);
    await page.goto(`${served.base}?trace=test-trace.jsonl&speed=max&tiles=off`);
    await finished(page);
    await shows(page, 'nodes', '3');
    expect((await state(page)).basemap).toBe('off');
    expect(offsite).toEqual([]);
    await page.goto(`${served.base}?trace=test-trace.jsonl&speed=7`);
    expect(await page.textContent('#notice')).toMatch(/speed 7 is not one of .*playing at 10x/);
    expect(await page.inputValue('#speed')).toBe('10');
    await shows(page, 'nodes', '3'); // playing: the trace is loaded and the clock moves
    await seek(page, 29_000, { playing: true }); // the trace plays on from here (at 10x) to its end: not frozen
    await finished(page);
    await page.goto(`${served.base}?scenario=bogus&autostart=1`);
    await page.waitForFunction(() => document.body.dataset.state === 'error', undefined, { timeout: 10_000 });
    expect(await page.isVisible('#notice')).toBe(true);
    expect(await page.textContent('#notice')).toMatch(/unknown scenario "bogus"/);
    expect(await page.textContent('#status')).toMatch(/unknown scenario "bogus"/);
    // The counters are written each frame: let two frames pass before reading them.
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    expect((await state(page)).nodes).toBe('0'); // nothing started
    expect(errors).toEqual([]);
    await page.close();
  });

  it('runs a radio scenario in the worker: every node and packet shown, the clock ends at the run\'s length, "complete"', async () => {
    const { page, errors } = await watchedPage(browser, served.base, DESKTOP);
    await page.goto(served.base);
    await page.selectOption('#scenario', 'urban-canyon');
    await page.selectOption('#mode', 'radio');
    await page.fill('#nodes', '12'); // a small mesh: the same code paths, a fraction of the simulation
    // Start at 60x and pause: the worker runs the whole simulation meanwhile, but the simulated clock stands still.
    // Then resume as fast as it runs, to the end.
    await page.selectOption('#speed', '60');
    await page.click('#start');
    await page.click('#pause');
    expect(await page.textContent('#pause')).toBe('Resume');
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'paused', undefined, { timeout: 60_000 });
    const pausedAt = await page.textContent('#time');
    await page.waitForTimeout(300);
    expect(await page.textContent('#time')).toBe(pausedAt);
    await page.selectOption('#speed', 'max');
    await page.click('#pause');
    await finished(page);
    const scenario = resolveScenario(applyOverrides(builtinScenario('urban-canyon'), { 'nodes.count': 12 }));
    const want = { nodes: new Set<unknown>(), packets: 0 };
    new Simulation(scenario, {
      seed: 1,
      trace: (e) => {
        if (e.ev === 'node_info') want.nodes.add(e.node);
        if (e.ev === 'tx_start') want.packets++;
      },
    }).run();
    expect(want.packets).toBeGreaterThan(50);
    await shows(page, 'packets', String(want.packets));
    expect(Number((await state(page)).nodes)).toBe(want.nodes.size);
    const s = scenario.durationMs / 1000;
    const end = `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
    expect(await page.textContent('#time')).toBe(`${end} / ${end} (100%)`);
    expect(await page.textContent('#status')).toBe('complete');
    // The node list and the charts.
    await page.click('#tabs button[data-tab="nodes"]');
    await page.waitForFunction((n) => document.querySelectorAll('#node-list tbody tr').length === n, want.nodes.size, { timeout: 10_000 });
    expect(await page.$$eval('#node-list tbody tr td:nth-child(3)', (tds) => tds.filter((td) => /dB$/.test(td.textContent ?? '')).length)).toBeGreaterThan(0);
    await page.click('#tabs button[data-tab="charts"]');
    await page.waitForFunction(() => Number(document.querySelector<HTMLCanvasElement>('canvas[data-chart="util"]')?.dataset.points) > 5, undefined, { timeout: 10_000 });
    expect(Number(await page.$eval('canvas[data-chart="airtime"]', (c) => (c as HTMLCanvasElement).dataset.points))).toBeGreaterThan(0);
    await page.screenshot({ path: join(artifacts, 'viewer-radio-charts.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a 2000-node swarm says it is setting up, with a running count of seconds', async () => {
    const { page, errors } = await watchedPage(browser, served.base, DESKTOP);
    await page.goto(served.base);
    await page.selectOption('#mode', 'radio');
    await page.fill('#nodes', '2000');
    await page.click('#start');
    await page.waitForFunction(() => /setting up 2000 nodes… \d+ s/.test(document.getElementById('status')?.textContent ?? ''), undefined, { timeout: 30_000 });
    expect((await state(page)).phase).toBe('setup');
    expect(errors).toEqual([]);
    await page.close(); // ends the worker
  });

  it.runIf(E2E)('e2e (pnpm e2e): runs the compute swarm: nodes, packets and a finished job appear, and the OTA update lands', async () => {
    const { page, errors } = await watchedPage(browser, served.base, { width: 1400, height: 900 });
    await page.goto(served.base);
    await page.selectOption('#scenario', 'disaster-zone');
    await page.selectOption('#mode', 'demo');
    await page.selectOption('#speed', 'max');
    await page.click('#start');
    await page.waitForFunction(() => Number(document.body.dataset.nodes) > 0 && Number(document.body.dataset.packets) > 0, undefined, { timeout: 120_000 });
    await page.waitForFunction(() => Number(document.body.dataset.jobsDone) >= 1, undefined, { timeout: 150_000 });
    const jobs = await page.$$eval('#jobs li[data-state="done"]', (items) => items.map((li) => li.textContent ?? ''));
    expect(jobs.length).toBeGreaterThanOrEqual(1);
    expect(jobs[0]).toMatch(/classify-\d/);
    expect(await page.textContent('#log')).toMatch(/asks for a vibration classification/);
    await page.waitForFunction(() => Number(document.body.dataset.otaApplied) >= 1, undefined, { timeout: 150_000 });
    expect(await page.textContent('#ota')).toMatch(/applied/);
    await page.screenshot({ path: join(artifacts, 'viewer-demo.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});
