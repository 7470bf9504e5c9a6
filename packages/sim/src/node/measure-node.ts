import { measureEventsPerSecond, measureMeshtasticatorReachability, measureNodeHour, throughputScenario, type ReachabilityMeasurement, type ThroughputMeasurement } from '../measure.js';
import { Simulation } from '../simulation.js';

export interface MemoryMeasurement {
  nodes: number;
  simulatedS: number;
  events: number;
  heapUsedMb: number;
  rssMb: number;
  peakRssMb: number;
}

function mb(bytes: number): number {
  return Math.round((bytes / 1048576) * 10) / 10;
}

/** Memory after building and running a large mesh (heap and resident set; peak RSS from the OS). */
export function measureMemoryAtNodes(nodes = 10_000, duration: string | number = '10m', seed = 1): MemoryMeasurement {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const sim = new Simulation(throughputScenario(nodes, duration), { seed });
  sim.run();
  gc?.();
  const mem = process.memoryUsage();
  const peak = process.resourceUsage().maxRSS * 1024;
  const result = { nodes, simulatedS: sim.now / 1000, events: sim.scheduler.eventsProcessed, heapUsedMb: mb(mem.heapUsed), rssMb: mb(mem.rss), peakRssMb: mb(peak) };
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
