import { MeshError } from './errors.js';
import { getModemPreset, symbolTimeMs, type LoRaParams, type ModemPreset, type ModemPresetName } from './presets.js';

/** Largest LoRa PHY payload (SX126x/SX127x FIFO). */
export const LORA_MAX_PAYLOAD_BYTES = 255;

function resolveParams(presetOrParams: ModemPresetName | ModemPreset | LoRaParams): LoRaParams {
  const params = typeof presetOrParams === 'string' ? getModemPreset(presetOrParams) : presetOrParams;
  const { spreadingFactor: sf, bandwidthKHz: bw, codingRate: cr, preambleSymbols } = params;
  if (!Number.isInteger(sf) || sf < 6 || sf > 12) {
    throw new MeshError('INVALID_LORA_PARAMS', `spreading factor must be an integer 6..12, got ${sf}`);
  }
  if (!(typeof bw === 'number' && Number.isFinite(bw) && bw > 0)) {
    throw new MeshError('INVALID_LORA_PARAMS', `bandwidth must be a positive number of kHz, got ${bw}`);
  }
  if (!Number.isInteger(cr) || cr < 5 || cr > 8) {
    throw new MeshError('INVALID_LORA_PARAMS', `coding rate denominator must be 5..8, got ${cr}`);
  }
  if (!Number.isInteger(preambleSymbols) || preambleSymbols < 6 || preambleSymbols > 65535) {
    throw new MeshError('INVALID_LORA_PARAMS', `preamble must be 6..65535 symbols, got ${preambleSymbols}`);
  }
  return params;
}

/** True when low data rate optimisation applies (explicit setting, else symbol time above 16 ms). */
export function usesLowDataRateOptimize(params: LoRaParams): boolean {
  return params.lowDataRateOptimize ?? symbolTimeMs(params) > 16;
}

/** Number of payload symbols (Semtech AN1200.13): 8 + max(ceil((8PL-4SF+28+16CRC-20IH)/(4(SF-2DE)))*(CR+4), 0). */
export function payloadSymbols(params: LoRaParams, payloadBytes: number): number {
  const sf = params.spreadingFactor;
  const de = usesLowDataRateOptimize(params) ? 1 : 0;
  const ih = params.explicitHeader ? 0 : 1;
  const crc = params.crc ? 1 : 0;
  const numerator = 8 * payloadBytes - 4 * sf + 28 + 16 * crc - 20 * ih;
  const blocks = Math.ceil(numerator / (4 * (sf - 2 * de)));
  return 8 + Math.max(blocks * params.codingRate, 0);
}

function checkPayload(payloadBytes: number): void {
  if (!Number.isInteger(payloadBytes) || payloadBytes < 0 || payloadBytes > LORA_MAX_PAYLOAD_BYTES) {
    throw new MeshError('INVALID_PAYLOAD_SIZE', `LoRa payload must be an integer 0..${LORA_MAX_PAYLOAD_BYTES} bytes, got ${payloadBytes}`);
  }
}

/**
 * Time on air in ms of a LoRa frame carrying `payloadBytes` of PHY payload (for Meshtastic: the 16-byte header
 * plus the encoded Data protobuf). T = (Npreamble + 4.25 + Npayload) * Tsym. Exact to well below a microsecond.
 */
export function timeOnAirMs(presetOrParams: ModemPresetName | ModemPreset | LoRaParams, payloadBytes: number): number {
  const params = resolveParams(presetOrParams);
  checkPayload(payloadBytes);
  const symbols = params.preambleSymbols + 4.25 + payloadSymbols(params, payloadBytes);
  return symbols * symbolTimeMs(params);
}

/** Time on air rounded to whole microseconds. */
export function timeOnAirUs(presetOrParams: ModemPresetName | ModemPreset | LoRaParams, payloadBytes: number): number {
  return Math.round(timeOnAirMs(presetOrParams, payloadBytes) * 1000);
}

/**
 * Which firmware's RadioInterface::getPacketTime: `2.6.11` is RadioInterface.cpp's own single-precision formula
 * (releases up to 2.7.11), which rounds the payload symbols up after multiplying by the coding rate and so
 * undercounts (LONG_FAST, 56 B: 649 ms against 681.98 ms on air); `2.7.12` is RadioLib's time on air, truncated to
 * whole ms (681 ms), adopted in 2.7.12.
 */
export type PacketTimeFormula = '2.6.11' | '2.7.12';

/** The release the project models (see the simulator's README). */
export const MODELLED_PACKET_TIME_FORMULA: PacketTimeFormula = '2.6.11';

/**
 * The firmware's RadioInterface::getPacketTime, in whole ms, used wherever the firmware does arithmetic with airtime
 * (retransmission spacing, airtime and channel utilization counters). The transmission itself takes timeOnAirMs.
 */
export function firmwarePacketTimeMs(
  presetOrParams: ModemPresetName | ModemPreset | LoRaParams,
  payloadBytes: number,
  formula: PacketTimeFormula = MODELLED_PACKET_TIME_FORMULA,
): number {
  if (formula === '2.7.12') return Math.floor(timeOnAirUs(presetOrParams, payloadBytes) / 1000);
  const params = resolveParams(presetOrParams);
  checkPayload(payloadBytes);
  // float arithmetic as in RadioInterface.cpp (2.6.11), explicit header and CRC always on.
  const f = Math.fround;
  const sf = params.spreadingFactor;
  const tSym = f((1 << sf) / f(params.bandwidthKHz * 1000));
  const de = tSym > 16e-3 ? 1 : 0;
  const tPreamble = f(f(params.preambleSymbols + 4.25) * tSym);
  const ratio = f(f(8 * payloadBytes - 4 * sf + 28 + 16) / (4 * (sf - 2 * de)));
  const symbols = 8 + Math.max(Math.ceil(f(ratio * params.codingRate)), 0);
  return Math.trunc(f(f(tPreamble + f(symbols * tSym)) * 1000));
}

/** Preamble duration in ms. */
export function preambleTimeMs(presetOrParams: ModemPresetName | ModemPreset | LoRaParams): number {
  const params = resolveParams(presetOrParams);
  return params.preambleSymbols * symbolTimeMs(params);
}
