import { describe, expect, it } from 'vitest';
import { DirectDeliveryTally, Simulation, applyOverrides, builtinScenario, resolveScenario } from '../src/index.js';

describe('DirectDeliveryTally', () => {
  it('counts a unicast message once, at its destination only; broadcasts are not direct messages', () => {
    const t = new DirectDeliveryTally();
    t.observe({ ev: 'gen', from: 1, id: 7, to: 2 });
    t.observe({ ev: 'gen', from: 1, id: 8, to: 0xffffffff });
    t.observe({ ev: 'deliver', node: 3, from: 1, id: 7 });
    t.observe({ ev: 'deliver', node: 2, from: 1, id: 8 });
    expect(t.summary()).toEqual({ sent: 1, delivered: 0, deliveredPct: 0 });
    t.observe({ ev: 'deliver', node: 2, from: 1, id: 7 });
    t.observe({ ev: 'deliver', node: 2, from: 1, id: 7 });
    expect(t.summary()).toEqual({ sent: 1, delivered: 1, deliveredPct: 100 });
  });

  it('gives, from a trace, the summary figure of the run that wrote it', () => {
    const fromTrace = new DirectDeliveryTally();
    const scenario = resolveScenario(applyOverrides(builtinScenario('urban-canyon'), { 'nodes.count': 12 }));
    const sim = new Simulation(scenario, { seed: 3, trace: (e) => fromTrace.observe(e) });
    sim.run();
    const want = sim.summary().directMessages;
    expect(want.sent).toBeGreaterThan(0);
    expect(fromTrace.summary()).toEqual(want);
  });
});
