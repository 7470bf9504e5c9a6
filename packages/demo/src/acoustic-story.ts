// The acoustic story, browser-safe: sensors near a laptop listen with openWakeWord's hey_rhasspy head (int8, on the
// kernel, behind an energy gate and the int8 Silero VAD, which wakes the speech-embedding model only on speech) and broadcast a DETECTION of a few bytes for what they hear, never audio. A phone asks
// the laptop for a new keyword, "help me", for those sensors; the laptop fine-tunes a small head, bundles it (a delta
// where smaller) and rolls it out over the air until every sensor that asked runs it; then they detect "help me".

import type { Kernel } from '@compotastic/kernel';
import { PortNum, Prng } from '@compotastic/mesh';
import { Int8Executor, decodeInt8Model, type Int8ModelParts } from '@compotastic/model';
import { scoreByte } from '@compotastic/orchestrator';
import { MemoryFlash, OTA_PORTNUM } from '@compotastic/ota';
import type { TraceEvent } from '@compotastic/sim';
import type { SwarmContext } from '@compotastic/swarm';
import {
  DeviceFirmware, type FirmwareSet, type RolloutEnv, type RolloutOutcome, factoryBundle, modelSelfTest, release, rollout, tailoredBundle,
} from '@compotastic/node/core';
import { buildBundle } from '@compotastic/ota';
import type { AcousticClip, AcousticDetection, AcousticKit, AcousticSummary, DemoStep, OtaPart } from './demo.js';
import { type GateOptions, VAD_HANGOVER_MS, embeddedCount, gateSchedule } from './vad-gate.js';

/** openWakeWord's decision threshold. */
const WAKE_THRESHOLD = 0.5;
const EMBEDDING_SIZE = 96;
/** The wake-word head's own OTA port (the vibration model's rollouts keep OTA_PORTNUM), and the keyword requests'. */
export const HEAD_OTA_PORTNUM = OTA_PORTNUM + 1;
export const KEYWORD_REQUEST_PORTNUM = OTA_PORTNUM + 2;
/** Model name of the wake-word head in bundle manifests. */
export const WAKE_HEAD_MODEL_NAME = 'wake-word-head';
/** Simulated time the laptop spends fine-tuning and quantizing the head. */
const TRAINING_MS = 120_000;
/** Sensors that listen: the laptop's direct neighbours, at most. */
const LISTENERS = 3;
const CLIP_SPACING_MS = 60_000;
/** Sensors listen only on a link the laptop hears this well (SNR, dB): a rollout to them should not take the hour. */
const MIN_LISTENER_SNR_DB = -15;
/** Rollouts stop this long before the scenario ends, leaving time for the clips that follow (the run is not extended). */
const ROLLOUT_MARGIN_MS = 300_000;
/** A DETECTION's body before the authentication trailer (type, keyword, score, time, sequence: the orchestrator's codec). */
const DETECTION_BODY_BYTES = 10;

export interface AcousticEnv {
  kit: AcousticKit;
  kernel: Kernel;
  fw: Omit<FirmwareSet, 'modelName' | 'models'>;
  seed: number;
  step: (kind: DemoStep['kind'], text: string) => void;
  name: (num: number) => string;
  env: (ctx: SwarmContext, sender: number, portnum: number) => RolloutEnv;
}

/** The number of embeddings a head reads. */
export function headWindow(exec: Int8Executor): number {
  const input = exec.model.inputs[0]!;
  return input.dims.length === 2 ? (input.dims[1] as number) / EMBEDDING_SIZE : (input.dims[1] as number);
}

/**
 * A head's score on a clip: the highest over the steps the sensor's gates let it score (`gate`; 'ungated' scores
 * every window of embeddings, one step per 80 ms).
 */
