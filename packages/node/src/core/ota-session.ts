// The OTA policy every node shares, whether it runs on a real radio (CompotasticNode) or in the demo's simulated
// swarm: how a publisher paces its broadcast, what its packets cost in airtime, and how a receiver turns a complete
// bundle into an installed, self-tested, confirmed image.

import { type ModemPresetName, onAirPacketBytes, timeOnAirMs } from '@compotastic/mesh';
import { type DeliveryResult, DutyCyclePacer, type InstalledImage } from '@compotastic/ota';
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
