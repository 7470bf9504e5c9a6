#!/usr/bin/env node
/* global process, console, performance */
// Prints the simulator's performance and fidelity figures. Run after `pnpm build`:
//   node --expose-gc scripts/measure.mjs [--quick]
//   node --expose-gc scripts/measure.mjs --nodes 100000 [--duration 1h]
import { applyOverrides, builtinScenario, measureEventsPerSecond, measureMeshtasticatorReachability, measureNodeHour, Simulation } from '../dist/index.js';
import { measureMemoryAtNodes } from '../dist/node.js';

const quick = process.argv.includes('--quick');
const line = (label, value) => console.log(`${label.padEnd(34)} ${value}`);
const option = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

// --nodes N [--duration D]: only one large mesh, with its time and memory (e.g. --nodes 100000 --duration 1h).
if (option('--nodes') !== undefined) {
  const nodes = Number(option('--nodes'));
  if (!Number.isInteger(nodes) || nodes < 1) throw new Error(`--nodes needs a positive integer, got ${option('--nodes')}`);
  const duration = option('--duration') ?? '1h';
  const m = measureMemoryAtNodes(nodes, duration, 1, (simMs) => process.stderr.write(`\r${(simMs / 1000).toFixed(0)} s simulated`));
  process.stderr.write('\n');
  line(`${m.nodes}-node ${duration}`, `${(m.wallMs / 1000).toFixed(1)} s wall (build ${(m.buildMs / 1000).toFixed(1)} s), ${m.events} events, ${m.eventsPerSecond.toLocaleString('en')} events/s`);
  line('  memory', `heap after GC ${m.heapUsedMb} MB, peak heap ${m.peakHeapUsedMb} MB, RSS ${m.rssMb} MB, peak RSS ${m.peakRssMb} MB`);
  process.exit(0);
}

const ev = measureEventsPerSecond(quick ? 100 : 300, '1h');
line('events/s (scheduler events)', `${ev.eventsPerSecond.toLocaleString('en')} (${ev.events} events, ${ev.nodes} nodes, 1 h simulated, ${ev.wallMs} ms)`);
line('events/s (per-receiver steps)', `${ev.receiverEventsPerSecond.toLocaleString('en')} (${ev.arrivals} arrivals x 2 + scheduler events)`);

const hour = measureNodeHour(quick ? 300 : 1000);
line(`${hour.nodes}-node hour wall time`, `${(hour.wallMs / 1000).toFixed(2)} s (${hour.events} events, ${hour.transmissions} transmissions, ${hour.eventsPerSecond.toLocaleString('en')} events/s)`);

if (!quick) {
  // Constant density: wall time should grow with the events, i.e. about linearly with nodes.
  const scaling = [250, 500, 1000, 2000].map((n) => measureNodeHour(n));
  line('scaling (node-hours)', scaling.map((m) => `${m.nodes}: ${(m.wallMs / 1000).toFixed(2)} s / ${m.events} ev`).join(', '));
  // Meshtasticator's default configuration at its published sizes (it needs 17.5 s and 337 s here).
  for (const n of [30, 100]) {
    const t0 = performance.now();
    const sim = new Simulation(applyOverrides(builtinScenario('meshtasticator-default'), { 'nodes.count': n }), { seed: 1 });
    sim.run();
    line(`Meshtasticator config, ${n} nodes`, `${((performance.now() - t0) / 1000).toFixed(2)} s for 30 simulated minutes (${sim.summary().reachabilityPct}% reachability)`);
  }
}

const mem = measureMemoryAtNodes(quick ? 2000 : 10_000, quick ? '2m' : '10m');
line(`memory at ${mem.nodes} nodes`, `heap ${mem.heapUsedMb} MB, RSS ${mem.rssMb} MB, peak RSS ${mem.peakRssMb} MB (${mem.simulatedS} s simulated, ${mem.events} events)`);

// Seeds 1..40 (1..3 with --quick): the spread between random meshes is what test/meshtasticator.test.ts sizes its
// bands from, so print it.
const seeds = Array.from({ length: quick ? 3 : 40 }, (_, i) => i + 1);
const r = measureMeshtasticatorReachability(seeds);
const sd = (v) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return v.length > 1 ? Math.sqrt(v.reduce((a, x) => a + (x - m) ** 2, 0) / (v.length - 1)) : 0;
};
line('Meshtasticator default scenario', `seeds 1..${seeds.length}: reachability ${r.meanReachabilityPct}% (sd ${r.sdReachabilityPct}, Meshtasticator 85.06%), usefulness ${r.meanUsefulnessPct}% (sd ${sd(r.usefulnessPct).toFixed(2)}, 50.24%), messages ${r.meanMessages} (sd ${sd(r.messages).toFixed(1)}), transmissions ${r.meanTransmissions} (sd ${sd(r.transmissions).toFixed(1)}, 875), collisions ${r.meanCollisions} (320)`);
line('  per-seed reachability', r.reachabilityPct.join(', '));