export function clipScore(exec: Int8Executor, clip: AcousticClip, gate: GateOptions | 'ungated' = {}): number {
  const input = exec.model.inputs[0]!;
  const flat = input.dims.length === 2;
  const window = headWindow(exec);
  let best = 0;
  for (const k of gateSchedule(clip, window, gate).headSteps) {
    const s = k - window + 1;
    const data = clip.embeddings.subarray(s * EMBEDDING_SIZE, (s + window) * EMBEDDING_SIZE);
    const out = exec.run(new Map([[input.name, { dims: flat ? [1, window * EMBEDDING_SIZE] : [1, window, EMBEDDING_SIZE], data }]])).get(exec.model.outputs[0]!)!;
    best = Math.max(best, out.data[out.data.length - 1]!);
  }
  return best;
}

/** Detection rate and false accepts of a head on clips it never trained on. */
export function heldOutScore(kernel: Kernel, parts: Int8ModelParts, head: string, clips: AcousticClip[], gate: GateOptions | 'ungated' = {}): AcousticSummary['heldOut'] {
  const exec = Int8Executor.create(kernel, decodeInt8Model(parts));
  try {
    let positives = 0, detected = 0, negatives = 0, falseAccepts = 0, negativeSeconds = 0;
    const missed: string[] = [], accepted: string[] = [];
    for (const c of clips) {
      const hit = clipScore(exec, c, gate) >= WAKE_THRESHOLD;
      if (c.positiveFor === head) {
        positives++;
        if (hit) detected++;
        else missed.push(c.description);
      } else {
        negatives++;
        negativeSeconds += c.seconds;
        if (hit) {
          falseAccepts++;
          accepted.push(c.description);
        }
      }
    }
    return { positives, detected, detectionRate: positives ? detected / positives : 0, negatives, falseAccepts, negativeSeconds, missed, accepted };
  } finally {
    exec.dispose();
  }
}

