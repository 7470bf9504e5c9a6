import { Prng } from '@compotastic/mesh';
import { loadKernel, type Kernel } from '@compotastic/kernel';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NodeHost, OrchestratorConfig } from '../src/context.js';
import type { JobOutcome } from '../src/delegation/coordinator.js';
import { type Executor, ExecutorChain, KernelExecutor, MapWeightStore, ModelLayerExecutor } from '../src/jobs/executor.js';
import { type GemmSpec, inputBytes, residentWeightsId } from '../src/jobs/spec.js';
import { Orchestrator } from '../src/orchestrator.js';
import type { CapabilityRecord } from '../src/registry/capability.js';
import { type ModelProfile, computeMs } from '../src/scheduler/cost-model.js';
import { overheardMessage } from '../src/attacks/adversary.js';
import { FakeMesh } from './fake-mesh.js';
import { Stage } from '../src/wire/messages.js';
import { gemmOracle } from './oracle.js';

let kernel: Kernel;
const weights = new MapWeightStore();
const W = residentWeightsId(1, 0);
beforeAll(async () => {
  kernel = await loadKernel({ build: 'scalar' });
  weights.set(W, { bytes: new Prng(99).bytes(256 * 64), k: 256, n: 64, type: 'int8' });
});

const spec: GemmSpec = { kind: 'gemm', m: 2, k: 256, n: 64, aType: 'uint8', bType: 'int8', aZeroPoint: 128, bZeroPoint: 0, weights: { resident: W }, requant: { multiplier: 1 << 30, shift: -10, zeroPoint: 0, type: 'int8' } };

interface TestNode {
  orch: Orchestrator;
  host: NodeHost & { battery: number | null };
  outcomes: JobOutcome[];
  events: Array<{ type: string; data: Record<string, unknown> }>;
}

const FAST: Partial<OrchestratorConfig> = { startJitterMs: 2000, progressIntervalMs: 20_000, stallMs: 15_000, leaseSilenceMs: 60_000, acceptTimeoutMs: 30_000, retryBackoffMs: 10_000, offerWindowMs: 10_000 };

function makeNode(mesh: FakeMesh, num: number, opts: { gops: number; ramKiB: number; battery: number | null; hasModel: boolean; executor?: Executor; config?: Partial<OrchestratorConfig>; cls?: CapabilityRecord['deviceClass']; computeMs?: number; profile?: ModelProfile; installed?: { id: number; version: number } }): TestNode {
  const events: TestNode['events'] = [];
  const host: TestNode['host'] = {
    clock: mesh.clock,
    battery: opts.battery,
    batteryPct() {
      return this.battery;
    },
    freeRamKiB: () => opts.ramKiB,
    computeTimeMs: (_s, ops) => opts.computeMs ?? (ops === null ? null : computeMs(ops, opts.gops)),
    report: (type, data) => events.push({ type, data }),
  };
  const orch = new Orchestrator({
    host,
    mesh: mesh.link(num),
    executor: opts.executor ?? new KernelExecutor(kernel, opts.hasModel ? weights : undefined),
    seed: num,
    modelProfile: (id, v) => (opts.profile && id === opts.profile.modelId && v === opts.profile.modelVersion ? opts.profile : undefined),
    config: { ...FAST, ...(opts.config ?? {}) },
    capabilities: {
      deviceClass: opts.cls ?? (opts.hasModel ? 'phone' : 'microcontroller'),
      accelerators: [],
      precisions: ['int8'],
      onnxRuntime: false,
      kernelBuild: 'scalar',
      acceptsJobs: true,
      externalPower: opts.battery === null,
      portBlocked: false,
      links: { ble: false, wifi: false },
      modelFamilies: ['gemm'],
      freeRamKiB: opts.ramKiB,
      gops: opts.gops,
      firmwareVersion: '2.6.11',
      modelId: opts.installed?.id ?? (opts.hasModel ? 1 : 0),
      modelVersion: opts.installed?.version ?? (opts.hasModel ? 1 : 0),
      computeDrainPctPerHour: 10,
    },
  });
  const outcomes: JobOutcome[] = [];
  orch.onJobEnd((o) => outcomes.push(o));
  return { orch, host, outcomes, events };
}

/** What the job must return, from the plain-TS reference (not the kernel the workers run). */
/** A device that claims `victim`'s node number and record but holds another key (drawn from `seed`). */
function impostorOf(mesh: FakeMesh, victim: Orchestrator, seed: number, report?: (type: string, data: Record<string, unknown>) => void): Orchestrator {
  return new Orchestrator({
    host: { clock: mesh.clock, batteryPct: () => 80, freeRamKiB: () => 100, report },
    mesh: mesh.link(victim.num), executor: new KernelExecutor(kernel), seed, identity: { secretKey: new Prng(seed).bytes(32) },
    capabilities: { ...victim.local.state.record },
    config: FAST,
  });
}

function expected(input: Uint8Array, s: GemmSpec = spec): Uint8Array {
  return gemmOracle(s, input, weights.get(W)?.bytes);
}

