import { Prng, bytesEqual, crc32 } from '@compotastic/mesh';
import type { OrchestratorConfig } from '../context.js';
import type { JobOutcome } from '../delegation/coordinator.js';
import { MemoryJobStore } from '../delegation/job-store.js';
import type { Executor } from '../jobs/executor.js';
import { type GemmSpec, type JobSpec, inputBytes, outputBytes } from '../jobs/spec.js';
import { Orchestrator } from '../orchestrator.js';
import type { CapabilityRecord } from '../registry/capability.js';
import { MemoryAuthStore } from '../auth/store.js';
import { SwarmAdmission, issueCertificate } from '../auth/certificate.js';
import { type NodeKeyPair, keyPairFromPrng, keyPairFromSecret } from '../auth/keys.js';
import type { MeshLink, ReceivedPacket } from '../transport/link.js';
import { type Message, type MessageOf, encodeMessage } from '../wire/messages.js';
import { sampleMessages } from '../wire/samples.js';
import { Adversary, InjectionLedger, overheardMessage } from './adversary.js';
import type { AttackReport } from './report.js';
import type { AttackWorld, AttackWorldFactory } from './world.js';

export const COMPUTE_ATTACKS = ['spoofed-cap-advert', 'spoofed-result', 'replayed-result', 'oversized-assign', 'lying-worker', 'fuzzed-frames'] as const;
export type ComputeAttack = (typeof COMPUTE_ATTACKS)[number];

export interface ComputeAttackOptions {
  /** The simulated mesh (one per run). */
  world: AttackWorldFactory;
  /** What honest workers compute with (and what the oracle uses). */
  executor: Executor;
  seed: number;
  /** Nodes in each run, malicious ones included (default 30). */
  nodes?: number;
  fractions?: readonly number[];
  attacks?: readonly ComputeAttack[];
  jobsPerOwner?: number;
  /**
   * 'swarm' (default): every node, the malicious ones too (insiders), holds an operator certificate for its own number
   * and key, and nodes admit certified keys only. 'tofu': plain trust on first use, where a node that has not yet
   * heard a victim can be first to hear an impostor.
   */
  admission?: 'swarm' | 'tofu';
  /** Orchestrator settings for every node (over the suite's own). */
  config?: Partial<OrchestratorConfig>;
  /** Called with each report as it is made (progress for long runs). */
  onReport?: (r: AttackReport) => void;
}

const FORGED_GOPS = 4000;
const MINUTE = 60_000;
const WARMUP_MS = 8 * MINUTE;
const RUN_MS = 150 * MINUTE;
/** replayed-result: the owners lose their job stores here and submit a second batch. */
const RESET_MS = 75 * MINUTE;
const SPEC: GemmSpec = { kind: 'gemm', m: 4, k: 32, n: 8, aType: 'uint8', bType: 'int8', aZeroPoint: 0, bZeroPoint: 0, weights: 'inline' };
/** The swarm's clock for certificate expiry, and the expiry the harness certifies with. */
const NOW_S = 1_900_000_000;
const EXPIRES_S = 2_000_000_000;
/**
 * LoRa airtime is the budget: one authenticated broadcast is about 1.9 s on LONG_FAST, so 30 nodes that all boot within a
 * minute (the old 60 s jitter) fill the channel for minutes, and the queues never drain. Nodes come up over 5 minutes,
 * advertise hourly with a heartbeat every 30 minutes (Meshtastic itself sends NodeInfo every 3 hours and device
 * telemetry every 30 minutes), and discovery takes one relay in a 1.5 km cluster where most nodes hear each other.
 */
const CONFIG: Partial<OrchestratorConfig> = { startJitterMs: 5 * MINUTE, advertIntervalMs: 60 * MINUTE, heartbeatIntervalMs: 30 * MINUTE, discoveryHopLimit: 1, defaultDeadlineMs: 40 * MINUTE };

function capabilities(gops: number, acceptsJobs: boolean): Omit<CapabilityRecord, 'epoch'> {
  return {
    deviceClass: 'phone', accelerators: [], precisions: ['int8'], onnxRuntime: false, kernelBuild: 'scalar', acceptsJobs,
    externalPower: true, portBlocked: false, links: { ble: false, wifi: false }, modelFamilies: ['gemm'], freeRamKiB: 4096,
    gops, firmwareVersion: '2.6.11', modelId: 0, modelVersion: 0, computeDrainPctPerHour: 0,
  };
}

/** Owners compute nothing themselves, so every job crosses the mesh. */
const NO_LOCAL: Executor = { name: 'none', supports: () => false, run: () => Promise.reject(new Error('owners do not compute')) };

