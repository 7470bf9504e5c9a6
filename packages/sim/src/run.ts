import { applyOverrides, type ScenarioConfig } from './scenario.js';
import type { SimSummary } from './output/stats.js';
import type { TraceSink } from './output/trace.js';
import { Simulation } from './simulation.js';

export interface RunOptions {
  seed?: number;
  /** Dotted-path overrides applied to the scenario before it runs. */
  overrides?: Record<string, unknown>;
  trace?: TraceSink;
  onProgress?: (simMs: number, durationMs: number) => void;
  /** Called with the simulation before it runs (attach listeners, schedule application work). */
  setup?: (sim: Simulation) => void;
}

/** Build, run and summarise a scenario. Browser-safe. */
export function runScenario(config: ScenarioConfig, options: RunOptions = {}): SimSummary {
  const scenario = options.overrides ? applyOverrides(config, options.overrides) : config;
  const sim = new Simulation(scenario, { seed: options.seed, trace: options.trace, onProgress: options.onProgress });
  options.setup?.(sim);
  sim.run();
  return sim.summary();
}
