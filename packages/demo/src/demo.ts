// The end-to-end demo, browser-safe (the CLI and the viewer's worker both run
// it): a disaster-zone mesh where sensor nodes without a model ask capable
// peers to classify vibration windows, one worker drops mid-job and the job
// recovers, and a passing Jetson builds tailored update bundles and pushes the
// improved model over the air, after which sensors classify locally. Given an
// acoustic kit (prepared on Node: see acoustic.ts), the same run also tells the
// acoustic story: sensors listening with an int8 wake-word head broadcast a
// few-byte DETECTION for what they hear, a phone asks a laptop for a new
// keyword, and the laptop rolls the head it trained out over the air.

import { type Kernel, loadBuildBytes, loadKernel } from '@compotastic/kernel';
import {
  VIBRATION_CLASSES, compileInt8, decodeInt8Model, encodeModel, Int8Executor, type Int8ModelParts, buildReferenceModel, mlpAccuracy, mlpToOnnx,
  trainMlp, vibrationDataset,
} from '@compotastic/model';
import { type JobRecord, type SwarmContext, type SwarmReport, runSwarm } from '@compotastic/swarm';
import type { Orchestrator } from '@compotastic/orchestrator';
import { acousticStory } from './acoustic-story.js';
import { MemoryFlash, OTA_PORTNUM, type SigningKey, TrustStore, generateSigningKey } from '@compotastic/ota';
import type { ModemPresetName } from '@compotastic/mesh';
import { type ScenarioConfig, type Simulation, type TraceEvent, type TraceSink, builtinScenario } from '@compotastic/sim';
import {
  DeviceFirmware, FACTORY_VERSION, type FirmwareSet, ModelLibrary, type RolloutEnv, type RolloutOutcome, VIBRATION_MODEL_ID, VIBRATION_MODEL_NAME,
  factoryBundle, modelSelfTest, rollout, tailoredBundle,
} from '@compotastic/node/core';

/** A rollout on the simulated swarm: every node's OTA port on its radio link, progress into the trace. */
function rolloutEnv(ctx: SwarmContext, sender: number, key: SigningKey, portnum = OTA_PORTNUM): RolloutEnv {
  const { sim } = ctx;
  const radio = (num: number) => {
    const link = ctx.link(num);
    if (!link) throw new Error(`node ${num} has no radio link`);
    return link;
  };
  return {
    clock: sim.clock,
    preset: sim.scenario.preset as ModemPresetName,
    dutyCyclePercent: sim.region.dutyCyclePercent,
    port: (num) => radio(num).openPort(portnum),
    portnum,
    // Channel utilization as the radio itself reports it to its client (DeviceMetrics, once a minute).
    channelUtilization: () => radio(sender).facts().channelUtilPct,
    report: (num, type, data) => sim.reportApp(num, type, data),
    key,
  };
}

export interface DemoOptions {
  /** A built-in scenario name or a scenario (default disaster-zone). */
  scenario?: string | ScenarioConfig;
  seed?: number;
  /** Dotted-path scenario overrides (as `pnpm sim --set`). */
  overrides?: Record<string, unknown>;
  /** Also run the scenario's own job stream (app.jobs) alongside the story. */
  withWorkload?: boolean;
  kernel?: Kernel;
  /** Receives every trace record. */
  trace?: TraceSink;
  onProgress?: (simMs: number, untilMs: number) => void;
  /** Receives the story as it happens. */
  onStep?: (step: DemoStep) => void;
  /** The acoustic story's models and clips (Node prepares them: acoustic.ts); without it, only the vibration story. */
  acoustic?: AcousticKit;
}

/** A clip as a sensor's microphone hears it, reduced to what its pipeline needs before the wake-word head. */
export interface AcousticClip {
  text: string;
  description: string;
  /** The loudest 80 ms frame, dBFS (the energy gate's input). */
  peakDbfs: number;
  /** Seconds of audio. */
  seconds: number;
  /** The int8 speech-embedding model's output on the clip: [count, 96], row-major. */
  embeddings: Float32Array;
  /** The int8 Silero VAD's speech probability for every 32 ms frame of the clip (the state carried from frame to frame). */
  vad: Float32Array;
  /** The head this clip should trigger (undefined for a negative). */
  positiveFor?: string;
}

