import type { ModemPresetName } from '@compotastic/mesh';

export type Destination = number | 'broadcast';

export interface SendOptions {
  /** Ask the radio for a link-level acknowledgement (Meshtastic want_ack). */
  wantAck: boolean;
  /**
   * Relays the packet may take: 0 keeps it to direct neighbours (nobody rebroadcasts it). Default: the radio's
   * configured hop limit. (The firmware replaces a client's hop_limit 0 with its default only when want_ack is set.)
   */
  hopLimit?: number;
}

/** Outcome of one packet: delivered/accepted, or the radio's reason (MAX_RETRANSMIT, NO_RESPONSE, TIMEOUT...). */
export type SendResult = { ok: true } | { ok: false; error: string };

/**
 * Failures that say nothing about the destination: this node's radio refused the packet (transmit queue full, which
 * the firmware reports as NO_INTERFACE; hourly duty cycle used up), or the client link is down or was reset.
 */
const LOCAL_SEND_ERRORS = new Set(['NO_INTERFACE', 'DUTY_CYCLE_LIMIT', 'TOO_LARGE', 'NO_CHANNEL', 'DISCONNECTED', 'NOT_CONFIGURED', 'RESET', 'STOPPED', 'SHED']);

export function isLocalSendError(error: string): boolean {
  return LOCAL_SEND_ERRORS.has(error) || error.startsWith('ENCODE:');
}

export interface ReceivedPacket {
  from: number;
  to: number;
  payload: Uint8Array;
  /** Hops the packet travelled, when the header says (hop_start - hop_limit). */
  hops: number | null;
  snr: number | null;
  /** Last byte of the node that relayed it to us (0/null: heard directly or unknown). */
  relayNode: number | null;
}

/** What the cost model needs to know about this node's radio, refreshed as telemetry arrives. */
export interface RadioFacts {
  preset: ModemPresetName;
  region: string;
  dutyCyclePct: number;
  channelUtilPct: number;
  txUtilPct: number;
  hopLimit: number;
  /**
   * This radio drops the application's port itself (rebroadcast_mode CORE_PORTNUMS_ONLY, the default of routers and
   * repeaters): it can send but never hands received packets on that port to its client.
   */
  portBlocked: boolean;
  /** Set while the radio drops the application's port but passes this private port, on which the node then speaks. */
  fallbackPortnum?: number;
}

/**
 * A way to reach other nodes: the LoRa mesh through a Meshtastic radio, or a short link such as BLE. Payloads are
 * opaque bytes no longer than `maxPayload`.
 */
export interface PacketLink {
  readonly kind: 'lora' | 'ble';
  readonly maxPayload: number;
  send(to: Destination, payload: Uint8Array, options: SendOptions): Promise<SendResult>;
  onPacket(handler: (p: ReceivedPacket) => void): () => void;
}

/** The mesh link, with the radio facts and node database the planner uses. */
export interface MeshLink extends PacketLink {
  readonly kind: 'lora';
  readonly nodeNum: number;
  facts(): RadioFacts;
  /** Hops to a node from the radio's node database or recent packets; null if unknown. */
  hopsTo(num: number): number | null;
  /** A node's long name from the radio's node database (NodeInfo), when the link knows it. */
  userName?(num: number): string | null;
  /**
   * Another private port (256..511, not this link's own) on the same radio, for another protocol (OTA transfers):
   * sent the same way as this link's packets, and its received packets go to the returned link's handlers only.
   */
  openPort(portnum: number): PacketLink;
}
