import { Prng, fnv1a32 } from '@compotastic/mesh';
import { OTA_PORTNUM } from '../adapters/packet-link.js';
import type { SimulationLike } from '../experiments/airtime.js';
import { seededSigningKey, startBroadcastRollout } from '../experiments/rollout.js';
import { rolloutScenario } from '../experiments/scenario.js';
import { signedSession } from '../experiments/signed-session.js';
import { keyId, type SigningKey } from '../signing.js';
import { signOffer } from '../transfer/auth.js';
import {
  MAX_HASHES_PER_MESSAGE, MAX_SYMBOL_BYTES, SIGNATURE_BYTES, SYMBOL_HASH_BYTES, decodeMessage, encodeMessage, type OfferMessage,
} from '../transfer/messages.js';
import { acceptOfferFor } from '../transfer/receiver.js';
import type { AttackReport } from './report.js';

// The OTA half of the adversarial harness. A publisher rolls a signed release out to the receivers of a rollout
// scenario in the simulator while some of the nodes around it attack: forged offers meant to lock receivers, forged
// symbols and hashes, replays of genuine old sessions (an older release, another model), offers claiming
// impossible sizes, and forged ENDs plus offers aimed at sessions that stall. Each run is compared with the honest
// run of the same scenario and seed, and every malicious packet that reaches an honest receiver is checked for
// what it changed there.

export const OTA_ATTACKS = ['forged-offer-lock', 'forged-data', 'replayed-offer', 'oversized-claim', 'cross-model-downgrade', 'stalled-takeover'] as const;
export type OtaAttack = (typeof OTA_ATTACKS)[number];

export interface OtaAttackOptions {
  /** Builds the project's simulator for a scenario (`(s) => new Simulation(s)`). */
  makeSimulation: (scenario: Record<string, unknown>) => SimulationLike;
  /** Nodes around the publisher, attackers included (default 30). */
  nodes?: number;
  bundleBytes?: number;
  /** Loss on every publisher-receiver link from fading (default 0.2). */
  loss?: number;
  seed?: number;
  /** Shares of the nodes that attack (default 1 %, 3 %, 10 %, 30 %: at least one node; shares that come to the same number of nodes run once). */
  fractions?: readonly number[];
  attacks?: readonly OtaAttack[];
  /** Each attacker sends one packet this often (default 30 s, jittered). */
  attackIntervalMs?: number;
  /** Simulated time a run may take (default 48 h). */
  limitMs?: number;
}

/** The release the receivers run and the one the publisher rolls out (same model, higher version and counter). */
const MODEL = 'model-a';
const INSTALLED = { modelId: MODEL, version: 1, securityFloor: 1 };
const RELEASE = { modelId: MODEL, version: 2, baseVersion: null, securityCounter: 2 };
/** Receivers in the stalled-session attack give a silent session up after this long, so every poll gap stalls it. */
const SHORT_STALL_MS = 20_000;
/** The publisher starts after the attackers, so a lock would come first. */
const PUBLISH_AT_MS = 60_000;

/** A genuine signed session as an eavesdropper records it. */
function recordedSession(key: SigningKey, rng: Prng, release: { modelId: string; version: number; securityCounter: number }, bytes: number): Uint8Array[] {
  return signedSession(key, rng, release, bytes).messages;
}

/** An offer no trusted key signed: by the attacker's own key, or claiming the publisher's key id. */
function forgedOffer(rng: Prng, attacker: SigningKey, publisherId: Uint8Array, fields: Partial<OfferMessage>): Uint8Array {
  const offer = signOffer({
    type: 'offer', session: rng.int(0, 0x10000), seed: rng.uint32(), length: 20_000, symbolSize: MAX_SYMBOL_BYTES, maxBlockSymbols: 512,
    bundleSha256: rng.bytes(32), modelHash: fnv1a32(MODEL), version: 99, baseVersion: null, securityCounter: 99, ...fields,
  }, attacker);
  return encodeMessage(rng.bool() ? offer : { ...offer, keyId: publisherId });
}

/** What an attacker has overheard of the publisher's session. */
interface Overheard {
  session: number;
  symbolSize: number;
  blocks: number;
  symbols: number;
}

