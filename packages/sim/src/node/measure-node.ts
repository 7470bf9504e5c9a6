import { measureEventsPerSecond, measureMeshtasticatorReachability, measureNodeHour, throughputScenario, type ReachabilityMeasurement, type ThroughputMeasurement } from '../measure.js';
import { Simulation } from '../simulation.js';

export interface MemoryMeasurement {
  nodes: number;
  simulatedS: number;
  events: number;
  /** Wall time to build the mesh, and to build and run it. */
  buildMs: number;
  wallMs: number;
  eventsPerSecond: number;
  /** Live heap after a full collection at the end (with --expose-gc; otherwise whatever the heap holds). */
  heapUsedMb: number;
  /** Largest heap seen while running, sampled every 50,000 events (garbage included). */
  peakHeapUsedMb: number;
  rssMb: number;
  peakRssMb: number;
}

function mb(bytes: number): number {
  return Math.round((bytes / 1048576) * 10) / 10;
}

/** Time and memory to build and run a large mesh (heap and resident set; peak RSS from the OS). */
export function measureMemoryAtNodes(nodes = 10_000, duration: string | number = '10m', seed = 1, onProgress?: (simMs: number, durationMs: number) => void): MemoryMeasurement {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  let peakHeap = 0;
  const t0 = performance.now();
  const sim = new Simulation(throughputScenario(nodes, duration), {
    seed,
    onProgress: (simMs, durationMs) => {
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      onProgress?.(simMs, durationMs);
    },
  });
  const buildMs = performance.now() - t0;
  sim.run();
  const wallMs = performance.now() - t0;
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  gc?.();
  const mem = process.memoryUsage();
  const peak = process.resourceUsage().maxRSS * 1024;
  const events = sim.scheduler.eventsProcessed;
  const result = {
    nodes, simulatedS: sim.now / 1000, events, buildMs: Math.round(buildMs), wallMs: Math.round(wallMs),
    eventsPerSecond: Math.round(events / (wallMs / 1000)), heapUsedMb: mb(mem.heapUsed), peakHeapUsedMb: mb(peakHeap),
    rssMb: mb(mem.rss), peakRssMb: mb(peak),
  };
  // Keep the simulation alive until measured.
  void sim.nodes.length;
  return result;
}

export interface AllMeasurements {
  eventsPerSecond: ThroughputMeasurement;
  thousandNodeHour: ThroughputMeasurement;
  memory: MemoryMeasurement;
  meshtasticator: ReachabilityMeasurement;
}

/** Every figure the bench reports. */
export function measureAll(log: (line: string) => void = () => {}): AllMeasurements {
  const eventsPerSecond = measureEventsPerSecond();
  log(`events/s: ${JSON.stringify(eventsPerSecond)}`);
  const thousandNodeHour = measureNodeHour(1000);
  log(`1000-node hour: ${JSON.stringify(thousandNodeHour)}`);
  const meshtasticator = measureMeshtasticatorReachability();
  log(`meshtasticator: ${JSON.stringify(meshtasticator)}`);
  const memory = measureMemoryAtNodes();
  log(`memory: ${JSON.stringify(memory)}`);
  return { eventsPerSecond, thousandNodeHour, memory, meshtasticator };
}
