import type { PacketLink } from '../transport/link.js';
import type { FastPath } from '../scheduler/links.js';

/**
 * The BLE GATT schema of a Compotastic node. A phone or a neighbour reads the core record (20 bytes, one read at the
 * default ATT MTU) and the standard Battery Level; the message characteristic carries profile messages both ways
 * (write without response from the client, notifications from the server).
 */
export const GATT = Object.freeze({
  /** Primary service of the compute layer. */
  service: '8f3c0001-2b6e-4c9a-9d1f-6c6f6d706f74',
  /** Read / notify: the 20-byte capability record. */
  capabilityRecord: '8f3c0002-2b6e-4c9a-9d1f-6c6f6d706f74',
  /** Read / notify: fast-changing state, 4 bytes: battery (255 unknown), load, channel utilization %, TTL in minutes. */
  state: '8f3c0003-2b6e-4c9a-9d1f-6c6f6d706f74',
  /** Write without response / notify: one profile message per write (fragmented at the negotiated MTU). */
  messages: '8f3c0004-2b6e-4c9a-9d1f-6c6f6d706f74',
  /** Standard Battery Service and its Battery Level characteristic (uint8 percent). */
  batteryService: '0000180f-0000-1000-8000-00805f9b34fb',
  batteryLevel: '00002a19-0000-1000-8000-00805f9b34fb',
  batteryServiceShort: 0x180f,
  batteryLevelShort: 0x2a19,
});

/** Bytes of one BLE read at the default ATT MTU of 23. */
export const DEFAULT_ATT_PAYLOAD = 20;

export interface BleRead {
  record: Uint8Array;
  battery: number;
}

/**
 * BLE behind an interface: the simulator's proximity model implements it, and a real stack (noble, Web Bluetooth,
 * NimBLE on a microcontroller) plugs in the same way. `link` is the message characteristic as a packet link.
 */
export interface BleAdapter {
  /** Link parameters the cost model uses for BLE peers. */
  readonly path: FastPath;
  /** The message characteristic as a link (payload limit = negotiated MTU - 3). */
  readonly link: PacketLink;
  /** Serve this node's characteristics. */
  publish(record: Uint8Array, battery: number): void;
  /** Nodes within BLE range now. */
  scan(): number[];
  /** Read a neighbour's capability record and battery level. */
  read(peer: number): Promise<BleRead>;
  close(): void;
}
