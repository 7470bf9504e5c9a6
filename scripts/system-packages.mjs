#!/usr/bin/env node
// Makes sure the Debian packages the test suite drives are installed, before `pnpm test` runs:
// wabt (wasm2c, wasm-objdump) and gcc for the kernel's C host and ABI checks, bsdiff and zstd for the OTA
// patch comparisons (the bench's peers, run by CI's gates after the tests), chromium for the web viewer's browser test, socat for the serial tests,
// espeak-ng and sox for the speech the wake-word tests synthesize.
//
// Missing packages are installed with apt-get when this process may do so (it runs as root, or
// sudo works without a password). Otherwise it stops at once and prints the exact command to run,
// rather than letting tests fail later with a less clear error.
//
// With Debian package names as arguments (`node scripts/system-packages.mjs espeak-ng sox`), only those are checked:
// pnpm start asks for the speech tools of its acoustic story that way.
import { spawnSync } from 'node:child_process';

/** A command the tests run, and the Debian package that provides it. */
const NEEDED = [
  { command: 'wasm2c', pkg: 'wabt' },
  { command: 'wasm-objdump', pkg: 'wabt' },
  { command: 'gcc', pkg: 'gcc' },
  { command: 'bsdiff', pkg: 'bsdiff' },
  { command: 'zstd', pkg: 'zstd' },
  { command: process.env.CHROMIUM_PATH ?? 'chromium', pkg: 'chromium' },
  { command: 'socat', pkg: 'socat' },
  { command: 'espeak-ng', pkg: 'espeak-ng' },
  { command: 'sox', pkg: 'sox' },
];

const only = process.argv.slice(2);
const wanted = only.length ? NEEDED.filter((n) => only.includes(n.pkg)) : NEEDED;
const who = only.length ? 'This needs' : 'The tests need';

const has = (command) => spawnSync('sh', ['-c', `command -v "${command}"`], { stdio: 'ignore' }).status === 0;

const missing = [...new Set(wanted.filter((n) => !has(n.command)).map((n) => n.pkg))];
if (missing.length === 0) process.exit(0);

const list = missing.join(' ');
const manual = `sudo apt-get update && sudo apt-get install -y --no-install-recommends ${list}`;
const fail = (why) => {
  console.error(`${who} these Debian packages, which are not installed: ${list}.`);
  console.error(why);
  console.error(`Install them with:\n\n  ${manual}\n\nthen run ${only.length ? 'it' : 'the tests'} again.`);
  process.exit(1);
};

if (!has('apt-get')) fail('This machine has no apt-get, so they cannot be installed automatically.');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const sudoWorks = !isRoot && has('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
if (!isRoot && !sudoWorks) fail('Installing them needs root, and sudo asks for a password.');

console.log(`Installing the Debian packages ${only.length ? 'needed' : 'the tests need'}: ${list}`);
for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...missing]]) {
  const [cmd, argv] = isRoot ? ['apt-get', args] : ['sudo', ['-n', 'apt-get', ...args]];
  const r = spawnSync(cmd, argv, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) fail(`\`apt-get ${args[0]}\` failed (exit ${r.status ?? r.signal}).`);
}
const still = [...new Set(wanted.filter((n) => !has(n.command)).map((n) => n.pkg))];
if (still.length > 0) fail(`After installing, these are still missing: ${still.join(' ')}.`);