export interface AcousticKit {
  /** The head the sensors ship with (openWakeWord's), int8. */
  base: { name: string; phrase: string; parts: Int8ModelParts };
  /** The head the laptop trains on request, int8, and how it was trained. */
  keyword: {
    name: string; phrase: string; parts: Int8ModelParts;
    training: { positives: number; negatives: number; epochs: number; hidden: [number, number]; examples: { positive: number; negative: number } };
  };
  /** Played to the listening sensors before the update, and after it. */
  before: AcousticClip[];
  after: AcousticClip[];
  /** Clips the new head never trained on (other voices and phrases): its detection rate and false accepts. */
  heldOut: AcousticClip[];
  /** What each int8 model a sensor runs needs: bundle and weight bytes, peak arena bytes. */
  memory: { name: string; bundleBytes: number; weightsBytes: number; peakArenaBytes: number }[];
}

export interface AcousticDetection {
  t: number;
  sensor: string;
  keyword: string;
  score: number;
  clip: string;
  /** Peers that heard the DETECTION broadcast. */
  heardBy: number;
  /** Its payload as the sensor handed it to the radio (body plus signature), bytes; null if not seen. */
  payloadBytes: number | null;
}

export interface AcousticSummary {
  laptop: string;
  phone: string;
  /** The sensors the phone asked the new keyword for, and those running it at the end. */
  asked: string[];
  updated: string[];
  baseHead: string;
  keyword: string;
  training: AcousticKit['keyword']['training'];
  clips: { played: number; gateClosed: number };
  /**
   * What the VAD saved, per listening sensor: of the 80 ms steps of audio it heard, those the speech-embedding model
   * ran on, and the Silero frames it ran (the energy gate keeps quiet clips from the VAD too).
   */
  vad: { sensor: string; steps: number; embedded: number; vadFrames: number; hangoverMs: number }[];
  models: AcousticKit['memory'];
  detections: AcousticDetection[];
  /** A DETECTION's body before the authentication trailer, bytes (each detection says its whole payload). */
  detectionBytes: number;
  request: { attempts: number; atMs: number | null };
  bundle: { fullBytes: number; bytes: number; parts: OtaPart[] } | null;
  rollouts: (Omit<RolloutOutcome, 'sender' | 'failed'> & { failed: number })[];
  heldOut: {
    positives: number; detected: number; detectionRate: number; negatives: number; falseAccepts: number; negativeSeconds: number;
    /** The positives it missed and the negatives it accepted. */
    missed: string[]; accepted: string[];
  };
}

export interface DemoStep {
  /** Simulated time, ms. */
  t: number;
  kind: 'setup' | 'discovery' | 'delegation' | 'recovery' | 'ota' | 'local' | 'acoustic' | 'note';
  text: string;
}

export interface StoryJob {
  tag: string;
  owner: string;
  status: 'done' | 'failed' | 'open';
  plan: string;
  workers: string[];
  latencyMs: number | null;
  attempts: number;
  /** The class the swarm returned, and whether its bytes equal the job run on the plain-TS reference. */
  predicted: string | null;
  truth: string;
  matchesReference: boolean | null;
}

export interface DemoSummary {
  scenario: string;
  seed: number;
  nodes: number;
  simulatedS: number;
  kernelBuild: string;
  model: {
    name: string;
    v1: { floatAccuracy: number; bytes: number };
    v2: { floatAccuracy: number; bytes: number };
  };
  discovery: SwarmReport['discovery'];
  jobs: SwarmReport['jobs'];
  story: StoryJob[];
  ota: (Omit<RolloutOutcome, 'sender' | 'failed'> & { encodings: string; parts: OtaPart[]; failed: number })[];
  radio: SwarmReport['radio'];
  messages: SwarmReport['messages'];
  /** The acoustic story (null when the run had no acoustic kit). */
  acoustic: AcousticSummary | null;
  steps: DemoStep[];
}

