import { loadKernel, type Kernel } from '@compotastic/kernel';
import { JsonlTrace, type ScenarioConfig, type Simulation, type TraceEvent } from '@compotastic/sim';
import { beforeAll, describe, expect, it } from 'vitest';
import { type GemmSpec, KernelExecutor, ModelLayerExecutor, type ModelLayerRunner, type ModelLayersSpec, ReferenceExecutor, residentWeightsId } from '@compotastic/orchestrator';
import { type JobRecord, runSwarm } from '../src/swarm.js';
import { type JobTemplate, WorkloadModel, specFor } from '../src/workload.js';

let kernel: Kernel;
beforeAll(async () => {
  kernel = await loadKernel({ build: 'scalar' });
});

/** A few nodes a few hundred metres apart on SHORT_FAST: everyone hears everyone within two hops. */
function cluster(nodes: NonNullable<ScenarioConfig['nodes']['list']>, extra: Partial<ScenarioConfig> = {}): ScenarioConfig {
  return {
    name: 'cluster',
    duration: '20m',
    preset: 'SHORT_FAST',
    pathLoss: { model: 'log-distance', sigmaDb: 0 },
    battery: { enabled: true, initialPct: 80 },
    nodes: { list: nodes },
    ...extra,
  };
}

const gemv = (extra: Partial<JobTemplate> = {}): JobTemplate => ({ id: 'classify', kernel: 'gemv', k: 512, n: 128, deadlineS: 600, atS: 240, from: 0, ...extra });

/**
 * The expected output of a finished workload job: the workload model is rebuilt from the seed (as every node holding
 * it does) and the job recomputed by the kernel package's plain-TS reference, independent of the Wasm kernel the nodes
 * run (the orchestrator's own tests check ReferenceExecutor against an oracle that shares none of its code).
 */
function oracleFor(seed: number, workload: JobTemplate[]): (job: JobRecord) => Promise<Uint8Array> {
  const model = new WorkloadModel(seed);
  for (const t of workload) specFor(t, model);
  const reference = new ReferenceExecutor(model.store);
  return (job) => reference.run(job.spec, job.input);
}