/** Certificates of the run's swarm (null: trust on first use). */
type Swarm = { operator: NodeKeyPair } | null;

function certify(swarm: Swarm, num: number, key: Uint8Array): Uint8Array | undefined {
  return swarm ? issueCertificate(swarm.operator, num, key, EXPIRES_S) : undefined;
}

function admission(swarm: Swarm): { admit?: (num: number, key: Uint8Array, cert: Uint8Array | null) => string | null } {
  if (!swarm) return {};
  const check = new SwarmAdmission(swarm.operator.publicKey, () => NOW_S);
  return { admit: (num, key, cert) => check.check(num, key, cert) };
}

interface HonestNode {
  num: number;
  orch: Orchestrator;
  events: Array<{ type: string; data: Record<string, unknown> }>;
}

interface Run {
  world: AttackWorld;
  honest: HonestNode[];
  owners: HonestNode[];
  attackers: number[];
  ledger: InjectionLedger;
  outcomes: Array<{ outcome: JobOutcome; expected: Uint8Array }>;
  rng: Prng;
  notes: string[];
  /** Attack-specific count of what was tried, when it is not injected packets (ASSIGNs sent, liar results). */
  tried: number;
  failures: string[];
  /** When the owners submit their first jobs: after every node's first advert. */
  firstJobMs: number;
}

/**
 * A link whose received packets are checked against the ledger: a packet the adversary injected that passes this
 * node's authentication (the orchestrator's SealedLink opens it synchronously) counts as accepted.
 */
function tapped(link: MeshLink, ledger: InjectionLedger, opened: () => number): MeshLink {
  return Object.assign(Object.create(link) as MeshLink, {
    onPacket: (handler: (p: ReceivedPacket) => void) =>
      link.onPacket((p) => {
        const before = opened();
        handler(p);
        if (opened() > before) ledger.passed(p.payload);
      }),
  });
}

function honestNode(run: Pick<Run, 'world' | 'ledger'> & { swarm: Swarm }, num: number, executor: Executor, owner: boolean, config: Partial<OrchestratorConfig>, reuse?: { secret: Uint8Array; authStore: MemoryAuthStore }): HonestNode & { secret: Uint8Array; authStore: MemoryAuthStore } {
  const events: HonestNode['events'] = [];
  const secret = reuse?.secret ?? new Prng(num).derive('attack-harness-identity').bytes(32);
  const authStore = reuse?.authStore ?? new MemoryAuthStore();
  let orch: Orchestrator | null = null;
  const link = tapped(run.world.link(num), run.ledger, () => orch?.auth.stats.opened ?? 0);
  orch = new Orchestrator({
    host: { clock: run.world.clock, batteryPct: () => null, freeRamKiB: () => 4096, computeTimeMs: () => 3000, report: (type, data) => events.push({ type, data }) },
    mesh: link,
    executor: owner ? NO_LOCAL : executor,
    capabilities: capabilities(owner ? 0.001 : 1, !owner),
    seed: num,
    config: { ...CONFIG, ...config },
    store: new MemoryJobStore(),
    identity: { secretKey: secret },
    authStore,
    certificate: certify(run.swarm, num, keyPairFromSecret(secret).publicKey),
    ...admission(run.swarm),
  });
  return { num, orch, events, secret, authStore };
}

function inputFor(seed: number, owner: number, i: number, batch: number): Uint8Array {
  return new Prng(seed).derive(`input:${owner}:${i}:${batch}`).bytes(inputBytes(SPEC));
}

async function submitBatch(run: Run, o: ComputeAttackOptions, owners: HonestNode[], batch: number, jobs: number): Promise<void> {
  for (const owner of owners) {
    for (let i = 0; i < jobs; i++) {
      const input = inputFor(o.seed, owner.num, i, batch);
      const expected = await o.executor.run(SPEC, input);
      // Two minutes after the first adverts (start jitter), one job every four minutes per owner.
      run.world.clock.setTimer(run.firstJobMs + i * 4 * MINUTE + (owner.num % 7) * 5000, () => {
        const tag = `${owner.num}:${batch}:${i}`;
        owner.orch.submit(SPEC, input, { tag });
        const off = owner.orch.onJobEnd((outcome) => {
          if (outcome.tag !== tag) return;
          off();
          run.outcomes.push({ outcome, expected });
          if (outcome.status !== 'done') run.failures.push(outcome.reason ?? 'unknown');
        });
      });
    }
  }
}

