/* global process, console, performance */
// Prints the package's headline figures: patch size against bsdiff on pairs of real binaries, fountain-code
// overhead at 0/10/30% loss, and the airtime of a 30-node rollout against per-node unicast.
//
//   pnpm --filter @compotastic/ota build
//   node packages/ota/scripts/figures.mjs [--pair OLD NEW]... [--quick]
//
// bsdiff (Debian package `bsdiff`) is run when it is on the PATH.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadKernel } from '@compotastic/kernel';
import { Simulation } from '@compotastic/sim';
import { applyPatch, compareRolloutAirtime, createPatch, measureFecOverhead } from '../dist/index.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const pairs = [];
for (let i = 0; i < args.length; i++) if (args[i] === '--pair') pairs.push([args[i + 1], args[i + 2]]);

function bsdiffSize(oldPath, newPath) {
  const dir = mkdtempSync(join(tmpdir(), 'bsdiff-'));
  try {
    const out = join(dir, 'patch');
    execFileSync('bsdiff', [oldPath, newPath, out]);
    return statSync(out).size;
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (pairs.length) {
  const kernel = await loadKernel();
  console.log('## Patch size (bytes)');
  console.log('| pair | new image | bsdiff | ours | ours/bsdiff | diff s | apply s | apply RAM |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const [a, b] of pairs) {
    const old = new Uint8Array(readFileSync(a));
    const next = new Uint8Array(readFileSync(b));
    let t = performance.now();
    const { patch } = createPatch(kernel, old, next);
    const diffS = (performance.now() - t) / 1000;
    t = performance.now();
    const back = applyPatch(patch, old);
    const applyS = (performance.now() - t) / 1000;
    if (back.length !== next.length || !back.every((x, i) => x === next[i])) throw new Error(`patch for ${b} does not rebuild it`);
    const bs = bsdiffSize(a, b);
    console.log(`| ${basename(a)} -> ${basename(b)} | ${next.length} | ${bs ?? 'n/a'} | ${patch.length} | ${bs ? (patch.length / bs).toFixed(3) : 'n/a'} | ${diffS.toFixed(1)} | ${applyS.toFixed(1)} | <= 64 KiB |`);
  }
}

console.log('\n## Fountain-code overhead, 64 KiB bundle, 225-byte symbols (symbols sent per source symbol)');
console.log('| loss | trials | mean | p99 | bound 1.05/(1-p) |');
console.log('|---:|---:|---:|---:|---:|');
for (const loss of [0, 0.1, 0.3]) {
  const s = measureFecOverhead({ bytes: 65536, loss, trials: quick ? 20 : 200, seed: 1 });
  console.log(`| ${loss * 100}% | ${s.trials} | ${s.mean.toFixed(4)} | ${s.p99.toFixed(4)} | ${s.bound.toFixed(4)} |`);
}

console.log('\n## 64 KiB to 30 nodes, LONG_FAST, 20% link loss: broadcast vs unicast with want_ack (same scenario and seed)');
const c = compareRolloutAirtime((sc) => new Simulation(sc), { receivers: 30, loss: 0.2, bundleBytes: 65536, seed: 42 });
const h = (ms) => (ms === null ? 'n/a' : (ms / 3600_000).toFixed(2) + ' h');
console.log(`broadcast: ${c.broadcast.delivered}/30 delivered in ${h(c.broadcast.finishedAtMs)}, airtime ${(c.broadcast.airtimeMs / 1000).toFixed(0)} s, ` +
  `${c.broadcast.report?.sourceSymbols} source + ${c.broadcast.report?.repairSymbols} repair symbols, ${c.broadcast.report?.rounds} rounds`);
console.log(`unicast:   ${c.unicast.delivered}/30 delivered in ${h(c.unicast.finishedAtMs)}, airtime ${(c.unicast.airtimeMs / 1000).toFixed(0)} s, ${c.unicast.attempts} sends`);
console.log(`airtime ratio broadcast/unicast: ${c.ratio.toFixed(4)}`);
