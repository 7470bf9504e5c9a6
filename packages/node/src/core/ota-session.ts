// The OTA policy every node shares, whether it runs on a real radio (CompotasticNode) or in the demo's simulated
// swarm: how a publisher paces its broadcast, what its packets cost in airtime, and how a receiver turns a complete
// bundle into an installed, self-tested, confirmed image.

import { type ModemPresetName, onAirPacketBytes, timeOnAirMs } from '@compotastic/mesh';
import {
  BroadcastSender, type DeliveryResult, DutyCyclePacer, type InstalledImage, type OfferMessage, type ReceiverOptions, type SenderOptions,
  TransferReceiver, acceptOfferFor,
} from '@compotastic/ota';
import type { DeviceFirmware, InstallOutcome } from './firmware.js';

/** Repair symbols sent with the sources, as a share of each block: most receivers finish without a repair round. */
export const INITIAL_REDUNDANCY = 0.25;

/**
 * A publisher's pacing: it holds back while other traffic keeps the channel over 40 % busy (the firmware's limit for
 * non-polite sends; its 25 % politeness is for routine position and telemetry broadcasts), leaves as much air free as
 * it uses, and keeps to the region's duty cycle. While the channel stays busy it still takes a quarter of the air, or
 * a passing node parked for minutes would leave before a 13 KB bundle (85 packets of 2 s on LONG_FAST) is through.
 */
export function publisherPacer(dutyCyclePercent: number, channelUtilization: () => number): DutyCyclePacer {
  return new DutyCyclePacer({ dutyCyclePercent, channelUtilization, maxChannelUtilizationPercent: 40, busySharePercent: 25 });
}

/** Time on air of one OTA packet carrying `payloadBytes` on `portnum`. */
export function otaAirtime(preset: ModemPresetName, portnum: number): (payloadBytes: number) => number {
  return (payloadBytes) => timeOnAirMs(preset, onAirPacketBytes({ portnum, payloadBytes }));
}

/** A receiver's delivery: install on trial, self-test, confirm or roll back; `report` hears the outcome. */
export function installDelivery(
  firmware: DeviceFirmware, selfTest: (image: InstalledImage) => boolean, report: (outcome: InstallOutcome) => void,
): (bundle: Uint8Array) => DeliveryResult {
  return (bundle) => {
    const outcome = firmware.install(bundle, selfTest);
    report(outcome);
    return outcome.ok ? { ok: true } : { ok: false, code: outcome.code, message: outcome.message };
  };
}

export interface PublisherOptions extends Pick<SenderOptions, 'bundle' | 'manifest' | 'key' | 'link' | 'clock' | 'session' | 'seed' | 'receivers' | 'onDone'> {
  preset: ModemPresetName;
  /** The port the OTA packets go on (their airtime depends on it). */
  portnum: number;
  dutyCyclePercent: number;
  /** The channel's load as the radio reports it, percent. */
  channelUtilization: () => number;
  /** Receivers that stay silent (moved away, powered off) are given up after this many repair rounds. */
  maxRounds: number;
}

/** A publisher's broadcast of one bundle: paced by publisherPacer, with INITIAL_REDUNDANCY, its airtime from the preset. */
export function publisherSender(o: PublisherOptions): BroadcastSender {
  return new BroadcastSender({
    bundle: o.bundle, manifest: o.manifest, key: o.key, link: o.link, clock: o.clock, airtimeMs: otaAirtime(o.preset, o.portnum),
    pacer: publisherPacer(o.dutyCyclePercent, o.channelUtilization),
    initialRedundancy: INITIAL_REDUNDANCY, maxRounds: o.maxRounds, session: o.session, seed: o.seed,
    ...(o.receivers ? { receivers: o.receivers } : {}),
    ...(o.onDone ? { onDone: o.onDone } : {}),
  });
}

export interface FirmwareReceiverOptions extends Pick<ReceiverOptions, 'nodeId' | 'link' | 'clock' | 'rng' | 'store'> {
  firmware: DeviceFirmware;
  selfTest: (image: InstalledImage) => boolean;
  /** Hears each install's outcome with the offer it came from. */
  report: (outcome: InstallOutcome, offer: OfferMessage) => void;
}

/**
 * A node's OTA receiver: takes offers signed by a key its firmware trusts for newer versions of the model line it
 * runs (at or above its security floor, as installed when the offer comes) and installs complete bundles through
 * installDelivery.
 */
export function firmwareReceiver(o: FirmwareReceiverOptions): TransferReceiver {
  return new TransferReceiver({
    nodeId: o.nodeId, link: o.link, clock: o.clock, rng: o.rng, store: o.store, trust: o.firmware.options.trust,
    accept: (offer) => {
      const m = o.firmware.updater.installed.manifest;
      return acceptOfferFor({ modelId: m.modelId, version: m.version, securityFloor: o.firmware.updater.securityFloor })(offer);
    },
    deliver: (bundle, offer) => installDelivery(o.firmware, o.selfTest, (outcome) => o.report(outcome, offer))(bundle),
  });
}
