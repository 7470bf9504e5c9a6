/* global process, console, performance, URL */
// Figures for the READMEs, after `pnpm build`:
//   pnpm measure [scenario] [seeds] [jobs.json] [--churn-fraction F] [--port N] [--profile NAME] [--json]
// `seeds` is a count (10: seeds 1..10), a range (101-106) or a list (1,4,9). Runs the swarm on every seed and pools
// the jobs per priority class: submitted, done within their deadline, failed by reason, lost, latency p50/p95 of the
// finished ones, airtime on the orchestrator's port per completed job (every transmission of its packets, relays
// included; routing ACKs are not attributed) and the mean channel utilization the nodes measured.
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
const toggle = (name) => {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
};
const churn = flag('--churn-fraction');
const port = flag('--port');
const profile = flag('--profile');
const json = toggle('--json');
const [scenarioName = 'disaster-zone', seedsArg = '10', jobsFile = new URL('../workloads/disaster-response.json', import.meta.url).pathname] = args;

function parseSeeds(s) {
  if (/^\d+$/.test(s)) return Array.from({ length: Number(s) }, (_, i) => i + 1);
  const range = /^(\d+)-(\d+)$/.exec(s);
  if (range) return Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i);
  if (/^\d+(,\d+)+$/.test(s)) return s.split(',').map(Number);
  console.error(`seeds must be a count, a range a-b or a list a,b,c; got ${JSON.stringify(s)}`);
  process.exit(1);
}
const seeds = parseSeeds(seedsArg);
const scenario = await loadScenario(scenarioName);
const workload = parseWorkload({ jobs: JSON.parse(await readFile(jobsFile, 'utf8')) });
const overrides = churn === undefined ? undefined : { 'availability.fraction': Number(churn) };
const orchestratorPort = port ? Number(port) : 256;

// A job's class: what the swarm recorded, or (runs before priority classes existed) its template's id.
const classOf = (r) => r.priority ?? r.tag.split('#')[0];
const classes = new Map();
const templates = new Map();
const bucket = (map, name) => {
  let b = map.get(name);
  if (!b) map.set(name, (b = { submitted: 0, doneWithinDeadline: 0, failed: {}, lost: 0, ownerOffline: 0, latencies: [] }));
  return b;
};
let airtimeMs = 0;
const sent = {};
let utilSum = 0;
let mismatches = 0;
let wall = 0;
const perSeed = [];
for (const seed of seeds) {
  const t0 = performance.now();
  const trace = (e) => {
    if (e.ev === 'tx_start' && e.port === orchestratorPort) airtimeMs += e.airtimeMs;
  };
  const { report, jobs, sim } = await runSwarm(scenario, { seed, workload, overrides, trace, profile, orchestrator: port ? { portnum: Number(port) } : undefined });
  wall += performance.now() - t0;
  utilSum += report.radio.channelUtilizationPct;
  mismatches += report.jobs.mismatches;
  for (const [k, v] of Object.entries(report.messages.sent)) sent[k] = (sent[k] ?? 0) + v;
  for (const r of jobs) {
    for (const b of [bucket(classes, classOf(r)), bucket(templates, r.tag.split('#')[0])]) {
      b.submitted++;
      const o = r.outcome;
      if (o?.status === 'done') {
        b.doneWithinDeadline++;
        b.latencies.push(o.latencyMs);
      } else if (o?.status === 'failed') {
        const reason = (o.reason ?? 'UNKNOWN').split(':')[0];
        b.failed[reason] = (b.failed[reason] ?? 0) + 1;
      } else if (sim.requireNode(r.owner).up) b.lost++;
      else b.ownerOffline++;
    }
  }
  perSeed.push({ seed, done: report.jobs.done, submitted: report.jobs.submitted });
  process.stderr.write(`\rseed ${seed}: ${report.jobs.done}/${report.jobs.submitted} done`);
}
process.stderr.write('\n');

const q = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] / 1000 : null);
const round = (v, d = 1) => (v === null ? null : Math.round(v * 10 ** d) / 10 ** d);
const summarize = (b) => {
  const lat = [...b.latencies].sort((x, y) => x - y);
  return {
    submitted: b.submitted,
    doneWithinDeadline: b.doneWithinDeadline,
    donePct: b.submitted ? round((b.doneWithinDeadline / b.submitted) * 100) : null,
    failedByReason: b.failed,
    lost: b.lost,
    ownerOffline: b.ownerOffline,
    latencyS: { p50: round(q(lat, 0.5)), p95: round(q(lat, 0.95)) },
  };
};
const all = { submitted: 0, doneWithinDeadline: 0, failed: {}, lost: 0, ownerOffline: 0, latencies: [] };
for (const b of templates.values()) {
  all.submitted += b.submitted;
  all.doneWithinDeadline += b.doneWithinDeadline;
  all.lost += b.lost;
  all.ownerOffline += b.ownerOffline;
  all.latencies.push(...b.latencies);
  for (const [k, v] of Object.entries(b.failed)) all.failed[k] = (all.failed[k] ?? 0) + v;
}
const result = {
  scenario: scenarioName,
  churnFraction: churn === undefined ? null : Number(churn),
  port: orchestratorPort,
  profile: profile ?? null,
  seeds,
  workload: jobsFile.split('/').pop(),
  classes: Object.fromEntries([...classes].sort(([a], [b]) => a.localeCompare(b)).map(([k, b]) => [k, summarize(b)])),
  templates: Object.fromEntries([...templates].sort(([a], [b]) => a.localeCompare(b)).map(([k, b]) => [k, summarize(b)])),
  overall: summarize(all),
  airtimePerCompletedJobS: all.doneWithinDeadline ? round(airtimeMs / all.doneWithinDeadline / 1000, 2) : null,
  orchestratorAirtimeS: round(airtimeMs / 1000),
  channelUtilizationPct: round(utilSum / seeds.length),
  wrongResults: mismatches,
  messagesSent: sent,
  perSeed,
  wallSPerRun: round(wall / seeds.length / 1000),
};
if (json) console.log(JSON.stringify(result, null, 2));
else {
  console.log(`${scenarioName}${churn !== undefined ? ` (churn fraction ${churn})` : ''}, port ${orchestratorPort}${profile ? `, profile ${profile}` : ''}, seeds ${seedsArg}, workload ${result.workload}`);
  for (const [name, c] of [...Object.entries(result.classes).map(([k, v]) => [`class ${k}`, v]), ...Object.entries(result.templates).map(([k, v]) => [`job ${k}`, v]), ['overall', result.overall]]) {
    console.log(
      `${name.padEnd(16)} ${c.submitted} submitted, ${c.doneWithinDeadline} done within deadline (${c.donePct}%), failed ${JSON.stringify(c.failedByReason)}, ${c.lost} lost, ${c.ownerOffline} owner off at the end; latency p50 ${c.latencyS.p50} s, p95 ${c.latencyS.p95} s`,
    );
  }
  console.log(`airtime per completed job ${result.airtimePerCompletedJobS} s (orchestrator port ${result.orchestratorAirtimeS} s in all); channel utilization ${result.channelUtilizationPct}%; ${mismatches} wrong results`);
  console.log(`messages sent: ${JSON.stringify(sent)}`);
  console.log(`per seed: ${perSeed.map((s) => `${s.seed}: ${s.done}/${s.submitted}`).join(', ')}`);
  console.log(`wall time: ${result.wallSPerRun} s per simulated run`);
}