/** Honest nodes first, the last `malicious` of them taken by the adversary. */
function layout(world: AttackWorld, fraction: number): { honest: number[]; attackers: number[] } {
  const n = world.nodes.length;
  const k = Math.min(n - 3, Math.max(1, Math.round(fraction * n)));
  return { honest: world.nodes.slice(0, n - k), attackers: world.nodes.slice(n - k) };
}

async function runOnce(o: ComputeAttackOptions, attack: ComputeAttack, fraction: number, active: boolean): Promise<Run> {
  const world = o.world({ seed: o.seed, nodes: o.nodes ?? 30 });
  const { honest: honestNums, attackers } = layout(world, fraction);
  const ledger = new InjectionLedger();
  const rng = new Prng(o.seed).derive(`attack:${attack}:${fraction}`);
  const config: Partial<OrchestratorConfig> = { ...o.config, ...(attack === 'lying-worker' ? { redundancy: 'untrusted' as const } : {}) };
  const swarm: Swarm = (o.admission ?? 'swarm') === 'swarm' ? { operator: keyPairFromPrng(new Prng(o.seed).derive('operator')) } : null;
  const base = { world, ledger, swarm };
  const ownerCount = Math.min(3, Math.max(1, Math.floor(honestNums.length / 3)));
  const nodes = honestNums.map((num, i) => honestNode(base, num, o.executor, i < ownerCount, config));
  const firstJobMs = (config.startJitterMs ?? CONFIG.startJitterMs ?? 0) + 2 * MINUTE;
  const run: Run = { world, honest: nodes, owners: nodes.slice(0, ownerCount), attackers, ledger, outcomes: [], rng, notes: [], tried: 0, failures: [], firstJobMs };
  for (const n of nodes) n.orch.start();
  const jobs = o.jobsPerOwner ?? 4;
  await submitBatch(run, o, run.owners, 0, jobs);
  const liars: Orchestrator[] = [];
  if (attack === 'lying-worker') {
    if (active) for (const num of attackers) liars.push(liar(world, num, o.executor, swarm));
  } else {
    const adversaries = attackers.map((num) => new Adversary(world, num, rng.derive(`adversary:${num}`), (b) => ledger.add(b, attack === 'replayed-result' ? 'replay' : 'forgery'), swarm ? (num, key) => certify(swarm, num, key) as Uint8Array : undefined));
    if (active) schedule(run, attack, adversaries);
  }
  if (attack === 'replayed-result') {
    world.clock.setTimer(RESET_MS, () => {
      // The owners lose their job stores (keys and auth state survive: they live in another file).
      run.owners = run.owners.map((owner, i) => {
        const old = nodes[i] as ReturnType<typeof honestNode>;
        owner.orch.close();
        const fresh = honestNode(base, owner.num, o.executor, true, config, { secret: old.secret, authStore: old.authStore });
        fresh.orch.start();
        run.honest[i] = fresh;
        return fresh;
      });
      void submitBatch(run, o, run.owners, 1, jobs);
    });
  }
  await world.run(RUN_MS);
  if (attack === 'lying-worker') {
    const liarNums = new Set(attackers);
    const liarResults = liars.reduce((s, l) => s + l.worker.stats.completed, 0);
    const taken = run.outcomes.filter((x) => x.outcome.workers.some((w) => liarNums.has(w))).length;
    const demoted = run.owners.reduce((s, ow) => s + attackers.filter((a) => ow.orch.reputation.isDemoted(a)).length, 0);
    const assigned = run.honest.reduce((s, h) => s + h.events.filter((e) => e.type === 'job_assigned' || e.type === 'shard_assigned').length, 0);
    run.notes.push(`jobs with a liar among the accepted workers ${taken}, liar demotions across owners ${demoted}, shard assignments ${assigned}`);
    run.tried = liarResults;
  }
  return run;
}

function liar(world: AttackWorld, num: number, executor: Executor, swarm: Swarm): Orchestrator {
  // Each liar lies its own way (colluding liars that return the same wrong bytes are outside what two copies catch).
  const pattern = 1 + (num % 255);
  const keys = keyPairFromPrng(new Prng(num).derive('liar'));
  const wrong: Executor = { name: 'liar', supports: (s) => executor.supports(s), run: async (s, input) => (await executor.run(s, input)).map((v) => v ^ pattern) };
  const orch = new Orchestrator({
    host: { clock: world.clock, batteryPct: () => null, freeRamKiB: () => 1 << 20, computeTimeMs: () => 500 },
    mesh: world.link(num),
    executor: wrong,
    // It lies about its capacity too, to be picked first.
    capabilities: { ...capabilities(50, true), freeRamKiB: 1 << 20 },
    seed: num,
    config: CONFIG,
    identity: { secretKey: keys.secretKey },
    // An insider: certified like everyone else.
    certificate: certify(swarm, num, keys.publicKey),
    ...admission(swarm),
  });
  orch.start();
  return orch;
}

