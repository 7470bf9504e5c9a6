import { Prng } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { applyOverrides, builtinScenario, meanPathLossDb, resolveScenario } from '../src/index.js';
import { placeNodes } from '../src/world/placement.js';
import { PointBuckets } from '../src/world/point-buckets.js';

describe('point buckets', () => {
  it('find exactly what a scan of every point finds, within one cell width', () => {
    const rng = new Prng(5);
    const cellM = 250;
    const b = new PointBuckets(cellM);
    const pts: Array<[number, number]> = [];
    for (let i = 0; i < 400; i++) {
      const p: [number, number] = [rng.uniform(-3000, 3000), rng.uniform(-3000, 3000)];
      pts.push(p);
      b.add(p[0], p[1]);
    }
    for (let i = 0; i < 400; i++) {
      const x = rng.uniform(-3500, 3500);
      const y = rng.uniform(-3500, 3500);
      const r = rng.uniform(0, cellM);
      const within = (px: number, py: number) => Math.hypot(px - x, py - y) < r;
      expect(b.some(x, y, within)).toBe(pts.some(([px, py]) => within(px, py)));
    }
  });

  it('keep neighbours together far out, where cells merge', () => {
    const b = new PointBuckets(0.001);
    b.add(1e6, -1e6);
    expect(b.some(1e6 + 0.0005, -1e6, (px) => px === 1e6)).toBe(true);
  });
});

describe('connected placement', () => {
  it('places thousands of nodes, each at least minDist from the others and within range of an earlier one', () => {
    const n = 3000;
    const sc = resolveScenario(applyOverrides(builtinScenario('meshtasticator-default'), { 'nodes.count': n }));
    const sensitivity = -137;
    const pts = placeNodes(sc, n, new Prng(3), sensitivity);
    expect(pts).toHaveLength(n);
    const budget = sc.nodes.txPowerDbm + 2 * sc.nodes.antennaGainDbi - sensitivity;
    const h = sc.nodes.heightM;
    // Check a sample against every earlier node by brute force.
    for (let i = 1; i < n; i += 97) {
      const [x, y] = pts[i]!;
      const earlier = pts.slice(0, i).map(([qx, qy]) => Math.hypot(qx - x, qy - y));
      expect(Math.min(...earlier)).toBeGreaterThanOrEqual(sc.nodes.placement.minDistM);
      expect(earlier.some((d) => meanPathLossDb(sc.pathLoss, d, h, h) <= budget)).toBe(true);
    }
  });

  it('is the same for the same seed and different for another', () => {
    const sc = resolveScenario(applyOverrides(builtinScenario('rural-sparse'), { 'nodes.count': 200 }));
    const a = placeNodes(sc, 200, new Prng(8), -137);
    expect(placeNodes(sc, 200, new Prng(8), -137)).toEqual(a);
    expect(placeNodes(sc, 200, new Prng(9), -137)).not.toEqual(a);
  });
});
