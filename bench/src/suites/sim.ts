// The simulator suite: wall time of one simulated hour of a 1000-node mesh (events per second logged), whether cost
// grows linearly with the work (a 2000-node hour against four independent 500-node hours at the same density, 1000
// against 4 x 250 in short mode, in the same run: the gated ratio), and the Meshtasticator default scenario's reachability over seeds. Memory at 10,000 nodes
// is measured in a child process started with --expose-gc.

import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { type ThroughputMeasurement, MESHTASTICATOR_MOVEMENT_OFF, MESHTASTICATOR_REACHABILITY_PCT, Simulation, measureMeshtasticatorReachability, throughputScenario } from '@compotastic/sim';
import { type BenchCase, defineSuite } from '../harness/suite.js';

const figures: Record<string, unknown> = {};
const SCALING_CASE = 'scaling 4x nodes at the same density';
/** Nodes of the smaller runs of the scaling case (the CI gate runs the short mode). */
const small = (env: { short: boolean }): number => (env.short ? 250 : 500);

/** One simulated hour of `nodes` nodes at the throughput scenario's constant density; returns the events processed. */
function nodeHour(nodes: number, seed: number): { events: number; arrivals: number } {
  const sim = new Simulation(throughputScenario(nodes, '1h'), { seed });
  sim.run();
  return { events: sim.scheduler.eventsProcessed, arrivals: sim.arrivalsProcessed };
}

/** The scheduler event rate the simulator aims at (events per wall second on this class of machine, idle). */
const EVENTS_PER_SECOND_GOAL = 1_000_000;

function logThroughput(log: (line: string) => void, label: string, nodes: number, seed: number): void {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = nodeHour(nodes, seed);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  // CPU time as well: on a machine shared with other work, wall time mostly measures the others.
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const m: Pick<ThroughputMeasurement, 'nodes' | 'events' | 'wallMs' | 'eventsPerSecond' | 'receiverEventsPerSecond'> & { cpuMs: number; eventsPerCpuSecond: number; goal: number } = {
    nodes, events: r.events, wallMs: Math.round(wallMs), eventsPerSecond: Math.round(r.events / (wallMs / 1000)),
    receiverEventsPerSecond: Math.round((r.events + 2 * r.arrivals) / (wallMs / 1000)),
    cpuMs: Math.round(cpuMs), eventsPerCpuSecond: Math.round(r.events / (cpuMs / 1000)), goal: EVENTS_PER_SECOND_GOAL,
  };
  figures[label] = m;
  log(`${label}: ${(wallMs / 1000).toFixed(2)} s wall, ${(cpuMs / 1000).toFixed(2)} s CPU, ${m.events} scheduler events ` +
    `(${m.eventsPerSecond.toLocaleString('en')}/s wall, ${m.eventsPerCpuSecond.toLocaleString('en')}/s CPU; goal ${EVENTS_PER_SECOND_GOAL.toLocaleString('en')}/s), ` +
    `${m.receiverEventsPerSecond.toLocaleString('en')} per-receiver steps/s`);
}

function memoryAt10k(log: (line: string) => void): void {
  const simNode = pathToFileURL(createRequire(import.meta.url).resolve('@compotastic/sim/node')).href;
  const script = `import(${JSON.stringify(simNode)}).then((m) => console.log(JSON.stringify(m.measureMemoryAtNodes(10000, '10m'))))`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const mem = JSON.parse(out.trim().split('\n').pop()!) as { heapUsedMb: number; rssMb: number; peakRssMb: number; events: number };
  figures['memory 10k nodes'] = mem;
  log(`memory at 10,000 nodes (10 simulated minutes, ${mem.events} events): heap ${mem.heapUsedMb} MB, peak RSS ${mem.peakRssMb} MB`);
}

export default defineSuite({
  name: 'sim',
  description: 'simulator speed and scaling (a 1000-node hour; 4x the nodes against 4 runs at the same density), memory at 10,000 nodes, Meshtasticator-scenario reachability',
  cases: (env): BenchCase[] => [
    {
      id: 'node-hour 1000 nodes',
      group: 'simulator',
      minIterations: 1,
      note: `one simulated hour; scheduler events per second (wall and CPU; goal ${EVENTS_PER_SECOND_GOAL.toLocaleString('en')}) are logged and stored with the result`,
      contenders: [
        {
          id: 'ours',
          role: 'ours',
          label: '@compotastic/sim',
          setup(ctx) {
            logThroughput(ctx.log, '1000-node hour', 1000, 1);
            return { run: () => nodeHour(1000, 1) };
          },
        },
      ],
    },
    {
      // Same density, 4x the nodes and 4x the work: with cost linear in the work the two take the same time.
      id: SCALING_CASE,
      group: 'simulator',
      minIterations: 1,
      note: `ratio 1 = cost linear in the number of nodes at constant density (${env.short ? '1000 vs 4 x 250 nodes in short mode' : '2000 vs 4 x 500 nodes'}; goal 0.85); an all-pairs simulator would give ~0.25`,
      contenders: [
        { id: 'ours', role: 'ours', label: `${4 * small(env)}-node hour`, setup: () => ({ run: () => nodeHour(4 * small(env), 1) }) },
        {
          id: 'linear',
          role: 'peer',
          label: `4 x ${small(env)}-node hour`,
          setup: () => ({ run: () => [1, 2, 3, 4].map((seed) => nodeHour(small(env), seed)) }),
        },
      ],
    },
    ...(env.short ? [] : [{
      id: 'Meshtasticator default scenario (10 seeds)',
      group: 'fidelity',
      minIterations: 1,
      untimed: 'measures reachability against Meshtasticator',
      note: `mean reachability over seeds 1-10 against Meshtasticator's mean over the same seeds (${MESHTASTICATOR_REACHABILITY_PCT.movingNodes}% with its moving nodes, its default; ${MESHTASTICATOR_REACHABILITY_PCT.movementOff}% with movement off); memory at 10,000 nodes is measured in a child process`,
      contenders: [
        {
          id: 'ours',
          role: 'ours' as const,
          label: '@compotastic/sim',
          setup(ctx: { log: (line: string) => void }) {
            // Equal seeds on both sides: our mean over seeds 1-10 against Meshtasticator's mean over seeds 1-10.
            const ref = MESHTASTICATOR_REACHABILITY_PCT;
            const points = (a: number, b: number) => {
              const d = Math.round((a - b) * 100) / 100;
              return `${d >= 0 ? '+' : ''}${d} points`;
            };
            const moving = measureMeshtasticatorReachability([...ref.seeds]);
            const still = measureMeshtasticatorReachability([...ref.seeds], { ...MESHTASTICATOR_MOVEMENT_OFF });
            figures.meshtasticator = { movingNodes: moving, movementOff: still, reference: ref };
            ctx.log(`Meshtasticator default scenario, seeds 1-10: reachability ${moving.meanReachabilityPct}% (sd ${moving.sdReachabilityPct}) against Meshtasticator's ` +
              `${ref.movingNodes}% (${points(moving.meanReachabilityPct, ref.movingNodes)}); movement off ${still.meanReachabilityPct}% against ${ref.movementOff}% ` +
              `(${points(still.meanReachabilityPct, ref.movementOff)}); usefulness ${moving.meanUsefulnessPct}%, collisions ${moving.meanCollisions}`);
            memoryAt10k(ctx.log);
            return { run: () => measureMeshtasticatorReachability([1]) };
          },
        },
      ],
    }]),
  ],
  gates: [{ case: SCALING_CASE, ours: 'ours', peer: 'linear' }],
  describe: () => ({ figures }),
});