describe('delegation and recovery (unit mesh)', () => {
  it('offloads a low-power node\'s job to the best capable peer; the result equals the independent oracle', async () => {
    const mesh = new FakeMesh(1, (a, b) => (a === 3 || b === 3 ? 3 : 1));
    const owner = makeNode(mesh, 1, { gops: 0.05, ramKiB: 100, battery: 80, hasModel: false });
    const near = makeNode(mesh, 2, { gops: 50, ramKiB: 1 << 20, battery: 90, hasModel: true });
    const far = makeNode(mesh, 3, { gops: 500, ramKiB: 1 << 20, battery: 90, hasModel: true });
    for (const o of [owner.orch, near.orch, far.orch]) o.start();
    await mesh.run(30_000);
    const input = new Prng(3).bytes(inputBytes(spec));
    owner.orch.submit(spec, input, { tag: 'j' });
    await mesh.runWhile(() => owner.outcomes.length === 0, 600_000);
    const [o] = owner.outcomes;
    expect(o?.status).toBe('done');
    expect(o?.workers).toEqual([2]);
    expect(o?.output).toEqual(expected(input));
    expect(owner.events.find((e) => e.type === 'job_planned')?.data.kind).toBe('offload');
  });

  it('sends a shard\'s input once the worker accepted it (with eagerInput, right behind the ASSIGN)', async () => {
    for (const eagerInput of [false, true]) {
      const mesh = new FakeMesh(1);
      const owner = makeNode(mesh, 1, { gops: 0.05, ramKiB: 100, battery: 80, hasModel: false, config: { eagerInput } });
      const worker = makeNode(mesh, 2, { gops: 50, ramKiB: 1 << 20, battery: 90, hasModel: true });
      for (const o of [owner.orch, worker.orch]) o.start();
      await mesh.run(30_000);
      const arrivals: string[] = [];
      mesh.tamper = (from, _to, payload) => {
        const m = overheardMessage(payload);
        if (m?.type === 'ACCEPT' || (m?.type === 'DATA' && from === 1)) arrivals.push(m.type);
        return payload;
      };
      const input = new Prng(4).bytes(inputBytes(spec));
      owner.orch.submit(spec, input, { tag: 'j' });
      await mesh.runWhile(() => owner.outcomes.length === 0, 600_000);
      expect(owner.outcomes[0]?.status).toBe('done');
      expect(owner.outcomes[0]?.output).toEqual(expected(input));
      // The input arrives after the ACCEPT came back, or (eager) ahead of it.
      expect(arrivals[0]).toBe(eagerInput ? 'DATA' : 'ACCEPT');
      expect(arrivals.filter((t) => t === 'DATA').length).toBeGreaterThan(0);
    }
  });

  it('keeps a worker quiet while the input still flows and the owner heard from it within half its lease', async () => {
    // Slow hops: the input takes several heartbeat intervals to arrive.
    const mesh = new FakeMesh(1);
    mesh.hopMs = 6000;
    const owner = makeNode(mesh, 1, { gops: 0.05, ramKiB: 100, battery: 80, hasModel: false });
    const worker = makeNode(mesh, 2, { gops: 50, ramKiB: 1 << 20, battery: 90, hasModel: true, config: { progressIntervalMs: 10_000 } });
    for (const o of [owner.orch, worker.orch]) o.start();
    await mesh.run(60_000);
    const stages: number[] = [];
    const times: Array<[string, number]> = [];
    mesh.tamper = (from, _to, payload) => {
      const m = overheardMessage(payload);
      if (m?.type === 'PROGRESS' && from === 2) stages.push(m.stage);
      if ((m?.type === 'ACCEPT' && from === 2) || (m?.type === 'DATA' && from === 1)) times.push([m.type, mesh.clock.now()]);
      return payload;
    };
    const big: GemmSpec = { ...spec, m: 16 };
    const input = new Prng(5).bytes(inputBytes(big));
    owner.orch.submit(big, input, { tag: 'j' });
    await mesh.runWhile(() => owner.outcomes.length === 0, 900_000);
    expect(owner.outcomes[0]?.status).toBe('done');
    expect(owner.outcomes[0]?.output).toEqual(expected(input, big));
    // Heartbeats every ~10 s, input for far longer: only once 30 s (half the 60 s lease) passed without a word from
    // the worker does a RECEIVING heartbeat go out.
    const receiving = stages.filter((x) => x === Stage.RECEIVING).length;
    const accepted = times.find((t) => t[0] === 'ACCEPT')?.[1] ?? NaN;
    const complete = times.filter((t) => t[0] === 'DATA').at(-1)?.[1] ?? NaN;
    const windowMs = complete - accepted;
    expect(windowMs).toBeGreaterThan(60_000);
    // The lease is still renewed, but a RECEIVING heartbeat goes out about every 30 s, not at every ~10 s tick.
    expect(receiving).toBeGreaterThan(0);
    expect(receiving).toBeLessThanOrEqual(Math.ceil(windowMs / 30_000) + 1);
  });

  it('reassigns the shard of a worker that drops mid-job, and the job completes', async () => {
    const mesh = new FakeMesh(2);
    const owner = makeNode(mesh, 1, { gops: 0.05, ramKiB: 100, battery: 80, hasModel: false });
    const a = makeNode(mesh, 2, { gops: 50, ramKiB: 1 << 20, battery: 90, hasModel: true });
    const b = makeNode(mesh, 3, { gops: 40, ramKiB: 1 << 20, battery: 90, hasModel: true });
    for (const n of [owner, a, b]) n.orch.start();
    await mesh.run(30_000);
    const input = new Prng(4).bytes(inputBytes(spec));
    owner.orch.submit(spec, input, { tag: 'j' });
    // As soon as the first worker accepts, it loses power.
    const accepted = (): TestNode | undefined => [a, b].find((n) => n.events.some((e) => e.type === 'accept'));
    await mesh.runWhile(() => !accepted(), 300_000);
    const first = accepted() as TestNode;
    const second = first === a ? b : a;
    mesh.link(first.orch.num).up = false;
    first.orch.stop();
    await mesh.runWhile(() => owner.outcomes.length === 0, 900_000);
    const [o] = owner.outcomes;
    expect(o?.status).toBe('done');
    expect(o?.workers).toEqual([second.orch.num]);
    expect(o?.attempts).toBeGreaterThanOrEqual(2);
    expect(o?.output).toEqual(expected(input));
    expect(owner.events.some((e) => e.type === 'attempt_lost' && String(e.data.reason).startsWith('LEASE_EXPIRED'))).toBe(true);
  });

  it('a low-battery node stops accepting work; one that falls below the threshold mid-job hands its shard back', async () => {
    const mesh = new FakeMesh(3);
    const owner = makeNode(mesh, 1, { gops: 0.05, ramKiB: 100, battery: 80, hasModel: false });
    const weak = makeNode(mesh, 2, { gops: 500, ramKiB: 1 << 20, battery: 15, hasModel: true });
    const ok = makeNode(mesh, 3, { gops: 20, ramKiB: 1 << 20, battery: 60, hasModel: true, config: { progressIntervalMs: 5000 } });
    for (const n of [owner, weak, ok]) n.orch.start();
    await mesh.run(30_000);
    expect(weak.orch.local.state.record.acceptsJobs).toBe(false);
    expect(owner.orch.registry.get(2)?.state?.record.acceptsJobs).toBe(false);
    // Even when asked directly it declines.
    expect(weak.orch.worker.admission(spec)).toEqual({ ok: false, reason: 1 });
    // The working node's battery collapses while it holds the shard (a slow compute keeps it busy).
    const slow = makeNode(mesh, 4, { gops: 10, computeMs: 120_000, ramKiB: 1 << 20, battery: 60, hasModel: true, config: { progressIntervalMs: 5000 } });
    slow.orch.start();
    ok.orch.stop();
    mesh.link(3).up = false;
    await mesh.run(60_000);
    const input = new Prng(5).bytes(inputBytes(spec));
    owner.orch.submit(spec, input, { tag: 'j' });
    await mesh.runWhile(() => !slow.events.some((e) => e.type === 'accept'), 300_000);
    slow.host.battery = 5;
    mesh.link(3).up = true;
    ok.orch.start();
    await mesh.runWhile(() => owner.outcomes.length === 0, 1_800_000);
    expect(slow.events.some((e) => e.type === 'shard_abandoned' && e.data.reason === 'LOW_BATTERY')).toBe(true);
    expect(owner.events.some((e) => e.type === 'attempt_lost' && String(e.data.reason).includes('LOW_BATTERY'))).toBe(true);
    const [o] = owner.outcomes;
    expect(o?.status).toBe('done');
    expect(o?.workers).toEqual([3]);
    expect(o?.output).toEqual(expected(input));
  });

  it('ignores duplicated results and finishes each job once on a lossy, duplicating mesh', async () => {
    const mesh = new FakeMesh(4);
    mesh.loss = 0.2;
    mesh.duplicate = 0.3;
    const owner = makeNode(mesh, 1, { gops: 0.05, ramKiB: 100, battery: 80, hasModel: false });
    const w = makeNode(mesh, 2, { gops: 50, ramKiB: 1 << 20, battery: 90, hasModel: true });
    for (const n of [owner, w]) n.orch.start();
    await mesh.run(60_000);
    const inputs = [1, 2, 3].map((s) => new Prng(s).bytes(inputBytes(spec)));
    for (const [i, input] of inputs.entries()) owner.orch.submit(spec, input, { tag: `j${i}` });
    await mesh.runWhile(() => owner.outcomes.length < 3, 3_600_000);
    expect(owner.outcomes.map((o) => o.status)).toEqual(['done', 'done', 'done']);
    for (const o of owner.outcomes) expect(o.output).toEqual(expected(inputs[Number(o.tag?.slice(1))] as Uint8Array));
    await mesh.run(mesh.scheduler.now + 120_000);
    expect(owner.outcomes).toHaveLength(3);
  });

  it('runs shards twice on untrusted peers and rejects a worker that returns wrong results', async () => {
    // The liar is the closest peer, so it is asked first.
    const mesh = new FakeMesh(5, (x, y) => (x === 2 || y === 2 ? 1 : 2));
    const liar: Executor = {
      name: 'liar',
      supports: () => true,
      run: async (s, input) => (await new KernelExecutor(kernel, weights).run(s, input)).map((v) => v ^ 0x55),
    };
    const cfg: Partial<OrchestratorConfig> = { redundancy: 'untrusted', trusted: () => false };
    const owner = makeNode(mesh, 1, { gops: 0.05, ramKiB: 100, battery: 80, hasModel: false, config: cfg });
    const bad = makeNode(mesh, 2, { gops: 500, ramKiB: 1 << 20, battery: 90, hasModel: true, executor: liar });
    const good1 = makeNode(mesh, 3, { gops: 50, ramKiB: 1 << 20, battery: 90, hasModel: true });
    const good2 = makeNode(mesh, 4, { gops: 40, ramKiB: 1 << 20, battery: 90, hasModel: true });
    for (const n of [owner, bad, good1, good2]) n.orch.start();
    await mesh.run(30_000);
    const input = new Prng(6).bytes(inputBytes(spec));
    owner.orch.submit(spec, input, { tag: 'j' });
    await mesh.runWhile(() => owner.outcomes.length === 0, 1_800_000);
    const [o] = owner.outcomes;
    expect(o?.status).toBe('done');
    expect(o?.output).toEqual(expected(input));
    expect(owner.events.filter((e) => e.type === 'job_assigned' || e.type === 'job_reassigned').length).toBeGreaterThanOrEqual(3);
    expect(owner.events.some((e) => e.type === 'result_unconfirmed' && e.data.node === 2)).toBe(true);
  });

  it('fails a job with a reason when nobody can run it before the deadline', async () => {
    const mesh = new FakeMesh(6);
    const owner = makeNode(mesh, 1, { gops: 0.05, ramKiB: 100, battery: 80, hasModel: false });
    const other = makeNode(mesh, 2, { gops: 0.05, ramKiB: 100, battery: 80, hasModel: false });
    for (const n of [owner, other]) n.orch.start();
    await mesh.run(30_000);
    const now = mesh.scheduler.now;
    owner.orch.submit(spec, new Uint8Array(inputBytes(spec)), { tag: 'j', deadlineMs: now + 120_000 });
    await mesh.run(now + 130_000);
    const [o] = owner.outcomes;
    expect(o?.status).toBe('failed');
    expect(o?.reason).toMatch(/^DEADLINE/);
    expect(owner.events.some((e) => e.type === 'no_plan')).toBe(true);
    expect(owner.events.some((e) => e.type === 'job_failed')).toBe(true);
  });

  it('resumes an owner\'s job after a power cycle (jobs and inputs are persisted)', async () => {
    const mesh = new FakeMesh(7);
    const owner = makeNode(mesh, 1, { gops: 0.05, ramKiB: 100, battery: 80, hasModel: false });
    const w = makeNode(mesh, 2, { gops: 50, ramKiB: 1 << 20, battery: 90, hasModel: true });
    for (const n of [owner, w]) n.orch.start();
    await mesh.run(30_000);
    const input = new Prng(8).bytes(inputBytes(spec));
    owner.orch.submit(spec, input, { tag: 'j' });
    await mesh.run(mesh.scheduler.now + 900);
    mesh.link(1).up = false;
    owner.orch.stop();
    await mesh.run(mesh.scheduler.now + 300_000);
    expect(owner.outcomes).toHaveLength(0);
    mesh.link(1).up = true;
    owner.orch.start();
    await mesh.runWhile(() => owner.outcomes.length === 0, mesh.scheduler.now + 900_000);
    expect(owner.outcomes[0]?.status).toBe('done');
    expect(owner.outcomes[0]?.output).toEqual(expected(input));
  });

  it('drops frames with the retired OTA type codes (0x10-0x12) as undecodable, and carries on', async () => {
    const mesh = new FakeMesh(8);
    const a = makeNode(mesh, 1, { gops: 1, ramKiB: 100, battery: 80, hasModel: false });
    const b = makeNode(mesh, 2, { gops: 1, ramKiB: 100, battery: 80, hasModel: false });
    a.orch.start();
    b.orch.start();
    await mesh.run(120_000);
    const before = b.orch.messenger.stats.decodeErrors;
    // What an older build sent for OTA_HAVE, OTA_WANT and OTA_FRAGMENT, authenticated by a real peer.
    for (const code of [0x10, 0x11, 0x12]) {
      mesh.link(2).deliver({ from: 1, to: 2, payload: a.orch.auth.seal(2, Uint8Array.of(0xc2, code, 1, 2, 3), false), hops: 0, snr: null, relayNode: null });
    }
    expect(b.orch.messenger.stats.decodeErrors).toBe(before + 3);
    // Without a trailer they do not even reach the decoder.
    const rejected = b.orch.auth.stats.rejected.BAD_TRAILER ?? 0;
    mesh.link(2).deliver({ from: 1, to: 2, payload: Uint8Array.of(0xc2, 0x10, 1, 2, 3), hops: 0, snr: null, relayNode: null });
    expect(b.orch.messenger.stats.decodeErrors).toBe(before + 3);
    expect(b.orch.auth.stats.rejected.BAD_TRAILER).toBe(rejected + 1);
    // Still in touch: b keeps hearing a's adverts.
    await mesh.run(mesh.scheduler.now + 1_200_000);
    expect(b.orch.registry.get(1)?.state).toBeTruthy();
  });

  it('pipelines a model too big for any one peer across two, passing activations between stages', async () => {
    const mesh = new FakeMesh(9);
    // Four layers of 400 KiB; each worker can hold two. A layer adds its index + 1 to every activation byte.
    const profile: ModelProfile = { modelId: 7, modelVersion: 1, inputBytesPerItem: 32, layers: Array.from({ length: 4 }, () => ({ ops: 2e6, weightBytes: 400 * 1024, outputBytesPerItem: 32 })) };
    const runner = {
      has: (id: number, v: number) => id === 7 && v === 1,
      runLayers: async (_i: number, _v: number, start: number, end: number, _batch: number, input: Uint8Array) => {
        let x = input.slice();
        for (let l = start; l < end; l++) x = x.map((b) => (b + l + 1) & 0xff);
        return x;
      },
    };
    const installed = { id: 7, version: 1 };
    const worker = () => new ExecutorChain([new ModelLayerExecutor(runner), new KernelExecutor(kernel)]);
    const owner = makeNode(mesh, 1, { gops: 0.05, ramKiB: 100, battery: 80, hasModel: false, profile });
    const w1 = makeNode(mesh, 2, { gops: 1, ramKiB: 900, battery: 90, hasModel: false, profile, installed, executor: worker() });
    const w2 = makeNode(mesh, 3, { gops: 1, ramKiB: 900, battery: 90, hasModel: false, profile, installed, executor: worker() });
    for (const n of [owner, w1, w2]) n.orch.start();
    await mesh.run(30_000);
    const input = new Prng(10).bytes(64);
    owner.orch.submit({ kind: 'model', modelId: 7, modelVersion: 1, layerStart: 0, layerEnd: 4, batch: 2, inputBytes: 64, outputBytes: 64 }, input, { tag: 'p' });
    await mesh.runWhile(() => owner.outcomes.length === 0, 900_000);
    const [o] = owner.outcomes;
    expect(owner.events.find((e) => e.type === 'job_planned')?.data.kind).toBe('pipeline');
    expect(o?.status).toBe('done');
    expect(o?.workers.sort()).toEqual([2, 3]);
    expect(Array.from(o?.output ?? [])).toEqual(Array.from(input).map((b) => (b + 1 + 2 + 3 + 4) & 0xff));
  });

  it('checks results: a wrong shape is rejected and reassigned, a corrupted packet is dropped by its MAC and fetched again', async () => {
    const mesh = new FakeMesh(11, (x, y) => (x === 2 || y === 2 ? 1 : 2));
    const short: Executor = { name: 'short', supports: () => true, run: async (s, input) => (await new KernelExecutor(kernel, weights).run(s, input)).subarray(1) };
    const owner = makeNode(mesh, 1, { gops: 0.05, ramKiB: 100, battery: 80, hasModel: false });
    const broken = makeNode(mesh, 2, { gops: 500, ramKiB: 1 << 20, battery: 90, hasModel: true, executor: short });
    const good = makeNode(mesh, 3, { gops: 50, ramKiB: 1 << 20, battery: 90, hasModel: true });
    for (const n of [owner, broken, good]) n.orch.start();
    await mesh.run(30_000);
    // Flip a byte in the first output chunk the good worker sends, once.
    let flipped = false;
    mesh.tamper = (from, _to, payload) => {
      if (!flipped && from === 3 && payload[1] === 0x09 && payload.length > 20) {
        flipped = true;
        payload[10] = (payload[10] as number) ^ 0xff;
      }
      return payload;
    };
    const bigger: GemmSpec = { ...spec, m: 4 };
    const input = new Prng(12).bytes(inputBytes(bigger));
    owner.orch.submit(bigger, input, { tag: 'j' });
    await mesh.runWhile(() => owner.outcomes.length === 0, 1_800_000);
    const [o] = owner.outcomes;
    expect(owner.events.some((e) => e.type === 'attempt_lost' && String(e.data.reason).startsWith('BAD_RESULT') && e.data.node === 2)).toBe(true);
    expect(flipped).toBe(true);
    expect(owner.events.some((e) => e.type === 'auth_reject' && e.data.from === 3 && e.data.code === 'BAD_MAC')).toBe(true);
    expect(o?.status).toBe('done');
    expect(o?.workers).toEqual([3]);
    expect(o?.output).toEqual(expected(input, bigger));
  });

  it('admits within limits: oversized claims TOO_LARGE, a fourth shard of one owner OWNER_QUOTA, leases capped at maxLeaseS', async () => {
    const mesh = new FakeMesh(12);
    const owner = makeNode(mesh, 1, { gops: 1, ramKiB: 100, battery: 80, hasModel: false });
    const worker = makeNode(mesh, 2, { gops: 1, ramKiB: 1 << 20, battery: 80, hasModel: true });
    owner.orch.start();
    worker.orch.start();
    await mesh.run(120_000);
    const send = (jobId: number, s: GemmSpec | { kind: 'model'; modelId: number; modelVersion: number; layerStart: number; layerEnd: number; batch: number; inputBytes: number; outputBytes: number }) =>
      void owner.orch.messenger.send(2, { type: 'ASSIGN', jobId, shard: 0, attempt: 0, leaseS: 65535, redundant: false, inputCrc: 0, mission: { profile: 'default', priority: 'routine' }, spec: s });
    send(1, { kind: 'model', modelId: 1, modelVersion: 1, layerStart: 0, layerEnd: 1, batch: 1, inputBytes: 0xffffffff, outputBytes: 1 });
    send(2, { ...spec, m: 256, k: 1 << 24 });
    for (let j = 3; j <= 6; j++) send(j, spec);
    await mesh.run(mesh.scheduler.now + 60_000);
    const declines = worker.events.filter((e) => e.type === 'decline').map((e) => e.data.reason);
    expect(declines).toEqual(['TOO_LARGE', 'TOO_LARGE', 'OWNER_QUOTA']);
    expect(worker.orch.worker.activeTasks().length).toBe(3);
    // The owner never feeds them: the worker lets go after its own lease cap (1 h), not the 18 h asked for.
    await mesh.run(mesh.scheduler.now + 3_700_000);
    expect(worker.orch.worker.activeTasks().length).toBe(0);
    expect(worker.events.filter((e) => e.type === 'lease_expired').length).toBe(3);
  });

  it('keeps the first key pinned and tells a device with another key for the same number (AUTH_REJECT)', async () => {
    const mesh = new FakeMesh(13);
    const real = makeNode(mesh, 1, { gops: 1, ramKiB: 100, battery: 80, hasModel: false });
    const b = makeNode(mesh, 2, { gops: 1, ramKiB: 100, battery: 80, hasModel: false });
    real.orch.start();
    b.orch.start();
    await mesh.run(120_000);
    const pinned = b.orch.auth.peerKey(1);
    expect(pinned).toEqual(real.orch.auth.publicKey);
    real.orch.close();
    const events: Array<{ type: string; data: Record<string, unknown> }> = [];
    const impostor = impostorOf(mesh, real.orch, 99, (type, data) => events.push({ type, data }));
    impostor.start();
    await mesh.run(mesh.scheduler.now + 120_000);
    expect(b.events.filter((e) => e.type === 'auth_reject').map((e) => e.data.code)).toContain('KEY_CONFLICT');
    expect(b.orch.auth.peerKey(1)).toEqual(pinned);
    expect(events.filter((e) => e.type.startsWith('auth')).map((e) => [e.type, e.data.peer ?? e.data.from, e.data.reason ?? e.data.code])).toContainEqual(['auth_rejected_by_peer', 2, 'KEY_CONFLICT']);
  });
});

