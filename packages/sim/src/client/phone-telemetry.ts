import type { Prng } from '@compotastic/mesh';
import type { SimEvent } from '../engine/event-queue.js';
import type { Simulation } from '../simulation.js';
import { liIonVoltage } from '../world/battery.js';
import type { SimNode } from '../world/node.js';

/** The firmware's DeviceTelemetryModule first runs 45 s after boot (it lets the NodeInfo go out first). */
export const TELEMETRY_FIRST_RUN_MS = 45_000;
/** battery_level the firmware reports for a device on external power. */
export const EXTERNAL_POWER_BATTERY_LEVEL = 101;

/** The DeviceMetrics fields a node reports about itself (field names as in telemetry.proto, camel-cased). */
export interface DeviceMetricsValues {
  batteryLevel: number;
  voltage: number;
  channelUtilization: number;
  airUtilTx: number;
  uptimeSeconds: number;
}

/** A node's own DeviceMetrics now: battery (101 and 0 V without a battery model), channel and TX utilization, uptime. */
export function deviceMetrics(sim: Simulation, node: SimNode): DeviceMetricsValues {
  const now = sim.now;
  const pct = node.battery ? node.battery.percent(now) : null;
  return {
    batteryLevel: pct === null ? EXTERNAL_POWER_BATTERY_LEVEL : Math.round(pct),
    voltage: pct === null ? 0 : liIonVoltage(pct),
    channelUtilization: node.router.airtime.channelUtilizationPercent(now),
    airUtilTx: node.router.airtime.txUtilizationPercent(now),
    uptimeSeconds: Math.floor((now - node.bootMs) / 1000),
  };
}

/** What the telemetry timer needs from the radio's PhoneAPI side. */
export interface TelemetryPhone {
  readonly sim: Simulation;
  readonly node: SimNode;
  /** True when nothing waits for the client (the firmware's isToPhoneQueueEmpty). */
  readonly toPhoneQueueEmpty: boolean;
  /** Hand the client a TELEMETRY_APP packet from this node with these metrics. */
  deviceMetricsToPhone(packetId: number, metrics: DeviceMetricsValues): void;
}

/**
 * The firmware's local device telemetry: from 45 s after boot, every `firmware.telemetryToPhoneS` (60 s, the
 * module's sendToPhoneIntervalMs), the node hands its client a DeviceMetrics packet on TELEMETRY_APP, from itself to
 * broadcast, never put on air. Like the firmware it skips a round while packets are waiting for the client, so a radio
 * nobody reads queues at most one. The periodic mesh broadcast of the same metrics (every 30 min) is not modelled.
 */
export class PhoneTelemetry {
  private timer: SimEvent | null = null;

  constructor(
    private readonly phone: TelemetryPhone,
    /** Packet ids; a stream of its own, so telemetry does not disturb the radio's random choices. */
    private readonly ids: Prng,
  ) {}

  private get intervalMs(): number {
    return this.phone.sim.scenario.firmware.telemetryToPhoneS * 1000;
  }

  /** Arm the timer for the next run after the node's last boot. */
  start(): void {
    const { sim, node } = this.phone;
    this.stop();
    const every = this.intervalMs;
    if (every <= 0 || !node.up) return;
    const first = node.bootMs + TELEMETRY_FIRST_RUN_MS;
    const at = sim.now <= first ? first : first + Math.ceil((sim.now - first) / every) * every;
    this.timer = sim.scheduler.scheduleAt(at, this.run);
  }

  stop(): void {
    this.phone.sim.scheduler.cancel(this.timer);
    this.timer = null;
  }

  private readonly run = (): void => {
    this.timer = null;
    const { sim, node } = this.phone;
    if (!node.up) return;
    if (this.phone.toPhoneQueueEmpty) this.phone.deviceMetricsToPhone(this.ids.uint32() || 1, deviceMetrics(sim, node));
    this.timer = sim.scheduler.schedule(this.intervalMs, this.run);
  };
}
