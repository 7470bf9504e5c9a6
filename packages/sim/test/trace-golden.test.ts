import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { applyOverrides, builtinScenario, throughputScenario, type ScenarioConfig } from '../src/index.js';
import { jsonlRun } from './helpers.js';

/**
 * SHA-256 of whole JSONL traces, recorded before the scheduler, packet history and placement were rewritten for speed:
 * a change that only makes the simulator faster must leave every byte of every trace as it was. A change that is
 * meant to alter behaviour updates these (print the new ones with GOLDEN_PRINT=1).
 */
const GOLDEN: Record<string, string> = {
  'meshtasticator-default / seed 1': 'e7b9e256254d6e49bfbd92d8e7b3e7833823df41be7b711cfe96f69de03d9b47',
  'meshtasticator-default / seed 7': 'b97f58012d37d696cd1a1c98bcc518a2b3ade118257d140de960b66239f3497e',
  'meshtasticator-default 60 nodes / seed 3': '0594972bdf54e58f4697d5228a2feaa27447cb32a7edfe53026eed0d813afcd2',
  'rural-sparse / seed 1': 'c19ee34ad25f56b358279a7fea992fb0f6b8c4ccbb4594874291319c6ff3346c',
  'rural-sparse / seed 2': '84fb5dde550a307add0ddbd5b2243f18d55ac806b716f4f7e98ba7508de39a18',
  'urban-canyon / seed 1': '5f7797bf35590b1c918dc02ca2d3922506bc98738f2dacfb56ea73ff255a1b7d',
  'urban-canyon / seed 5': 'b281921f537877b91c47e214fc048eeb4fce55d23fab2fb7a9b71c82d775299c',
  'dense-festival 120 nodes / seed 2': '67d1b93be6915d40603c3c2c4d1ad4975981e644f60335ce1f48a56a9a92572f',
  'disaster-zone / seed 1': 'f7ea144e066757f0125c2eff905ab93ea3ab6d12abade9973b577b60af189de4',
  'disaster-zone / seed 9': '74a4f1159ed219dfcbc657251b96677336c4c96a165bcc8630b10a75a46ee58b',
  'connected placement 400 nodes / seed 2': 'beb89903784e5198c17c8e4d3fe31113543a6e33ad65b28bfa40b793057a4e98',
  'uniform placement 600 nodes / seed 3': 'd466ebd3344ce3c02c83921a1eb8930bc34d2b75fa075f2fd4d0faaf77626ca8',
  'throughput 200 nodes / seed 1': '2911422bae61ae106cc24ced98f8e4d70503d3c1c8f423c510c31473489f3160',
  'throughput 200 nodes / seed 4': '642eef9b76c787a75795d7f2c95053503d353b2595c78ba7175241354f8079f5',
  // Recorded before the periodic broadcasts were modelled: with them off, those worlds are byte for byte as before.
  'rural-sparse periodic broadcasts off / seed 1': '724d4f355344f821ecc21c1aa7f8d229af40cf12bdc8fce1bf6e7a0b01a73eff',
  'disaster-zone periodic broadcasts off / seed 9': '7e96d52863796803dd138cf1fc32f41f15a1de5b972bf9d6495e965672a170c3',
  // Recorded before meshtasticator-default named its movers: drawing them as it did then gives the same bytes.
  'meshtasticator-default drawn movers / seed 1': 'ac7a165add49fdd92d6e611e97216b422bd8289a43ed2c111ab2eb7031f6179e',
  'connected placement 400 nodes drawn movers / seed 2': '0c9a73f1dd0e1b584c1cb708a72b9f10861ecf4f604854e8dde1671161a97454',
  'throughput 200 nodes periodic broadcasts off / seed 1': 'b2875a0b430445576645afec3b9ae0073224120149270ec1a23fdbcc2f9d6b23',
};

/** The firmware's periodic broadcasts (NodeInfo, position, device telemetry), none of which the pre-rewrite traces had. */
const PERIODIC_OFF = { 'firmware.nodeInfoBroadcastS': 0, 'firmware.positionBroadcastS': 0, 'firmware.telemetryBroadcastS': 0 };

