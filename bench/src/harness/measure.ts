// Times one runner with tinybench and reduces the samples to a median.

import { Bench } from 'tinybench';
import type { Runner } from './suite.js';

export interface MeasureOptions {
  /** Time budget of one measurement, in ms (tinybench keeps going until both limits are met). */
  timeMs: number;
  /** Minimum timed calls. */
  minIterations: number;
  /** Warm-up budget in ms (0: no warm-up, for contenders already warm from an earlier round). */
  warmupMs: number;
}

export interface Sample {
  /** Median time per call, ms. */
  medianMs: number;
  /** Calls timed. */
  iterations: number;
  /** tinybench's relative margin of error of the mean, %. */
  rme: number;
}

export async function measure(runner: Runner, options: MeasureOptions): Promise<Sample> {
  const bench = new Bench({
    time: options.timeMs,
    iterations: options.minIterations,
    warmup: options.warmupMs > 0,
    warmupTime: options.warmupMs,
    warmupIterations: Math.max(2, Math.min(16, options.minIterations)),
    throws: true,
  });
  bench.add('run', () => runner.run(), runner.async === undefined ? {} : { async: runner.async });
  const [task] = await bench.run();
  const result = task!.result;
  if (result.state !== 'completed') {
    throw new Error(result.state === 'errored' ? result.error.message : `measurement ended ${result.state}`);
  }
  return { medianMs: result.latency.p50, iterations: result.latency.samplesCount, rme: result.latency.rme };
}