export function acousticStory(a: AcousticEnv): {
  start: (ctx: SwarmContext) => void;
  /** Reads the trace: who heard each DETECTION. */
  onTrace: (e: TraceEvent) => void;
  summary: () => AcousticSummary | null;
} {
  const { kit, kernel, step, name } = a;
  const fw: FirmwareSet = { ...a.fw, modelName: WAKE_HEAD_MODEL_NAME, models: new Map([[1, kit.base.parts], [2, kit.keyword.parts]]) };
  const keywords = [kit.base.name, kit.keyword.name];
  const rng = new Prng(a.seed >>> 0).derive('acoustic');
  const devices = new Map<number, DeviceFirmware>();
  const heads = new Map<number, { name: string; exec: Int8Executor }>();
  const detections: (AcousticDetection & { num: number; seq: number })[] = [];
  const BROADCAST = 0xffffffff;
  const rollouts: RolloutOutcome[] = [];
  const clips = { played: 0, gateClosed: 0 };
  const vadBySensor = new Map<number, { steps: number; embedded: number; vadFrames: number }>();
  const request = { attempts: 0, atMs: null as number | null };
  let laptop: number | null = null, phone: number | null = null;
  let asked: number[] = [];
  let bundle: AcousticSummary['bundle'] = null;
  let seq = 0;

  // What the installed image carries, run on the kernel: the sensor's head comes out of its own flash.
  const loadHead = (num: number): void => {
    const dev = devices.get(num)!;
    const parts = dev.modelParts();
    if (!parts) return;
    heads.get(num)?.exec.dispose();
    heads.set(num, { name: keywords[dev.version - 1]!, exec: Int8Executor.create(kernel, decodeInt8Model(parts)) });
  };

  const hear = (ctx: SwarmContext, num: number, clip: AcousticClip): void => {
    const s = ctx.sim;
    if (!s.requireNode(num).up) return;
    clips.played++;
    const head = heads.get(num)!;
    const plan = gateSchedule(clip, headWindow(head.exec));
    const tally = vadBySensor.get(num) ?? { steps: 0, embedded: 0, vadFrames: 0 };
    vadBySensor.set(num, tally);
    tally.steps += plan.steps;
    tally.embedded += embeddedCount(plan);
    tally.vadFrames += plan.vadFrames;
    if (!plan.energyOpen) {
      clips.gateClosed++;
      step('acoustic', `${name(num)} hears ${clip.description}: the energy gate stays shut (${clip.peakDbfs < -200 ? 'silence' : `${clip.peakDbfs.toFixed(0)} dBFS`}), the VAD and the models sleep`);
      return;
    }
    if (plan.headSteps.length === 0) {
      step('acoustic', `${name(num)} hears ${clip.description}: the VAD hears no speech in ${plan.vadFrames} frames, the speech-embedding model and ${head.name} sleep`);
      return;
    }
    const ran = `the VAD wakes the embedding on ${embeddedCount(plan)} of ${plan.steps} steps`;
    const score = clipScore(head.exec, clip);
    if (score < WAKE_THRESHOLD) {
      step('acoustic', `${name(num)} hears ${clip.description}: ${ran}; ${head.name} scores ${score.toFixed(2)}, no detection`);
      return;
    }
    const keyword = keywords.indexOf(head.name);
    s.reportApp(num, 'detection', { keyword: head.name, score, seq });
    detections.push({ t: s.now, sensor: name(num), keyword: head.name, score, clip: clip.description, heardBy: 0, payloadBytes: null, num, seq: seq & 0xffff });
    const orch = ctx.orchestrator(num);
    void orch?.sendDetection({ keyword, score255: scoreByte(score), timeS: Math.floor(s.now / 1000), seq: seq++ & 0xffff });
    step('acoustic', `${name(num)} hears ${clip.description}: ${ran}; ${head.name} scores ${score.toFixed(2)}; it broadcasts a DETECTION (keyword ${keyword}, score ${scoreByte(score)}/255), no audio`);
  };

  const playAll = (ctx: SwarmContext, list: AcousticClip[], to: () => number[]): Promise<void> =>
    new Promise((resolve) => {
      let i = 0;
      const next = (): void => {
        // Clips that would play after the scenario's end are not played: the story never extends the run.
        if (i >= list.length || ctx.sim.now + CLIP_SPACING_MS > ctx.sim.scenario.durationMs) return resolve();
        const targets = to().filter((n) => ctx.sim.requireNode(n).up);
        if (targets.length) hear(ctx, targets[rng.int(0, targets.length)]!, list[i]!);
        i++;
        ctx.sim.clock.setTimer(CLIP_SPACING_MS, next);
      };
      next();
    });

  const wait = (ctx: SwarmContext, ms: number) => new Promise<void>((res) => ctx.sim.clock.setTimer(ms, () => res()));

  /** Broadcasts the tailored bundle to the sensors that asked, again for any that missed it, until all run it. */
  const rollOut = async (ctx: SwarmContext, sender: number): Promise<void> => {
    const built = tailoredBundle(kernel, fw, 2, 1, 'scalar');
    const full = buildBundle(kernel, release(fw, 2, 'scalar'), { key: fw.key }).bytes.length;
    const parts: OtaPart[] = built.choices.map((c) => ({ name: c.name, encoding: c.encoding, bytes: c.encodedSize }));
    bundle = { fullBytes: full, bytes: built.bytes.length, parts };
    step('acoustic', `${name(sender)} bundles ${kit.keyword.name}: ${built.bytes.length} bytes signed as a delta from ${kit.base.name} where smaller (${parts.map((p) => `${p.name} ${p.encoding} ${p.bytes} B`).join(', ')}); the full image would be ${full} bytes`);
    const canary = kit.heldOut.find((c) => c.positiveFor === kit.keyword.name) ?? kit.heldOut[0]!;
    const expected = heldOutScore(kernel, kit.keyword.parts, kit.keyword.name, [canary]).detected;
    const selfTest = modelSelfTest((p) => heldOutScore(kernel, p, kit.keyword.name, [canary]).detected === expected);
    const deadline = ctx.sim.scenario.durationMs - ROLLOUT_MARGIN_MS;
    const stop = new AbortController();
    const stopTimer = ctx.sim.clock.setTimer(Math.max(0, deadline - ctx.sim.now), () => stop.abort());
    for (let round = 1; ctx.sim.now < deadline; round++) {
      const missing = asked.filter((n) => devices.get(n)!.version !== 2);
      if (missing.length === 0) break;
      const reachable = missing.filter((n) => ctx.sim.requireNode(n).up);
      if (!ctx.sim.requireNode(sender).up || reachable.length === 0) {
        await wait(ctx, 60_000);
        continue;
      }
      const label = round === 1 ? `${kit.keyword.name}-v2` : `${kit.keyword.name}-v2-retry${round - 1}`;
      if (round > 1) step('acoustic', `${reachable.map(name).join(', ')} still run${reachable.length === 1 ? 's' : ''} ${kit.base.name}: ${name(sender)} broadcasts the bundle again`);
      const outcome = await rollout(a.env(ctx, sender, HEAD_OTA_PORTNUM), sender, label, built, reachable.map((num) => ({
        num, device: devices.get(num)!, selfTest,
        onInstalled: () => {
          loadHead(num);
          step('acoustic', `${name(num)} installed ${kit.keyword.name} (verified, self-tested and confirmed); it now listens for "${kit.keyword.phrase}"`);
        },
      })), a.seed + 100 + round, stop.signal);
      rollouts.push(outcome);
      step('acoustic', `rollout ${label}: ${outcome.installed.length}/${outcome.targets} installed, ${outcome.packets} packets, ${(outcome.airtimeMs / 1000).toFixed(1)} s of airtime`);
      if (outcome.installed.length < outcome.targets && ctx.sim.now < deadline) await wait(ctx, 60_000);
    }
    if (!stop.signal.aborted) ctx.sim.clock.clearTimer(stopTimer);
    const missing = asked.filter((n) => devices.get(n)!.version !== 2);
    if (missing.length) step('acoustic', `${missing.map(name).join(', ')} never got ${kit.keyword.name}: the rollout stops ${ROLLOUT_MARGIN_MS / 60_000} min before the end`);
  };

  const hangover = `${VAD_HANGOVER_MS} ms hangover, a head window of pre-roll`;

  const story = async (ctx: SwarmContext): Promise<void> => {
    const s = ctx.sim;
    // The laptop with the most sensors in direct range, once discovery has run; its sensors listen.
    for (;;) {
      const choice = s.nodes
        .filter((n) => n.deviceClass === 'laptop' && n.up && ctx.orchestrator(n.num)?.isRunning)
        .map((n) => ({
          n, near: ctx.orchestrator(n.num)!.registry.all()
            .filter((p) => p.hops === 0 && p.snr !== null && p.snr >= MIN_LISTENER_SNR_DB && s.requireNode(p.num).deviceClass === 'microcontroller' && s.requireNode(p.num).up)
            .sort((x, y) => y.snr! - x.snr! || x.num - y.num).map((p) => p.num),
        }))
        .filter((c) => c.near.length > 0)
        .sort((x, y) => Math.min(LISTENERS, y.near.length) - Math.min(LISTENERS, x.near.length) || x.n.index - y.n.index)[0];
      if (choice) {
        laptop = choice.n.num;
        asked = choice.near.slice(0, LISTENERS).sort((x, y) => x - y);
        break;
      }
      if (s.now > s.scenario.durationMs / 2) {
        step('note', 'acoustic story: no laptop has a sensor in direct range; nobody listens');
        return;
      }
      await wait(ctx, 60_000);
    }
    for (const num of asked) {
      const dev = new DeviceFirmware({
        flash: new MemoryFlash(512 * 1024, 4096), kernel, trust: fw.trust, build: 'scalar', factory: () => factoryBundle(kernel, fw, 1, 'scalar'),
      });
      devices.set(num, dev);
      loadHead(num);
    }
    step('acoustic', `${asked.map(name).join(', ')} (sensors near ${name(laptop)}) listen with ${kit.base.name} on the int8 kernel behind an energy gate and the int8 Silero VAD (${hangover}); the speech-embedding model runs on each (int8), only where the VAD hears speech`);
    await playAll(ctx, kit.before, () => asked);

    // A phone near the laptop asks it for a new keyword for those sensors, over the mesh.
    const lap = laptop;
    const phones = s.nodes.filter((n) => n.deviceClass === 'phone' && ctx.orchestrator(n.num));
    const hopsTo = (num: number) => ctx.orchestrator(num)!.registry.get(lap)?.hops ?? 99;
    phones.sort((x, y) => hopsTo(x.num) - hopsTo(y.num) || x.index - y.index);
    const asker = phones.find((n) => n.up) ?? phones[0];
    if (!asker) {
      step('note', 'acoustic story: no phone to ask for a new keyword');
      return;
    }
    phone = asker.num;
    const got = new Promise<void>((resolve) => {
      ctx.link(lap)!.openPort(KEYWORD_REQUEST_PORTNUM).onPacket((p) => {
        if (p.from !== phone || request.atMs !== null) return;
        request.atMs = s.now;
        const req = JSON.parse(new TextDecoder().decode(p.payload)) as { keyword: string; for: number[] };
        step('acoustic', `${name(lap)} gets the request from ${name(p.from)}: "${req.keyword}" for ${req.for.map(name).join(', ')}; it fine-tunes a head (${kit.keyword.training.examples.positive} positive and ${kit.keyword.training.examples.negative} negative windows, hidden ${kit.keyword.training.hidden.join('/')}, ${kit.keyword.training.epochs} epochs) and quantizes it`);
        resolve();
      });
    });
    const payload = new TextEncoder().encode(JSON.stringify({ keyword: kit.keyword.phrase, for: asked }));
    const phonePort = ctx.link(phone)!.openPort(KEYWORD_REQUEST_PORTNUM);
    const ask = async (): Promise<void> => {
      while (request.atMs === null && s.now < s.scenario.durationMs) {
        request.attempts++;
        if (request.attempts === 1) step('acoustic', `${name(phone!)} asks ${name(lap)} for a new keyword, "${kit.keyword.phrase}", for ${asked.map(name).join(', ')} (${payload.length} bytes)`);
        if (s.requireNode(phone!).up) await phonePort.send(lap, payload, { wantAck: true });
        await wait(ctx, 60_000);
      }
    };
    void ask();
    await got;
    await wait(ctx, TRAINING_MS);
    await rollOut(ctx, lap);
    const updated = () => asked.filter((n) => devices.get(n)!.version === 2);
    if (updated().length === 0) return;
    await playAll(ctx, kit.after, updated);
  };

  return {
    start: (ctx) => {
      ctx.sim.clock.setTimer(360_000, () => ctx.hold(story(ctx)));
    },
    onTrace: (e) => {
      // The DETECTION a sensor hands its radio right after detecting: its payload as generated (body and signature).
      if (e.ev === 'gen' && e.port === PortNum.PRIVATE_APP && e.to === BROADCAST && typeof e.bytes === 'number') {
        const d = detections.find((x) => x.num === e.node && x.payloadBytes === null && e.t - x.t <= 2000);
        if (d) d.payloadBytes = e.bytes;
      }
      if (e.ev !== 'app' || e.type !== 'detection_heard') return;
      const d = (e.data ?? {}) as { peer?: number; seq?: number };
      const hit = detections.find((x) => x.num === d.peer && x.seq === d.seq);
      if (hit) hit.heardBy++;
    },
    summary: () => {
      if (laptop === null) return null;
      for (const h of heads.values()) h.exec.dispose();
      const updatedParts = asked.map((n) => devices.get(n)!).find((d) => d.version === 2)?.modelParts() ?? kit.keyword.parts;
      return {
        laptop: name(laptop), phone: phone === null ? '' : name(phone), asked: asked.map(name),
        updated: asked.filter((n) => devices.get(n)!.version === 2).map(name),
        baseHead: kit.base.name, keyword: kit.keyword.name, training: kit.keyword.training, clips,
        vad: asked.filter((n) => vadBySensor.has(n)).map((n) => ({ sensor: name(n), ...vadBySensor.get(n)!, hangoverMs: VAD_HANGOVER_MS })),
        models: kit.memory,
        detections: detections.map(({ num: _num, seq: _seq, ...d }) => d),
        detectionBytes: DETECTION_BODY_BYTES, request, bundle,
        rollouts: rollouts.map(({ sender: _sender, failed, ...r }) => ({ ...r, failed: Object.keys(failed).length })),
        heldOut: heldOutScore(kernel, updatedParts, kit.keyword.name, kit.heldOut),
      };
    },
  };
}
