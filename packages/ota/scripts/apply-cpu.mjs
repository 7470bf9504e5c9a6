/* global process, console */
// CPU time of applying patches with the kernel decoder against bspatch, measured in one run, alternating, with
// medians; and the patch sizes against bsdiff's. With --before, a second build of this package (and its kernel)
// is measured in the same rounds, so a change to the patch format is compared with what it replaces.
//
//   pnpm --filter @compotastic/ota build
//   node packages/ota/scripts/apply-cpu.mjs [--runs 5] [--before OTA_DIR KERNEL_DIR] --pair OLD NEW [--pair OLD NEW]...
//
// OTA_DIR and KERNEL_DIR are package folders with a built dist/. bsdiff and bspatch (Debian package `bsdiff`) must
// be on the PATH.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadKernel } from '@compotastic/kernel';
import { applyPatch, createPatch } from '../dist/index.js';

const args = process.argv.slice(2);
const pairs = [];
let runs = 5;
let before = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--pair') pairs.push([args[++i], args[++i]]);
  else if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--before') before = [resolve(args[++i]), resolve(args[++i])];
  else throw new Error(`unknown argument ${args[i]}`);
}
if (!pairs.length || !(runs >= 1)) throw new Error('usage: apply-cpu.mjs [--runs N] [--before OTA_DIR KERNEL_DIR] --pair OLD NEW...');

const ours = { name: 'ours', createPatch, applyPatch, kernel: await loadKernel({ build: 'simd' }) };
const contenders = [ours];
if (before) {
  const ota = await import(pathToFileURL(join(before[0], 'dist/index.js')).href);
  const k = await import(pathToFileURL(join(before[1], 'dist/index.js')).href);
  contenders.push({ name: 'before', createPatch: ota.createPatch, applyPatch: ota.applyPatch, kernel: await k.loadKernel({ build: 'simd' }) });
}

function cpuMs(fn) {
  const t = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000;
}

/** Children's CPU time of one bspatch run, from the shell's `time` (rusage of the child). */
function bspatchMs(oldPath, patchPath, outPath) {
  const out = execFileSync('bash', ['-c', 'TIMEFORMAT="%3U %3S"; { time bspatch "$0" "$1" "$2" ; } 2>&1', oldPath, outPath, patchPath], { encoding: 'utf8' });
  const [u, s] = out.trim().split(/\s+/).slice(-2).map(Number);
  return (u + s) * 1000;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

const dir = mkdtempSync(join(tmpdir(), 'apply-cpu-'));
try {
  console.log(`load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}, ${runs} alternating runs, CPU ms medians`);
  console.log(`| pair | bsdiff B | ${contenders.map((c) => `${c.name} B | ${c.name}/bsdiff`).join(' | ')} | bspatch ms | ${contenders.map((c) => `${c.name} ms | ${c.name}/bspatch`).join(' | ')} |`);
  for (const [a, b] of pairs) {
    const old = new Uint8Array(readFileSync(a));
    const next = new Uint8Array(readFileSync(b));
    const bsPatch = join(dir, 'bsdiff');
    execFileSync('bsdiff', [a, b, bsPatch]);
    const bsBytes = statSync(bsPatch).size;
    const patches = contenders.map((c) => c.createPatch(c.kernel, old, next).patch);
    const times = [[], ...contenders.map(() => [])];
    for (let r = 0; r < runs; r++) {
      times[0].push(bspatchMs(a, bsPatch, join(dir, 'out')));
      contenders.forEach((c, i) => {
        let back;
        times[i + 1].push(cpuMs(() => { back = c.applyPatch(patches[i], old, { kernel: c.kernel }); }));
        if (!same(back, next)) throw new Error(`${c.name}: patch for ${b} does not rebuild it`);
      });
    }
    if (!same(new Uint8Array(readFileSync(join(dir, 'out'))), next)) throw new Error(`bspatch does not rebuild ${b}`);
    const bsMs = median(times[0]);
    const sizes = contenders.map((c, i) => `${patches[i].length} | ${(patches[i].length / bsBytes).toFixed(3)}`).join(' | ');
    const cpu = contenders.map((c, i) => `${median(times[i + 1]).toFixed(0)} | ${(median(times[i + 1]) / bsMs).toFixed(2)}`).join(' | ');
    console.log(`| ${basename(a)} -> ${basename(b)} | ${bsBytes} | ${sizes} | ${bsMs.toFixed(0)} | ${cpu} |`);
    writeFileSync(join(dir, 'out'), new Uint8Array(0));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