describe('detections', () => {
  it('carries a sensor\'s DETECTION to its peers, signed, and refuses a forged one', async () => {
    const mesh = new FakeMesh(14);
    const [sensor, phone] = ([[1, 0.05], [2, 1]] as const).map(([num, gops]) => makeNode(mesh, num, { gops, ramKiB: 100, battery: 80, hasModel: false })) as [TestNode, TestNode];
    for (const n of [sensor, phone]) n.orch.start();
    await mesh.run(120_000);
    const heard: Array<[number, unknown]> = [];
    phone.orch.onDetection((from, d) => heard.push([from, d]));
    const detection = { keyword: 2, score255: 240, timeS: 130, seq: 1 };
    expect(await sensor.orch.sendDetection(detection)).toBe(true);
    await mesh.run(mesh.scheduler.now + 30_000);
    expect(heard).toEqual([[1, detection]]);
    expect(phone.events.filter((e) => e.type === 'detection_heard').map((e) => e.data)).toEqual([expect.objectContaining({ peer: 1, ...detection })]);
    // The same frame from a device without the sensor's key is refused before it is a detection.
    const forger = impostorOf(mesh, sensor.orch, 98);
    sensor.orch.close();
    forger.start();
    await forger.sendDetection({ ...detection, seq: 2 });
    await mesh.run(mesh.scheduler.now + 30_000);
    expect(heard).toHaveLength(1);
    expect(phone.events.some((e) => e.type === 'auth_reject' && e.data.from === 1)).toBe(true);
  });
});

