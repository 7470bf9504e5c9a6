import { SimError } from '../errors.js';
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
  /** Per-length figures, computed once (NaN until then): typed tables, as they are read for every transmission. */
  private readonly packetTimes = new Float64Array(256).fill(NaN);
  private readonly airtimes = new Float64Array(256).fill(NaN);

  /** `sensitivityDbm` replaces the one derived from the noise floor and the preset's SNR limit (a fixed table's value). */
  constructor(readonly preset: ModemPreset, readonly region: Region, noiseFigureDb: number, captureThresholdDb: number, sensitivityDbm?: number) {
    this.key = RadioPhy.keyOf(preset, region);
    this.noiseFloorDbm = noiseFloorDbm(preset.bandwidthKHz, noiseFigureDb);
    this.sensitivityDbm = sensitivityDbm ?? this.noiseFloorDbm + preset.snrLimitDb;
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
    const n = lengthIndex(onAirBytes);
    let v = this.packetTimes[n] as number;
    if (v !== v) v = this.packetTimes[n] = firmwarePacketTimeMs(this.preset, n);
    return v;
  }

  /** Exact time on air, ms. */
  airtimeMs(onAirBytes: number): number {
    const n = lengthIndex(onAirBytes);
    let v = this.airtimes[n] as number;
    if (v !== v) v = this.airtimes[n] = timeOnAirMs(this.preset, n);
    return v;
  }
}

/** Table index of a PHY payload length: lengths over the LoRa maximum count as 255. */
function lengthIndex(onAirBytes: number): number {
  if (!(onAirBytes >= 0) || !Number.isInteger(onAirBytes)) throw new SimError('INVALID_ARGUMENT', `a payload length must be a non-negative integer, got ${onAirBytes}`);
  return Math.min(onAirBytes, 255);
}
