#!/usr/bin/env node
// Prints the simulator's performance and fidelity figures. Run after `pnpm build`:
//   node --expose-gc scripts/measure.mjs [--quick]
import { applyOverrides, builtinScenario, measureEventsPerSecond, measureMeshtasticatorReachability, measureNodeHour, Simulation } from '../dist/index.js';
import { measureMemoryAtNodes } from '../dist/node.js';

const quick = process.argv.includes('--quick');
const line = (label, value) => console.log(`${label.padEnd(34)} ${value}`);

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

const seeds = quick ? [1, 2, 3] : [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const r = measureMeshtasticatorReachability(seeds);
line('Meshtasticator default scenario', `reachability ${r.meanReachabilityPct}% (seeds ${seeds.join(',')}: ${r.reachabilityPct.join(', ')}), usefulness ${r.meanUsefulnessPct}%, collisions ${r.meanCollisions}, messages ${r.meanMessages}`);
