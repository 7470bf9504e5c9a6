// Writes docs/viewer.png, the screenshot the root README shows: runs the
// `pnpm start` story (disaster-zone, the scenario's seed) in Node, replays its
// trace in the built viewer at 1280x800 without map tiles (the picture does not
// depend on a tile server), seeks to the first delegated job while it runs and
// selects the node that asked for it.
//   pnpm --filter @compotastic/viewer screenshot [-- --out FILE]

import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { runDemo } from '@compotastic/demo';
import { applyOverrides, builtinScenario, resolveScenario } from '@compotastic/sim';
import { ensureBuilt, launchChromium, root, serveViewer, watchedPage } from '../test/serve.js';

const SCENARIO = 'disaster-zone';
const outArg = process.argv.indexOf('--out');
const out = resolve(outArg > 0 ? process.argv[outArg + 1]! : join(root, '..', '..', 'docs', 'viewer.png'));

ensureBuilt();
const scenario = resolveScenario(applyOverrides(builtinScenario(SCENARIO), {}));
const lines: string[] = [JSON.stringify({ t: 0, ev: 'run', scenario: SCENARIO, seed: scenario.seed, durationMs: scenario.durationMs, origin: scenario.origin })];
let firstJob: { t: number; node: number } | null = null;
process.stderr.write(`running the ${SCENARIO} story (seed ${scenario.seed}) for its trace…\n`);
const summary = await runDemo({
  scenario: SCENARIO,
  trace: (e) => {
    lines.push(JSON.stringify(e));
    const ev = e as { t: number; ev: string; type?: string; node?: number };
    if (!firstJob && ev.ev === 'app' && ev.type === 'job_planned' && typeof ev.node === 'number') firstJob = { t: ev.t, node: ev.node };
  },
});
const job = firstJob as { t: number; node: number } | null;
if (!job) throw new Error('the story planned no job: nothing to show');
process.stderr.write(`${lines.length} events, ${summary.jobs.done} jobs done; taking the screenshot…\n`);

const served = await serveViewer({ 'story.jsonl': () => lines.join('\n') });
const browser = await launchChromium();
try {
  const { page, errors } = await watchedPage(browser, served.base, { width: 1280, height: 800 });
  await page.goto(`${served.base}?trace=story.jsonl&speed=max&tiles=off`);
  await page.waitForFunction(() => document.body.dataset.state === 'finished', undefined, { timeout: 300_000 });
  const at = Math.round(job.t + 4000);
  await page.$eval('#timeline', (el, v) => {
    (el as HTMLInputElement).value = String(v);
    el.dispatchEvent(new Event('input'));
    el.dispatchEvent(new Event('change'));
  }, at);
  await page.waitForFunction((v) => document.body.dataset.simulatedMs === String(v), at, { timeout: 30_000 });
  const xy = await page.evaluate((n) => (window as never as { compotasticViewer: { nodeScreen(n: number): [number, number] | null } }).compotasticViewer.nodeScreen(n), job.node);
  if (xy) await page.mouse.click(xy[0], xy[1]);
  await page.mouse.move(1, 1);
  await page.waitForTimeout(500); // one panel refresh
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out });
  if (errors.length) throw new Error(`the page reported errors: ${errors.join('; ')}`);
  process.stdout.write(`wrote ${out} (${Math.round(statSync(out).size / 1024)} KB)\n`);
} finally {
  await browser.close();
  await served.close();
}
