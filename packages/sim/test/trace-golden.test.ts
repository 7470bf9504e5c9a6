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
  'rural-sparse / seed 1': '724d4f355344f821ecc21c1aa7f8d229af40cf12bdc8fce1bf6e7a0b01a73eff',
  'rural-sparse / seed 2': '5c8f9cfd14083280623b4b2c5336fc1a02ce18a866fdb082e84cba6e6178fd50',
  'urban-canyon / seed 1': 'e4ebc622e89ada40a4af1db11efe826fd34baff009802a42832ea4f28c453e86',
  'urban-canyon / seed 5': 'abbb36186a8590ef9132a2dcd017bb1cfc5be43db585be5ced5fdf4b85c7774e',
  'dense-festival 120 nodes / seed 2': 'e49007bd258e4ae59407f4894a947cc3313b28763644644c7afb5246c70b6f29',
  'disaster-zone / seed 1': '806006c9d5d73cbabcd3c83c5bad1dd6c140747204cd8b3a62250ded13b333e6',
  'disaster-zone / seed 9': '7e96d52863796803dd138cf1fc32f41f15a1de5b972bf9d6495e965672a170c3',
  'connected placement 400 nodes / seed 2': '0c9a73f1dd0e1b584c1cb708a72b9f10861ecf4f604854e8dde1671161a97454',
  'uniform placement 600 nodes / seed 3': 'd466ebd3344ce3c02c83921a1eb8930bc34d2b75fa075f2fd4d0faaf77626ca8',
  'throughput 200 nodes / seed 1': 'b2875a0b430445576645afec3b9ae0073224120149270ec1a23fdbcc2f9d6b23',
  'throughput 200 nodes / seed 4': 'af2204dfc411788331a65cf7e0be8ff0af13c5c6e5849b4b725f51b32eb8bcc2',
};

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
