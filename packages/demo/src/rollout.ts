// An over-the-air rollout from a passing node: one fountain-coded broadcast of
// a tailored bundle to its direct neighbours, every receiver verifying,
// installing into its inactive slot, rebooting onto it on trial and confirming
// after a self-test. Every node sends and receives through its own radio link
// (the MeshDevice client the orchestrator uses too), on the OTA port. Progress
// goes into the trace as application events.

import { type Clock, type ModemPresetName, Prng, onAirPacketBytes, timeOnAirMs } from '@compotastic/mesh';
import {
  BroadcastSender, DutyCyclePacer, type InstalledImage, type Manifest, MemoryProgressStore, OTA_PORTNUM, type OtaError, type PortLink,
  type SenderReport, TransferReceiver, acceptOfferFor, attachToPacketLink, type BuiltBundle,
} from '@compotastic/ota';
import type { SwarmContext } from '@compotastic/swarm';
import type { DeviceFirmware } from '@compotastic/node/core';


export interface RolloutTarget {
  num: number;
  device: DeviceFirmware;
  /** Runs on the new image before it is confirmed. */
  selfTest: (image: InstalledImage) => boolean;
  /** Called once the new version is confirmed. */
  onInstalled: (version: number) => void;
}

export interface RolloutOutcome {
  label: string;
  bundleBytes: number;
  targets: number;
  installed: number[];
  /** When each receiver confirmed the update, ms after the rollout started. */
  installedAfterMs: number[];
  failed: Record<number, string>;
  /** Receivers still downloading when the transfer ended: percent of the bundle each had. */
  unfinished: Record<number, number>;
  /** Packets the sender's radio took (its queue status said so) and their airtime, ms. */
  airtimeMs: number;
  packets: number;
  /** Packets the sender's radio refused, by its reason (NO_INTERFACE: queue full, DUTY_CYCLE_LIMIT...): never on air. */
  dropped: Record<string, number>;
  startedMs: number;
  finishedMs: number;
  sender: SenderReport | null;
}

/** A node's OTA port on its radio link. */
function otaPort(ctx: SwarmContext, num: number): PortLink {
  const link = ctx.link(num);
  if (!link) throw new Error(`node ${num} has no radio link`);
  return link.openPort(OTA_PORTNUM);
}

/**
 * Broadcasts `bundle` from `sender` to `targets` (direct neighbours: hop limit 0, nobody relays) through each node's
 * radio link, and resolves when the sender is done and every receiver has either installed and confirmed the update
 * or given up. Aborting `signal` (the sender drives off) stops the transfer; receivers keep what they have.
 */