function every(world: AttackWorld, startMs: number, periodMs: number, fn: () => void): void {
  const tick = (): void => {
    fn();
    if (world.clock.now() + periodMs < RUN_MS) world.clock.setTimer(periodMs, tick);
  };
  world.clock.setTimer(startMs, tick);
}

function schedule(run: Run, attack: Exclude<ComputeAttack, 'lying-worker'>, adversaries: Adversary[]): void {
  const { world, rng } = run;
  const honest = (): number[] => run.honest.map((h) => h.num);
  const pick = <T>(xs: readonly T[]): T => xs[rng.intBelow(xs.length)] as T;
  switch (attack) {
    case 'spoofed-cap-advert':
      every(world, WARMUP_MS, 2 * MINUTE, () => {
        for (const adv of adversaries) {
          const victim = pick(honest());
          const advert: Message = { type: 'CAP_ADVERT', record: { ...capabilities(FORGED_GOPS, true), epoch: 1 }, battery: 100, ttlS: 3600, load: 0, channelUtil: 0 };
          adv.spoof(victim, 'broadcast', adv.forge(victim, 'broadcast', advert, rng.bool(), rng));
        }
      });
      return;
    case 'spoofed-result':
      world.overhear((p) => {
        if (p.to === 'broadcast') return;
        const m = overheardMessage(p.payload);
        if (m?.type !== 'ASSIGN') return;
        const owner = p.from;
        const worker = p.to;
        for (const adv of adversaries) {
          world.clock.setTimer(2000 + rng.uniform(0, 3000), () => {
            const garbage = rng.bytes(outputBytes(m.spec));
            const result: MessageOf<'RESULT'> = { type: 'RESULT', jobId: m.jobId, shard: m.shard, attempt: m.attempt, status: 0, length: garbage.length, crc: crc32(garbage), inline: garbage, signature: null };
            adv.spoof(worker, owner, adv.forge(worker, owner, result, rng.bool(), rng));
          });
        }
      });
      return;
    case 'replayed-result': {
      const captured: Array<{ from: number; to: number; payload: Uint8Array }> = [];
      world.overhear((p) => {
        if (p.to === 'broadcast' || world.clock.now() > RESET_MS) return;
        const m = overheardMessage(p.payload);
        if (m?.type === 'RESULT' || (m?.type === 'DATA' && m.stream === 1)) captured.push({ from: p.from, to: p.to, payload: p.payload.slice() });
      });
      every(world, RESET_MS + 30_000, 3 * MINUTE, () => {
        for (const adv of adversaries) for (const c of captured) adv.spoof(c.from, c.to, c.payload);
      });
      return;
    }
    case 'oversized-assign': {
      // Members of the mesh with keys of their own: introduce themselves, then claim 4 GiB inputs and 18-hour leases.
      every(world, 2 * MINUTE, 20 * MINUTE, () => {
        for (const adv of adversaries) adv.sendOwn('broadcast', { type: 'CAP_ADVERT', record: { ...capabilities(1, false), epoch: 1 }, battery: 100, ttlS: 3600, load: 0, channelUtil: 0 });
      });
      const huge: JobSpec[] = [
        { kind: 'model', modelId: 1, modelVersion: 1, layerStart: 0, layerEnd: 1, batch: 1, inputBytes: 0xffffffff, outputBytes: 1 },
        { ...SPEC, m: 256, k: 1 << 24 },
      ];
      every(world, WARMUP_MS, 10 * MINUTE, () => {
        for (const adv of adversaries) {
          for (const worker of run.honest.slice(run.owners.length).map((h) => h.num)) {
            for (let i = 0; i < 4; i++) {
              const msg: Message = { type: 'ASSIGN', jobId: rng.uint32(), shard: 0, attempt: 0, leaseS: 65535, redundant: false, inputCrc: 0, mission: { profile: 'default', priority: 'routine' }, spec: pick(huge) };
              if (!adv.peerKeys.has(worker)) continue;
              run.tried++;
              adv.sendOwn(worker, msg);
            }
          }
        }
      });
      return;
    }
    case 'fuzzed-frames': {
      const seen: Array<{ from: number; to: number | 'broadcast'; payload: Uint8Array }> = [];
      world.overhear((p) => {
        if (seen.length < 400 && !run.attackers.includes(p.from)) seen.push(p);
      });
      every(world, WARMUP_MS, 30_000, () => {
        for (const adv of adversaries) {
          // A mutated copy of an honest packet, re-sent as its sender.
          if (seen.length) {
            const p = pick(seen);
            const bytes = p.payload.slice();
            for (let f = 1 + rng.intBelow(3); f > 0; f--) flipBit(bytes, rng);
            adv.spoof(p.from, p.to, bytes);
          }
          // Garbage that the adversary authenticates with its own key: it must be decoded safely, not trusted.
          const to = pick(honest());
          if (adv.peerKeys.has(to)) {
            const frame = encodeMessage(pick(sampleMessages(rng)), { maxPayload: Infinity }).slice(0, 200);
            flipBit(frame, rng);
            run.tried++;
            world.inject(adv.num, adv.num, to, adv.auth.seal(to, frame, true));
          }
        }
      });
      return;
    }
  }
}