describe('answering a newcomer', () => {
  /** Unicast adverts a node joining a running mesh of `workers` willing workers receives. */
  async function repliesToNewcomer(workers: number, config: Partial<OrchestratorConfig>): Promise<number> {
    const mesh = new FakeMesh(3);
    const nodes = Array.from({ length: workers }, (_, i) => makeNode(mesh, 10 + i, { gops: 50, ramKiB: 1 << 20, battery: null, hasModel: true, config }));
    for (const n of nodes) n.orch.start();
    await mesh.run(60_000);
    let replies = 0;
    mesh.link(99).onPacket((p) => {
      if (p.to !== 99) return;
      const m = overheardMessage(p.payload);
      if (m?.type === 'CAP_ADVERT') replies++;
    });
    const newcomer = makeNode(mesh, 99, { gops: 0.05, ramKiB: 100, battery: 80, hasModel: false, config });
    newcomer.orch.start();
    await mesh.run(120_000);
    for (const n of [...nodes, newcomer]) n.orch.close();
    return replies;
  }

  it('is left to a few of the willing workers, however many hear it', async () => {
    const all = await repliesToNewcomer(16, { advertRepliers: 100 });
    const few = await repliesToNewcomer(16, {});
    expect(all).toBe(16);
    expect(few).toBeGreaterThan(0);
    expect(few).toBeLessThanOrEqual(8);
  });
});

