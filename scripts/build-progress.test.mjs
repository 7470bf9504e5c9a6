// node --test scripts/: the build's progress lines, from recorded turbo output and from a stand-in turbo.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { plannedTasks, progressFilter, runBuild } from './build-progress.mjs';

// `turbo run build --filter=@compotastic/sim --dry=json`, cut to the fields read: sim needs mesh built first.
const SIM_PLAN = JSON.stringify({
  tasks: [
    { taskId: '@compotastic/mesh#build', task: 'build', package: '@compotastic/mesh', cache: { status: 'HIT' } },
    { taskId: '@compotastic/sim#build', task: 'build', package: '@compotastic/sim', cache: { status: 'MISS' } },
  ],
});

test('the plan counts the dependency tasks a --filter pulls in, and the ones already built', () => {
  assert.deepEqual(plannedTasks(SIM_PLAN), { total: 2, cached: 1 });
  assert.throws(() => plannedTasks('{"id":"x"}'), TypeError);
});

test('one line per finished task counted against the whole plan, never [2/1]', () => {
  let wall = 0;
  const filter = progressFilter(plannedTasks(SIM_PLAN), () => wall);
  const log = [
    '   • turbo 2.11.11',
    '   • Running build in 1 packages', // turbo counts the filtered package only
    '',
    '@compotastic/mesh:build: cache hit, suppressing logs 94a7d33f3194b03b',
    '@compotastic/sim:build: cache miss, executing 99',
    '@compotastic/sim:build: ',
    '@compotastic/sim:build: > @compotastic/sim@0.1.0 build /repo/packages/sim',
    '@compotastic/sim:build: > tsc -p tsconfig.build.json',
    ' Tasks:    2 successful, 2 total',
  ];
  const out = log.flatMap((line) => {
    wall += 1000;
    return filter(line);
  });
  assert.deepEqual(out, [
    'building 2 packages (1 to compile, 1 already built): one line as each finishes',
    '[1/2] @compotastic/mesh (already built)  4 s',
    '[2/2] @compotastic/sim  5 s',
    ' Tasks:    2 successful, 2 total',
  ]);
});

test('a compiler error is shown in full, every line of it', () => {
  const filter = progressFilter({ total: 1, cached: 0 }, () => 0);
  const out = [
    '@compotastic/sim:build: cache miss, executing 99',
    "@compotastic/sim:build: src/cli.ts(3,1): error TS2322: Type 'string' is not assignable to type 'number'.",
    "@compotastic/sim:build:   Property 'x' is missing in type 'A'.",
    '@compotastic/sim#build: command (/repo/packages/sim) pnpm run build exited (2)',
    ' ERROR  run failed: command  exited (2)',
  ].flatMap(filter);
  assert.deepEqual(out, [
    '[1/1] @compotastic/sim  0 s',
    "    src/cli.ts(3,1): error TS2322: Type 'string' is not assignable to type 'number'.",
    "      Property 'x' is missing in type 'A'.",
    '@compotastic/sim#build: command (/repo/packages/sim) pnpm run build exited (2)',
    ' ERROR  run failed: command  exited (2)',
  ]);
});

test('without a readable plan the progress still runs, with an unknown total', () => {
  const filter = progressFilter(undefined, () => 0);
  assert.deepEqual(filter('   • Running build in 1 packages'), [
    'building: one line as each package finishes (a first build takes minutes)',
  ]);
  assert.deepEqual(filter('@compotastic/mesh:build: cache miss, executing 1'), ['[1/?] @compotastic/mesh  0 s']);
});

test('runBuild passes the arguments to turbo, prints progress and returns turbo’s exit code', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'build-progress-'));
  const turbo = join(dir, 'turbo');
  // A stand-in for turbo: the plan for --dry=json, else a failing build's log on stdout and its error on stderr.
  writeFileSync(
    turbo,
    `#!/usr/bin/env node
const args = process.argv.slice(2);
if (!args.includes('--filter=@compotastic/sim')) { console.error('no filter passed'); process.exit(9); }
if (args.includes('--dry=json')) { console.log(${JSON.stringify(SIM_PLAN)}); process.exit(0); }
console.log('   • Running build in 1 packages');
console.log('@compotastic/mesh:build: cache hit, suppressing logs 1');
console.log('@compotastic/sim:build: src/a.ts(1,1): error TS1005: ";" expected.');
console.error(' ERROR  run failed: command  exited (2)');
process.exit(2);
`,
  );
  chmodSync(turbo, 0o755);
  let printed = '';
  const code = await runBuild(turbo, ['--filter=@compotastic/sim'], (text) => {
    printed += text;
  });
  assert.equal(code, 2);
  assert.match(printed, /^building 2 packages \(1 to compile, 1 already built\)/);
  assert.match(printed, /\[1\/2\] @compotastic\/mesh \(already built\)/);
  assert.match(printed, /\[2\/2\] @compotastic\/sim {2}\d+ s\n {4}src\/a\.ts\(1,1\): error TS1005: ";" expected\./);
  assert.match(printed, /ERROR {2}run failed/);
});
