/* global process, console */
// What authenticating the transfer costs, and what it saves:
// - the bytes the signatures and symbol hashes add per message;
// - a 64 KiB rollout to 30 receivers on LONG_FAST at 20 % loss in the simulator (the scenario and seed of the
//   README's broadcast figure): symbols sent per source symbol, and the share of the airtime the HASHES take;
// - the fountain code's overhead at 20 % loss for one receiver, without and with the signed hashes;
// - genuine symbols a 90-symbol transfer needs with 0, 1, 5 and 20 forged symbols mixed in.
//
//   pnpm --filter @compotastic/ota build
//   pnpm --filter @compotastic/ota auth-cost [-- --json]
import { Prng } from '@compotastic/mesh';
import { Simulation } from '@compotastic/sim';
import {
  DATA_HEADER_BYTES, MAX_HASHES_PER_MESSAGE, MAX_MESSAGE_BYTES, MAX_SYMBOL_BYTES, measureAuthenticatedFecOverhead, measureFecOverhead,
  measureForgedSymbolCost, rolloutScenario, startBroadcastRollout,
} from '../dist/index.js';

const OFFER_V1_BYTES = 62;
const OFFER_BYTES = OFFER_V1_BYTES + 8 + 64;
const hashesBytes = 7 + 64 + 8 * MAX_HASHES_PER_MESSAGE;
const perSymbol = (2 * hashesBytes) / MAX_HASHES_PER_MESSAGE;
const bytes = {
  offer: { before: OFFER_V1_BYTES, after: OFFER_BYTES },
  hashesMessage: { bytes: hashesBytes, symbols: MAX_HASHES_PER_MESSAGE, copies: 2 },
  perDataMessage: { dataBytes: DATA_HEADER_BYTES + MAX_SYMBOL_BYTES, addedBytes: perSymbol, percent: (100 * perSymbol) / MAX_MESSAGE_BYTES },
};

const seed = 42;
const sim = new Simulation(rolloutScenario({ receivers: 30, loss: 0.2, seed, durationS: 14 * 24 * 3600 }));
const nums = sim.nodes.map((n) => n.num);
const run = startBroadcastRollout(sim, { sender: nums[0], receivers: nums.slice(1), bundle: new Prng(seed).bytes(65536), preset: 'LONG_FAST', seed, hopLimit: 0 });
for (let t = 600_000; !run.progress().done && t <= 14 * 24 * 3600_000; t += 600_000) sim.run(t);
const report = run.report();
const airtimeMs = sim.nodes.reduce((s, n) => s + sim.radioStats(n.num).txAirtimeMs, 0);
const rollout = {
  delivered: run.progress().delivered,
  doneAfterH: run.progress().finishedAtMs / 3_600_000,
  airtimeS: airtimeMs / 1000,
  senderAirtimeS: report.airtimeMs / 1000,
  sourceSymbols: report.sourceSymbols,
  repairSymbols: report.repairSymbols,
  hashMessages: report.hashMessages,
  rounds: report.rounds,
  symbolsPerSource: (report.sourceSymbols + report.repairSymbols) / report.sourceSymbols,
  hashAirtimePercentOfSender: (100 * report.hashAirtimeMs) / report.airtimeMs,
  hashAirtimePercentOfAll: (100 * report.hashAirtimeMs) / airtimeMs,
};
const fecOptions = { bytes: 65536, loss: 0.2, trials: 100, seed: 7 };
const fec = { plain: measureFecOverhead(fecOptions), authenticated: measureAuthenticatedFecOverhead(fecOptions) };
const forged = [0, 1, 5, 20].map((n) => measureForgedSymbolCost({ symbols: 90, forged: n, seed: n + 1 }));

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ bytes, rollout, fec, forged }, null, 2));
} else {
  console.log(`OFFER ${bytes.offer.before} -> ${bytes.offer.after} B; HASHES ${hashesBytes} B per ${MAX_HASHES_PER_MESSAGE} symbols, sent twice: ` +
    `+${perSymbol.toFixed(1)} B per ${bytes.perDataMessage.dataBytes}-byte DATA (${bytes.perDataMessage.percent.toFixed(1)} %)`);
  console.log(`rollout 64 KiB -> 30 receivers, LONG_FAST, 20 % loss: ${rollout.delivered}/30 after ${rollout.doneAfterH.toFixed(2)} h, ` +
    `${rollout.sourceSymbols} source + ${rollout.repairSymbols} repair symbols (${rollout.symbolsPerSource.toFixed(3)} per source), ` +
    `${rollout.hashMessages} HASHES, ${rollout.rounds} rounds; airtime ${rollout.airtimeS.toFixed(0)} s (sender ${rollout.senderAirtimeS.toFixed(0)} s), ` +
    `HASHES ${rollout.hashAirtimePercentOfSender.toFixed(1)} % of the sender's, ${rollout.hashAirtimePercentOfAll.toFixed(1)} % of all`);
  console.log(`fountain overhead, 64 KiB to one receiver at 20 % loss, ${fecOptions.trials} trials: symbols sent per source symbol ` +
    `${fec.plain.mean.toFixed(4)} (p99 ${fec.plain.p99.toFixed(4)}) without hashes, ${fec.authenticated.mean.toFixed(4)} (p99 ${fec.authenticated.p99.toFixed(4)}) with`);
  for (const f of forged) console.log(`90-symbol transfer with ${f.forged} forged symbols: ${f.genuineNeeded} genuine symbols needed, ${f.forgedDropped} dropped`);
}
