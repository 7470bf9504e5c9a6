/* global process, console, performance */
// The long client API fuzz, run after `pnpm build`:
//   pnpm fuzz [--count INPUTS] [--seed SEED]        (defaults: 200,000 ToRadio inputs, seed 20261124)
// test/virtual-radio.test.ts runs 400 inputs of the same check; this runs the volume. Random and mutated ToRadio bytes
// go to a virtual radio, in batches of 2,000 on a fresh two-node simulation each. The radio must never throw (other
// than TOO_LARGE, never sent here), and must answer exactly as the firmware's rules say, worked out from the protobuf
// alone: one queueStatus per decoded mesh packet (not for a repeat of one of the last 20 packet ids) and per
// heartbeat, one config handshake per want_config, nothing for malformed bytes. Exits non-zero on any failure.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Prng } from '@compotastic/mesh';
import { parseFuzzArgs } from '@compotastic/mesh/fuzz';
import { Protobuf } from '@meshtastic/core';
import { VirtualRadio } from '../dist/client.js';
import { Simulation } from '../dist/index.js';

const BATCH = 2000;
const P = Protobuf;

const toRadio = (variant) => toBinary(P.Mesh.ToRadioSchema, create(P.Mesh.ToRadioSchema, { payloadVariant: variant }));
const decodedPacket = (fields, payload) => toRadio({ case: 'packet', value: { to: 0xffffffff, ...fields, payloadVariant: { case: 'decoded', value: { portnum: 1, payload } } } });

/** One batch on a fresh simulation; returns a failure message or null. */
function batch(seed, inputs) {
  const sim = new Simulation({
    name: 'fuzz',
    duration: '1h',
    pathLoss: { model: 'log-distance', sigmaDb: 0 },
    nodes: { list: [{ name: 'a', x: 0, y: 0 }, { name: 'b', x: 300, y: 0 }] },
  }, { seed });
  const radio = new VirtualRadio(sim, sim.nodes[0].num);
  const got = { queueStatus: 0, configComplete: 0 };
  const connect = () =>
    radio.connect((bytes) => {
      const c = fromBinary(P.Mesh.FromRadioSchema, bytes).payloadVariant.case;
      if (c === 'queueStatus') got.queueStatus++;
      else if (c === 'configCompleteId') got.configComplete++;
    });
  let session = connect();
  const rng = new Prng(seed);
  const valid = decodedPacket({}, new Uint8Array(10));
  const want = { queueStatus: 0, configComplete: 0 };
  let recentIds = [];
  const predict = (bytes) => {
    let msg;
    try {
      msg = fromBinary(P.Mesh.ToRadioSchema, bytes);
    } catch {
      return;
    }
    const v = msg.payloadVariant;
    if (v.case === 'wantConfigId') want.configComplete++;
    else if (v.case === 'heartbeat') want.queueStatus++;
    else if (v.case === 'packet') {
      const id = v.value.id >>> 0;
      if (id !== 0 && recentIds.includes(id)) return;
      if (id !== 0) recentIds = [...recentIds, id].slice(-20);
      if (v.value.payloadVariant?.case === 'decoded') want.queueStatus++;
    }
  };
  try {
    for (let i = 0; i < inputs; i++) {
      let bytes;
      const kind = rng.intBelow(100);
      if (kind < 2) bytes = toRadio({ case: 'heartbeat', value: {} });
      else if (kind < 4) bytes = decodedPacket({ id: 1 + rng.intBelow(30) }, new Uint8Array(3));
      else if (kind < 52) bytes = rng.bytes(rng.intBelow(200));
      else {
        bytes = valid.slice();
        for (let k = 1 + rng.intBelow(4); k > 0; k--) bytes[rng.intBelow(bytes.length)] = rng.intBelow(256);
      }
      if (session.closed) {
        session = connect();
        recentIds = [];
      }
      predict(bytes);
      session.handleToRadio(bytes);
      sim.run(sim.now + 10);
    }
    sim.run(sim.now + 60_000);
  } catch (e) {
    return `seed ${seed}: threw ${e?.stack ?? e}`;
  }
  if (got.queueStatus !== want.queueStatus) return `seed ${seed}: ${got.queueStatus} queueStatus replies, expected ${want.queueStatus}`;
  if (got.configComplete !== want.configComplete) return `seed ${seed}: ${got.configComplete} handshakes, expected ${want.configComplete}`;
  return null;
}

let opts;
try {
  opts = parseFuzzArgs(process.argv.slice(2), { count: 200_000, seed: 20261124 }, 'fuzz.mjs');
} catch (e) {
  console.error(e.message);
  process.exit(2);
}
const root = new Prng(opts.seed);
const t0 = performance.now();
const failures = [];
let done = 0;
while (done < opts.count) {
  const n = Math.min(BATCH, opts.count - done);
  const failure = batch(root.uint32(), n);
  if (failure) failures.push(failure);
  done += n;
  if (process.stderr.isTTY) process.stderr.write(`\r${done.toLocaleString('en-US')} inputs`);
}
if (process.stderr.isTTY) process.stderr.write('\n');
console.log(`client API fuzz, seed ${opts.seed}: ${done} ToRadio inputs in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${failures.length} failing batches`);
for (const f of failures.slice(0, 10)) console.log(`  ${f}`);
process.exit(failures.length === 0 ? 0 : 1);