describe('mission profiles (unit mesh)', () => {
  const SAR: Partial<OrchestratorConfig> = { profile: 'search-and-rescue' };

  /** A slow owner without the model and a fast worker with it, both started and past their first adverts. */
  async function ownerAndWorker(seed: number, config?: Partial<OrchestratorConfig>): Promise<{ mesh: FakeMesh; owner: TestNode; worker: TestNode }> {
    const mesh = new FakeMesh(seed);
    const owner = makeNode(mesh, 1, { gops: 0.05, ramKiB: 100, battery: 80, hasModel: false, config });
    const worker = makeNode(mesh, 2, { gops: 50, ramKiB: 1 << 20, battery: 90, hasModel: true, config });
    owner.orch.start();
    worker.orch.start();
    await mesh.run(30_000);
    return { mesh, owner, worker };
  }

  it('fails a routine job fast when its best plan would miss the deadline; a critical one is still tried', async () => {
    const { mesh, owner, worker } = await ownerAndWorker(21, SAR);
    const input = new Prng(21).bytes(inputBytes(spec));
    // 2 rows are a batch: routine under search-and-rescue. One second is far less than the transfer takes.
    owner.orch.submit(spec, input, { tag: 'routine', deadlineMs: mesh.clock.now() + 1000 });
    expect(owner.outcomes.map((o) => [o.tag, o.status, o.priority, o.reason?.split(':')[0]])).toEqual([['routine', 'failed', 'routine', 'WOULD_MISS_DEADLINE']]);
    expect(owner.orch.messenger.stats.sent.ASSIGN ?? 0).toBe(0);
    owner.orch.submit(spec, input, { tag: 'critical', priority: 'critical', deadlineMs: mesh.clock.now() + 1000 });
    await mesh.runWhile(() => owner.outcomes.length < 2, 120_000);
    // The worker was asked: the critical job ran until its deadline instead of being refused.
    expect(worker.events.filter((e) => e.type === 'accept' || e.type === 'decline').length).toBeGreaterThan(0);
    expect(owner.outcomes[1]?.reason?.split(':')[0]).toBe('DEADLINE');
  });

  it('admits only the classes whose ceiling the measured channel utilization is under (CHANNEL_BUSY)', async () => {
    const { mesh, owner } = await ownerAndWorker(22, SAR);
    const link = mesh.link(1);
    const calm = link.facts();
    link.facts = () => ({ ...calm, channelUtilPct: 70 });
    const input = new Prng(22).bytes(inputBytes(spec));
    owner.orch.submit(spec, input, { tag: 'routine' });
    owner.orch.submit(spec, input, { tag: 'critical', priority: 'critical' });
    await mesh.runWhile(() => owner.outcomes.length < 2, 900_000);
    const byTag = Object.fromEntries(owner.outcomes.map((o) => [o.tag, o]));
    expect(byTag.routine?.reason?.split(':')[0]).toBe('CHANNEL_BUSY');
    expect(byTag.critical?.status).toBe('done');
    expect(byTag.critical?.output).toEqual(expected(input));
  });

  it('takes up again an attempt it gave up on when the worker turns out to hold the shard', async () => {
    // A long offer window: the worker speaks up before any offer to the owner's JOB_REQUEST is taken.
    const { mesh, owner, worker } = await ownerAndWorker(25, { ...SAR, offerWindowMs: 120_000 });
    const input = new Prng(25).bytes(inputBytes(spec));
    // The worker hears the owner until it has accepted (the ASSIGN, not all of the input behind it); the owner hears
    // nothing back: ACCEPT_TIMEOUT.
    const accepted = (): boolean => worker.events.some((e) => e.type === 'accept');
    mesh.tamper = (from, to, payload) => (from === 1 && to === 2 && !accepted() ? payload : null);
    owner.orch.submit(spec, input, { tag: 'critical', priority: 'critical' });
    await mesh.runWhile(() => !owner.events.some((e) => e.type === 'attempt_lost'), 300_000);
    expect(owner.events.find((e) => e.type === 'attempt_lost')?.data.reason).toBe('ACCEPT_TIMEOUT');
    expect(worker.events.filter((e) => e.type === 'accept')).toHaveLength(1);
    expect(worker.events.some((e) => e.type === 'shard_computed')).toBe(false);
    // The link heals before the owner tries the worker again: the worker's request for its input revives the attempt.
    mesh.tamper = null;
    await mesh.runWhile(() => owner.outcomes.length === 0, 900_000);
    const [o] = owner.outcomes;
    expect(o?.status).toBe('done');
    expect(o?.output).toEqual(expected(input));
    expect(o?.attempts).toBe(1);
    expect(owner.events.filter((e) => e.type === 'attempt_revived').map((e) => e.data.by)).toEqual(['DATA_WANT']);
  });

  it('pre-empts a routine shard held by a full worker for a critical one, handing it back with PREEMPTED', async () => {
    const mesh = new FakeMesh(23);
    const owner = makeNode(mesh, 1, { gops: 1, ramKiB: 100, battery: 80, hasModel: false });
    const worker = makeNode(mesh, 2, { gops: 1, ramKiB: 1 << 20, battery: 80, hasModel: true, config: { maxTasks: 1 } });
    owner.orch.start();
    worker.orch.start();
    await mesh.run(120_000);
    const failures: number[] = [];
    owner.orch.messenger.onMessage((_from, m) => void (m.type === 'FAILURE' && failures.push(m.reason)));
    const assign = (jobId: number, priority: 'routine' | 'critical' | 'bulk') =>
      void owner.orch.messenger.send(2, { type: 'ASSIGN', jobId, shard: 0, attempt: 0, leaseS: 600, redundant: false, inputCrc: 0, mission: { profile: 'search-and-rescue', priority }, spec });
    // No input follows these ASSIGNs: each shard stays in 'receiving' and holds the worker's only slot.
    assign(1, 'routine');
    await mesh.run(mesh.scheduler.now + 20_000);
    assign(2, 'bulk');
    await mesh.run(mesh.scheduler.now + 20_000);
    expect(worker.events.filter((e) => e.type === 'decline').map((e) => e.data.reason)).toEqual(['BUSY']);
    assign(3, 'critical');
    await mesh.run(mesh.scheduler.now + 20_000);
    expect(worker.events.filter((e) => e.type === 'shard_preempted').map((e) => [e.data.jobId, e.data.priority, e.data.by])).toEqual([[1, 'routine', 'critical']]);
    expect(failures).toEqual([17]);
    expect(worker.orch.worker.activeTasks().map((t) => t.jobId)).toEqual([3]);
  });

  /**
   * A line: the owner (1) hears the neighbour (2), the neighbour hears the model holder (3), and the owner's
   * broadcasts never reach the holder. Only the neighbour can link them.
   */
  async function ownerRelayHolder(seed: number, holderHasModel = true, holderComputeMs?: number): Promise<{ mesh: FakeMesh; owner: TestNode; relay: TestNode; holder: TestNode }> {
    const mesh = new FakeMesh(seed, (a, b) => (Math.min(a, b) === 1 && Math.max(a, b) === 3 ? 4 : 1));
    const owner = makeNode(mesh, 1, { gops: 0.05, ramKiB: 100, battery: 80, hasModel: false, config: SAR });
    const relay = makeNode(mesh, 2, { gops: 0.05, ramKiB: 300, battery: 70, hasModel: false, config: SAR });
    const holder = makeNode(mesh, 3, { gops: 50, ramKiB: 1 << 20, battery: 90, hasModel: holderHasModel, config: SAR, ...(holderComputeMs ? { computeMs: holderComputeMs } : {}) });
    for (const n of [owner, relay, holder]) n.orch.start();
    await mesh.run(30_000);
    return { mesh, owner, relay, holder };
  }
  const gemv: GemmSpec = { ...spec, m: 1 };

  it('relays a critical shard through a neighbour that knows a model holder the owner cannot reach', async () => {
    const { mesh, owner, relay, holder } = await ownerRelayHolder(26);
    expect(owner.orch.registry.get(3)).toBeUndefined();
    const input = new Prng(26).bytes(inputBytes(gemv));
    owner.orch.submit(gemv, input, { tag: 'triage' });
    await mesh.runWhile(() => owner.outcomes.length === 0, 600_000);
    const [o] = owner.outcomes;
    expect(o?.priority).toBe('critical');
    expect(o?.status).toBe('done');
    expect(o?.workers).toEqual([2]);
    expect(o?.output).toEqual(expected(input, gemv));
    expect(relay.orch.worker.stats.relayed).toBe(1);
    expect(relay.events.find((e) => e.type === 'accept')?.data.relay).toBe(true);
    // The holder computed it for the relay's own job, which the relay never offered on again.
    expect(holder.events.filter((e) => e.type === 'shard_computed').map((e) => e.data.owner)).toEqual([2]);
    expect(relay.outcomes.map((r) => [r.status, r.tag])).toEqual([['done', `relay 1/${o?.id}`]]);
    expect(relay.orch.messenger.stats.sent.JOB_REQUEST ?? 0).toBe(0);
  });

  it('gives up a relayed shard\'s own job when the owner cancels the shard: the holder is told too', async () => {
    const { mesh, owner, relay, holder } = await ownerRelayHolder(29, true, 120_000);
    const input = new Prng(29).bytes(inputBytes(gemv));
    const jobId = owner.orch.submit(gemv, input, { tag: 'triage' });
    await mesh.runWhile(() => !holder.events.some((e) => e.type === 'accept'), 600_000);
    expect(relay.orch.worker.stats.relayed).toBe(1);
    void owner.orch.messenger.send(2, { type: 'CANCEL', jobId, shard: null, reason: 9 });
    await mesh.runWhile(() => relay.outcomes.length === 0 || !holder.events.some((e) => e.type === 'cancelled'), mesh.clock.now() + 60_000);
    expect(relay.outcomes[0]?.reason?.split(':')[0]).toBe('CANCELLED');
    expect(holder.events.filter((e) => e.type === 'cancelled').map((e) => e.data.owner)).toEqual([2]);
    expect(holder.events.some((e) => e.type === 'shard_computed')).toBe(false);
  });

  it('relays no routine shard, and no shard when the neighbour knows no holder', async () => {
    const { mesh, owner, relay } = await ownerRelayHolder(27);
    const input = new Prng(27).bytes(inputBytes(gemv));
    owner.orch.submit(gemv, input, { tag: 'routine', priority: 'routine', deadlineMs: mesh.clock.now() + 300_000 });
    await mesh.runWhile(() => owner.outcomes.length === 0, 600_000);
    expect(owner.outcomes[0]?.status).toBe('failed');
    expect(relay.orch.worker.stats.relayed).toBe(0);
    // The third node without the model: the neighbour knows no holder to relay to.
    const lonely = await ownerRelayHolder(28, false);
    lonely.owner.orch.submit(gemv, input, { tag: 'triage', deadlineMs: lonely.mesh.clock.now() + 300_000 });
    await lonely.mesh.runWhile(() => lonely.owner.outcomes.length === 0, 900_000);
    expect(lonely.owner.outcomes[0]?.status).toBe('failed');
    expect(lonely.relay.orch.worker.stats.relayed).toBe(0);
  });

  it('returns only the class and score of each row when the job asks for its top-1', async () => {
    const { mesh, owner, worker } = await ownerAndWorker(24);
    const top1: GemmSpec = { ...spec, topK: 1 };
    const input = new Prng(24).bytes(inputBytes(top1));
    owner.orch.submit(top1, input, { tag: 'j' });
    await mesh.runWhile(() => owner.outcomes.length === 0, 600_000);
    const full = expected(input);
    const out = owner.outcomes[0]?.output as Uint8Array;
    expect(out.length).toBe(2 * 3);
    for (let r = 0; r < 2; r++) {
      const row = [...full.subarray(r * 64, (r + 1) * 64)].map((b) => (b << 24) >> 24);
      const best = row.indexOf(Math.max(...row));
      expect(out[r * 3]).toBe(best & 0xff);
      expect(out[r * 3 + 1]).toBe(best >> 8);
      expect(((out[r * 3 + 2] as number) << 24) >> 24).toBe(row[best]);
    }
    // Small enough to ride inside the RESULT: no output DATA stream.
    expect(worker.orch.messenger.stats.sent.DATA ?? 0).toBe(0);
  });
});
