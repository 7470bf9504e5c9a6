/* global process, console */
// The OTA suite of the adversarial harness in the simulator: every attack with 1 %, 3 %, 10 % and 30 % of the nodes
// attacking a rollout (at least one node each; shares that come to the same count run once), against the honest run
// of the same seed.
//
//   pnpm --filter @compotastic/ota build
//   pnpm --filter @compotastic/ota attacks -- [--json] [--nodes 30] [--bytes 65536] [--seed 1] [--fractions 0.01,0.03,0.1,0.3]
import { Simulation } from '@compotastic/sim';
import { runOtaAttacks } from '../dist/attacks/index.js';

const args = process.argv.slice(2).filter((a) => a !== '--');
const value = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
};
const reports = await runOtaAttacks({
  makeSimulation: (scenario) => new Simulation(scenario),
  nodes: Number(value('--nodes', '30')),
  bundleBytes: Number(value('--bytes', '65536')),
  seed: Number(value('--seed', '1')),
  fractions: value('--fractions', '0.01,0.03,0.1,0.3').split(',').map(Number),
});
if (args.includes('--json')) {
  console.log(JSON.stringify(reports, null, 2));
} else {
  for (const r of reports) {
    console.log(`${r.attack.padEnd(22)} ${(100 * r.maliciousFraction).toFixed(1).padStart(5)} %  tried ${String(r.tried).padStart(6)}  rejected ${String(r.rejected).padStart(6)}` +
      `  accepted ${r.forgeriesAccepted}/${r.replaysAccepted}/${r.wrongResultsAccepted}  completed ${r.jobsCompleted}/${r.baselineJobsCompleted}  ${r.notes ?? ''}`);
  }
}
const accepted = reports.reduce((n, r) => n + r.forgeriesAccepted + r.replaysAccepted + r.wrongResultsAccepted, 0);
if (accepted > 0) process.exitCode = 1;
