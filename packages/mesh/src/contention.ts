import { MeshError } from './errors.js';

/** Contention window bounds (RadioInterface.h CWmin/CWmax). */
export const CW_MIN = 3;
export const CW_MAX = 8;
/** SNR range mapped onto the contention window (RadioInterface::getCWsize). */
export const CW_SNR_MIN_DB = -20;
export const CW_SNR_MAX_DB = 10;
/** Fixed processing allowance in the retransmission delay (PROCESSING_TIME_MSEC). */
export const PROCESSING_TIME_MS = 4500;

/** Source of integers the delay helpers draw from: returns an integer in [0, n). */
export interface IntSource {
  intBelow(n: number): number;
}

/**
 * Arduino's long map(): integer arithmetic truncating toward zero, input truncated to an integer first (the firmware
 * passes floats into a long parameter). Not clamped, exactly like the firmware.
 */
export function arduinoMap(x: number, inMin: number, inMax: number, outMin: number, outMax: number): number {
  const xi = Math.trunc(x);
  const run = inMax - inMin;
  if (run === 0) return -1;
  return Math.trunc(((xi - inMin) * (outMax - outMin)) / run) + outMin;
}

/** CW size from a received SNR (low SNR -> small window -> relays sooner). Stored in a uint8 like the firmware. */
export function cwSizeForSnr(snrDb: number): number {
  return arduinoMap(snrDb, CW_SNR_MIN_DB, CW_SNR_MAX_DB, CW_MIN, CW_MAX) & 0xff;
}

/** CW size from the channel utilization percentage (for own packets and retransmission spacing). */
export function cwSizeForChannelUtil(channelUtilPercent: number): number {
  return arduinoMap(channelUtilPercent, 0, 100, CW_MIN, CW_MAX) & 0xff;
}

function powerOfTwo(exponent: number): number {
  return exponent >= 0 && exponent < 32 ? 2 ** exponent : 0;
}

function checkSlot(slotMs: number): void {
  if (!(Number.isFinite(slotMs) && slotMs > 0)) {
    throw new MeshError('INVALID_SLOT_TIME', `slot time must be a positive number of ms, got ${slotMs}`);
  }
}

/** Delay before sending our own packet (getTxDelayMsec): random(0, 2^CW) slots, CW from channel utilization. */
export function txDelayMs(rng: IntSource, channelUtilPercent: number, slotMs: number): number {
  checkSlot(slotMs);
  const span = powerOfTwo(cwSizeForChannelUtil(channelUtilPercent));
  return (span > 0 ? rng.intBelow(span) : 0) * slotMs;
}

/**
 * Delay before relaying a flooded packet (getTxDelayMsecWeighted). Routers: random(0, 2*CW) slots. Everyone else
 * waits out the routers' window (2*CWmax slots) then random(0, 2^CW) slots.
 */
export function rebroadcastDelayMs(rng: IntSource, snrDb: number, slotMs: number, earlyLikeRouter: boolean): number {
  checkSlot(slotMs);
  const cw = cwSizeForSnr(snrDb);
  if (earlyLikeRouter) {
    const span = 2 * cw;
    return (span > 0 ? rng.intBelow(span) : 0) * slotMs;
  }
  const span = powerOfTwo(cw);
  return 2 * CW_MAX * slotMs + (span > 0 ? rng.intBelow(span) : 0) * slotMs;
}

/** Worst-case SNR-weighted relay delay (getTxDelayMsecWeightedWorst). */
export function rebroadcastDelayWorstMs(snrDb: number, slotMs: number): number {
  checkSlot(slotMs);
  return 2 * CW_MAX * slotMs + powerOfTwo(cwSizeForSnr(snrDb)) * slotMs;
}

/**
 * Spacing between retransmissions of a reliable packet (getRetransmissionMsec):
 * 2*airtime + (2^CW + 2*CWmax + 2^((CWmax+CWmin)/2)) * slot + PROCESSING_TIME_MSEC, CW from channel utilization.
 * `packetAirtimeMs` is the firmware's whole-ms packet time.
 */
export function retransmissionDelayMs(packetAirtimeMs: number, channelUtilPercent: number, slotMs: number): number {
  checkSlot(slotMs);
  const cw = cwSizeForChannelUtil(channelUtilPercent);
  const mid = powerOfTwo(Math.trunc((CW_MAX + CW_MIN) / 2));
  return 2 * packetAirtimeMs + (powerOfTwo(cw) + 2 * CW_MAX + mid) * slotMs + PROCESSING_TIME_MS;
}
