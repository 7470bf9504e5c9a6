import { MeshError } from './errors.js';

/** The eight Meshtastic modem presets of firmware 2.6. */
export const MODEM_PRESET_NAMES = [
  'SHORT_TURBO',
  'SHORT_FAST',
  'SHORT_SLOW',
  'MEDIUM_FAST',
  'MEDIUM_SLOW',
  'LONG_FAST',
  'LONG_MODERATE',
  'LONG_SLOW',
] as const;

export type ModemPresetName = (typeof MODEM_PRESET_NAMES)[number];

/** LoRa modulation parameters: everything time on air depends on. */
export interface LoRaParams {
  /** Spreading factor, 6..12. */
  spreadingFactor: number;
  /** Bandwidth in kHz (e.g. 125, 250, 500, 10.42). */
  bandwidthKHz: number;
  /** Coding rate denominator: 5..8 for 4/5..4/8. */
  codingRate: number;
  /** Preamble length in symbols (Meshtastic uses 16). */
  preambleSymbols: number;
  /** Explicit header (Meshtastic: true). */
  explicitHeader: boolean;
  /** Payload CRC (Meshtastic: true). */
  crc: boolean;
  /** Low data rate optimisation; when omitted it is on if the symbol time exceeds 16 ms. */
  lowDataRateOptimize?: boolean;
}

export interface ModemPreset extends LoRaParams {
  name: ModemPresetName;
  /** Name the firmware shows (and hashes for the default frequency slot). */
  displayName: string;
  /** Firmware slot time in whole ms (computeSlotTimeMsec). */
  slotTimeMs: number;
  /** Receiver sensitivity in dBm (thermal noise + 6 dB noise figure + demodulation SNR limit). */
  sensitivityDbm: number;
  /** Lowest SNR (dB) the demodulator can decode at this spreading factor. */
  snrLimitDb: number;
}

/** Meshtastic's preamble length (RadioInterface preambleLengthDefault). */
export const MESHTASTIC_PREAMBLE_SYMBOLS = 16;
/** LoRa sync word Meshtastic uses. */
export const MESHTASTIC_SYNC_WORD = 0x2b;
/** Receiver noise figure assumed for sensitivity and noise floor (SX126x class radios). */
export const DEFAULT_NOISE_FIGURE_DB = 6;

/** Demodulation SNR limit per spreading factor (Semtech datasheets). */
export function snrLimitDb(spreadingFactor: number): number {
  if (!Number.isInteger(spreadingFactor) || spreadingFactor < 6 || spreadingFactor > 12) {
    throw new MeshError('INVALID_LORA_PARAMS', `spreading factor must be an integer 6..12, got ${spreadingFactor}`);
  }
  // SF6 -5 dB, then 2.5 dB lower per step: SF7 -7.5 ... SF12 -20.
  return -5 - 2.5 * (spreadingFactor - 6);
}

/** Thermal noise floor in dBm for a bandwidth, plus the receiver noise figure. */
export function noiseFloorDbm(bandwidthKHz: number, noiseFigureDb = DEFAULT_NOISE_FIGURE_DB): number {
  return -174 + 10 * Math.log10(bandwidthKHz * 1000) + noiseFigureDb;
}

/** Sensitivity = noise floor + SNR limit, rounded to 0.1 dB. */
export function sensitivityDbm(params: Pick<LoRaParams, 'spreadingFactor' | 'bandwidthKHz'>, noiseFigureDb = DEFAULT_NOISE_FIGURE_DB): number {
  const s = noiseFloorDbm(params.bandwidthKHz, noiseFigureDb) + snrLimitDb(params.spreadingFactor);
  return Math.round(s * 10) / 10;
}

/** Symbol time in ms: 2^SF / BW(kHz). */
export function symbolTimeMs(params: Pick<LoRaParams, 'spreadingFactor' | 'bandwidthKHz'>): number {
  return 2 ** params.spreadingFactor / params.bandwidthKHz;
}

/**
 * Firmware slot time (RadioInterface::computeSlotTimeMsec, non-2.4 GHz): CAD takes 2.5 symbols on SX126x,
 * plus 0.2 ms propagation, 0.4 ms TX/RX turnaround and 7 ms MAC processing; truncated to whole ms.
 */
export function slotTimeMs(params: Pick<LoRaParams, 'spreadingFactor' | 'bandwidthKHz'>): number {
  return Math.floor(2.5 * symbolTimeMs(params) + 0.2 + 0.4 + 7);
}

/** CAD duration in ms as the firmware budgets it (2.5 symbols). */
export function cadDurationMs(params: Pick<LoRaParams, 'spreadingFactor' | 'bandwidthKHz'>): number {
  return 2.5 * symbolTimeMs(params);
}

function preset(name: ModemPresetName, displayName: string, sf: number, bw: number, cr: number): ModemPreset {
  const lora = { spreadingFactor: sf, bandwidthKHz: bw };
  return {
    name,
    displayName,
    spreadingFactor: sf,
    bandwidthKHz: bw,
    codingRate: cr,
    preambleSymbols: MESHTASTIC_PREAMBLE_SYMBOLS,
    explicitHeader: true,
    crc: true,
    slotTimeMs: slotTimeMs(lora),
    sensitivityDbm: sensitivityDbm(lora),
    snrLimitDb: snrLimitDb(sf),
  };
}

/** Presets as firmware 2.6.11 applies them (modemPresetToParams, non-wide LoRa). */
export const MODEM_PRESETS: Readonly<Record<ModemPresetName, ModemPreset>> = Object.freeze({
  SHORT_TURBO: preset('SHORT_TURBO', 'ShortTurbo', 7, 500, 5),
  SHORT_FAST: preset('SHORT_FAST', 'ShortFast', 7, 250, 5),
  SHORT_SLOW: preset('SHORT_SLOW', 'ShortSlow', 8, 250, 5),
  MEDIUM_FAST: preset('MEDIUM_FAST', 'MediumFast', 9, 250, 5),
  MEDIUM_SLOW: preset('MEDIUM_SLOW', 'MediumSlow', 10, 250, 5),
  LONG_FAST: preset('LONG_FAST', 'LongFast', 11, 250, 5),
  LONG_MODERATE: preset('LONG_MODERATE', 'LongMod', 11, 125, 8),
  LONG_SLOW: preset('LONG_SLOW', 'LongSlow', 12, 125, 8),
});

export const DEFAULT_MODEM_PRESET: ModemPresetName = 'LONG_FAST';

export function isModemPresetName(value: unknown): value is ModemPresetName {
  return typeof value === 'string' && (MODEM_PRESET_NAMES as readonly string[]).includes(value);
}

/** Look a preset up by name; throws MeshError INVALID_PRESET for anything else. */
export function getModemPreset(name: string): ModemPreset {
  if (!isModemPresetName(name)) {
    throw new MeshError('INVALID_PRESET', `unknown modem preset "${name}" (expected one of ${MODEM_PRESET_NAMES.join(', ')})`);
  }
  return MODEM_PRESETS[name];
}
