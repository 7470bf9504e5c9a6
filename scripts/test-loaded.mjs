#!/usr/bin/env node
// `pnpm test:loaded`: runs `pnpm test` while CPU hogs keep the machine's cores busy, the way a
// contributor's laptop or a shared CI runner is busy with other work. The suite must pass the same.
//
//   node scripts/test-loaded.mjs [--hogs N]   (default 2: one per core on a 2-core machine)
import { spawn } from 'node:child_process';

const at = process.argv.indexOf('--hogs');
const hogCount = at >= 0 ? Number(process.argv[at + 1]) : 2;
if (!Number.isInteger(hogCount) || hogCount < 0) {
  console.error(`--hogs needs a whole number of CPU hogs, got ${process.argv[at + 1]}`);
  process.exit(2);
}

// Each hog is its own process group so that it (and its shell) can be killed as one.
const hogs = Array.from({ length: hogCount }, () =>
  spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore', detached: true }),
);
const stopHogs = () => {
  for (const h of hogs) {
    try {
      process.kill(-h.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
};
process.on('exit', stopHogs);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

console.log(`pnpm test beside ${hogCount} CPU hog(s)`);
const started = Date.now();
const test = spawn('pnpm', ['test'], { stdio: 'inherit' });
test.on('exit', (code, signal) => {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const outcome = code === 0 ? 'passed' : `failed (${signal ?? `exit ${code}`})`;
  console.log(`\npnpm test beside ${hogCount} CPU hog(s): ${outcome} in ${seconds} s wall time`);
  process.exit(code ?? 1);
});
