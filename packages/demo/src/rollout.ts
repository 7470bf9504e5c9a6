// An over-the-air rollout from a passing node: one fountain-coded broadcast of
// a tailored bundle to its direct neighbours, every receiver verifying,
// installing into its inactive slot, rebooting onto it on trial and confirming
// after a self-test. Every node sends and receives through its own radio link
// (the MeshDevice client the orchestrator uses too), on the OTA port. Progress
// goes into the trace as application events.

import { type Clock, type ModemPresetName, Prng } from '@compotastic/mesh';
import {
  BroadcastSender, type InstalledImage, type Manifest, MemoryProgressStore, OTA_PORTNUM, type PortLink,
  type SenderReport, TransferReceiver, acceptOfferFor, attachToPacketLink, type BuiltBundle,
} from '@compotastic/ota';
import type { SwarmContext } from '@compotastic/swarm';
import { type DeviceFirmware, INITIAL_REDUNDANCY, installDelivery, otaAirtime, publisherPacer } from '@compotastic/node/core';


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
  const airtime = otaAirtime(preset, OTA_PORTNUM);
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
      deliver: installDelivery(t.device, t.selfTest, (o) => {
        if (!o.ok) {
          outcome.failed[t.num] = o.code;
          sim.reportApp(t.num, 'ota_failed', { bundle: bundleId, reason: `${o.code}: ${o.message}` });
          return;
        }
        outcome.installed.push(t.num);
        outcome.installedAfterMs.push(clock.now() - outcome.startedMs);
        sim.reportApp(t.num, 'ota_applied', { bundle: bundleId, version: o.version, slot: o.slot });
        t.onInstalled(o.version);
      }),
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
      // Channel utilization as the radio itself reports it to its client (DeviceMetrics, once a minute).
      pacer: publisherPacer(duty, () => radio.facts().channelUtilPct),
      initialRedundancy: INITIAL_REDUNDANCY,
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
