import { BROADCAST_NUM, PortNum, encodedDataSize, MESH_HEADER_BYTES } from '@compotastic/mesh';

/** Routing.Error values (mesh.proto). */
export const RoutingError = Object.freeze({
  NONE: 0,
  NO_ROUTE: 1,
  GOT_NAK: 2,
  TIMEOUT: 3,
  NO_INTERFACE: 4,
  MAX_RETRANSMIT: 5,
  NO_CHANNEL: 6,
  TOO_LARGE: 7,
  NO_RESPONSE: 8,
  DUTY_CYCLE_LIMIT: 9,
  BAD_REQUEST: 32,
  NOT_AUTHORIZED: 33,
} as const);

export const ROUTING_ERROR_NAMES: Record<number, string> = Object.fromEntries(Object.entries(RoutingError).map(([k, v]) => [v, k]));

/** MeshPacket.Priority values. */
export const Priority = Object.freeze({ UNSET: 0, MIN: 1, BACKGROUND: 10, DEFAULT: 64, RELIABLE: 70, RESPONSE: 80, HIGH: 100, ACK: 120, MAX: 127 } as const);

/** The simulator's MeshPacket: header fields plus the decoded Data it carries. Treated as immutable once on air. */
export interface SimPacket {
  /** Simulation index of the originating node (bookkeeping only, not on air). */
  origin: number;
  from: number;
  to: number;
  id: number;
  hopLimit: number;
  hopStart: number;
  wantAck: boolean;
  channel: number;
  nextHop: number;
  relayNode: number;
  portnum: number;
  /** Payload bytes when known (client traffic); synthetic traffic only carries a length. */
  payload: Uint8Array | null;
  payloadBytes: number;
  wantResponse: boolean;
  requestId: number;
  replyId: number;
  /** Routing.error_reason for ROUTING_APP packets, -1 otherwise. */
  routingError: number;
  priority: number;
  /** Reception metadata of the copy a node holds (0 for locally generated packets). */
  rxSnr: number;
  rxRssi: number;
  /** LoRa PHY payload length: header + encoded Data. */
  onAirBytes: number;
  /**
   * The channel it was encrypted with (`channelIdentities`: on-air hash, name and key), set when the sender's router
   * first sends it; only receivers holding that channel decode it. Not on air as such: the hash byte is.
   */
  channelId?: string;
}

export function isBroadcast(to: number): boolean {
  return to === BROADCAST_NUM;
}

/** Numeric key for (originator, id): unique while node indices stay below 2^21. */
export function packetKey(origin: number, id: number): number {
  return origin * 4294967296 + id;
}

/** Recompute the on-air size from the Data fields (the firmware always adds the 2-byte bitfield). */
export function computeOnAirBytes(p: Pick<SimPacket, 'portnum' | 'payloadBytes' | 'wantResponse' | 'requestId' | 'replyId'>): number {
  return (
    MESH_HEADER_BYTES +
    encodedDataSize({ portnum: p.portnum, payloadBytes: p.payloadBytes, wantResponse: p.wantResponse, requestId: p.requestId !== 0, replyId: p.replyId !== 0 })
  );
}

export function copyPacket(p: SimPacket): SimPacket {
  return { ...p };
}

/** Routing payload { error_reason } as it is encoded on the wire (oneof field 3, always present). */
export function routingPayload(error: number): Uint8Array {
  return new Uint8Array([0x18, error & 0x7f]);
}

/** A packet as its originator creates it: the header fields given, everything else at its default, size computed. */
export function newPacket(
  fields: Pick<SimPacket, 'origin' | 'from' | 'to' | 'id' | 'hopLimit' | 'portnum' | 'payload' | 'payloadBytes'> & Partial<SimPacket>,
): SimPacket {
  const p: SimPacket = {
    hopStart: 0,
    wantAck: false,
    channel: 0,
    nextHop: 0,
    relayNode: 0,
    wantResponse: false,
    requestId: 0,
    replyId: 0,
    routingError: -1,
    priority: Priority.UNSET,
    rxSnr: 0,
    rxRssi: 0,
    ...fields,
    onAirBytes: 0,
  };
  p.onAirBytes = computeOnAirBytes(p);
  return p;
}

export function makeRoutingPacket(origin: number, from: number, to: number, id: number, requestId: number, error: number, hopLimit: number, channel: number): SimPacket {
  const payload = routingPayload(error);
  return newPacket({ origin, from, to, id, hopLimit, channel, portnum: PortNum.ROUTING_APP, payload, payloadBytes: payload.length, requestId, routingError: error, priority: Priority.ACK });
}
