import { cadDurationMs, firmwarePacketTimeMs, noiseFloorDbm, timeOnAirMs, type ModemPreset, type Region } from '@compotastic/mesh';

/**
 * A radio setting (region and modem preset) and what follows from it: timing, noise floor, sensitivity. Nodes share
 * one object per setting, so "can these two hear each other" is an identity check: a receiver tuned to another
 * region or preset neither decodes nor feels a transmission (another frequency, or another spreading factor, which
 * LoRa receivers reject).
 */
export class RadioPhy {
  readonly key: string;
  readonly noiseFloorDbm: number;
  readonly sensitivityDbm: number;
  readonly cadThresholdDbm: number;
  readonly interferenceFloorDbm: number;
  readonly cadMs: number;
  /** Start of the part of a frame a collision destroys: the preamble minus the 5 symbols a receiver needs. */
  readonly criticalOffsetMs: number;
  private readonly packetTimeCache = new Map<number, number>();
  private readonly airtimeCache = new Map<number, number>();

  constructor(readonly preset: ModemPreset, readonly region: Region, noiseFigureDb: number, captureThresholdDb: number) {
    this.key = RadioPhy.keyOf(preset, region);
    this.noiseFloorDbm = noiseFloorDbm(preset.bandwidthKHz, noiseFigureDb);
    this.sensitivityDbm = this.noiseFloorDbm + preset.snrLimitDb;
    this.cadThresholdDbm = this.sensitivityDbm - 3;
    this.interferenceFloorDbm = this.sensitivityDbm - captureThresholdDb;
    this.cadMs = cadDurationMs(preset);
    this.criticalOffsetMs = Math.max(0, preset.preambleSymbols - 5) * (2 ** preset.spreadingFactor / preset.bandwidthKHz);
  }

  static keyOf(preset: ModemPreset, region: Region): string {
    return `${region.name}/${preset.name}`;
  }

  /** Firmware whole-ms packet time for a PHY payload length (what its airtime counters and delays use). */
  packetTimeMs(onAirBytes: number): number {
    return memo(this.packetTimeCache, onAirBytes, (n) => firmwarePacketTimeMs(this.preset, n));
  }

  /** Exact time on air, ms. */
  airtimeMs(onAirBytes: number): number {
    return memo(this.airtimeCache, onAirBytes, (n) => timeOnAirMs(this.preset, n));
  }
}

/** A per-length figure, computed once (lengths over the LoRa maximum count as 255). */
function memo(cache: Map<number, number>, onAirBytes: number, compute: (bytes: number) => number): number {
  let v = cache.get(onAirBytes);
  if (v === undefined) {
    v = compute(Math.min(onAirBytes, 255));
    cache.set(onAirBytes, v);
  }
  return v;
}
