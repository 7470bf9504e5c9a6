import { Prng } from '@compotastic/mesh';
import type { Kernel } from '@compotastic/kernel';
import { DEVICE_PROFILES, Simulation, applyOverrides, type ScenarioConfig, type TraceSink } from '@compotastic/sim';
import { InProcessTransport, VIRTUAL_FIRMWARE_VERSION, VirtualRadio, VirtualTime } from '@compotastic/sim/client';
import {
  type CapabilityRecord,
  ConfigError,
  type DeviceClassName,
  type Executor,
  ExecutorChain,
  type JobOutcome,
  type JobSpec,
  KernelExecutor,
  MemoryJobStore,
  type ModelProfile,
  OnnxExecutor,
  type Orchestrator,
  type OrchestratorConfig,
  type PriorityClass,
  type ProfileName,
  ReferenceExecutor,
  resolveMission,
  runJob,
} from '@compotastic/orchestrator';
import { ReconnectingMeshLink, type RouterWarning } from '@compotastic/orchestrator/meshtastic';
import { type InstalledModelRunner, nodeOrchestrator } from '@compotastic/node/core';
import { SimBleHub } from './ble.js';
import { SimNodeHost, simClock } from './host.js';
import { type JobTemplate, WORKLOAD_MODEL_ID, WORKLOAD_MODEL_VERSION, WorkloadModel, inputFor, parseWorkload, specFor } from './workload.js';

export interface SwarmOptions {
  seed?: number;
  /** Scenario overrides by dotted path (as the simulator's --set). */
  overrides?: Record<string, unknown>;
  /** Replaces the scenario's app.jobs. */
  workload?: JobTemplate[];
  /** Orchestrator settings for every node. */
  orchestrator?: Partial<OrchestratorConfig>;
  /** The swarm's mission profile (every node's `profile`; default: orchestrator.profile, else 'default'). */
  profile?: ProfileName;
  /** Receives every trace record (radio and application events). */
  trace?: TraceSink;
  /** Extra simulated time after the scenario for jobs to finish (default: the longest job deadline + 2 min). */
  drainS?: number;
  /** Kernel instance to share between nodes (loaded once; default: the best build this host runs). */
  kernel?: Kernel;
  /** Let laptops and Jetsons run int32 GEMMs through onnxruntime-web. */
  onnx?: boolean;
  /** BLE between nodes in range (default true). */
  ble?: boolean;
  /** Called with simulated progress. */
  onProgress?: (simMs: number, untilMs: number) => void;
  /** Called with the simulation before it runs (to script events in simulated time). */
  onSimulation?: (sim: Simulation) => void;
  /** Per-node additions: executors tried before the defaults (e.g. an installed model) and capability overrides. */
  nodeSetup?: (node: SwarmNodeInfo) => SwarmNodeSetup | undefined;
  /** Per-layer costs of installed models, for planning model-range jobs. */
  modelProfile?: (modelId: number, modelVersion: number) => ModelProfile | undefined;
  /**
   * Recomputes finished jobs to verify them; tried before the default, the kernel package's plain-TS reference with
   * the workload model (independent of the Wasm kernel the nodes run). Give an independent oracle here too.
   */
  reference?: Executor;
  /**
   * Application work in simulated time, called once every node is attached: submit tracked jobs, react to job ends,
   * drive other protocols (an OTA rollout) and keep the run open until they finish.
   */
  script?: (ctx: SwarmContext) => void;
}

export interface SwarmNodeInfo {
  num: number;
  index: number;
  name: string;
  deviceClass: DeviceClassName;
}

export interface SwarmNodeSetup {
  /** The node's installed models: their layers run first, before `executors` and the swarm's own. */
  installedModel?: InstalledModelRunner;
  executors?: Executor[];
  capabilities?: Partial<Omit<CapabilityRecord, 'epoch'>>;
}

