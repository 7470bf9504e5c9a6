/* global process, console, URL */
// What compression would buy the workload's inputs, after `pnpm build`:
//   node scripts/input-sizes.mjs [seeds]   (default 1-3)
// Rebuilds every job's input exactly as the swarm draws it (`input:<template>:<seq>` from the seed) and reports the
// raw size, DEFLATE (level 9, raw) and Brotli (quality 11) of each input alone, and of its XOR delta against the
// previous input of the same stream and against a shared baseline (the stream's first input), as min / mean / max.
import { readFile } from 'node:fs/promises';
import { brotliCompressSync, constants, deflateRawSync } from 'node:zlib';
import { Prng } from '@compotastic/mesh';
import { WorkloadModel, inputFor, parseWorkload, specFor } from '../dist/index.js';

const arg = process.argv[2] ?? '1-3';
const [a, b] = arg.includes('-') ? arg.split('-').map(Number) : [Number(arg), Number(arg)];
const workload = parseWorkload({ jobs: JSON.parse(await readFile(new URL('../workloads/disaster-response.json', import.meta.url), 'utf8')) });
const durationS = 3600;
const deflate = (x) => deflateRawSync(x, { level: 9 }).length;
const brotli = (x) => brotliCompressSync(x, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const xor = (x, y) => x.map((v, i) => v ^ y[i]);
const rows = {};
for (let seed = a; seed <= b; seed++) {
  const model = new WorkloadModel(seed);
  workload.forEach((t, ti) => {
    const spec = specFor(t, model);
    const count = t.count ?? (t.everyS ? Math.ceil((durationS - (t.atS ?? 180)) / t.everyS) : 1);
    let first = null;
    let prev = null;
    for (let seq = 0; seq < count; seq++) {
      const input = inputFor(spec, new Prng(seed).derive(`input:${ti}:${seq}`));
      const r = (rows[t.id] ??= { inputs: 0, raw: [], deflate: [], brotli: [], deltaPrev: [], deltaBase: [] });
      r.inputs++;
      r.raw.push(input.length);
      r.deflate.push(deflate(input));
      r.brotli.push(brotli(input));
      if (prev) r.deltaPrev.push(deflate(xor(input, prev)));
      if (first) r.deltaBase.push(deflate(xor(input, first)));
      first ??= input;
      prev = input;
    }
  });
}
const stat = (v) => (v.length ? `${Math.min(...v)} / ${(v.reduce((s, x) => s + x, 0) / v.length).toFixed(1)} / ${Math.max(...v)}` : '-');
for (const [id, r] of Object.entries(rows)) {
  console.log(`${id}: ${r.inputs} inputs; bytes min / mean / max: raw ${stat(r.raw)}; deflate ${stat(r.deflate)}; brotli ${stat(r.brotli)}; delta vs previous ${stat(r.deltaPrev)}; delta vs first ${stat(r.deltaBase)}`);
}
