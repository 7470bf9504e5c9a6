import { readFileSync } from 'node:fs';
import { builtinScenario } from '@compotastic/sim';
import { describe, expect, it } from 'vitest';
import { parseWorkload } from '../src/workload.js';

describe('shipped workloads', () => {
  it("disaster-zone's app.jobs is the disaster-response workload the figures use", () => {
    const shipped = parseWorkload({ jobs: JSON.parse(readFileSync(new URL('../workloads/disaster-response.json', import.meta.url), 'utf8')) });
    const scenario = parseWorkload(builtinScenario('disaster-zone').app);
    expect(scenario).toEqual(shipped);
    expect(scenario.map((t) => [t.id, t.kernel, t.from, t.everyS])).toEqual([
      ['triage', 'classify', 'microcontroller', 120],
      ['map-merge', 'reduce', 'phone', 600],
    ]);
  });
});