export interface SwarmContext {
  readonly sim: Simulation;
  /** The orchestrator of a node (undefined before it is attached). */
  orchestrator(num: number): Orchestrator | undefined;
  /**
   * A node's radio link (its MeshDevice client, surviving power cycles; undefined before the node is attached), for
   * protocols of their own on another port: `link(num)?.openPort(portnum)`.
   */
  link(num: number): ReconnectingMeshLink | undefined;
  /** Submits a job from `owner`, tracked in the report like the workload's. */
  submit(owner: number, spec: JobSpec, input: Uint8Array, options: { tag: string; deadlineS?: number; priority?: PriorityClass }): JobRecord;
  /** Called when any tracked job ends. */
  onJobEnd(listener: (record: JobRecord) => void): void;
  /** Keeps the run going (past the scenario's end, up to the drain limit) until the promise settles. */
  hold(work: Promise<unknown>): void;
}

export interface JobRecord {
  tag: string;
  owner: number;
  spec: JobSpec;
  input: Uint8Array;
  submittedMs: number;
  /** The job's class under the swarm's profile. */
  priority: PriorityClass;
  outcome: JobOutcome | null;
}

export interface SwarmReport {
  scenario: string;
  seed: number;
  nodes: number;
  simulatedS: number;
  jobs: {
    /** Every submitted job is in exactly one of done, failed, lost and ownerOffline. */
    submitted: number;
    done: number;
    failed: number;
    /** Jobs still open at the end although their owner was up: must be 0. */
    lost: number;
    /**
     * Jobs still open at the end because their owner was switched off then: neither done nor lost (the owner keeps
     * them and resumes them when it powers up again), but no result either.
     */
    ownerOffline: number;
    completionRate: number;
    failedByReason: Record<string, number>;
    latencyMs: { p50: number; p90: number; p95: number; p99: number; max: number; mean: number };
    plans: Record<string, number>;
    /** Jobs that needed more than one attempt on some shard (recovered from a lost or declined worker). */
    recovered: number;
    /** Finished jobs whose output was recomputed by the reference (`SwarmOptions.reference`), and how many differed. */
    verified: number;
    mismatches: number;
    skipped: number;
  };
  discovery: { coverage: number; pairs: number };
  messages: { sent: Record<string, number>; decodeErrors: number; sendFailures: number };
  routerWarnings: RouterWarning[];
  radio: { transmissions: number; collisions: number; channelUtilizationPct: number };
}