describe('orchestrator on the simulator (MeshDevice over virtual radios, virtual time)', () => {
  it('discovery reaches every node', async () => {
    const sc = cluster([
      { name: 'a', x: 0, y: 0 },
      { name: 'b', x: 250, y: 0, deviceClass: 'phone' },
      { name: 'c', x: 500, y: 0 },
      { name: 'd', x: 250, y: 250, deviceClass: 'laptop' },
      { name: 'e', x: 750, y: 100 },
    ]);
    const { report } = await runSwarm(sc, { seed: 1, kernel, workload: [] });
    expect(report.discovery.pairs).toBe(20);
    expect(report.discovery.coverage).toBe(1);
    expect(report.messages.sent.CAP_ADVERT).toBeGreaterThanOrEqual(5);
    expect(report.messages.decodeErrors).toBe(0);
  });

  it('sends a low-power node\'s job to the best peer, and the result equals the independent oracle', async () => {
    const sc = cluster([
      { name: 'sensor', x: 0, y: 0, deviceClass: 'microcontroller' },
      { name: 'phone', x: 200, y: 0, deviceClass: 'phone' },
      { name: 'far-laptop', x: 1400, y: 0, deviceClass: 'laptop' },
      { name: 'relay', x: 700, y: 0, deviceClass: 'microcontroller' },
    ]);
    const workload = [gemv()];
    const { report, jobs, sim } = await runSwarm(sc, { seed: 2, kernel, workload });
    const job = jobs[0];
    expect(job?.outcome?.status).toBe('done');
    expect(job?.outcome?.plan).toBe('offload');
    expect(job?.outcome?.workers).toEqual([sim.resolveNode('phone').num]);
    const local = await new KernelExecutor(kernel, undefined).run(job!.spec, job!.input).catch(() => null);
    expect(local).toBeNull(); // the sensor cannot run it itself: the weights live on the peers
    // The result is right (the plain-TS reference), not just what the phone's kernel computed.
    expect(job?.outcome?.output).toEqual(await oracleFor(report.seed, workload)(job!));
    expect(report.jobs.verified).toBe(1);
    expect(report.jobs.mismatches).toBe(0);
  });

  it('reassigns the shards of a node dropped mid-job, and the job completes', async () => {
    const sc = cluster(
      [
        { name: 'sensor', x: 0, y: 0, deviceClass: 'microcontroller' },
        { name: 'phone1', x: 200, y: 0, deviceClass: 'phone' },
        { name: 'phone2', x: 0, y: 250, deviceClass: 'phone' },
      ],
      { preset: 'LONG_FAST' },
    );
    // Whichever phone accepts the job loses power three seconds later, before it can answer.
    let sim: Simulation | null = null;
    let dropped: number | null = null;
    const trace = (e: TraceEvent): void => {
      if (e.ev !== 'app' || e.type !== 'accept' || dropped !== null || !sim) return;
      const s = sim;
      dropped = e.node as number;
      s.clock.setTimer(3000, () => s.setNodeUp(s.requireNode(dropped as number), false, 'crushed'));
    };
    const workload = [gemv()];
    const { jobs, report } = await runSwarm(sc, { seed: 3, kernel, trace, workload, onSimulation: (s) => (sim = s) });
    const o = jobs[0]?.outcome;
    expect(dropped).not.toBeNull();
    expect(o?.status).toBe('done');
    expect(o?.workers).toHaveLength(1);
    expect(o?.workers[0]).not.toBe(dropped);
    expect(o?.attempts).toBeGreaterThanOrEqual(2);
    expect(o?.output).toEqual(await oracleFor(report.seed, workload)(jobs[0]!));
  });

  it('a low-battery node stops accepting work and gets none', async () => {
    const sc = cluster([
      { name: 'sensor', x: 0, y: 0, deviceClass: 'microcontroller' },
      { name: 'weak', x: 150, y: 0, deviceClass: 'phone', batteryPct: 12 },
      { name: 'strong', x: 0, y: 400, deviceClass: 'phone', batteryPct: 90 },
    ]);
    const trace = new JsonlTrace();
    const workload = [gemv(), gemv({ atS: 420 })];
    const { jobs, sim, report } = await runSwarm(sc, { seed: 4, kernel, trace: trace.sink, workload });
    const weak = sim.resolveNode('weak').num;
    const oracle = oracleFor(report.seed, workload);
    expect(jobs).toHaveLength(2);
    for (const j of jobs) {
      expect(j.outcome?.status).toBe('done');
      expect(j.outcome?.workers).toEqual([sim.resolveNode('strong').num]);
      expect(j.outcome?.output).toEqual(await oracle(j));
    }
    const app = trace.text().split('\n').filter((l) => l.includes('"ev":"app"'));
    expect(app.some((l) => l.includes('"type":"accept"') && l.includes(`"node":${weak}`))).toBe(false);
  });

  it('warns about a router that drops the private port, on the router itself and at its neighbour', async () => {
    const sc = cluster(
      [
        { name: 'sensor', x: 0, y: 0, deviceClass: 'microcontroller' },
        { name: 'router', x: 400, y: 0, role: 'ROUTER', deviceClass: 'phone' },
        { name: 'phone', x: 800, y: 0, deviceClass: 'phone' },
      ],
    );
    const { report, sim } = await runSwarm(sc, { seed: 5, kernel, workload: [] });
    const router = sim.resolveNode('router').num;
    expect(report.routerWarnings.some((w) => w.kind === 'self-blocked' && w.router === router)).toBe(true);
    expect(report.routerWarnings.some((w) => w.kind === 'router-neighbour' && w.router === router)).toBe(true);
  });

  it('uses BLE for a neighbour in range: capability read over GATT, job data over the message characteristic', async () => {
    const sc = cluster([
      { name: 'sensor', x: 0, y: 0, deviceClass: 'microcontroller' },
      { name: 'phone', x: 8, y: 0, deviceClass: 'phone' },
      { name: 'laptop', x: 900, y: 0, deviceClass: 'laptop' },
    ], { preset: 'LONG_FAST' });
    const trace = new JsonlTrace();
    const workload = [gemv({ k: 2048, n: 256 })];
    const { jobs, sim, report } = await runSwarm(sc, { seed: 6, kernel, trace: trace.sink, workload });
    const o = jobs[0]?.outcome;
    expect(o?.status).toBe('done');
    expect(o?.workers).toEqual([sim.resolveNode('phone').num]);
    expect(o?.output).toEqual(await oracleFor(report.seed, workload)(jobs[0]!));
    const lines = trace.text().split('\n');
    expect(lines.some((l) => l.includes('"ev":"ble_read"') && l.includes('"ok":true'))).toBe(true);
    expect(lines.some((l) => l.includes('"type":"job_assigned"') && l.includes('"via":"ble"'))).toBe(true);
  });

  it('is deterministic: same seed, same trace, byte for byte', async () => {
    const sc = cluster([
      { name: 'sensor', x: 0, y: 0, deviceClass: 'microcontroller' },
      { name: 'phone', x: 200, y: 0, deviceClass: 'phone' },
      { name: 'sbc', x: 300, y: 200, deviceClass: 'sbc' },
    ], { duration: '10m' });
    const run = async (): Promise<string> => {
      const t = new JsonlTrace();
      await runSwarm(sc, { seed: 9, kernel, trace: t.sink, workload: [gemv({ everyS: 120 })] });
      return t.text();
    };
    const a = await run();
    const b = await run();
    expect(a.length).toBeGreaterThan(10_000);
    expect(b).toBe(a);
  });

  it('accounts for every job as done, failed, lost or not done because its owner is switched off', async () => {
    const sc = cluster([
      { name: 's1', x: 0, y: 0, deviceClass: 'microcontroller' },
      { name: 's2', x: 0, y: 150, deviceClass: 'microcontroller' },
      { name: 's3', x: 150, y: 150, deviceClass: 'microcontroller' },
      { name: 'phone', x: 200, y: 0, deviceClass: 'phone' },
    ]);
    // Three jobs from three sensors at 240 s; s2 is switched off a second later for good, s3 until 600 s. A fourth
    // job needs weights nobody holds and its deadline passes.
    const workload = ['s1', 's2', 's3'].map((from) => gemv({ id: from, from, deadlineS: 900 }));
    const hopeless: GemmSpec = { kind: 'gemm', m: 1, k: 64, n: 16, aType: 'uint8', bType: 'int8', aZeroPoint: 128, bZeroPoint: 0, weights: { resident: residentWeightsId(9, 0) } };
    const { report, jobs, sim } = await runSwarm(sc, {
      seed: 11, kernel, workload, drainS: 300,
      script: (ctx) => {
        const s = ctx.sim;
        s.clock.setTimer(241_000, () => {
          s.setNodeUp(s.resolveNode('s2'), false, 'switched off');
          s.setNodeUp(s.resolveNode('s3'), false, 'switched off');
        });
        s.clock.setTimer(600_000, () => s.setNodeUp(s.resolveNode('s3'), true, 'switched on'));
        s.clock.setTimer(300_000, () => void ctx.submit(s.resolveNode('s1').num, hopeless, new Uint8Array(64), { tag: 'hopeless', deadlineS: 120 }));
      },
    });
    const byTag = new Map(jobs.map((j) => [j.tag, j]));
    const oracle = oracleFor(report.seed, workload);
    // Done: s1's job, and s3's, resumed when it came back; both with the reference result.
    for (const tag of ['s1#0', 's3#0']) {
      expect(byTag.get(tag)?.outcome?.status).toBe('done');
      expect(byTag.get(tag)?.outcome?.output).toEqual(await oracle(byTag.get(tag)!));
    }
    expect(byTag.get('s3#0')!.outcome!.finishedMs).toBeGreaterThan(600_000);
    // Failed, with its reason.
    expect(byTag.get('hopeless')?.outcome?.status).toBe('failed');
    expect(byTag.get('hopeless')?.outcome?.reason).toMatch(/^DEADLINE/);
    // Not done: its owner is still off, so it has no outcome; it is not counted as lost nor as ended.
    expect(byTag.get('s2#0')?.outcome).toBeNull();
    expect(sim.resolveNode('s2').up).toBe(false);
    expect(report.jobs).toMatchObject({ submitted: 4, done: 2, failed: 1, lost: 0, ownerOffline: 1, verified: 2, mismatches: 0 });
    expect(report.jobs.completionRate).toBe(0.5);
  });

  it('under node churn, every job is done, failed or waiting for its switched-off owner: none is lost', async () => {
    // Half the nodes drop out six times an hour: enough that running shards are lost and reassigned (pinned seed).
    const sc: ScenarioConfig = {
      name: 'churn',
      duration: '30m',
      preset: 'MEDIUM_FAST',
      area: { widthM: 3000, heightM: 3000 },
      pathLoss: { model: 'log-distance' },
      battery: { enabled: true, initialPct: [40, 90] },
      availability: { fraction: 0.5, churnPerHour: 6, meanDownS: 240 },
      nodes: { count: 10, placement: { kind: 'connected', minDistM: 100 }, deviceClasses: { microcontroller: 0.6, phone: 0.3, laptop: 0.1 } },
    };
    const workload: JobTemplate[] = [gemv({ from: 'microcontroller', atS: 300, everyS: 90, deadlineS: 900 }), { id: 'batch', kernel: 'batch', m: 16, k: 256, n: 64, from: 'phone', atS: 400, everyS: 300, deadlineS: 900 }];
    const { report, jobs, sim } = await runSwarm(sc, { seed: 3, kernel, workload });
    // Each category from the records themselves, then the report must say the same.
    const done = jobs.filter((j) => j.outcome?.status === 'done');
    const failed = jobs.filter((j) => j.outcome?.status === 'failed');
    const open = jobs.filter((j) => j.outcome === null);
    const ownerOff = open.filter((j) => !sim.requireNode(j.owner).up);
    expect(open.length - ownerOff.length).toBe(0); // lost: open although the owner is up
    expect(report.jobs).toMatchObject({ done: done.length, failed: failed.length, lost: 0, ownerOffline: ownerOff.length });
    expect(done.length + failed.length + ownerOff.length).toBe(jobs.length);
    expect(report.jobs.submitted).toBe(jobs.length);
    // The workload: 17 sensor jobs (300 s to 30 min every 90 s) and 5 batches (400 s every 300 s), all submitted.
    expect(jobs.length).toBe(22);
    expect(report.jobs.recovered).toBeGreaterThanOrEqual(1);
    for (const j of failed) expect(j.outcome?.reason).toMatch(/^[A-Z_]+:/);
    const oracle = oracleFor(report.seed, workload);
    for (const j of done) expect(j.outcome?.output).toEqual(await oracle(j));
  });
});