/**
 * meshtasticator-default's radio world as it was before it drew Meshtasticator's own mesh: the simulator's connected
 * placement, hashed link offsets and the derived sensitivity (what the cases recorded then still check).
 */
const OWN_MESH = { 'nodes.placement.kind': 'connected', 'pathLoss.linkOffsets': 'hashed', sensitivityDbm: null };

/** meshtasticator-default's movers drawn per run (30% roam, 30% of those with GPS), as before it named Meshtasticator's. */
const DRAWN_MOVERS = { ...OWN_MESH, 'mobility.movers': null, 'mobility.fraction': 0.3, 'mobility.gpsFraction': 0.3 };

const cases: Array<{ name: string; config: () => ScenarioConfig; seeds: number[] }> = [
  { name: 'meshtasticator-default', config: () => builtinScenario('meshtasticator-default'), seeds: [1, 7] },
  { name: 'meshtasticator-default 60 nodes', config: () => applyOverrides(builtinScenario('meshtasticator-default'), { 'nodes.count': 60, duration: '10m' }), seeds: [3] },
  { name: 'rural-sparse', config: () => applyOverrides(builtinScenario('rural-sparse'), { duration: '30m' }), seeds: [1, 2] },
  { name: 'urban-canyon', config: () => applyOverrides(builtinScenario('urban-canyon'), { duration: '10m' }), seeds: [1, 5] },
  { name: 'dense-festival 120 nodes', config: () => applyOverrides(builtinScenario('dense-festival'), { 'nodes.count': 120, duration: '3m' }), seeds: [2] },
  { name: 'disaster-zone', config: () => applyOverrides(builtinScenario('disaster-zone'), { duration: '20m' }), seeds: [1, 9] },
  // Placement at sizes where the candidate checks matter (every node's position is in the trace).
  { name: 'connected placement 400 nodes', config: () => applyOverrides(builtinScenario('meshtasticator-default'), { ...OWN_MESH, 'nodes.count': 400, duration: '20s' }), seeds: [2] },
  { name: 'uniform placement 600 nodes', config: () => applyOverrides(builtinScenario('urban-canyon'), { 'nodes.count': 600, duration: '20s' }), seeds: [3] },
  { name: 'throughput 200 nodes', config: () => throughputScenario(200, '15m'), seeds: [1, 4] },
  { name: 'meshtasticator-default drawn movers', config: () => applyOverrides(builtinScenario('meshtasticator-default'), DRAWN_MOVERS), seeds: [1] },
  { name: 'connected placement 400 nodes drawn movers', config: () => applyOverrides(builtinScenario('meshtasticator-default'), { 'nodes.count': 400, duration: '20s', ...DRAWN_MOVERS }), seeds: [2] },
  { name: 'rural-sparse periodic broadcasts off', config: () => applyOverrides(builtinScenario('rural-sparse'), { duration: '30m', ...PERIODIC_OFF }), seeds: [1] },
  { name: 'disaster-zone periodic broadcasts off', config: () => applyOverrides(builtinScenario('disaster-zone'), { duration: '20m', ...PERIODIC_OFF }), seeds: [9] },
  { name: 'throughput 200 nodes periodic broadcasts off', config: () => applyOverrides(throughputScenario(200, '15m'), PERIODIC_OFF), seeds: [1] },
];

describe('trace bytes are unchanged for a given scenario and seed', () => {
  for (const c of cases) {
    for (const seed of c.seeds) {
      const key = `${c.name} / seed ${seed}`;
      it(key, () => {
        const text = jsonlRun(c.config(), seed);
        const hash = createHash('sha256').update(text).digest('hex');
        if (process.env.GOLDEN_PRINT) console.log(`  '${key}': '${hash}',`);
        expect(text.length).toBeGreaterThan(1000);
        expect(hash).toBe(GOLDEN[key]);
      }, 120_000);
    }
  }
});
