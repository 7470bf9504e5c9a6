// An over-the-air rollout from a passing node: one fountain-coded broadcast of a tailored bundle to its direct
// neighbours, every receiver verifying, installing into its inactive slot, rebooting onto it on trial and confirming
// after a self-test. Every node sends and receives through its own OTA port (on a simulated swarm, the MeshDevice
// client the orchestrator uses too); progress goes to a report callback.

import { type Clock, type ModemPresetName, Prng } from '@compotastic/mesh';
import {
  type BroadcastSender, type SigningKey, type BuiltBundle, type InstalledImage, MemoryProgressStore, OTA_PORTNUM, type PortLink, type SenderReport,
  type TransferReceiver, attachToPacketLink,
} from '@compotastic/ota';
import type { DeviceFirmware } from './firmware.js';
import { firmwareReceiver, otaAirtime, publisherSender } from './ota-session.js';

export interface RolloutTarget {
  num: number;
  device: DeviceFirmware;
  /** Runs on the new image before it is confirmed. */
  selfTest: (image: InstalledImage) => boolean;
  /** Called once the new version is confirmed. */
  onInstalled: (version: number) => void;
}

export type RolloutEventType = 'ota_started' | 'ota_progress' | 'ota_applied' | 'ota_failed' | 'ota_done';

/** Where a rollout runs: the clock, the radio settings and each node's OTA port. */
export interface RolloutEnv {
  clock: Clock;
  preset: ModemPresetName;
  /** The region's duty cycle, percent. */
  dutyCyclePercent: number;
  /** A node's OTA port (on its radio link). */
  port: (num: number) => PortLink;
  /** The sender's channel utilization as its radio reports it, percent. */
  channelUtilization: () => number;
  /** Progress: started and done at the sender, progress, applied and failed at a receiver. */
  report: (num: number, type: RolloutEventType, data: Record<string, unknown>) => void;
  /** The port the OTA packets go on, for their airtime (default OTA_PORTNUM). */
  portnum?: number;
  /** The sender's publisher key: it signs the offer and the symbol hashes, and the targets' firmware trusts it. */
  key: SigningKey;
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

/** Receivers that stay silent (moved away, powered off) are given up after this many rounds. */
const ROLLOUT_MAX_ROUNDS = 6;

/**
 * Broadcasts `bundle` from `sender` to `targets` (direct neighbours: hop limit 0, nobody relays) through each node's
 * OTA port, and resolves when the sender is done and every receiver has either installed and confirmed the update
 * or given up. Aborting `signal` (the sender drives off) stops the transfer; receivers keep what they have.
 */
export function rollout(
  env: RolloutEnv, sender: number, label: string, bundle: BuiltBundle, targets: RolloutTarget[], seed: number, signal?: AbortSignal,
): Promise<RolloutOutcome> {
  const { clock, report } = env;
  const portnum = env.portnum ?? OTA_PORTNUM;
  const rng = new Prng(seed >>> 0).derive(`rollout:${label}`);
  const airtime = otaAirtime(env.preset, portnum);
  const outcome: RolloutOutcome = {
    label, bundleBytes: bundle.bytes.length, targets: targets.length, installed: [], installedAfterMs: [], failed: {}, unfinished: {}, airtimeMs: 0, packets: 0,
    dropped: {}, startedMs: clock.now(), finishedMs: clock.now(), sender: null,
  };
  const bundleId = label;
  report(sender, 'ota_started', { bundle: bundleId, bytes: bundle.bytes.length, version: bundle.manifest.version, targets: targets.map((t) => t.num) });
  const detach: (() => void)[] = [];
  const receivers = new Map<number, TransferReceiver>();

  for (const t of targets) {
    let rx: TransferReceiver | null = null;
    const attached = attachToPacketLink(env.port(t.num), { onMessage: (from, p) => rx?.onMessage(from, p) }, { hopLimit: 0 });
    detach.push(attached.detach);
    rx = firmwareReceiver({
      nodeId: t.num, link: attached.link, clock, rng: rng.derive(`rx:${t.num}`), store: new MemoryProgressStore(),
      firmware: t.device, selfTest: t.selfTest,
      report: (o) => {
        if (!o.ok) {
          outcome.failed[t.num] = o.code;
          report(t.num, 'ota_failed', { bundle: bundleId, reason: `${o.code}: ${o.message}` });
          return;
        }
        outcome.installed.push(t.num);
        outcome.installedAfterMs.push(clock.now() - outcome.startedMs);
        report(t.num, 'ota_applied', { bundle: bundleId, version: o.version, slot: o.slot });
        t.onInstalled(o.version);
      },
    });
    receivers.set(t.num, rx);
  }

  // Progress every 30 s.
  let progressTimer: ReturnType<Clock['setTimer']> | null = null;
  const percentOf = (rx: TransferReceiver): number => Math.round((100 * rx.stats.useful) / Math.max(1, rx.stats.useful + rx.needed));
  const reportProgress = (): void => {
    for (const [num, rx] of receivers) {
      if (rx.state === 'receiving') report(num, 'ota_progress', { bundle: bundleId, pct: percentOf(rx) });
    }
    progressTimer = clock.setTimer(30_000, reportProgress);
  };

  return new Promise<RolloutOutcome>((resolve) => {
    let tx: BroadcastSender | null = null;
    // The sender's port, counting what its radio took (and so sent) and what it refused.
    const port = env.port(sender);
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
    tx = publisherSender({
      bundle: bundle.bytes, manifest: bundle.manifest, key: env.key, link: attached.link, clock, preset: env.preset, portnum,
      dutyCyclePercent: env.dutyCyclePercent, channelUtilization: env.channelUtilization, maxRounds: ROLLOUT_MAX_ROUNDS,
      session: rng.int(0, 0x10000), seed: rng.uint32(), receivers: targets.map((t) => t.num),
      onDone: (done) => {
        if (progressTimer) clock.clearTimer(progressTimer);
        outcome.sender = done;
        outcome.finishedMs = clock.now();
        for (const [num, rx] of receivers) if (rx.state === 'receiving') outcome.unfinished[num] = percentOf(rx);
        for (const d of detach) d();
        // The radio still has to answer the last packets (the end marker): count them before reporting.
        void Promise.allSettled([...answering]).then(() => {
          report(sender, 'ota_done', {
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
