/* global process, console, URL */
// Where jobs fail and where the airtime goes, after `pnpm build`:
//   pnpm phases [scenario] [seed | a-b] [profile] [churn fraction]
// Each job ends in one phase: done (by plan kind), refused at admission (its reason), or past its deadline while it
// had no worker, was assigned but never accepted, was accepted but never got its whole input, or was computed but its
// result never came back. Attempts lost are counted by reason. Airtime on the orchestrator's port is split into the
// scenario's own chatter (its synthetic broadcasts and direct messages), broadcasts (first transmission, relays) and
// direct messages (first transmission, retransmissions, relays). JOBS=file replaces the workload; DUMP=prefix prints
// the timeline of every job whose phase starts with it to stderr.
import { readFile } from 'node:fs/promises';
import { loadScenario } from '@compotastic/sim/node';
import { parseWorkload, runSwarm } from '../dist/index.js';
const [scenarioName = 'disaster-zone', seedsArg = '1', profile = 'search-and-rescue', churn] = process.argv.slice(2);
const seeds = seedsArg.includes('-') ? (([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i))(seedsArg.split('-').map(Number)) : [Number(seedsArg)];
const scenario = await loadScenario(scenarioName);
const workload = parseWorkload({ jobs: JSON.parse(await readFile(process.env.JOBS ?? new URL('../workloads/disaster-response.json', import.meta.url).pathname, 'utf8')) });
const overrides = churn ? { 'availability.fraction': Number(churn) } : undefined;
const phases = {};
const air = { bcastOrig: 0, bcastRelay: 0, dmOrig: 0, dmRetx: 0, dmRelay: 0, synthetic: 0 };
const dmBytes = {};
const hopsHist = {};
const lossReasons = {};
for (const seed of seeds) {
  const gens = new Map();
  const seenTx = new Set();
  const jobs = new Map();
  const key = (owner, id) => `${owner}/${id}`;
  const trace = (e) => {
    if (e.ev === 'gen' && e.port === 256) gens.set(`${e.from}/${e.id}`, e);
    if (e.ev === 'tx_start' && e.port === 256) {
      const g = gens.get(`${e.from}/${e.id}`);
      const synth = g && ((g.to === 0xffffffff && g.bytes === 48) || (g.to !== 0xffffffff && g.bytes === 80));
      const k = `${e.node}/${e.from}/${e.id}`;
      if (synth) air.synthetic += e.airtimeMs;
      else if (e.to === 0xffffffff) air[e.node === e.from ? 'bcastOrig' : 'bcastRelay'] += e.airtimeMs;
      else if (e.node !== e.from) air.dmRelay += e.airtimeMs;
      else air[seenTx.has(k) ? 'dmRetx' : 'dmOrig'] += e.airtimeMs;
      if (!synth && e.to !== 0xffffffff && e.node === e.from && !seenTx.has(k)) dmBytes[e.bytes] = (dmBytes[e.bytes] ?? 0) + 1;
      seenTx.add(k);
    }
    if (e.ev !== 'app' || !e.data || typeof e.data !== 'object') return;
    const d = e.data;
    if (d.jobId === undefined) return;
    const k = key(e.type === 'accept' || e.type === 'shard_computed' || e.type === 'decline' ? d.owner : e.node, d.jobId);
    let j = jobs.get(k);
    if (!j) jobs.set(k, (j = { ev: [] }));
    j.ev.push([e.t, e.type, d]);
  };
  await runSwarm(scenario, { seed, workload, overrides, trace, profile });
  for (const [k, j] of jobs) {
    const req = j.ev.find((x) => x[1] === 'job_requested');
    if (!req) continue;
    // A relayed shard's own job (tag "relay <owner>/<job>") is one group of its own.
    const tag = String(req[2].tag).split('#')[0].replace(/^relay .*/, 'relay');
    const end = j.ev.find((x) => x[1] === 'job_done' || x[1] === 'job_failed');
    const has = (t) => j.ev.some((x) => x[1] === t);
    let phase;
    if (!end) phase = 'open';
    else if (end[1] === 'job_done') phase = `done:${j.ev.find((x) => x[1] === 'job_planned')[2].kind}`;
    else {
      const reason = String(end[2].reason).split(':')[0];
      if (reason !== 'DEADLINE') phase = reason;
      else if (!has('job_assigned') && !has('offer_taken') && !has('local_compute')) phase = 'DEADLINE:no worker ever';
      else if (!has('accept')) phase = 'DEADLINE:assigned, never accepted';
      else if (!has('shard_computed')) phase = 'DEADLINE:accepted, input never complete';
      else phase = 'DEADLINE:computed, result never back';
    }
    if (process.env.DUMP && phase.startsWith(process.env.DUMP)) console.error(k, tag, phase, JSON.stringify(j.ev.map(([t, ty, d]) => [Math.round(t / 1000), ty, d.node ?? d.peer ?? '', d.reason ?? d.explanation?.slice(0, 1500) ?? ''])));
    const b = (phases[tag] ??= {});
    b[phase] = (b[phase] ?? 0) + 1;
    for (const x of j.ev) if (x[1] === 'attempt_lost') { const r = String(x[2].reason).split(':')[0]; lossReasons[r] = (lossReasons[r] ?? 0) + 1; }
    const hops = j.ev.filter((x) => x[1] === 'job_planned').map((x) => x[2].assignments?.map((a) => a.link).join('+'));
    for (const h of hops) hopsHist[`${tag}:${h}`] = (hopsHist[`${tag}:${h}`] ?? 0) + 1;
  }
  process.stderr.write(`seed ${seed} done\n`);
}
const s = (v) => Math.round(v / 1000);
console.log(JSON.stringify({ phases, lossReasons, plans: hopsHist, airtimeS: Object.fromEntries(Object.entries(air).map(([k, v]) => [k, s(v)])), dmFirstTxByBytes: dmBytes }, null, 1));
