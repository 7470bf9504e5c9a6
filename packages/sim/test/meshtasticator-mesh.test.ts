import { describe, expect, it } from 'vitest';
import { applyOverrides, builtinScenario, meanPathLossDb, resolveScenario, Simulation, SimError } from '../src/index.js';
import { PythonRandom } from '../src/world/python-random.js';

// Reference draws printed by CPython 3.11: random.Random(seed).random(), .gauss(0, 3), .expovariate(0.01), .getrandbits(32).
describe("Python's generator", () => {
  it('draws what CPython draws for the same integer seed', () => {
    const cases: Array<[number, number[], number, number]> = [
      [0, [0.8444218515250481, 0.7579544029403025], -2.039143344235263, 1739178872],
      [1, [0.13436424411240122, 0.8474337369372327], 0.19900742681478573, 1930549411],
      [44, [0.40853587925449375, 0.5419720091045962], 1.210698482805992, 124971754],
      [4294967295, [0.6353574441341173, 0.20319993954407756], -1.944358855817039, 1636881668],
    ];
    for (const [seed, randoms, gauss, bits] of cases) {
      const r = new PythonRandom(seed);
      expect([r.random(), r.random()]).toEqual(randoms);
      expect(r.gauss(0, 3)).toBeCloseTo(gauss, 12);
      r.gauss(0, 3);
      r.expovariate(0.01);
      expect(r.uint32()).toBe(bits);
    }
  });

  it('refuses a seed it cannot take', () => {
    expect(() => new PythonRandom(-1)).toThrow(RangeError);
    expect(() => new PythonRandom(1.5)).toThrow(RangeError);
  });
});

describe("Meshtasticator's mesh", () => {
  it("places each node on Meshtasticator's first fitting candidate for the run's seed", () => {
    // Meshtasticator seed 1, 10 nodes: its first candidate (two random() draws over 15 x 15 km) has no node to fit.
    const sim = new Simulation(builtinScenario('meshtasticator-default'), { seed: 1 });
    const py = new PythonRandom(1);
    expect(sim.nodes[0]!.x).toBeCloseTo(py.random() * 15000 - 7500, 9);
    expect(sim.nodes[0]!.y).toBeCloseTo(py.random() * 15000 - 7500, 9);
    const sc = sim.scenario;
    const budget = sc.nodes.txPowerDbm - (sc.sensitivityDbm as number);
    for (let i = 1; i < sim.nodes.length; i++) {
      const n = sim.nodes[i]!;
      const reach = sim.nodes.slice(0, i).some((m) => meanPathLossDb(sc.pathLoss, Math.hypot(m.x - n.x, m.y - n.y), 1, 1) <= budget);
      expect(reach).toBe(true);
    }
    // Another seed, another mesh; the same seed, the same mesh.
    const again = new Simulation(builtinScenario('meshtasticator-default'), { seed: 1 });
    expect(again.nodes.map((n) => [n.x, n.y])).toEqual(sim.nodes.map((n) => [n.x, n.y]));
    const other = new Simulation(builtinScenario('meshtasticator-default'), { seed: 2 });
    expect(other.nodes[0]!.x).not.toBe(sim.nodes[0]!.x);
  });

  it("draws each directed link's offset as gauss(0, sigma) in Meshtasticator's order", () => {
    const sim = new Simulation(builtinScenario('meshtasticator-default'), { seed: 3 });
    const py = new PythonRandom(3);
    const sc = sim.scenario;
    const n = sim.nodes.length;
    for (let tx = 0; tx < n; tx++) {
      for (let rx = 0; rx < n; rx++) {
        if (tx === rx) continue;
        const offset = py.gauss(0, 3);
        const a = sim.nodes[tx]!;
        const b = sim.nodes[rx]!;
        const mean = sc.nodes.txPowerDbm - meanPathLossDb(sc.pathLoss, Math.hypot(a.x - b.x, a.y - b.y), 1, 1);
        expect(sim.receivedPowerDbm(a, b)).toBeCloseTo(mean - offset, 9);
      }
    }
  });

  it('takes a fixed sensitivity, and refuses a bad one or an unknown offset model', () => {
    const sim = new Simulation(builtinScenario('meshtasticator-default'), { seed: 1 });
    expect(sim.phy.sensitivityDbm).toBe(-131.5);
    expect(sim.phy.cadThresholdDbm).toBe(-134.5);
    const derived = new Simulation(applyOverrides(builtinScenario('meshtasticator-default'), { sensitivityDbm: null }), { seed: 1 });
    expect(derived.phy.sensitivityDbm).toBeCloseTo(-131.52, 2);
    const bad = (o: Record<string, unknown>) => () => resolveScenario(applyOverrides(builtinScenario('meshtasticator-default'), o));
    expect(bad({ sensitivityDbm: 'low' })).toThrow(SimError);
    expect(bad({ sensitivityDbm: -20 })).toThrow(/sensitivityDbm: must be between/);
    expect(bad({ 'pathLoss.linkOffsets': 'python' })).toThrow(/pathLoss\.linkOffsets: expected one of hashed, meshtasticator/);
    expect(bad({ 'nodes.placement.kind': 'meshtastic' })).toThrow(/nodes\.placement\.kind: expected one of/);
  });
});
