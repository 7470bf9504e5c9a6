import {
  CW_MAX,
  PortNum,
  cwSizeForChannelUtil,
  cwSizeForSnr,
  firmwarePacketTimeMs,
  getModemPreset,
  onAirPacketBytes,
  retransmissionDelayMs,
  timeOnAirMs,
  type ModemPreset,
  type ModemPresetName,
} from '@compotastic/mesh';
import { PlanningError } from '../errors.js';
import { DEFAULT_MAX_PAYLOAD } from '../wire/messages.js';

/** Bytes of a DATA message that are not tensor data (profile header, job/shard/attempt, stream, offset). */
export const DATA_OVERHEAD_BYTES = 12;

export type LinkKind = 'local' | 'lora' | 'ble' | 'wifi';

/** The LoRa mesh path to a peer, as the cost model sees it. */
export interface LoRaPath {
  kind: 'lora';
  preset: ModemPresetName | ModemPreset;
  /** Transmissions from sender to receiver: 1 = direct neighbour. */
  hops: number;
  /** Channel utilization the sender sees, percent. */
  channelUtilPct: number;
  /** Region's hourly transmit duty cycle limit, percent (100 = none). */
  dutyCyclePct: number;
  /** Share of the hourly budget the sender already used, percent of the hour. */
  txUtilPct: number;
  /** Data payload limit on the port in use. */
  maxPayload?: number;
  /** Link-level acknowledgement (Meshtastic want_ack) on data packets. */
  wantAck?: boolean;
  /** Loss per hop on an idle channel (fading, noise). */
  baseLossPerHop?: number;
  /** SNR assumed at relays, dB (sets their contention window). */
  relaySnrDb?: number;
  /**
   * Share of overlapping transmissions that actually destroy a frame: listen-before-talk (CAD) makes most neighbours
   * defer, and an interferer more than 6 dB weaker is captured over. Default 0.5.
   */
  destructiveShare?: number;
}

/** A short, fast point-to-point link (BLE, Wi-Fi class): fixed latency per message plus throughput. */
export interface FastPath {
  kind: 'ble' | 'wifi';
  latencyMs: number;
  bytesPerS: number;
  /** Largest message on this link. */
  mtu: number;
}

export type LinkPath = LoRaPath | FastPath;

/** Defaults used when a node knows nothing better; real numbers come from the BLE adapter or measurement. */
export const BLE_DEFAULT: FastPath = Object.freeze({ kind: 'ble', latencyMs: 30, bytesPerS: 40_000, mtu: 244 });
export const WIFI_DEFAULT: FastPath = Object.freeze({ kind: 'wifi', latencyMs: 5, bytesPerS: 1_000_000, mtu: 1400 });

export interface TransferEstimate {
  /** Expected wall time from the first send to the last byte delivered, ms. */
  ms: number;
  /** Messages needed. */
  packets: number;
  /** Airtime the sender spends (LoRa only; includes expected retransmissions), ms. */
  senderAirtimeMs: number;
  /** Airtime spent by everyone on the path (relays and acks included), ms. */
  totalAirtimeMs: number;
  /** Probability that one packet gets through on one attempt. */
  deliveryProbability: number;
}

/** Airtime of a typical competing packet (LONG_FAST, ~60-byte payload is ~0.8 s; scaled per preset below). */
const REFERENCE_PAYLOAD = 60;

function presetOf(path: LoRaPath): ModemPreset {
  return typeof path.preset === 'string' ? getModemPreset(path.preset) : path.preset;
}

function packetAirtime(preset: ModemPreset, payloadBytes: number, portnum: number = PortNum.PRIVATE_APP): number {
  return timeOnAirMs(preset, Math.min(255, onAirPacketBytes({ portnum, payloadBytes })));
}

/**
 * Chance that one transmission of `payloadBytes` survives one hop. Other nodes' packets start as a Poisson process
 * whose rate follows channel utilization u (u divided by a typical packet's airtime T0), of which a share s is strong
 * and unannounced enough to destroy ours; a packet of airtime T is hit if such a one starts within T0 before or T
 * after its own start, so it survives with exp(-s u (1 + T/T0)). Long packets on a busy channel lose more often than
 * short ones, which is why chunks shrink as utilization grows.
 */
export function hopSuccess(path: LoRaPath, payloadBytes: number): number {
  const preset = presetOf(path);
  const util = ((path.destructiveShare ?? 0.5) * Math.min(Math.max(path.channelUtilPct, 0), 95)) / 100;
  const t = packetAirtime(preset, payloadBytes);
  const t0 = packetAirtime(preset, REFERENCE_PAYLOAD);
  const base = path.baseLossPerHop ?? 0.05;
  return Math.max(0.001, (1 - base) * Math.exp(-util * (1 + t / t0)));
}

interface ChunkCost {
  dataBytes: number;
  /** Expected ms of channel time per delivered packet of this size. */
  msPerPacket: number;
  airtimeMs: number;
  q: number;
}