export function rollout(
  ctx: SwarmContext, sender: number, label: string, bundle: BuiltBundle, targets: RolloutTarget[], seed: number, signal?: AbortSignal,
): Promise<RolloutOutcome> {
  const sim = ctx.sim;
  const clock: Clock = sim.clock;
  const rng = new Prng(seed >>> 0).derive(`rollout:${label}`);
  const preset = sim.scenario.preset as ModemPresetName;
  const airtime = (bytes: number) => timeOnAirMs(preset, onAirPacketBytes({ portnum: OTA_PORTNUM, payloadBytes: bytes }));
  const outcome: RolloutOutcome = {
    label, bundleBytes: bundle.bytes.length, targets: targets.length, installed: [], installedAfterMs: [], failed: {}, unfinished: {}, airtimeMs: 0, packets: 0,
    dropped: {}, startedMs: clock.now(), finishedMs: clock.now(), sender: null,
  };
  const bundleId = label;
  sim.reportApp(sender, 'ota_started', { bundle: bundleId, bytes: bundle.bytes.length, version: bundle.manifest.version, targets: targets.map((t) => t.num) });
  const detach: (() => void)[] = [];
  const receivers = new Map<number, TransferReceiver>();

  for (const t of targets) {
    const installed = t.device.updater.installed.manifest;
    let rx: TransferReceiver | null = null;
    const attached = attachToPacketLink(otaPort(ctx, t.num), { onMessage: (from, p) => rx?.onMessage(from, p) }, { hopLimit: 0 });
    detach.push(attached.detach);
    rx = new TransferReceiver({
      nodeId: t.num, link: attached.link, clock, rng: rng.derive(`rx:${t.num}`), store: new MemoryProgressStore(),
      accept: acceptOfferFor({ modelId: installed.modelId, version: installed.version, securityFloor: t.device.updater.securityFloor }),
      deliver: (bytes) => {
        try {
          const u = t.device.updater;
          u.install(bytes);
          const boot = u.boot(); // the device resets onto the new image, on trial
          if (boot.state !== 'testing' || !u.selfTest(t.selfTest)) {
            u.boot(); // rolled back to the previous image
            outcome.failed[t.num] = 'SELF_TEST_FAILED';
            sim.reportApp(t.num, 'ota_failed', { bundle: bundleId, reason: 'self-test failed, rolled back' });
            return { ok: false, code: 'SELF_TEST_FAILED', message: 'self-test failed' };
          }
          outcome.installed.push(t.num);
          outcome.installedAfterMs.push(clock.now() - outcome.startedMs);
          sim.reportApp(t.num, 'ota_applied', { bundle: bundleId, version: u.installed.manifest.version, slot: boot.slot });
          t.onInstalled(u.installed.manifest.version);
          return { ok: true };
        } catch (e) {
          const err = e as OtaError;
          outcome.failed[t.num] = err.code ?? 'ERROR';
          sim.reportApp(t.num, 'ota_failed', { bundle: bundleId, reason: `${err.code ?? 'ERROR'}: ${err.message}` });
          return { ok: false, code: err.code, message: err.message };
        }
      },
    });
    receivers.set(t.num, rx);
  }

  // Progress in the trace every 30 s of simulated time.
  let progressTimer: ReturnType<Clock['setTimer']> | null = null;
  const percentOf = (rx: TransferReceiver): number => Math.round((100 * rx.stats.useful) / Math.max(1, rx.stats.useful + rx.needed));
  const reportProgress = (): void => {
    for (const [num, rx] of receivers) {
      if (rx.state === 'receiving') sim.reportApp(num, 'ota_progress', { bundle: bundleId, pct: percentOf(rx) });
    }
    progressTimer = clock.setTimer(30_000, reportProgress);
  };

  return new Promise<RolloutOutcome>((resolve) => {
    const manifest: Pick<Manifest, 'modelId' | 'version' | 'baseVersion' | 'securityCounter'> = bundle.manifest;
    let tx: BroadcastSender | null = null;
    // The sender's port, counting what its radio took (and so sent) and what it refused.
    const port = otaPort(ctx, sender);
    const answering = new Set<Promise<unknown>>();
    const counted: PortLink = {
      maxPayload: port.maxPayload,
      onPacket: (handler) => port.onPacket(handler),
      send(to, payload, options) {
        const answer = port.send(to, payload, options).then((r) => {
          answering.delete(answer);
          if (r.ok) {
            outcome.packets++;
            outcome.airtimeMs += airtime(payload.length);
          } else {
            outcome.dropped[r.error] = (outcome.dropped[r.error] ?? 0) + 1;
          }
          return r;
        });
        answering.add(answer);
        return answer;
      },
    };
    const attached = attachToPacketLink(counted, { onMessage: (from, p) => tx?.onMessage(from, p) }, { hopLimit: 0 });
    detach.push(attached.detach);
    const link = attached.link;
    const radio = ctx.link(sender)!;
    const duty = sim.region.dutyCyclePercent;
    tx = new BroadcastSender({
      bundle: bundle.bytes, manifest, link, clock, airtimeMs: airtime,
      // Slows down while other traffic keeps the channel over 40 % busy (the firmware's limit for non-polite sends; its
      // 25 % politeness is for routine position and telemetry broadcasts), leaves as much air free as it uses, and
      // keeps to the region's duty cycle. A passing node is parked for minutes, not hours: in a crowded channel it
      // still takes up to a quarter of the air, or a 13 KB bundle (about 85 packets of 2 s) would outlast its stop.
      pacer: new DutyCyclePacer({
        // Channel utilization as the radio itself reports it to its client (DeviceMetrics, once a minute).
        dutyCyclePercent: duty, channelUtilization: () => radio.facts().channelUtilPct, maxChannelUtilizationPercent: 40,
        busySharePercent: 25,
      }),
      initialRedundancy: 0.25,
      // Receivers that stay silent (moved away, powered off) are given up after a few rounds.
      maxRounds: 6,
      session: rng.int(0, 0x10000), seed: rng.uint32(), receivers: targets.map((t) => t.num),
      onDone: (report) => {
        if (progressTimer) clock.clearTimer(progressTimer);
        outcome.sender = report;
        outcome.finishedMs = clock.now();
        for (const [num, rx] of receivers) if (rx.state === 'receiving') outcome.unfinished[num] = percentOf(rx);
        for (const d of detach) d();
        // The radio still has to answer the last packets (the end marker): count them before reporting.
        void Promise.allSettled([...answering]).then(() => {
          sim.reportApp(sender, 'ota_done', {
            bundle: bundleId, installed: outcome.installed.length, targets: targets.length, packets: outcome.packets, dropped: outcome.dropped,
            airtimeMs: Math.round(outcome.airtimeMs),
          });
          resolve(outcome);
        });
      },
    });
    if (signal?.aborted) {
      tx.cancel();
      return;
    }
    signal?.addEventListener('abort', () => tx?.cancel(), { once: true });
    tx.start();
    reportProgress();
  });
}
