/* global console */
// What authentication costs on the air: `pnpm --filter @compotastic/orchestrator auth-overhead` after `pnpm build`.
// Prints the bytes the trailer adds per kind of packet, and the airtime of one offloaded job on LONG_FAST (every
// packet of it, owner and worker, in the simulator), with the trailers and with the trailers' bytes taken off.
import { loadKernel } from '@compotastic/kernel';
import { timeOnAirMs, onAirPacketBytes } from '@compotastic/mesh';
import { CERTIFICATE_BYTES, KernelExecutor, MemoryJobStore, Orchestrator, PUBLIC_KEY_BYTES, trailerBytes } from '../dist/index.js';
import { overheardMessage } from '../dist/attacks/index.js';
import { simWorld } from './sim-world.mjs';

const rows = [
  ['unicast (job packets: ASSIGN, DATA, RESULT...)', trailerBytes(false, false)],
  ['first control packet to a peer (key introduction)', trailerBytes(false, true)],
  ['  ... in a swarm (introduction + certificate)', trailerBytes(false, true, true)],
  ['broadcast (CAP_ADVERT, STATE_DELTA, heartbeat, CAP_QUERY, JOB_REQUEST: signed, introduces the key)', trailerBytes(true, true)],
  ['  ... in a swarm (with certificate)', trailerBytes(true, true, true)],
];
console.log('bytes added per packet:');
for (const [what, n] of rows) console.log(`  ${String(n).padStart(4)}  ${what}`);
console.log(`  (key ${PUBLIC_KEY_BYTES} B, certificate ${CERTIFICATE_BYTES} B, RESULT signature for a redundant copy +64 B)`);

const kernel = await loadKernel({ build: 'scalar' });
const world = simWorld({ seed: 5, nodes: 2 });
const [ownerNum, workerNum] = world.nodes;
const caps = (gops, acceptsJobs) => ({
  deviceClass: 'phone', accelerators: [], precisions: ['int8'], onnxRuntime: false, kernelBuild: 'scalar', acceptsJobs, externalPower: true,
  portBlocked: false, links: { ble: false, wifi: false }, modelFamilies: ['gemm'], freeRamKiB: 4096, gops, firmwareVersion: '2.6.11', modelId: 0,
  modelVersion: 0, computeDrainPctPerHour: 0,
});
const make = (num, owner) => new Orchestrator({
  host: { clock: world.clock, batteryPct: () => null, freeRamKiB: () => 4096, computeTimeMs: () => 2000 },
  mesh: world.link(num), executor: owner ? { name: 'none', supports: () => false, run: () => Promise.reject(new Error('none')) } : new KernelExecutor(kernel),
  capabilities: caps(owner ? 0.001 : 1, !owner), seed: num, config: { startJitterMs: 10_000 }, store: new MemoryJobStore(),
});
const owner = make(ownerNum, true);
const worker = make(workerNum, false);
owner.start();
worker.start();
await world.run(120_000);
const packets = [];
world.overhear((p) => packets.push(p));
const spec = { kind: 'gemm', m: 4, k: 64, n: 16, aType: 'uint8', bType: 'int8', aZeroPoint: 0, bZeroPoint: 0, weights: 'inline' };
let outcome = null;
owner.onJobEnd((o) => (outcome = o));
owner.submit(spec, new Uint8Array(4 * 64 + 64 * 16).map((_, i) => i * 7), { tag: 'measure' });
await world.run(world.clock.now() + 600_000);
const job = packets.filter((p) => p.to !== 'broadcast');
const air = (n) => timeOnAirMs('LONG_FAST', onAirPacketBytes({ portnum: 256, payloadBytes: n }));
let after = 0;
let before = 0;
let trailer = 0;
for (const p of job) {
  const flags = p.payload[p.payload.length - 1];
  const t = trailerBytes(false, (flags & 2) !== 0, (flags & 4) !== 0);
  trailer += t;
  after += air(p.payload.length);
  before += air(p.payload.length - t);
}
const types = {};
for (const p of job) {
  const m = overheardMessage(p.payload);
  types[m?.type ?? '?'] = (types[m?.type ?? '?'] ?? 0) + 1;
}
console.log(`\none offloaded GEMM 4x64x16 (input 1280 B, output 256 B), LONG_FAST: ${outcome?.status ?? 'unfinished'}, ${job.length} unicast packets ${JSON.stringify(types)}`);
console.log(`  airtime with trailers ${(after / 1000).toFixed(2)} s; the same packets without their ${trailer} trailer bytes ${(before / 1000).toFixed(2)} s (+${((after / before - 1) * 100).toFixed(1)} %)`);
console.log('  (DATA chunks are 13 B smaller with the trailer, so a large transfer also needs up to 6 % more DATA packets)');