describe('swarm hooks for applications', () => {
  it('runs model-range jobs on peers that have the model, and locally once it is installed', async () => {
    const sc = cluster([
      { name: 'sensor', x: 0, y: 0, deviceClass: 'microcontroller' },
      { name: 'phone', x: 200, y: 0, deviceClass: 'phone' },
    ]);
    // A stand-in model runtime: output byte i is the sum of the input bytes plus i (mod 256), per installed node.
    const installed = new Set<number>();
    const runnerFor = (num: number): ModelLayerRunner => ({
      has: (id, version) => id === 7 && version === 1 && installed.has(num),
      runLayers: async (_id, _v, _s, _e, _batch, input) => Uint8Array.from({ length: 8 }, (_, i) => (input.reduce((a, b) => a + b, 0) + i) & 255),
    });
    const spec: ModelLayersSpec = { kind: 'model', modelId: 7, modelVersion: 1, layerStart: 0, layerEnd: 3, batch: 1, inputBytes: 64, outputBytes: 8 };
    // Input bytes 0..63 sum to 2016 = 224 (mod 256), so output byte i is 224 + i.
    const expected = Uint8Array.from({ length: 8 }, (_, i) => 224 + i);
    const plans: string[] = [];
    const { jobs, report } = await runSwarm(sc, {
      seed: 5, kernel, workload: [],
      nodeSetup: (node) => {
        if (node.deviceClass === 'phone') installed.add(node.num);
        return { executors: [new ModelLayerExecutor(runnerFor(node.num))], capabilities: node.deviceClass === 'phone' ? { modelId: 7, modelVersion: 1 } : {} };
      },
      modelProfile: (id, version) => (id === 7 ? { modelId: id, modelVersion: version, inputBytesPerItem: 64, layers: [64, 64, 8].map((out) => ({ ops: 1000, weightBytes: 512, outputBytesPerItem: out })) } : undefined),
      // The oracle is the stand-in's definition worked out by hand, not the runner the nodes use.
      reference: new ModelLayerExecutor({ has: () => true, runLayers: async () => expected }),
      script: (ctx) => {
        const sensor = ctx.sim.resolveNode('sensor').num;
        const input = Uint8Array.from({ length: 64 }, (_, i) => i);
        ctx.onJobEnd((r) => plans.push(r.outcome?.plan ?? 'none'));
        ctx.sim.clock.setTimer(240_000, () => {
          ctx.submit(sensor, spec, input, { tag: 'before', deadlineS: 600 });
        });
        ctx.sim.clock.setTimer(600_000, () => {
          installed.add(sensor);
          ctx.orchestrator(sensor)!.updateCapabilities({ modelId: 7, modelVersion: 1 });
          ctx.submit(sensor, spec, input, { tag: 'after', deadlineS: 600 });
        });
      },
    });
    expect(jobs.map((j) => [j.tag, j.outcome?.status])).toEqual([['before', 'done'], ['after', 'done']]);
    expect(plans).toEqual(['offload', 'local']);
    for (const j of jobs) expect(j.outcome?.output).toEqual(expected);
    expect(report.jobs.verified).toBe(2);
    expect(report.jobs.mismatches).toBe(0);
  });
});