/** Capability record of a simulated device, from its class in the simulator. */
export function simCapabilities(deviceClass: DeviceClassName, hasModel: boolean, batteryMah: number | null, onnx: boolean, ramKiB: number, gops: number, ble: boolean, computeMa: number): Omit<CapabilityRecord, 'epoch'> {
  const big = deviceClass === 'laptop' || deviceClass === 'jetson';
  return {
    deviceClass,
    accelerators: deviceClass === 'jetson' ? ['gpu'] : deviceClass === 'phone' ? ['npu'] : [],
    precisions: deviceClass === 'microcontroller' ? ['int8'] : ['int8', 'fp16', 'fp32'],
    onnxRuntime: onnx && big,
    kernelBuild: deviceClass === 'microcontroller' ? 'scalar' : 'simd',
    acceptsJobs: true,
    externalPower: batteryMah === null,
    portBlocked: false,
    links: { ble, wifi: big },
    modelFamilies: deviceClass === 'microcontroller' ? ['gemm', 'gemv'] : ['gemm', 'gemv', 'mlp', 'cnn', 'transformer', ...(onnx && big ? (['onnx-graph'] as const) : [])],
    freeRamKiB: ramKiB,
    gops,
    firmwareVersion: VIRTUAL_FIRMWARE_VERSION,
    modelId: hasModel ? WORKLOAD_MODEL_ID : 0,
    modelVersion: hasModel ? WORKLOAD_MODEL_VERSION : 0,
    computeDrainPctPerHour: batteryMah ? (computeMa / batteryMah) * 100 : 0,
  };
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

/**
 * Run the orchestrator on every node of a simulated swarm — each node through a MeshDevice on the simulator's
 * in-process transport, in virtual time — submit the scenario's jobs and report what became of them.
 */
export async function runSwarm(scenario: ScenarioConfig, options: SwarmOptions = {}): Promise<{ report: SwarmReport; jobs: JobRecord[]; sim: Simulation }> {
  const config = options.overrides ? applyOverrides(scenario, options.overrides) : scenario;
  const sim = new Simulation(config, { seed: options.seed, trace: options.trace });
  options.onSimulation?.(sim);
  const seed = sim.scenario.seed;
  const rng = new Prng(seed).derive('swarm');
  const templates = options.workload ?? parseWorkload(sim.scenario.app);
  const model = new WorkloadModel(seed);
  const plannedSpecs = templates.map((t) => specFor(t, model));
  const kernel = options.kernel ?? (await (await import('@compotastic/kernel')).loadKernel());
  // One executor per kind of node, shared (stateless between calls).
  const withModel: Executor = new KernelExecutor(kernel, model.store);
  const withoutModel: Executor = new KernelExecutor(kernel);
  const onnx = options.onnx ? new OnnxExecutor(model.store) : null;
  const maxDeadlineS = templates.reduce((m, t) => Math.max(m, t.deadlineS ?? 900), 0);
  const durationMs = sim.scenario.durationMs;
  const untilMs = durationMs + (options.drainS ?? maxDeadlineS + 120) * 1000;
  const ble = options.ble === false ? null : new SimBleHub(sim);
  const orchestrators = new Map<number, Orchestrator>();
  const links = new Map<number, ReconnectingMeshLink>();
  const warnings: RouterWarning[] = [];
  const records: JobRecord[] = [];
  let skipped = 0;
  let pendingSubmissions = 0;
  let openJobs = 0;
  let finish: (() => void) | null = null;
  const jobListeners: ((r: JobRecord) => void)[] = [];
  let held = 0;
  const vt = new VirtualTime(sim);
  const profile = options.profile ?? options.orchestrator?.profile ?? 'default';
  const orchestratorConfig: Partial<OrchestratorConfig> = { ...options.orchestrator, profile };

  const attach = async (index: number): Promise<void> => {
    const node = sim.nodes[index];
    if (!node) return;
    const num = node.num;
    const profile = DEVICE_PROFILES[node.deviceClass];
    const host = new SimNodeHost(sim, num, {}, simClock(sim));
    // One radio per node for the whole run; a new client session (transport + MeshDevice) after every power cycle.
    const radio = new VirtualRadio(sim, num);
    const link = await ReconnectingMeshLink.connect(async () => new InProcessTransport(sim, radio), {
      portnum: options.orchestrator?.portnum,
      seed: new Prng(seed).derive(`link:${num}`).uint32(),
      // Channel and TX utilization come from the radio's own DeviceMetrics telemetry, as on a real node.
      onRouterWarning: (w) => {
        if (warnings.some((x) => x.kind === w.kind && x.router === w.router && x.peer === w.peer)) return;
        warnings.push(w);
        sim.reportApp(num, 'router_warning', { kind: w.kind, router: w.router, peer: w.peer, message: w.message });
      },
    });
    links.set(num, link);
    const hasModel = profile.ramMb >= 64;
    const big = node.deviceClass === 'laptop' || node.deviceClass === 'jetson';
    const base = hasModel ? withModel : withoutModel;
    const setup = options.nodeSetup?.({ num, index, name: node.name, deviceClass: node.deviceClass }) ?? {};
    const batteryMah = node.battery ? (sim.scenario.battery.capacityMah ?? profile.batteryMah) : null;
    const orch = nodeOrchestrator({
      host,
      mesh: link,
      ble: ble && profile.ble ? ble.adapter(num) : undefined,
      installedModel: setup.installedModel ?? null,
      executors: [...(setup.executors ?? []), ...(onnx && big ? [onnx] : []), base],
      modelProfile: options.modelProfile,
      capabilities: {
        ...simCapabilities(node.deviceClass, hasModel, batteryMah, !!onnx, host.freeRamKiB(), profile.gops, profile.ble, profile.computeMa),
        ...setup.capabilities,
      },
      seed: new Prng(seed).derive(`orchestrator:${num}`).uint32(),
      config: orchestratorConfig,
      store: new MemoryJobStore(),
      onRouterWarning: (w) => {
        if (!warnings.some((x) => x.kind === w.kind && x.router === w.router && x.peer === w.peer)) warnings.push(w);
      },
    });
    orchestrators.set(num, orch);
    orch.onJobEnd((o) => {
      const rec = records.find((r) => r.owner === num && r.outcome === null && r.tag === o.tag);
      if (rec) {
        rec.outcome = o;
        openJobs--;
        for (const l of jobListeners) l(rec);
        maybeFinish();
      }
    });
    sim.addListener(num, { onStatus: (up) => (up ? orch.start() : orch.stop()) });
    if (node.up) orch.start();
  };

  const eligible = (t: JobTemplate): number[] => {
    const up = sim.nodes.filter((n) => n.up && orchestrators.get(n.num)?.isRunning);
    if (t.from === undefined || t.from === 'any') return up.map((n) => n.num);
    if (typeof t.from === 'number') return up.filter((n) => n.index === t.from).map((n) => n.num);
    return up.filter((n) => n.deviceClass === t.from || n.name === t.from).map((n) => n.num);
  };

  const submit = (t: JobTemplate, ti: number, seq: number): void => {
    pendingSubmissions--;
    const owners = eligible(t);
    if (owners.length === 0) {
      skipped++;
      sim.reportApp(null, 'workload_skipped', { template: t.id, reason: 'no eligible node is up' });
      maybeFinish();
      return;
    }
    const owner = rng.pick(owners);
    const spec = plannedSpecs[ti] as JobSpec;
    const input = inputFor(spec, new Prng(seed).derive(`input:${ti}:${seq}`));
    track(owner, spec, input, `${t.id}#${seq}`, t.deadlineS ?? 900, t.priority);
  };

  const track = (owner: number, spec: JobSpec, input: Uint8Array, tag: string, deadlineS: number, priority?: PriorityClass): JobRecord => {
    const orch = orchestrators.get(owner);
    if (!orch) throw new ConfigError('BAD_SCENARIO', `node ${owner} has no orchestrator`);
    const mission = resolveMission(profile, spec, priority);
    const rec: JobRecord = { tag, owner, spec, input, submittedMs: sim.now, priority: mission.priority, outcome: null };
    records.push(rec);
    openJobs++;
    orch.submit(spec, input, { tag, deadlineMs: sim.now + deadlineS * 1000, priority: mission.priority });
    return rec;
  };

  const maybeFinish = (): void => {
    if (finish && pendingSubmissions === 0 && openJobs === 0 && held === 0 && sim.now >= durationMs) finish();
  };

  const context: SwarmContext = {
    sim,
    orchestrator: (num) => orchestrators.get(num),
    link: (num) => links.get(num),
    submit: (owner, spec, input, o) => track(owner, spec, input, o.tag, o.deadlineS ?? 900, o.priority),
    onJobEnd: (listener) => void jobListeners.push(listener),
    hold: (work) => {
      held++;
      const release = (): void => {
        held--;
        maybeFinish();
      };
      work.then(release, release);
    },
  };

  await vt.run(
    async () => {
      await Promise.all(sim.nodes.map((_, i) => attach(i)));
      let attached = sim.nodes.length;
      options.script?.(context);
      // Nodes that join later (a vehicle passing through) get an orchestrator when they appear.
      const watch = (): void => {
        while (attached < sim.nodes.length) void attach(attached++);
        if (sim.now < untilMs) sim.clock.setTimer(5000, watch);
      };
      sim.clock.setTimer(5000, watch);
      templates.forEach((t, ti) => {
        const start = (t.atS ?? 180) * 1000;
        const every = t.everyS !== undefined ? t.everyS * 1000 : null;
        const count = t.count ?? (every ? Math.max(1, Math.ceil((durationMs - start) / every)) : 1);
        for (let i = 0; i < count; i++) {
          const at = start + (every ?? 0) * i;
          if (at >= durationMs) break;
          pendingSubmissions++;
          sim.clock.setTimer(Math.max(0, at - sim.now), () => {
            sim.notifyClientActivity();
            submit(t, ti, i);
          });
        }
      });
      const progress = (): void => {
        options.onProgress?.(sim.now, untilMs);
        if (sim.now < untilMs) sim.clock.setTimer(60_000, progress);
      };
      if (options.onProgress) progress();
      await new Promise<void>((resolve) => {
        finish = resolve;
        sim.clock.setTimer(Math.max(0, durationMs - sim.now), maybeFinish);
        setTimeout(resolve, Math.max(1, untilMs - 1 - sim.now));
      });
    },
    { untilMs },
  );

  for (const o of orchestrators.values()) o.close();
  for (const l of links.values()) await l.close();
  const report = buildReport(sim, records, orchestrators, warnings, skipped);
  const reference = new ReferenceExecutor(model.store);
  await verifyOutputs(report, records, options.reference ? new ExecutorChain([options.reference, reference]) : reference);
  return { report, jobs: records, sim };
}

function buildReport(sim: Simulation, records: JobRecord[], orchestrators: Map<number, Orchestrator>, warnings: RouterWarning[], skipped: number): SwarmReport {
  const done = records.filter((r) => r.outcome?.status === 'done');
  const failed = records.filter((r) => r.outcome?.status === 'failed');
  const open = records.filter((r) => r.outcome === null);
  const ownerOffline = open.filter((r) => !sim.requireNode(r.owner).up).length;
  const failedByReason: Record<string, number> = {};
  for (const r of failed) {
    const key = (r.outcome?.reason ?? 'UNKNOWN').split(':')[0] as string;
    failedByReason[key] = (failedByReason[key] ?? 0) + 1;
  }
  const lat = done.map((r) => (r.outcome as JobOutcome).latencyMs).sort((a, b) => a - b);
  const plans: Record<string, number> = {};
  for (const r of records) {
    const k = r.outcome?.plan ?? 'open';
    plans[k] = (plans[k] ?? 0) + 1;
  }
  const sent: Record<string, number> = {};
  let decodeErrors = 0;
  let sendFailures = 0;
  for (const o of orchestrators.values()) {
    for (const [k, v] of Object.entries(o.messenger.stats.sent)) sent[k] = (sent[k] ?? 0) + (v ?? 0);
    decodeErrors += o.messenger.stats.decodeErrors;
    sendFailures += o.messenger.stats.sendFailures;
  }
  let pairs = 0;
  let known = 0;
  const now = sim.now;
  const upNums = [...orchestrators.keys()].filter((n) => sim.requireNode(n).up);
  for (const a of upNums) {
    const o = orchestrators.get(a) as Orchestrator;
    for (const b of upNums) {
      if (a === b) continue;
      pairs++;
      const e = o.registry.get(b);
      if (e && e.state) known++;
    }
  }
  const summary = sim.summary();
  const submitted = records.length;
  return {
    scenario: sim.scenario.name,
    seed: sim.scenario.seed,
    nodes: sim.nodes.length,
    simulatedS: Math.round(now / 1000),
    jobs: {
      submitted,
      done: done.length,
      failed: failed.length,
      lost: open.length - ownerOffline,
      ownerOffline,
      completionRate: submitted ? Math.round((done.length / submitted) * 10000) / 10000 : 0,
      failedByReason,
      latencyMs: {
        p50: Math.round(percentile(lat, 0.5)),
        p90: Math.round(percentile(lat, 0.9)),
        p95: Math.round(percentile(lat, 0.95)),
        p99: Math.round(percentile(lat, 0.99)),
        max: Math.round(lat[lat.length - 1] ?? 0),
        mean: Math.round(lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : 0),
      },
      plans,
      recovered: done.filter((r) => (r.outcome as JobOutcome).attempts > Math.max(1, (r.outcome as JobOutcome).workers.length)).length,
      verified: 0,
      mismatches: 0,
      skipped,
    },
    discovery: { coverage: pairs ? Math.round((known / pairs) * 10000) / 10000 : 0, pairs },
    messages: { sent, decodeErrors, sendFailures },
    routerWarnings: warnings,
    radio: { transmissions: summary.transmissions, collisions: summary.collisions, channelUtilizationPct: summary.channelUtilizationPct.mean },
  };
}

/** Compare every finished job's output with the job run by `reference`; fills report.jobs.verified/mismatches. */
export async function verifyOutputs(report: SwarmReport, jobs: JobRecord[], reference: Executor): Promise<void> {
  let verified = 0;
  let mismatches = 0;
  for (const r of jobs) {
    const out = r.outcome?.status === 'done' ? r.outcome.output : null;
    if (!out) continue;
    const expected = await runJob(reference, r.spec, r.input);
    verified++;
    if (expected.length !== out.length || expected.some((v, i) => v !== out[i])) mismatches++;
  }
  report.jobs.verified = verified;
  report.jobs.mismatches = mismatches;
}
