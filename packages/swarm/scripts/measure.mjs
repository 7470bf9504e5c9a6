/* global process, console, performance, URL */
// Figures for the README: `pnpm measure [scenario] [seeds] [jobs.json] [--churn-fraction F] [--port N]` after
// `pnpm build`. Runs the swarm on several seeds and pools the jobs: completion rate and latency percentiles of
// finished jobs, failures by reason, and the wall time per run.
import { readFile } from 'node:fs/promises';
import { loadScenario } from '@compotastic/sim/node';
import { parseWorkload, runSwarm } from '../dist/index.js';

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const churn = flag('--churn-fraction');
const port = flag('--port');
const [scenarioName = 'disaster-zone', seedsArg = '10', jobsFile = new URL('../workloads/disaster-response.json', import.meta.url).pathname] = args;
const seeds = Array.from({ length: Number(seedsArg) }, (_, i) => i + 1);
const scenario = await loadScenario(scenarioName);
const workload = parseWorkload({ jobs: JSON.parse(await readFile(jobsFile, 'utf8')) });
const overrides = churn === undefined ? undefined : { 'availability.fraction': Number(churn) };
const pooled = { submitted: 0, done: 0, failed: 0, lost: 0, ownerOffline: 0, mismatches: 0, reasons: {}, latencies: [], perSeed: [] };
let wall = 0;
for (const seed of seeds) {
  const t0 = performance.now();
  const { report, jobs } = await runSwarm(scenario, { seed, workload, overrides, orchestrator: port ? { portnum: Number(port) } : undefined });
  wall += performance.now() - t0;
  const j = report.jobs;
  pooled.submitted += j.submitted;
  pooled.done += j.done;
  pooled.failed += j.failed;
  pooled.lost += j.lost;
  pooled.ownerOffline += j.ownerOffline;
  pooled.mismatches += j.mismatches;
  for (const [k, v] of Object.entries(j.failedByReason)) pooled.reasons[k] = (pooled.reasons[k] ?? 0) + v;
  for (const r of jobs) if (r.outcome?.status === 'done') pooled.latencies.push(r.outcome.latencyMs);
  pooled.perSeed.push(`${seed}: ${j.done}/${j.submitted}`);
  process.stderr.write(`\rseed ${seed}: ${j.done}/${j.submitted} done`);
}
process.stderr.write('\n');
const lat = pooled.latencies.sort((a, b) => a - b);
const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)] / 1000 : 0);
console.log(`${scenarioName}${churn !== undefined ? ` (churn fraction ${churn})` : ''}${port ? ` port ${port}` : ''}, seeds ${seeds[0]}..${seeds.at(-1)}, workload ${jobsFile.split('/').pop()}`);
console.log(`jobs: ${pooled.submitted} submitted, ${pooled.done} done (${((pooled.done / pooled.submitted) * 100).toFixed(1)}%), ${pooled.failed} failed ${JSON.stringify(pooled.reasons)}, ${pooled.lost} lost, ${pooled.ownerOffline} not done because their owner is switched off at the end, ${pooled.mismatches} wrong results`);
console.log(`latency of finished jobs (s): p50 ${q(0.5).toFixed(1)}, p90 ${q(0.9).toFixed(1)}, p95 ${q(0.95).toFixed(1)}, p99 ${q(0.99).toFixed(1)}, max ${((lat.at(-1) ?? 0) / 1000).toFixed(1)}`);
console.log(`per seed: ${pooled.perSeed.join(', ')}`);
console.log(`wall time: ${(wall / seeds.length / 1000).toFixed(1)} s per simulated run`);
