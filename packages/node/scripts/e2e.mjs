#!/usr/bin/env node
/* global process, performance, Buffer, setTimeout, clearTimeout */
// The multi-process end to end: the simulator serves a five-radio scenario over TCP (and one radio on a
// pseudo-terminal), five separate `compotastic node` processes join it, one submits a job another runs (checked
// against the plain-TS reference), the laptop publishes a model as tailored delta bundles that three sensors install
// and confirm, and one sensor is SIGKILLed mid-transfer and restarted on the same state directory, where it resumes.
//
//   pnpm --filter @compotastic/node e2e -- --seed S [--json] [--keep]
//
// Exit code 0 when every check passed; the summary says what happened either way.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ReferenceExecutor } from '@compotastic/orchestrator';
import { controlRequest, randomGemmJob } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const nodeCli = join(here, '..', 'dist', 'cli.js');
const simCli = require.resolve('@compotastic/sim/cli');
const modelPrefix = join(dirname(require.resolve('@compotastic/model/build/vibration-mlp.int8.json')), 'vibration-mlp');

function parseArgs(argv) {
  const o = { seed: 1, json: false, keep: false, timeoutS: 600 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') continue;
    if (a === '--seed') o.seed = Number(argv[++i]);
    else if (a === '--json') o.json = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--timeout') o.timeoutS = Number(argv[++i]);
    else {
      process.stderr.write(`usage: e2e [--seed S] [--json] [--keep] [--timeout S]\nunknown argument ${a}\n`);
      process.exit(1);
    }
  }
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) {
    process.stderr.write('error: --seed expects a whole number 0..4294967295\n');
    process.exit(1);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const work = mkdtempSync(join(tmpdir(), 'compotastic-e2e-'));
const log = (s) => process.stderr.write(`[e2e ${((performance.now() - t0) / 1000).toFixed(1)}s] ${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = performance.now();
const children = new Set();

/** Waits until `probe` returns a truthy value (polling), or throws after `timeoutMs` with `what`. */
async function until(what, probe, timeoutMs, everyMs = 250) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let v;
    try {
      v = await probe();
    } catch {
      v = undefined;
    }
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

function spawnLogged(name, args) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const rec = { name, child, events: [], stderr: '', exit: null, listeners: new Set() };
  children.add(rec);
  createInterface({ input: child.stdout }).on('line', (line) => {
    let e;
    try {
      e = JSON.parse(line);
    } catch {
      return;
    }
    rec.events.push(e);
    for (const l of rec.listeners) l(e);
  });
  child.stderr.on('data', (d) => (rec.stderr += d.toString()));
  rec.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    rec.exit = signal ? signal : code;
    children.delete(rec);
    resolve(rec.exit);
  }));
  return rec;
}

function event(rec, type, timeoutMs) {
  const found = rec.events.find((e) => e.type === type);
  if (found) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      rec.listeners.delete(l);
      reject(new Error(`${rec.name}: no ${type} within ${timeoutMs} ms; stderr:\n${rec.stderr.slice(-2000)}`));
    }, timeoutMs);
    const l = (e) => {
      if (e.type !== type) return;
      clearTimeout(timer);
      rec.listeners.delete(l);
      resolve(e);
    };
    rec.listeners.add(l);
    rec.exited.then(() => {
      clearTimeout(timer);
      rec.listeners.delete(l);
      reject(new Error(`${rec.name} exited (${rec.exit}) before ${type}; stderr:\n${rec.stderr.slice(-2000)}`));
    });
  });
}

const summary = {
  seed: opts.seed,
  processes: 0,
  jobs: { submitted: 0, done: 0, failed: {}, lost: 0, matchesReference: null, worker: null },
  ota: { version: 1, bundles: [], installed: {}, confirmed: {} },
  restart: { node: 'sensor-b', fragmentsBeforeKill: null, resumedFragments: null, fragmentsAfterRestart: null },
  exitCodes: {},
  checks: {},
  ok: false,
  seconds: 0,
};

async function main() {
  // 1. The simulator serves the scenario: TCP for four radios, a pty for the fifth. Five ports from a base picked at
  // random; another base if one of them is taken.
  const serialPath = join(work, 'tty-sensor-serial');
  let basePort = 0;
  let sim = null;
  for (let attempt = 0; attempt < 5 && !sim; attempt++) {
    basePort = 20000 + Math.floor(Math.random() * 30000);
    const s = spawnLogged('sim', [
      simCli, '--scenario', join(here, 'e2e-scenario.json'), '--seed', String(opts.seed), '--serve', String(basePort),
      '--serve-serial', `sensor-serial=${serialPath}`, '--quiet',
    ]);
    const served = await until('the simulator to serve', () => /on pseudo-terminals/.test(s.stderr) || s.exit !== null, 30_000);
    if (served && s.exit === null) sim = s;
    else if (!/EADDRINUSE/.test(s.stderr)) throw new Error(`the simulator did not start: ${s.stderr.slice(-2000)}`);
  }
  if (!sim) throw new Error('no free ports for the simulator after 5 tries');
  log(`simulator serving on 127.0.0.1:${basePort}.. and ${serialPath}`);

  const stateOf = (name) => join(work, `state-${name}`);
  const roles = [
    { name: 'laptop', index: 0, args: ['--device-class', 'laptop'] },
    { name: 'jetson', index: 1, args: ['--device-class', 'jetson'] },
    // The sensors offer almost no memory, so the job must run elsewhere.
    { name: 'sensor-a', index: 2, args: ['--device-class', 'microcontroller', '--ram-mb', '0.002', '--no-onnx'] },
    { name: 'sensor-b', index: 3, args: ['--device-class', 'microcontroller', '--ram-mb', '0.002', '--no-onnx'] },
    { name: 'sensor-serial', index: 4, serial: true, args: ['--device-class', 'microcontroller', '--ram-mb', '0.002', '--no-onnx'] },
  ];
  const procs = new Map();
  const start = (role, trust) => {
    const radio = role.serial ? ['--serial', serialPath] : ['--tcp', `127.0.0.1:${basePort + role.index}`];
    const rec = spawnLogged(role.name, [
      nodeCli, 'node', ...radio, '--state', stateOf(role.name), '--json', '--seed', String((opts.seed * 16 + role.index) >>> 0),
      '--advert-interval', '60', ...(trust ? ['--trust', trust] : []), ...role.args,
    ]);
    summary.processes++;
    procs.set(role.name, rec);
    return rec;
  };

  // 2. Five node processes. The laptop first: its public key is what the sensors trust for updates.
  const laptop = start(roles[0]);
  const laptopStarted = await event(laptop, 'node_started', 60_000);
  const trust = laptopStarted.publicKey;
  for (const role of roles.slice(1)) start(role, trust);
  const started = new Map([['laptop', laptopStarted]]);
  for (const role of roles.slice(1)) started.set(role.name, await event(procs.get(role.name), 'node_started', 60_000));
  log(`nodes up: ${[...started].map(([n, e]) => `${n} ${e.node}`).join(', ')}`);
  const num = (name) => started.get(name).num;
  const status = (name) => controlRequest(join(stateOf(name), 'control.sock'), 'GET', '/status');

  // Discovery: the laptop knows the three sensors' kernels, sensor-a knows a worker.
  const sensors = ['sensor-a', 'sensor-b', 'sensor-serial'];
  await until('discovery', async () => {
    const l = await status('laptop');
    const a = await status('sensor-a');
    const known = (s, n) => s.peers.some((p) => p.num === num(n) && p.deviceClass !== null);
    return sensors.every((n) => known(l, n)) && (known(a, 'jetson') || known(a, 'laptop'));
  }, 240_000, 500);
  log('discovery complete');

  // 3. A job from sensor-a, run elsewhere, checked against the plain-TS reference.
  const job = randomGemmJob('8x64x32', opts.seed);
  summary.jobs.submitted = 1;
  const outcome = await controlRequest(join(stateOf('sensor-a'), 'control.sock'), 'POST', '/jobs', {
    spec: job.spec, input: Buffer.from(job.input).toString('base64'), tag: 'e2e-gemm', deadlineS: 300,
  });
  if (outcome.status === 'done') summary.jobs.done++;
  else summary.jobs.failed[outcome.reason ?? 'UNKNOWN'] = (summary.jobs.failed[outcome.reason ?? 'UNKNOWN'] ?? 0) + 1;
  summary.jobs.worker = outcome.workers?.map((w) => [...started].find(([, e]) => e.num === w)?.[0] ?? w);
  if (outcome.output) {
    const expected = await new ReferenceExecutor().run(job.spec, job.input);
    const got = Buffer.from(outcome.output, 'base64');
    summary.jobs.matchesReference = createHash('sha256').update(got).digest('hex') === createHash('sha256').update(expected).digest('hex');
  }
  log(`job ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ''} on ${summary.jobs.worker}; matches reference: ${summary.jobs.matchesReference}`);

  // 4. The laptop publishes model v1 as bundles tailored to the sensors (a delta against their factory image).
  const config = readFileSync(`${modelPrefix}.int8.json`);
  const weights = readFileSync(`${modelPrefix}.int8.bin`);
  const publishing = controlRequest(join(stateOf('laptop'), 'control.sock'), 'POST', '/publish-model', {
    config: config.toString('base64'), weights: weights.toString('base64'), version: 1, targets: sensors.map(num),
  });

  // 5. sensor-b is killed mid-transfer, then restarted on the same state directory.
  const victim = roles[3];
  const before = await until('sensor-b to be a quarter through the transfer', async () => {
    const s = await status(victim.name);
    const rx = s.ota.receiving;
    return rx.state === 'receiving' && rx.percent >= 25 && rx.needed > 0 ? rx : null;
  }, 240_000, 100);
  procs.get(victim.name).child.kill('SIGKILL');
  summary.exitCodes[`${victim.name} (killed)`] = await procs.get(victim.name).exited;
  summary.restart.fragmentsBeforeKill = before.useful + (before.resumed ?? 0);
  log(`sensor-b SIGKILLed at ${before.percent}% (${summary.restart.fragmentsBeforeKill} fragments)`);
  await sleep(1000);
  const restarted = start(victim, trust);
  const resumed = await event(restarted, 'ota_resumed', 60_000);
  summary.restart.resumedFragments = resumed.symbols;
  log(`sensor-b restarted and resumed with ${resumed.symbols} fragments from its saved progress`);

  const report = await publishing;
  for (const b of report.bundles) {
    summary.ota.bundles.push({ build: b.build, from: b.from, bytes: b.bytes, encodings: b.encodings, complete: b.report.complete, rounds: b.report.rounds });
  }
  for (const n of sensors) {
    const s = await until(`${n} to confirm v1`, async () => {
      const x = await status(n);
      return x.image.version === 1 && x.image.state === 'confirmed' ? x : null;
    }, 60_000, 250).catch(() => null);
    const x = s ?? (await status(n).catch(() => null));
    summary.ota.installed[n] = x?.image.version ?? null;
    summary.ota.confirmed[n] = x?.image.state === 'confirmed';
    if (n === victim.name && x) summary.restart.fragmentsAfterRestart = x.ota.receiving.useful;
  }
  log(`publish done: installed ${JSON.stringify(summary.ota.installed)}`);

  // Every process exits cleanly on SIGTERM.
  for (const [name, rec] of procs) {
    if (rec.exit !== null) continue;
    rec.child.kill('SIGTERM');
    summary.exitCodes[name] = await Promise.race([rec.exited, sleep(20_000).then(() => 'hung')]);
  }
  sim.child.kill('SIGTERM');
  summary.exitCodes.sim = await Promise.race([sim.exited, sleep(20_000).then(() => 'hung')]);
}

let failure = null;
const timer = setTimeout(() => {
  failure = `the run took over ${opts.timeoutS} s`;
  for (const rec of children) rec.child.kill('SIGKILL');
}, opts.timeoutS * 1000);
try {
  await main();
} catch (e) {
  failure ??= e.message;
} finally {
  clearTimeout(timer);
  for (const rec of children) rec.child.kill('SIGKILL');
}

const c = summary.checks;
c.fiveNodeProcesses = summary.processes >= 5;
c.jobDoneElsewhere = summary.jobs.done === 1 && Array.isArray(summary.jobs.worker) && !summary.jobs.worker.includes('sensor-a');
c.jobMatchesReference = summary.jobs.matchesReference === true;
c.deltaBundle = summary.ota.bundles.length > 0 && summary.ota.bundles.every((b) => b.from === 0 && b.encodings.some((e) => !e.endsWith(':full')));
c.threeReceiversConfirmed = ['sensor-a', 'sensor-b', 'sensor-serial'].every((n) => summary.ota.installed[n] === 1 && summary.ota.confirmed[n]);
c.resumedFromSavedProgress = (summary.restart.resumedFragments ?? 0) > 0;
c.cleanExits = Object.entries(summary.exitCodes).every(([k, v]) => (k.includes('killed') ? v === 'SIGKILL' : v === 0));
summary.ok = failure === null && Object.values(c).every(Boolean);
if (failure) summary.error = failure;
summary.seconds = Math.round((performance.now() - t0) / 100) / 10;
if (!opts.keep) rmSync(work, { recursive: true, force: true });
else summary.workDir = work;

if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
else {
  const lines = [
    `e2e seed ${summary.seed}: ${summary.ok ? 'passed' : 'FAILED'} in ${summary.seconds} s${failure ? ` (${failure})` : ''}`,
    `jobs: ${summary.jobs.done} done, failed ${JSON.stringify(summary.jobs.failed)}, lost ${summary.jobs.lost}; worker ${summary.jobs.worker}; matches reference ${summary.jobs.matchesReference}`,
    `ota: ${summary.ota.bundles.map((b) => `${b.bytes} B (${b.encodings.join(', ')})`).join('; ')}; installed ${JSON.stringify(summary.ota.installed)}`,
    `restart: ${summary.restart.fragmentsBeforeKill} fragments before the kill, ${summary.restart.resumedFragments} resumed from disk, ${summary.restart.fragmentsAfterRestart} received after`,
    `exit codes: ${JSON.stringify(summary.exitCodes)}`,
    `checks: ${Object.entries(c).map(([k, v]) => `${k} ${v ? 'ok' : 'FAILED'}`).join(', ')}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
process.exit(summary.ok ? 0 : 1);