function flipBit(bytes: Uint8Array, rng: Prng): void {
  const i = rng.intBelow(bytes.length);
  bytes[i] = (bytes[i] as number) ^ (1 << rng.intBelow(8));
}

/** Failed jobs by reason (the text before the first colon). */
function failureNote(label: string, run: Run): string {
  if (run.failures.length === 0) return '';
  const by = new Map<string, number>();
  for (const f of run.failures) by.set(f.split(':')[0] as string, (by.get(f.split(':')[0] as string) ?? 0) + 1);
  return `${label}: ${[...by].map(([k, v]) => `${v} ${k}`).join(', ')}`;
}

function summarize(run: Run): { completed: number; wrong: number } {
  let completed = 0;
  let wrong = 0;
  for (const { outcome, expected } of run.outcomes) {
    if (outcome.status !== 'done') continue;
    completed++;
    if (!outcome.output || !bytesEqual(outcome.output, expected)) wrong++;
  }
  return { completed, wrong };
}

/**
 * Every compute-layer attack, in the simulator, at each malicious share: the same seed runs once with the malicious
 * nodes silent (the baseline) and once with them attacking. A report counts what the adversary tried, how much every
 * honest node refused, and what got through: forged or replayed packets past authentication, and jobs that finished
 * with output other than the honest computation's.
 */
export async function runComputeAttacks(o: ComputeAttackOptions): Promise<AttackReport[]> {
  const reports: AttackReport[] = [];
  for (const attack of o.attacks ?? COMPUTE_ATTACKS) {
    for (const fraction of o.fractions ?? [0.01, 0.03, 0.3]) {
      const baseRun = await runOnce(o, attack, fraction, false);
      const baseline = summarize(baseRun);
      const run = await runOnce(o, attack, fraction, true);
      const { completed, wrong } = summarize(run);
      const c = run.ledger.counts();
      let tried = c.tried + run.tried;
      let rejected = c.rejected + run.tried;
      if (attack === 'oversized-assign') {
        const admitted = run.honest.reduce((s, h) => s + h.events.filter((e) => e.type === 'accept' && run.attackers.includes(e.data.owner as number)).length, 0);
        rejected = tried - admitted;
        const declines = run.honest.reduce((s, h) => s + h.events.filter((e) => e.type === 'decline' && run.attackers.includes(e.data.owner as number)).length, 0);
        run.notes.push(`declined with a typed reason: ${declines}`);
      }
      if (attack === 'lying-worker') {
        tried = run.tried;
        rejected = tried - run.outcomes.filter((x) => x.outcome.status === 'done' && x.outcome.workers.some((w) => run.attackers.includes(w)) && !bytesEqual(x.outcome.output ?? new Uint8Array(0), x.expected)).length;
      }
      const report: AttackReport = {
        suite: (o.admission ?? 'swarm') === 'swarm' ? 'compute' : 'compute-tofu',
        attack,
        maliciousFraction: fraction,
        tried,
        rejected,
        forgeriesAccepted: c.forgeries,
        replaysAccepted: c.replays,
        wrongResultsAccepted: wrong,
        jobsCompleted: completed,
        baselineJobsCompleted: baseline.completed,
        notes: [`${run.honest.length} honest, ${run.attackers.length} malicious`, ...run.notes, failureNote('failed', run), failureNote('baseline failed', baseRun)].filter((n) => n).join('; '),
      };
      reports.push(report);
      o.onReport?.(report);
    }
  }
  return reports;
}
