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
  'meshtasticator-default / seed 1': 'ac7a165add49fdd92d6e611e97216b422bd8289a43ed2c111ab2eb7031f6179e',
  'meshtasticator-default / seed 7': 'd355cfdbbe7359764dcb171b53b77ffa47150f9de2a10417cca8bcb87576c1c7',
  'meshtasticator-default 60 nodes / seed 3': '7ab8adbbd47cb071b12aab120ba9398b45c293e6cce8fbdc61a06ddbb1e2e54a',
  'rural-sparse / seed 1': '60c2a9dca9aefb434aae70ef4013f8b1ac02a3e88ba357f9f1904e61424d5e5b',
  'rural-sparse / seed 2': '4c66bd2b7577d8a558e012a6e0b7162994addc614f50e1b1c6f0d24b7648c066',
  'urban-canyon / seed 1': 'd9e73ffecf6bb63e29d682442080199072485b2ab3d18ac4f21460b49c9504f6',
  'urban-canyon / seed 5': '23a2889c6451ca80ce8f2f931a097ee237a2385c1caf8a68103d49d6217939aa',
  'dense-festival 120 nodes / seed 2': 'f8eb8d031ccd1a3674d3ab9f2a155bca7aae0f7fd0a090ce78012751ad7c62a4',
  'disaster-zone / seed 1': 'b75f224e892b81f22abbfe42cf91a78a621216e353d33c20694bf36824cfe833',
  'disaster-zone / seed 9': 'c6eaeea9ea795e7509fdfdd061fbd245f56eb2d13b8c438562afafc2bd296db3',
  'connected placement 400 nodes / seed 2': '0c9a73f1dd0e1b584c1cb708a72b9f10861ecf4f604854e8dde1671161a97454',
  'uniform placement 600 nodes / seed 3': 'd466ebd3344ce3c02c83921a1eb8930bc34d2b75fa075f2fd4d0faaf77626ca8',
  'throughput 200 nodes / seed 1': '4b98f5df4ea9834ab7087e8b20c2560b7f2fad16fdfcecc53ba18eda0d305be8',
  'throughput 200 nodes / seed 4': '4f5bc2a9482c462410121db64c26b45f24a7330d01d7518a2e539287ebf3b7ec',
  // Recorded before NodeInfo announcements were modelled: with them off, those worlds are byte for byte as before.
  'rural-sparse NodeInfo off / seed 1': '724d4f355344f821ecc21c1aa7f8d229af40cf12bdc8fce1bf6e7a0b01a73eff',
  'disaster-zone NodeInfo off / seed 9': '7e96d52863796803dd138cf1fc32f41f15a1de5b972bf9d6495e965672a170c3',
  'throughput 200 nodes NodeInfo off / seed 1': 'b2875a0b430445576645afec3b9ae0073224120149270ec1a23fdbcc2f9d6b23',
};

const NODEINFO_OFF = { 'firmware.nodeInfoBroadcastS': 0 };

const cases: Array<{ name: string; config: () => ScenarioConfig; seeds: number[] }> = [
  { name: 'meshtasticator-default', config: () => builtinScenario('meshtasticator-default'), seeds: [1, 7] },
  { name: 'meshtasticator-default 60 nodes', config: () => applyOverrides(builtinScenario('meshtasticator-default'), { 'nodes.count': 60, duration: '10m' }), seeds: [3] },
  { name: 'rural-sparse', config: () => applyOverrides(builtinScenario('rural-sparse'), { duration: '30m' }), seeds: [1, 2] },
  { name: 'urban-canyon', config: () => applyOverrides(builtinScenario('urban-canyon'), { duration: '10m' }), seeds: [1, 5] },
  { name: 'dense-festival 120 nodes', config: () => applyOverrides(builtinScenario('dense-festival'), { 'nodes.count': 120, duration: '3m' }), seeds: [2] },
  { name: 'disaster-zone', config: () => applyOverrides(builtinScenario('disaster-zone'), { duration: '20m' }), seeds: [1, 9] },
  // Placement at sizes where the candidate checks matter (every node's position is in the trace).
  { name: 'connected placement 400 nodes', config: () => applyOverrides(builtinScenario('meshtasticator-default'), { 'nodes.count': 400, duration: '20s' }), seeds: [2] },
  { name: 'uniform placement 600 nodes', config: () => applyOverrides(builtinScenario('urban-canyon'), { 'nodes.count': 600, duration: '20s' }), seeds: [3] },
  { name: 'throughput 200 nodes', config: () => throughputScenario(200, '15m'), seeds: [1, 4] },
  { name: 'rural-sparse NodeInfo off', config: () => applyOverrides(builtinScenario('rural-sparse'), { duration: '30m', ...NODEINFO_OFF }), seeds: [1] },
  { name: 'disaster-zone NodeInfo off', config: () => applyOverrides(builtinScenario('disaster-zone'), { duration: '20m', ...NODEINFO_OFF }), seeds: [9] },
  { name: 'throughput 200 nodes NodeInfo off', config: () => applyOverrides(throughputScenario(200, '15m'), NODEINFO_OFF), seeds: [1] },
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