/** One part of an update bundle: how it was encoded against what the receivers run, and its encoded size. */
export interface OtaPart {
  name: string;
  encoding: string;
  bytes: number;
}

const INPUT_WIDTH = 64;

function fmtClock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** Builds model v1 (the reference model) and v2 (v1 fine-tuned on new field data), both int8. */
function buildModels(seed: number) {
  // v1: what shipped, trained on little data; v2: fine-tuned on windows recorded in the field since.
  const ref = buildReferenceModel({ trainSamples: 2000, testSamples: 600, epochs: 4, seed });
  const field = vibrationDataset(4000, seed + 7);
  const tunedWeights = trainMlp(field, { init: ref.weights, epochs: 3, learningRate: 1e-3, seed: seed + 1 });
  const calib = new Map([['x', { dims: [400, INPUT_WIDTH], data: ref.train.x.subarray(0, 400 * INPUT_WIDTH) }]]);
  const v1 = compileInt8(ref.onnx, calib);
  const v2 = compileInt8(encodeModel(mlpToOnnx(tunedWeights)), calib);
  return { ref, v1, v2, v1Accuracy: ref.testAccuracy, v2Accuracy: mlpAccuracy(tunedWeights, ref.test) };
}

/** Runs the demo; resolves with its summary. Deterministic for a given scenario and seed. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const scenario = typeof options.scenario === 'object' ? options.scenario : builtinScenario(options.scenario ?? 'disaster-zone');
  const kernel = options.kernel ?? (await loadKernel());
  const steps: DemoStep[] = [];
  let sim: Simulation | null = null;
  const step = (kind: DemoStep['kind'], text: string): void => {
    const s: DemoStep = { t: sim?.now ?? 0, kind, text };
    steps.push(s);
    options.onStep?.(s);
    sim?.reportApp(null, 'demo', { kind, text });
  };

  // --- the models, the firmware and the signing key -------------------------------------------------------------
  const modelSeed = 1;
  const models = buildModels(modelSeed);
  const library = new ModelLibrary(kernel);
  library.add(1, models.v1.int8, INPUT_WIDTH);
  library.add(2, models.v2.int8, INPUT_WIDTH);
  const key = generateSigningKey(new Uint8Array(32).fill(7));
  const fw: FirmwareSet = {
    key, trust: new TrustStore([key.publicKey]), modelName: VIBRATION_MODEL_NAME,
    kernels: { scalar: await loadBuildBytes('scalar'), simd: await loadBuildBytes('simd') },
    models: new Map([[1, models.v1.parts], [2, models.v2.parts]]),
  };
  const devices = new Map<number, DeviceFirmware>();
  const acoustic = options.acoustic ? acousticStory({
    kit: options.acoustic, kernel, fw: { key: fw.key, trust: fw.trust, kernels: fw.kernels }, seed: modelSeed,
    step, name: (num) => name(num), env: (ctx, sender, portnum) => rolloutEnv(ctx, sender, key, portnum),
  }) : null;
  step('setup', `kernel: ${kernel.build} build; model vibration-mlp v1 (${pct(models.v1Accuracy)} held-out accuracy) on phones and laptops, v2 (fine-tuned, ${pct(models.v2Accuracy)}) on the rescue Jetson; sensors ship without a model`);

  // --- who asks, with what ----------------------------------------------------------------------------------------
  const test = models.ref.test;
  const sampleOf = (i: number) => ({ x: test.x.slice(i * INPUT_WIDTH, (i + 1) * INPUT_WIDTH), truth: VIBRATION_CLASSES[test.y[i]!]! });
  const story: { rec: JobRecord; truth: string; version: number }[] = [];
  let sampleCursor = 0;

  const submitClassification = (ctx: SwarmContext, owner: number, version: number, label: string): JobRecord => {
    const sample = sampleOf(sampleCursor++ % test.count);
    const spec = library.spec(version, 1);
    const rec = ctx.submit(owner, spec, library.encodeInput(version, sample.x, 1), { tag: label, deadlineS: 900 });
    story.push({ rec, truth: sample.truth, version });
    return rec;
  };

  const name = (num: number) => sim?.requireNode(num).name ?? String(num);
  // Peers that advertise the model, accept jobs and are within one relay (so a job and its recovery stay local).
  const peersWithModel = (o: Orchestrator, version: number) =>
    o.registry.all().filter((p) => p.state?.record.modelId === VIBRATION_MODEL_ID && p.state.record.modelVersion >= version &&
      p.state.record.acceptsJobs && p.hops !== null && p.hops <= 1);

  // A worker that takes the first delegated job loses power three seconds later (a battery pulled out).
  let dropArmedFor: { owner: number; tag: string } | null = null;
  const jobIdOf = new Map<string, number>();
  const traceSink: TraceSink = (e: TraceEvent) => {
    options.trace?.(e);
    acoustic?.onTrace(e);
    if (e.ev !== 'app' || !sim) return;
    const d = (e.data ?? {}) as Record<string, unknown>;
    if (e.type === 'job_requested' && typeof d.tag === 'string') jobIdOf.set(`${e.node}:${d.tag}`, d.jobId as number);
    // Tell the recovery as it happens: every reassignment of one of the story's shards, and why.
    if (e.type === 'job_reassigned' && typeof d.job === 'string' && story.some((st) => st.rec.owner === e.node && st.rec.tag === d.job)) {
      step('recovery', `${d.job}: attempt ${String(d.attempt)} goes to ${name(d.peer as number)} (the previous one ended: ${String(d.reason)})`);
    }
    if (e.type === 'accept' && dropArmedFor && d.owner === dropArmedFor.owner && d.jobId === jobIdOf.get(`${dropArmedFor.owner}:${dropArmedFor.tag}`)) {
      const worker = e.node as number;
      dropArmedFor = null;
      const s = sim;
      s.clock.setTimer(3000, () => {
        step('recovery', `${name(worker)} loses power mid-job (its battery is pulled); its lease will expire and the shard is reassigned`);
        s.setNodeUp(s.requireNode(worker), false, 'battery pulled');
        s.clock.setTimer(600_000, () => s.setNodeUp(s.requireNode(worker), true, 'battery replaced'));
      });
    }
  };

  const rollouts: (RolloutOutcome & { encodings: string; parts: OtaPart[] })[] = [];
  // Story delegations still waiting for a sensor that qualifies, and since when.
  const waitingSinceMs = new Map<string, number>();

  const script = (ctx: SwarmContext): void => {
    const s = ctx.sim;
    const nodes = s.nodes;
    const sensors = () => nodes.filter((n) => n.deviceClass === 'microcontroller' && n.up && ctx.orchestrator(n.num)?.isRunning && library.installedVersion(n.num) === null);

    // Discovery.
    s.clock.setTimer(240_000, () => {
      const up = nodes.filter((n) => n.up && ctx.orchestrator(n.num));
      let known = 0, pairs = 0;
      for (const a of up) for (const b of up) if (a !== b) { pairs++; if (ctx.orchestrator(a.num)!.registry.get(b.num)?.state) known++; }
      step('discovery', `capability discovery: ${up.length} nodes up, each knows ${pct(pairs ? known / pairs : 0)} of the others (adverts every few minutes, deltas in between)`);
    });

    // Delegated inference, the first one with a worker that drops mid-job.
    const delegate = (label: string, armDrop: boolean): void => {
      const candidates = sensors()
        .map((n) => ({ n, peers: peersWithModel(ctx.orchestrator(n.num)!, 1) }))
        .filter((c) => c.peers.length >= (armDrop ? 2 : 1))
        .sort((a, b) => b.peers.length - a.peers.length || a.n.index - b.n.index);
      const pick = candidates.find((c) => !story.some((st) => st.rec.owner === c.n.num)) ?? candidates[0];
      if (!pick) {
        // Said once; the retry every minute is silent until a sensor qualifies.
        if (!waitingSinceMs.has(label)) {
          waitingSinceMs.set(label, s.now);
          step('note', `${label}: no sensor knows ${armDrop ? 'two peers' : 'a peer'} with the model within one relay yet; trying again every minute`);
        }
        s.clock.setTimer(60_000, () => delegate(label, armDrop));
        return;
      }
      if (armDrop) dropArmedFor = { owner: pick.n.num, tag: label };
      submitClassification(ctx, pick.n.num, 1, label);
      const since = waitingSinceMs.get(label);
      const waited = since === undefined ? '' : ` (after waiting ${Math.round((s.now - since) / 60_000)} min for discovery)`;
      step('delegation', `${pick.n.name} (microcontroller, no model) asks for a vibration classification; ${pick.peers.length === 1 ? '1 peer with the model is' : `${pick.peers.length} peers with the model are`} known${waited}`);
    };
    s.clock.setTimer(300_000, () => delegate('classify-1', true));
    s.clock.setTimer(480_000, () => delegate('classify-2', false));

    // The rescue Jetson: once it has parked and hears direct neighbours running an older model, it pushes v2.
    let started = false;
    let lastSeen: [number, number] | null = null;
    let parkedSinceMs = 0;
    let lastQueryMs = -Infinity;
    const watchJetson = (): void => {
      const jetson = nodes.find((n) => n.deviceClass === 'jetson' && n.up && ctx.orchestrator(n.num)?.isRunning);
      if (!started && jetson) {
        const parked = lastSeen !== null && lastSeen[0] === jetson.x && lastSeen[1] === jetson.y;
        if (!parked) parkedSinceMs = s.now;
        lastSeen = [jetson.x, jetson.y];
        const orch = ctx.orchestrator(jetson.num)!;
        if (library.installedVersion(jetson.num) === null) library.install(jetson.num, 2);
        // Direct neighbours, heard since the Jetson parked (what it heard on the way in is somewhere else now), whose
        // capability record shows an older model (or none) on a kernel build we can ship.
        const near = orch.registry.all().flatMap((p): UpdateTarget[] => {
          const r = p.state?.record;
          if (!r || p.hops !== 0 || p.lastHeardMs < parkedSinceMs || !s.requireNode(p.num).up || !devices.has(p.num)) return [];
          const installed = r.modelId === VIBRATION_MODEL_ID ? r.modelVersion : FACTORY_VERSION;
          const build = r.kernelBuild === 'scalar' ? 'scalar' : r.kernelBuild === 'simd' ? 'simd' : null;
          return build && installed < 2 ? [{ num: p.num, build, installed }] : [];
        });
        if (parked && near.length >= 2) {
          started = true;
          ctx.hold(pushUpdates(ctx, jetson.num, near));
          return;
        }
        // Parked: ask the direct neighbours what they run (every two minutes until enough have answered).
        if (parked && s.now - lastQueryMs >= 120_000) {
          lastQueryMs = s.now;
          void orch.discoverNeighbours(0);
        }
      }
      if (!started && s.now < s.scenario.durationMs) s.clock.setTimer(30_000, watchJetson);
    };
    s.clock.setTimer(60_000, watchJetson);
    acoustic?.start(ctx);
  };

  interface UpdateTarget {
    num: number;
    build: 'scalar' | 'simd';
    installed: number;
  }

  const pushUpdates = async (ctx: SwarmContext, jetson: number, found: UpdateTarget[]): Promise<void> => {
    const targets = found.map((t) => t.num);
    const s = ctx.sim;
    const canary = sampleOf(0).x;
    const expected = library.get(2)!.exec.run(new Map([['x', { dims: [1, INPUT_WIDTH], data: canary }]])).get('probs')!.data;
    const selfTest = modelSelfTest((parts) => {
      const ex = Int8Executor.create(kernel, decodeInt8Model(parts));
      try {
        const got = ex.run(new Map([['x', { dims: [1, INPUT_WIDTH], data: canary }]])).get('probs')!.data;
        return got.every((v, i) => v === expected[i]);
      } finally {
        ex.dispose();
      }
    });
    // One bundle per kind of device, tailored to what its capability record says it runs (kernel build, model version).
    const groups = new Map<string, number[]>();
    for (const t of found) {
      const key = `${t.build}:${t.installed}`;
      groups.set(key, [...(groups.get(key) ?? []), t.num]);
    }
    step('ota', `${name(jetson)} passes by and hears ${targets.length} nodes running an older model; it broadcasts ${groups.size} bundle(s) in turn, each tailored to one kind of device`);
    // The transfers only make sense while the Jetson is parked among its targets: they stop when it drives on.
    const departed = new AbortController();
    const parkedAt = [s.requireNode(jetson).x, s.requireNode(jetson).y];
    const watchDeparture = (): void => {
      const j = s.requireNode(jetson);
      if (!j.up || j.x !== parkedAt[0] || j.y !== parkedAt[1]) {
        step('ota', `${name(jetson)} drives on; transfers still running stop`);
        departed.abort();
        return;
      }
      departureTimer = s.clock.setTimer(10_000, watchDeparture);
    };
    let departureTimer = s.clock.setTimer(10_000, watchDeparture);
    for (const [key, members] of [...groups].sort()) {
      const [build, from] = key.split(':') as ['scalar' | 'simd', string];
      if (departed.signal.aborted) {
        step('ota', `no bundle for ${build} devices on v${from} (${members.map(name).join(', ')}): ${name(jetson)} left before their turn`);
        continue;
      }
      const bundle = tailoredBundle(kernel, fw, 2, Number(from), build);
      const parts: OtaPart[] = bundle.choices.map((c) => ({ name: c.name, encoding: c.encoding, bytes: c.encodedSize }));
      const encodings = parts.map((p) => `${p.name} ${p.encoding} ${p.bytes} B`).join(', ');
      step('ota', `bundle for ${build} devices on v${from} -> v2: ${bundle.bytes.length} bytes signed (${encodings}), to ${members.map(name).join(', ')}`);
      const outcome = await rollout(rolloutEnv(ctx, jetson, fw.key), jetson, `v${from}-${build}->v2`, bundle, members.map((num) => ({
        num, device: devices.get(num)!, selfTest,
        onInstalled: (version) => {
          library.install(num, version);
          ctx.orchestrator(num)?.updateCapabilities({ modelId: VIBRATION_MODEL_ID, modelVersion: version });
        },
      })), modelSeed + rollouts.length, departed.signal);
      rollouts.push({ ...outcome, encodings, parts });
      const lastInstall = Math.max(0, ...outcome.installedAfterMs);
      step('ota', `rollout ${outcome.label}: ${outcome.installed.length}/${outcome.targets} installed, verified and confirmed` +
        (outcome.installed.length ? ` (the last ${(lastInstall / 1000).toFixed(0)} s after the offer)` : '') +
        `, ${outcome.packets} packets, ${(outcome.airtimeMs / 1000).toFixed(1)} s of airtime` +
        (Object.keys(outcome.dropped).length ? ` (its radio refused ${Object.entries(outcome.dropped).map(([why, n]) => `${n} more: ${why}`).join(', ')})` : '') +
        (Object.keys(outcome.unfinished).length ? `; still downloading when it ended: ${Object.entries(outcome.unfinished).map(([n, p]) => `${name(Number(n))} ${p}%`).join(', ')}` : ''));
    }
    if (!departed.signal.aborted) s.clock.clearTimer(departureTimer);
    // Updated sensors now classify on their own; the run lasts until their jobs end.
    const battery = (t: number) => s.nodeState(t).batteryPct ?? 100;
    const updated = targets
      .filter((t) => s.requireNode(t).deviceClass === 'microcontroller' && library.installedVersion(t) === 2 && s.requireNode(t).up)
      .sort((a, b) => battery(b) - battery(a)) // a sensor low on battery would rather offload (the planner keeps a reserve)
      .slice(0, 2);
    const pending = new Set<string>();
    await new Promise<void>((resolve) => {
      if (updated.length === 0) return resolve();
      ctx.onJobEnd((r) => {
        if (pending.delete(r.tag) && pending.size === 0) resolve();
      });
      updated.forEach((num, i) => {
        const tag = `classify-local-${i + 1}`;
        pending.add(tag);
        submitClassification(ctx, num, 2, tag);
        step('local', `${name(num)} now has model v2 and classifies a window itself`);
      });
    });
  };

  const { report, sim: ranSim } = await runSwarm(scenario, {
    seed: options.seed,
    overrides: options.overrides,
    kernel,
    trace: traceSink,
    onProgress: options.onProgress,
    onSimulation: (x) => (sim = x),
    // Room after the scenario for an update that is still on the air to finish.
    drainS: 1800,
    workload: options.withWorkload ? undefined : [],
    modelProfile: library.profileOf,
    reference: library.reference(),
    nodeSetup: (node) => {
      const build = node.deviceClass === 'microcontroller' ? 'scalar' : 'simd';
      const version = node.deviceClass === 'microcontroller' ? FACTORY_VERSION : 1;
      devices.set(node.num, new DeviceFirmware({
        flash: new MemoryFlash(256 * 1024, 4096), kernel, trust: fw.trust, build, factory: () => factoryBundle(kernel, fw, version, build),
      }));
      if (version > 0) library.install(node.num, version);
      return {
        installedModel: library.runnerFor(node.num),
        capabilities: version > 0 ? { modelId: VIBRATION_MODEL_ID, modelVersion: version } : {},
      };
    },
    script,
  });
  sim = ranSim;

  // --- what happened to the story's jobs --------------------------------------------------------------------------
  const storyJobs: StoryJob[] = [];
  for (const { rec, truth, version } of story) {
    const o = rec.outcome;
    let predicted: string | null = null;
    let matchesReference: boolean | null = null;
    if (o?.status === 'done' && o.output) {
      const probs = library.decodeOutput(version, o.output, 1);
      predicted = VIBRATION_CLASSES[probs.indexOf(Math.max(...probs))] ?? null;
      const expected = await library.reference().run(rec.spec, rec.input);
      matchesReference = expected.length === o.output.length && expected.every((v, i) => v === o.output![i]);
    }
    storyJobs.push({
      tag: rec.tag, owner: name(rec.owner), status: o?.status ?? 'open', plan: o?.plan ?? 'none', workers: (o?.workers ?? []).map(name),
      latencyMs: o ? o.latencyMs : null, attempts: o?.attempts ?? 0, predicted, truth, matchesReference,
    });
    const when = o ? fmtClock(o.finishedMs) : 'never';
    step(o?.plan === 'local' ? 'local' : o && o.attempts > Math.max(1, o.workers.length) ? 'recovery' : 'delegation',
      `${rec.tag} from ${name(rec.owner)}: ${o?.status ?? 'open'} at ${when}` +
      (o?.status === 'done' ? ` after ${(o.latencyMs / 1000).toFixed(1)} s, plan ${o.plan} on ${(o.workers.map(name).join(', ')) || 'itself'}, ${o.attempts} attempt(s); classified ${predicted} (truth ${truth}); ${matchesReference ? 'equals the reference computation' : 'DIFFERS from the reference computation'}` : o?.reason ? ` (${o.reason})` : ''));
  }
  for (const [label, sinceMs] of waitingSinceMs) {
    if (story.some((st) => st.rec.tag === label)) continue;
    step('note', `${label}: never asked: from ${fmtClock(sinceMs)} to the end no sensor knew enough peers with the model within one relay`);
  }
  library.dispose();
  const acousticSummary = acoustic?.summary() ?? null;

  return {
    scenario: report.scenario, seed: report.seed, nodes: report.nodes, simulatedS: report.simulatedS, kernelBuild: kernel.build,
    model: {
      name: 'vibration-mlp',
      v1: { floatAccuracy: models.v1Accuracy, bytes: models.v1.parts.weights.length + models.v1.parts.config.length },
      v2: { floatAccuracy: models.v2Accuracy, bytes: models.v2.parts.weights.length + models.v2.parts.config.length },
    },
    discovery: report.discovery, jobs: report.jobs, story: storyJobs,
    ota: rollouts.map(({ sender: _sender, failed, ...r }) => ({ ...r, failed: Object.keys(failed).length })),
    radio: report.radio, messages: report.messages, acoustic: acousticSummary, steps,
  };
}

function pct(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}
