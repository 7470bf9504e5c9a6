#!/usr/bin/env node
// Brings node_modules in line with pnpm-lock.yaml before the tests, the demo or the bench run.
// After a pull that adds a dependency, a stale install fails deep inside a build ("failed to
// resolve import ...") instead of saying what is wrong. pnpm keeps a copy of the lockfile it
// installed in node_modules/.pnpm/lock.yaml, so a byte comparison tells whether the install is
// current without touching the network.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const installed = 'node_modules/.pnpm/lock.yaml';
const current =
  existsSync(installed) && readFileSync(installed).equals(readFileSync('pnpm-lock.yaml'));
if (current) process.exit(0);

console.error('node_modules does not match pnpm-lock.yaml: running pnpm install --frozen-lockfile');
const install = spawnSync('pnpm', ['install', '--frozen-lockfile'], { stdio: 'inherit' });
if (install.status !== 0) {
  console.error('pnpm install --frozen-lockfile failed; fix the error above and run the command again.');
  process.exit(1);
}