function overhear(payload: Uint8Array, seen: Overheard | null): Overheard | null {
  try {
    const m = decodeMessage(payload);
    if (m.type === 'offer') return { session: m.session, symbolSize: m.symbolSize, blocks: Math.ceil(Math.ceil(m.length / m.symbolSize) / m.maxBlockSymbols), symbols: Math.ceil(m.length / m.symbolSize) };
    if (!seen && (m.type === 'data' || m.type === 'hashes')) return { session: m.session, symbolSize: MAX_SYMBOL_BYTES, blocks: 1, symbols: 300 };
  } catch {
    // not a transfer message
  }
  return seen;
}

/** The attacker's next packet, or null when it has nothing to send yet. */
type NextPacket = (rng: Prng, seen: Overheard | null) => Uint8Array | null;

function attacker(kind: OtaAttack, key: SigningKey, publisher: SigningKey, rng: Prng, bundleBytes: number): NextPacket {
  const pubId = keyId(publisher.publicKey);
  const forgedSession = recordedSession(key, rng.derive('forged'), { modelId: MODEL, version: 99, securityCounter: 99 }, 4000);
  const cycle = (messages: Uint8Array[]): NextPacket => {
    let at = 0;
    return () => messages[at++ % messages.length]!;
  };
  switch (kind) {
    case 'forged-offer-lock':
      // The old lock: one offer and one symbol; here the whole forged session, offers signed by the wrong key.
      return cycle(forgedSession.flatMap((m, i) => (i % 5 === 0 ? [m, forgedOffer(rng, key, pubId, {})] : [m])));
    case 'forged-data':
      return (r, seen) => {
        if (!seen) return null;
        const block = r.int(0, seen.blocks);
        const esi = r.int(0, seen.symbols + 100);
        if (r.bool(0.25)) {
          const hashes = Array.from({ length: MAX_HASHES_PER_MESSAGE }, () => r.bytes(SYMBOL_HASH_BYTES));
          return encodeMessage({ type: 'hashes', session: seen.session, block, firstEsi: esi, hashes, signature: r.bytes(SIGNATURE_BYTES) });
        }
        return encodeMessage({ type: 'data', session: seen.session, block, esi, symbol: r.bytes(seen.symbolSize) });
      };
    case 'replayed-offer':
      return cycle(recordedSession(publisher, rng.derive('old'), { modelId: MODEL, version: 1, securityCounter: 1 }, bundleBytes));
    case 'cross-model-downgrade':
      return cycle(recordedSession(publisher, rng.derive('other'), { modelId: 'model-b', version: 1, securityCounter: 1 }, bundleBytes));
    case 'oversized-claim':
      return (r) => forgedOffer(r, key, pubId, { length: 0xffffffff, maxBlockSymbols: 0xffff });
    case 'stalled-takeover': {
      let turn = 0;
      return (r, seen) => {
        turn++;
        if (seen && turn % 3 === 0) return encodeMessage({ type: 'end', session: seen.session, reason: 1 });
        return turn % 3 === 1 ? forgedOffer(r, key, pubId, {}) : forgedSession[turn % forgedSession.length]!;
      };
    }
  }
}

interface RunResult {
  completed: number;
  finishedAtMs: number | null;
  rounds: number;
  tried: number;
  accepted: number;
  wrong: number;
  takeovers: number;
}