describe('a node that arrives later', () => {
  it('is answered by the nodes already running, so it learns its neighbours within minutes', async () => {
    const sc = cluster(
      [
        { name: 'a', x: 0, y: 0 },
        { name: 'b', x: 300, y: 0, deviceClass: 'phone' },
        { name: 'c', x: 0, y: 300 },
      ],
      {
        duration: '30m',
        events: [{ atS: 900, kind: 'pass_through', name: 'van', deviceClass: 'jetson', path: [[100, 100, 1200], [200, 200]], speedMps: 5 }],
      },
    );
    let knownAfter4Min = -1;
    await runSwarm(sc, {
      seed: 9, kernel, workload: [],
      script: (ctx) => {
        ctx.sim.clock.setTimer(900_000 + 240_000, () => {
          const van = ctx.sim.resolveNode('van').num;
          knownAfter4Min = ctx.orchestrator(van)?.registry.all().filter((p) => p.state !== null).length ?? -1;
        });
      },
    });
    // Its own first advert goes out within the start-up jitter; the others answer it instead of waiting for their
    // next periodic advert (30 minutes away).
    expect(knownAfter4Min).toBe(3);
  });
});

describe("a node's radio link in a script", () => {
  it('carries a protocol of its own on another port, beside the orchestrator', async () => {
    const sc = cluster([{ name: 'a', x: 0, y: 0 }, { name: 'b', x: 300, y: 0 }, { name: 'c', x: 0, y: 300 }], { duration: '5m' });
    const heard: [string, number, number[]][] = [];
    let sent: unknown = null;
    let unknown: unknown = 'not asked';
    let a = -1;
    const { report } = await runSwarm(sc, {
      seed: 4, kernel, workload: [],
      script: (ctx) => {
        const num = (name: string) => ctx.sim.resolveNode(name).num;
        unknown = ctx.link(12345);
        for (const name of ['b', 'c']) ctx.link(num(name))!.openPort(290).onPacket((p) => heard.push([name, p.from, Array.from(p.payload)]));
        a = num('a');
        const port = ctx.link(a)!.openPort(290);
        ctx.hold(new Promise<void>((resolve) => {
          ctx.sim.clock.setTimer(60_000, () => {
            void port.send('broadcast', Uint8Array.of(7, 7), { wantAck: false, hopLimit: 0 }).then((r) => (sent = r));
            ctx.sim.clock.setTimer(30_000, resolve);
          });
        }));
      },
    });
    expect(unknown).toBeUndefined();
    expect(sent).toEqual({ ok: true });
    expect(heard.sort()).toEqual([['b', a, [7, 7]], ['c', a, [7, 7]]]);
    // The orchestrators never saw the other port's packet as one of theirs.
    expect(report.messages.decodeErrors).toBe(0);
  });
});
