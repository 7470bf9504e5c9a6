import type { Prng } from '@compotastic/mesh';
import { meanPathLossDb, rangeForBudgetM } from '../radio/propagation.js';
import type { ResolvedScenario, Waypoint } from '../scenario.js';
import { PointBuckets } from './point-buckets.js';
import { PythonRandom } from './python-random.js';

/** Exact proportions (largest remainder), shuffled: a 5% router share means 5% routers. */
export function assignByFractions<K extends string>(weights: Record<K, number>, keys: readonly K[], count: number, rng: Prng): K[] {
  const raw = keys.map((k) => weights[k] * count);
  const out: K[] = [];
  const floors = raw.map(Math.floor);
  let left = count - floors.reduce((a, b) => a + b, 0);
  const order = keys.map((_, i) => i).sort((a, b) => (raw[b] as number) - (floors[b] as number) - ((raw[a] as number) - (floors[a] as number)) || a - b);
  for (const i of order) {
    if (left <= 0) break;
    floors[i] = (floors[i] as number) + 1;
    left--;
  }
  keys.forEach((k, i) => {
    for (let n = 0; n < (floors[i] as number); n++) out.push(k);
  });
  return rng.shuffle(out);
}

/**
 * Positions for generated nodes, centred on (0, 0). `connected` follows Meshtasticator: uniform, at least minDist from
 * every node, and within mean range (no shadowing) of at least one node placed before. Both checks read grid buckets
 * around the candidate, so placing n nodes costs about n tries times the nodes nearby, not n^2 tries. `meshtasticator`
 * applies the same test to Meshtasticator's own candidates (Python's generator seeded with the run's seed).
 */
export function placeNodes(sc: ResolvedScenario, count: number, rng: Prng, sensitivityDbm: number): Waypoint[] {
  const { widthM: w, heightM: h } = sc.area;
  const p = sc.nodes.placement;
  const out: Waypoint[] = [];
  const existing: Waypoint[] = sc.nodes.list.map((n) => [n.x, n.y]);
  const uniform = (): Waypoint => [rng.uniform(-w / 2, w / 2), rng.uniform(-h / 2, h / 2)];
  switch (p.kind) {
    case 'line': {
      const spacing = p.spacingM ?? w / Math.max(1, count - 1);
      for (let i = 0; i < count; i++) out.push([-((count - 1) * spacing) / 2 + i * spacing, 0]);
      return out;
    }
    case 'grid': {
      const side = Math.ceil(Math.sqrt(count));
      const spacing = p.spacingM ?? Math.min(w, h) / Math.max(1, side - 1);
      for (let i = 0; i < count; i++) out.push([-((side - 1) * spacing) / 2 + (i % side) * spacing, -((side - 1) * spacing) / 2 + Math.floor(i / side) * spacing]);
      return out;
    }
    case 'clusters': {
      const k = p.clusters ?? Math.max(1, Math.round(Math.sqrt(count) / 2));
      const radius = p.clusterRadiusM ?? Math.min(w, h) / 20;
      const centres = Array.from({ length: k }, uniform);
      for (let i = 0; i < count; i++) {
        const c = centres[i % k] as Waypoint;
        out.push([c[0] + rng.gaussian(0, radius), c[1] + rng.gaussian(0, radius)]);
      }
      return out;
    }
    case 'connected':
    case 'meshtasticator': {
      const budget = sc.nodes.txPowerDbm + 2 * sc.nodes.antennaGainDbi - sensitivityDbm;
      const h0 = sc.nodes.heightM;
      const reachable = (d: number): boolean => meanPathLossDb(sc.pathLoss, d, h0, h0) <= budget;
      // Path loss grows with distance, so nothing beyond the budget's range (plus slack for the search) is reachable.
      // (The range search stops near 1e8 m: beyond that, one bucket holds everything.)
      const rangeM = rangeForBudgetM(sc.pathLoss, budget, h0, h0);
      const near = new PointBuckets(rangeM >= 5e7 ? Infinity : Math.max(1, rangeM * 1.001 + 1));
      const close = placed(existing, p.minDistM);
      for (const q of existing) near.add(q[0], q[1]);
      const fits = ([cx, cy]: Waypoint): boolean => near.size === 0 || (!tooClose(close, cx, cy, p.minDistM) && near.some(cx, cy, (qx, qy) => reachable(Math.hypot(qx - cx, qy - cy))));
      // Meshtasticator's find_random_position (lib/common.py) draws each candidate as two random() calls of Python's
      // generator seeded with the run's seed, and keeps the first that fits: the same draws give the same mesh.
      const py = p.kind === 'meshtasticator' ? new PythonRandom(sc.seed) : null;
      const pyCandidate = (): Waypoint => {
        const a = (py as PythonRandom).random();
        const b = (py as PythonRandom).random();
        return [a * w - w / 2, b * h - h / 2];
      };
      for (let i = 0; i < count; i++) {
        let candidate: Waypoint;
        if (py) {
          candidate = pyCandidate();
          for (let tries = 1; tries < 1000 && !fits(candidate); tries++) candidate = pyCandidate();
        } else {
          candidate = uniform();
          for (let tries = 0; tries < 1000; tries++) {
            candidate = uniform();
            if (fits(candidate)) break;
          }
        }
        out.push(candidate);
        near.add(candidate[0], candidate[1]);
        close?.add(candidate[0], candidate[1]);
      }
      return out;
    }
    default: {
      const close = placed(existing, p.minDistM);
      for (let i = 0; i < count; i++) {
        let candidate = uniform();
        for (let tries = 0; tries < 100 && p.minDistM > 0; tries++) {
          if (!tooClose(close, candidate[0], candidate[1], p.minDistM)) break;
          candidate = uniform();
        }
        out.push(candidate);
        close?.add(candidate[0], candidate[1]);
      }
      return out;
    }
  }
}

/** Buckets for the minimum-distance check holding `points`, or null when there is no minimum distance. */
function placed(points: Waypoint[], minDistM: number): PointBuckets | null {
  if (!(minDistM > 0)) return null;
  const b = new PointBuckets(minDistM);
  for (const q of points) b.add(q[0], q[1]);
  return b;
}

/** Whether a placed point lies closer than minDistM to (x, y). */
function tooClose(close: PointBuckets | null, x: number, y: number, minDistM: number): boolean {
  return close !== null && close.some(x, y, (qx, qy) => Math.hypot(qx - x, qy - y) < minDistM);
}