function runOnce(o: Required<Omit<OtaAttackOptions, 'fractions' | 'attacks'>>, kind: OtaAttack | null, attackers: number[]): RunResult {
  const scenario = rolloutScenario({ receivers: o.nodes, loss: o.loss, seed: o.seed, durationS: o.limitMs / 1000 });
  const sim = o.makeSimulation(scenario);
  const nums = sim.nodes.map((n) => n.num);
  const publisherNum = nums[0]!;
  const bad = new Set(attackers.map((i) => nums[1 + i]!));
  const honest = nums.slice(1).filter((n) => !bad.has(n));
  const rng = new Prng(o.seed).derive('ota-attacks');
  const publisher = seededSigningKey(rng.derive('publisher'));
  const bundle = rng.derive('bundle').bytes(o.bundleBytes);
  const result: RunResult = { completed: 0, finishedAtMs: null, rounds: 0, tried: 0, accepted: 0, wrong: 0, takeovers: 0 };
  let realSession: number | null = null;

  if (kind) {
    for (const num of bad) {
      const arng = rng.derive(`attacker-${num}`);
      const next = attacker(kind, seededSigningKey(arng.derive('key')), publisher, arng, o.bundleBytes);
      let seen: Overheard | null = null;
      sim.addListener(num, { onPacket: (p, _s, _r, viaRadio) => void (viaRadio && p.portnum === OTA_PORTNUM && p.payload && (seen = overhear(p.payload, seen))) });
      const fire = (): void => {
        if (sim.clock.now() > o.limitMs) return;
        const payload = next(arng, seen);
        if (payload) sim.sendFromApp(num, { portnum: OTA_PORTNUM, payload, wantAck: false, hopLimit: 0 });
        sim.clock.setTimer(arng.uniform(0.5, 1.5) * o.attackIntervalMs, fire);
      };
      sim.clock.setTimer(arng.uniform(0, o.attackIntervalMs), fire);
    }
  }

  const sessionOf = (payload: Uint8Array): number | null => {
    try {
      return decodeMessage(payload).session;
    } catch {
      return null;
    }
  };
  const run = startBroadcastRollout(sim, {
    sender: publisherNum, receivers: honest, bundle, preset: 'LONG_FAST', seed: o.seed, hopLimit: 0, key: publisher, manifest: RELEASE,
    startDelayMs: PUBLISH_AT_MS,
    receiver: { accept: acceptOfferFor(INSTALLED), ...(kind === 'stalled-takeover' ? { stallTimeoutMs: SHORT_STALL_MS } : {}) },
    tap: (_node, from, payload, rx, deliver) => {
      if (!bad.has(from)) {
        if (from === publisherNum) realSession ??= sessionOf(payload);
        deliver();
        return;
      }
      const before = { session: rx.session, useful: rx.stats.useful, takeovers: rx.stats.takeovers };
      deliver();
      result.tried++;
      const tookSession = rx.session !== before.session && rx.session !== realSession;
      if (tookSession || rx.stats.useful > before.useful) result.accepted++;
      result.takeovers += rx.stats.takeovers - before.takeovers;
    },
  });
  for (let t = 600_000; t <= o.limitMs && !run.progress().done; t += 600_000) sim.run(t);
  const progress = run.progress();
  result.completed = progress.delivered;
  result.finishedAtMs = progress.finishedAtMs === null ? null : progress.finishedAtMs - PUBLISH_AT_MS;
  result.wrong = progress.wrongDeliveries ?? 0;
  result.rounds = run.report()?.rounds ?? 0;
  return result;
}
/** Which of the nodes attack: `count` of them spread evenly around the publisher. */
function pickAttackers(nodes: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.floor((i * nodes) / count));
}

const hours = (ms: number | null): string => (ms === null ? 'never' : `${(ms / 3_600_000).toFixed(2)} h`);

/**
 * Runs every attack with each share of attacking nodes in the simulator, and the honest run of the same seed and
 * nodes for each share. Seeded: the same options give the same reports.
 */
export async function runOtaAttacks(options: OtaAttackOptions): Promise<AttackReport[]> {
  const o = {
    makeSimulation: options.makeSimulation, nodes: options.nodes ?? 30, bundleBytes: options.bundleBytes ?? 65536, loss: options.loss ?? 0.2,
    seed: options.seed ?? 1, attackIntervalMs: options.attackIntervalMs ?? 30_000, limitMs: options.limitMs ?? 48 * 3_600_000,
  };
  const reports: AttackReport[] = [];
  const counts = (options.fractions ?? [0.01, 0.03, 0.1, 0.3]).map((f) => Math.min(o.nodes - 1, Math.max(1, Math.round(f * o.nodes))));
  for (const count of [...new Set(counts)]) {
    const attackers = pickAttackers(o.nodes, count);
    const baseline = runOnce(o, null, attackers);
    for (const kind of options.attacks ?? OTA_ATTACKS) {
      const r = runOnce(o, kind, attackers);
      // A yield between runs keeps a caller's event loop (a progress printer, a test timeout) alive.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const replay = kind === 'replayed-offer' || kind === 'cross-model-downgrade';
      reports.push({
        suite: 'ota', attack: kind, maliciousFraction: count / o.nodes, tried: r.tried, rejected: r.tried - r.accepted,
        forgeriesAccepted: replay ? 0 : r.accepted, replaysAccepted: replay ? r.accepted : 0, wrongResultsAccepted: r.wrong,
        jobsCompleted: r.completed, baselineJobsCompleted: baseline.completed,
        notes: `${count} of ${o.nodes} nodes attack; ${o.bundleBytes} B to ${o.nodes - count} receivers: all done after ${hours(r.finishedAtMs)} ` +
          `in ${r.rounds} rounds (honest run ${hours(baseline.finishedAtMs)}, ${baseline.rounds} rounds); ${r.takeovers} sessions displaced by an attacker's packet`,
      });
    }
  }
  return reports;
}
