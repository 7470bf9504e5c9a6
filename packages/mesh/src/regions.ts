import { MeshError } from './errors.js';
import type { ModemPreset } from './presets.js';

export interface Region {
  /** Firmware RegionCode name. */
  name: string;
  /** Band start and end in MHz. */
  freqStartMHz: number;
  freqEndMHz: number;
  /** Hourly transmit duty cycle limit in percent (100 = unlimited). */
  dutyCyclePercent: number;
  /** Maximum transmit power in dBm (0 = no limit). */
  powerLimitDbm: number;
  /** Frequency hopping required. */
  frequencySwitching: boolean;
  /** 2.4 GHz band (SX128x): different bandwidths and preamble. */
  wideLora: boolean;
}

function region(name: string, start: number, end: number, duty: number, power: number, switching = false, wide = false): Region {
  return Object.freeze({ name, freqStartMHz: start, freqEndMHz: end, dutyCyclePercent: duty, powerLimitDbm: power, frequencySwitching: switching, wideLora: wide });
}

/** The firmware's region table (RadioInterface.cpp regions[]). */
export const REGIONS: Readonly<Record<string, Region>> = Object.freeze({
  US: region('US', 902.0, 928.0, 100, 30),
  EU_433: region('EU_433', 433.0, 434.0, 10, 10),
  EU_868: region('EU_868', 869.4, 869.65, 10, 27),
  CN: region('CN', 470.0, 510.0, 100, 19),
  JP: region('JP', 920.5, 923.5, 100, 13),
  ANZ: region('ANZ', 915.0, 928.0, 100, 30),
  ANZ_433: region('ANZ_433', 433.05, 434.79, 100, 14),
  RU: region('RU', 868.7, 869.2, 100, 20),
  KR: region('KR', 920.0, 923.0, 100, 23),
  TW: region('TW', 920.0, 925.0, 100, 27),
  IN: region('IN', 865.0, 867.0, 100, 30),
  NZ_865: region('NZ_865', 864.0, 868.0, 100, 36),
  TH: region('TH', 920.0, 925.0, 100, 16),
  UA_433: region('UA_433', 433.0, 434.7, 10, 10),
  UA_868: region('UA_868', 868.0, 868.6, 1, 14),
  MY_433: region('MY_433', 433.0, 435.0, 100, 20),
  MY_919: region('MY_919', 919.0, 924.0, 100, 27, true),
  SG_923: region('SG_923', 917.0, 925.0, 100, 20),
  PH_433: region('PH_433', 433.0, 434.7, 100, 10),
  PH_868: region('PH_868', 868.0, 869.4, 100, 14),
  PH_915: region('PH_915', 915.0, 918.0, 100, 24),
  KZ_433: region('KZ_433', 433.075, 434.775, 100, 10),
  KZ_863: region('KZ_863', 863.0, 868.0, 100, 30),
  NP_865: region('NP_865', 865.0, 868.0, 100, 30),
  BR_902: region('BR_902', 902.0, 907.5, 100, 30),
  LORA_24: region('LORA_24', 2400.0, 2483.5, 100, 10, false, true),
});

export const DEFAULT_REGION = 'US';

export function getRegion(name: string): Region {
  const r = Object.prototype.hasOwnProperty.call(REGIONS, name) ? REGIONS[name] : undefined;
  if (!r) {
    throw new MeshError('INVALID_REGION', `unknown region "${name}" (expected one of ${Object.keys(REGIONS).join(', ')})`);
  }
  return r;
}

/** djb2 string hash, as the firmware uses to pick a frequency slot from the channel name. */
export function djb2(text: string): number {
  let hash = 5381;
  const bytes = new TextEncoder().encode(text);
  for (const c of bytes) hash = (Math.imul(hash, 33) + c) >>> 0;
  return hash;
}

/** Number of frequency slots a region offers at the preset's bandwidth. */
export function frequencySlotCount(region: Region, preset: Pick<ModemPreset, 'bandwidthKHz'>): number {
  return Math.round((region.freqEndMHz - region.freqStartMHz) / (preset.bandwidthKHz / 1000));
}

/**
 * Centre frequency in MHz the firmware picks when no slot is configured: slot = djb2(channel name) % slots, where the
 * default channel name is the preset's display name (e.g. "LongFast").
 */
export function defaultFrequencyMHz(region: Region, preset: Pick<ModemPreset, 'bandwidthKHz' | 'displayName'>, channelName?: string): number {
  const slots = frequencySlotCount(region, preset);
  if (slots < 1) {
    throw new MeshError('INVALID_REGION', `region ${region.name} is narrower than ${preset.bandwidthKHz} kHz`);
  }
  const slot = djb2(channelName ?? preset.displayName) % slots;
  const bwMHz = preset.bandwidthKHz / 1000;
  return region.freqStartMHz + bwMHz / 2 + slot * bwMHz;
}
