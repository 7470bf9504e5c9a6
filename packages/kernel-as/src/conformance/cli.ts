#!/usr/bin/env node
// conformance <dir> [--build scalar|simd|relaxed|all]
// Runs every *.json case in <dir> and its subdirectories on the chosen builds
// (so the conformance root and its kernel/ folder both work); prints one line per failure,
// a summary per build, and ends with "N passed, M failed" (N and M count
// case x build runs). Exits non-zero when anything fails.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadKernel, KERNEL_BUILDS, type KernelBuild } from '../loader.js';
import { enableRelaxedSimd } from '../node.js';
import { parseCase, runCase, type ConformanceCase } from './index.js';

const USAGE = `Usage: conformance <dir> [--build scalar|simd|relaxed|all]
Runs every *.json case under <dir> (subfolders too) on the chosen kernel builds; one line per failure, a summary per
build, then "N passed, M failed". Exits 1 when anything fails or no case is found, 2 on a usage mistake.

Options:
  --build B      scalar, simd, relaxed or all (default all); also --build=B
  --help, -h     this text`;

function usage(message: string): never {
  console.error(`error: ${message} (see --help)`);
  process.exit(2);
}

function parseArgs(argv: string[]): { dir: string; builds: KernelBuild[] } {
  let dir: string | undefined;
  let build = 'all';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (a === '--build') build = argv[++i] ?? usage('--build needs a value');
    else if (a.startsWith('--build=')) build = a.slice('--build='.length);
    else if (a === '--') continue;
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (dir === undefined) dir = a;
    else usage(`unexpected argument ${a}`);
  }
  if (!dir) usage('missing the case directory');
  if (build !== 'all' && !KERNEL_BUILDS.includes(build as KernelBuild)) usage(`unknown build '${build}'`);
  return { dir: resolve(process.env.INIT_CWD ?? process.cwd(), dir), builds: build === 'all' ? [...KERNEL_BUILDS] : [build as KernelBuild] };
}

/** *.json files under dir, depth first, as sorted paths relative to dir. */
function caseFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'node_modules') out.push(...caseFiles(dir, rel));
    else if (entry.isFile() && entry.name.endsWith('.json')) out.push(rel);
  }
  return out;
}

async function main(): Promise<void> {
  const { dir, builds } = parseArgs(process.argv.slice(2));
  if (builds.includes('relaxed')) enableRelaxedSimd();
  let files: string[];
  try {
    if (!statSync(dir).isDirectory()) usage(`${dir} is not a directory`);
    files = caseFiles(dir);
  } catch (err) {
    usage(`cannot read ${dir}: ${(err as Error).message}`);
  }
  const cases: { file: string; c?: ConformanceCase; error?: string }[] = files.map((file) => {
    try {
      return { file, c: parseCase(JSON.parse(readFileSync(join(dir, file), 'utf8'))) };
    } catch (err) {
      return { file, error: `malformed case: ${(err as Error).message}` };
    }
  });
  let passed = 0;
  let failed = 0;
  for (const build of builds) {
    let kernel;
    try {
      kernel = await loadKernel({ build });
    } catch (err) {
      console.log(`FAIL [${build}] all ${cases.length} cases: ${(err as Error).message}`);
      failed += cases.length;
      continue;
    }
    let buildPassed = 0;
    for (const { file, c, error } of cases) {
      const result = c ? runCase(kernel, c) : { passed: false, reason: error, maxDiff: Infinity };
      if (result.passed) {
        buildPassed++;
      } else {
        console.log(`FAIL [${build}] ${file}: ${result.reason}`);
      }
      kernel.reset();
    }
    passed += buildPassed;
    failed += cases.length - buildPassed;
    console.log(`${build}: ${buildPassed}/${cases.length} cases passed`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 || cases.length === 0 ? 1 : 0;
}

await main();
