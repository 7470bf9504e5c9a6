/* global process, console */
// The adversarial suite: `pnpm attacks [-- --json] [--seed S] [--nodes N] [--tofu] [--suite compute|ota]` after
// `pnpm build`. The compute suite here, then the OTA suite of @compotastic/ota (a rollout to 30 receivers). Every attack
// runs in the simulator at 1, 3 and 30 % malicious nodes (at least one), against an honest baseline on the same seed,
// in a swarm with operator certificates (the malicious nodes are certified insiders), or with --tofu under plain
// trust on first use. Exits non-zero when any forgery, replay or wrong result was accepted.
import { loadKernel } from '@compotastic/kernel';
import { KernelExecutor } from '../dist/index.js';
import { runComputeAttacks } from '../dist/attacks/index.js';
import { Simulation } from '@compotastic/sim';
import { runOtaAttacks } from '@compotastic/ota/attacks';
import { simWorld } from './sim-world.mjs';

const args = process.argv.slice(2).filter((a) => a !== '--');
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const json = args.includes('--json');
const admission = args.includes('--tofu') ? 'tofu' : 'swarm';
const seed = flag('--seed', 20261203);
const nodes = flag('--nodes', 30);
const only = args.includes('--suite') ? args[args.indexOf('--suite') + 1] : undefined;
const kernel = await loadKernel({ build: 'scalar' });
const executor = new KernelExecutor(kernel);

const progress = (r) => process.stderr.write(`  ${r.attack} @${(r.maliciousFraction * 100).toFixed(0)}%: ${r.forgeriesAccepted + r.replaysAccepted + r.wrongResultsAccepted} accepted, jobs ${r.jobsCompleted}/${r.baselineJobsCompleted}\n`);

// Every suite in one list; each resolves to AttackReport[] (an OTA suite joins with one more entry).
const SUITES = [
  { name: 'compute', run: () => runComputeAttacks({ world: simWorld, executor, seed, nodes, admission, onReport: progress }) },
  { name: 'ota', run: () => runOtaAttacks({ makeSimulation: (scenario) => new Simulation(scenario), seed }) },
].filter((s) => only === undefined || s.name === only);
if (only !== undefined && SUITES.length === 0) {
  console.error(`unknown --suite ${only}: compute or ota`);
  process.exit(2);
}

const reports = [];
for (const suite of SUITES) {
  process.stderr.write(`suite ${suite.name}...\n`);
  reports.push(...(await suite.run()));
}
const failed = reports.filter((r) => r.forgeriesAccepted + r.replaysAccepted + r.wrongResultsAccepted > 0);
if (json) {
  console.log(JSON.stringify({ seed, nodes, admission, reports, failed: failed.length }, null, 2));
} else {
  for (const r of reports) {
    console.log(`${r.suite}/${r.attack} @${(r.maliciousFraction * 100).toFixed(0)}%: tried ${r.tried}, rejected ${r.rejected}, forgeries ${r.forgeriesAccepted}, replays ${r.replaysAccepted}, wrong results ${r.wrongResultsAccepted}, jobs ${r.jobsCompleted}/${r.baselineJobsCompleted} of baseline${r.notes ? ` (${r.notes})` : ''}`);
  }
}
process.exit(failed.length === 0 ? 0 : 1);
