import { LORA_MAX_PAYLOAD_BYTES } from './airtime.js';
import { varintLength } from './bytes.js';
import { MeshError } from './errors.js';

/** Meshtastic's on-air header: to(4) from(4) id(4) flags(1) channel hash(1) next_hop(1) relay_node(1). */
export const MESH_HEADER_BYTES = 16;
/** Extra bytes a PKI-encrypted direct message carries (AES-CCM tag 8 + extra nonce 4). */
export const PKI_OVERHEAD_BYTES = 12;
/** DATA_PAYLOAD_LEN in mesh.proto: the largest Data.payload the protobuf allows. */
export const DATA_PAYLOAD_LEN = 233;
/** Largest ToRadio/FromRadio protobuf on the client API. */
export const MAX_TO_FROM_RADIO_BYTES = 512;
/** Broadcast node number. */
export const BROADCAST_NUM = 0xffffffff;
/** Default and maximum hop limit. */
export const DEFAULT_HOP_LIMIT = 3;
export const MAX_HOP_LIMIT = 7;

/** The fields of a Meshtastic Data protobuf that change its encoded size. */
export interface DataShape {
  portnum: number;
  payloadBytes: number;
  wantResponse?: boolean;
  dest?: boolean;
  source?: boolean;
  requestId?: boolean;
  replyId?: boolean;
  emoji?: boolean;
  /** The firmware always sets the 2.5+ bitfield (ok_to_mqtt ...): 2 bytes. */
  bitfield?: boolean;
}

/**
 * Encoded size of a Data message: portnum(1, varint), payload(2, bytes), want_response(3, bool), dest(4, fixed32),
 * source(5, fixed32), request_id(6, fixed32), reply_id(7, fixed32), emoji(8, fixed32), bitfield(9, varint).
 */
export function encodedDataSize(shape: DataShape): number {
  const { portnum, payloadBytes } = shape;
  if (!Number.isInteger(payloadBytes) || payloadBytes < 0) {
    throw new MeshError('INVALID_PAYLOAD_SIZE', `payload length must be a non-negative integer, got ${payloadBytes}`);
  }
  let size = 0;
  if (portnum !== 0) size += 1 + varintLength(portnum);
  if (payloadBytes > 0) size += 1 + varintLength(payloadBytes) + payloadBytes;
  if (shape.wantResponse) size += 2;
  for (const present of [shape.dest, shape.source, shape.requestId, shape.replyId, shape.emoji]) if (present) size += 5;
  if (shape.bitfield ?? true) size += 2;
  return size;
}

/** LoRa PHY payload length of a Meshtastic packet: header + encoded Data (+ PKI overhead). */
export function onAirPacketBytes(shape: DataShape & { pki?: boolean }): number {
  return MESH_HEADER_BYTES + encodedDataSize(shape) + (shape.pki ? PKI_OVERHEAD_BYTES : 0);
}

export interface PayloadOptions {
  /** Port number (default PRIVATE_APP, 256). */
  portnum?: number;
  wantResponse?: boolean;
  requestId?: boolean;
  replyId?: boolean;
  dest?: boolean;
  source?: boolean;
  emoji?: boolean;
  /** PKI-encrypted direct message. */
  pki?: boolean;
}

/**
 * Largest Data.payload that still fits one LoRa packet (Router::perhapsEncode rejects encoded Data + 16 > 255).
 * Plain on port 256: 231; with want_response 229; with request_id or reply_id 226; PKI DM 219.
 */
export function maxPayloadFor(options: PayloadOptions = {}): number {
  const shape = { ...options, portnum: options.portnum ?? 256 };
  if (!Number.isInteger(shape.portnum) || shape.portnum < 0 || shape.portnum > 511) {
    throw new MeshError('INVALID_PORTNUM', `portnum must be 0..511, got ${shape.portnum}`);
  }
  let best = -1;
  for (let n = 0; n <= DATA_PAYLOAD_LEN; n++) {
    if (onAirPacketBytes({ ...shape, payloadBytes: n }) <= LORA_MAX_PAYLOAD_BYTES) best = n;
    else break;
  }
  return Math.max(best, 0);
}

/** Throws MeshError TOO_LARGE when a payload would not fit in one packet. */
export function assertPayloadFits(payloadBytes: number, options: PayloadOptions = {}): void {
  const max = maxPayloadFor(options);
  if (payloadBytes > max) {
    throw new MeshError('TOO_LARGE', `payload of ${payloadBytes} bytes exceeds the ${max}-byte limit for this packet`);
  }
}

/** Node number to the one-byte id used in the header's next_hop / relay_node fields (0 is reserved, so 0 -> 0xff). */
export function lastByteOfNodeNum(nodeNum: number): number {
  const b = nodeNum & 0xff;
  return b === 0 ? 0xff : b;
}