function chunkCost(path: LoRaPath, dataBytes: number): ChunkCost {
  const preset = presetOf(path);
  const payload = dataBytes + DATA_OVERHEAD_BYTES;
  const air = packetAirtime(preset, payload);
  const wantAck = path.wantAck ?? true;
  const ackAir = wantAck ? packetAirtime(preset, 2, PortNum.ROUTING_APP) : 0;
  const slot = preset.slotTimeMs;
  const util = Math.min(Math.max(path.channelUtilPct, 0), 95) / 100;
  const ownWait = ((2 ** cwSizeForChannelUtil(path.channelUtilPct) - 1) / 2) * slot;
  const relayWait = 2 * CW_MAX * slot + ((2 ** cwSizeForSnr(path.relaySnrDb ?? 0) - 1) / 2) * slot;
  const perAttempt = (air + ackAir) * path.hops + ownWait + (path.hops - 1) * relayWait;
  // Delivery needs every hop forward; a lost acknowledgement costs airtime but not delivery time.
  const q = Math.max(0.001, hopSuccess(path, payload) ** path.hops);
  const attempts = 1 / q;
  const maxPayload = Math.min(path.maxPayload ?? DEFAULT_MAX_PAYLOAD, 255);
  const retrySpacing = retransmissionDelayMs(firmwarePacketTimeMs(preset, Math.min(255, onAirPacketBytes({ portnum: PortNum.PRIVATE_APP, payloadBytes: Math.min(payload, maxPayload) }))), path.channelUtilPct, slot);
  // Firmware retries (want_ack) come after the retransmission delay; a busy channel stretches every wait.
  const msPerPacket = (attempts * perAttempt) / (1 - util) + (attempts - 1) * (wantAck ? retrySpacing : 0);
  return { dataBytes, msPerPacket, airtimeMs: attempts * air, q };
}

/**
 * Tensor bytes per DATA packet that move data fastest over a path: big packets amortize headers and waits, small ones
 * survive a busy channel. Senders and the cost model use the same choice.
 */
export function bestDataChunk(path: LoRaPath): number {
  const maxData = (path.maxPayload ?? DEFAULT_MAX_PAYLOAD) - DATA_OVERHEAD_BYTES;
  let best = maxData;
  let bestRate = Infinity;
  for (let d = Math.min(32, maxData); d <= maxData; d += 8) {
    const c = chunkCost(path, d);
    const rate = c.msPerPacket / d;
    if (rate < bestRate - 1e-9) {
      bestRate = rate;
      best = d;
    }
  }
  const last = chunkCost(path, maxData);
  if (last.msPerPacket / maxData < bestRate) best = maxData;
  return best;
}

/**
 * Expected time to move `bytes` of tensor data over a LoRa mesh path, in chunks of `bestDataChunk`. Each packet is
 * stored and forwarded hop by hop on one shared channel (no spatial reuse assumed), every relay waits out the
 * firmware's SNR-weighted contention window, the originator its utilization-based one, a busy channel stretches every
 * wait by 1/(1-u), lost packets are sent again after the firmware's retransmission spacing, and once the hourly
 * duty-cycle budget is spent the sender can only transmit at the duty-cycle rate.
 */
export function loraTransfer(bytes: number, path: LoRaPath): TransferEstimate {
  if (!Number.isFinite(bytes) || bytes < 0) throw new PlanningError('BAD_VALUE', `bytes must be a non-negative number, got ${bytes}`);
  if (!Number.isInteger(path.hops) || path.hops < 1) throw new PlanningError('BAD_VALUE', `hops must be a positive integer, got ${path.hops}`);
  if (bytes === 0) return { ms: 0, packets: 0, senderAirtimeMs: 0, totalAirtimeMs: 0, deliveryProbability: 1 };
  const chunk = bestDataChunk(path);
  const full = Math.floor(bytes / chunk);
  const rest = bytes - full * chunk;
  const cFull = chunkCost(path, chunk);
  const cRest = rest > 0 ? chunkCost(path, rest) : null;
  const packets = full + (cRest ? 1 : 0);
  let ms = full * cFull.msPerPacket + (cRest?.msPerPacket ?? 0);
  const senderAirtimeMs = full * cFull.airtimeMs + (cRest?.airtimeMs ?? 0);
  const duty = Math.min(Math.max(path.dutyCyclePct, 0.01), 100);
  if (duty < 100) {
    const budgetMs = (duty / 100) * 3_600_000;
    const used = (Math.min(Math.max(path.txUtilPct, 0), 100) / 100) * 3_600_000;
    const left = Math.max(0, budgetMs - used);
    if (senderAirtimeMs > left) ms += (senderAirtimeMs - left) * (100 / duty);
  }
  return { ms, packets, senderAirtimeMs, totalAirtimeMs: senderAirtimeMs * path.hops, deliveryProbability: cFull.q };
}

/** Time to move `bytes` over a fast point-to-point link. */
export function fastTransfer(bytes: number, path: FastPath): TransferEstimate {
  if (!Number.isFinite(bytes) || bytes < 0) throw new PlanningError('BAD_VALUE', `bytes must be a non-negative number, got ${bytes}`);
  const packets = bytes === 0 ? 0 : Math.ceil(bytes / Math.max(1, path.mtu - DATA_OVERHEAD_BYTES));
  const ms = packets === 0 ? 0 : path.latencyMs + (bytes / path.bytesPerS) * 1000;
  return { ms, packets, senderAirtimeMs: 0, totalAirtimeMs: 0, deliveryProbability: 1 };
}

export function transfer(bytes: number, path: LinkPath): TransferEstimate {
  return path.kind === 'lora' ? loraTransfer(bytes, path) : fastTransfer(bytes, path);
}

/** Time for one small control message (ASSIGN, ACCEPT, RESULT header) on a path. */
export function controlMessageMs(path: LinkPath, bytes = 40): number {
  if (path.kind !== 'lora') return path.latencyMs;
  return loraTransfer(Math.max(1, bytes - DATA_OVERHEAD_BYTES), path).ms;
}
