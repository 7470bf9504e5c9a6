/** Meshtastic port numbers (portnums.proto). 0-63 core, 64-127 registered third party, 256-511 private. */
export const PortNum = Object.freeze({
  UNKNOWN_APP: 0,
  TEXT_MESSAGE_APP: 1,
  REMOTE_HARDWARE_APP: 2,
  POSITION_APP: 3,
  NODEINFO_APP: 4,
  ROUTING_APP: 5,
  ADMIN_APP: 6,
  TEXT_MESSAGE_COMPRESSED_APP: 7,
  WAYPOINT_APP: 8,
  AUDIO_APP: 9,
  DETECTION_SENSOR_APP: 10,
  ALERT_APP: 11,
  KEY_VERIFICATION_APP: 12,
  REPLY_APP: 32,
  IP_TUNNEL_APP: 33,
  PAXCOUNTER_APP: 34,
  SERIAL_APP: 64,
  STORE_FORWARD_APP: 65,
  RANGE_TEST_APP: 66,
  TELEMETRY_APP: 67,
  ZPS_APP: 68,
  SIMULATOR_APP: 69,
  TRACEROUTE_APP: 70,
  NEIGHBORINFO_APP: 71,
  ATAK_PLUGIN: 72,
  MAP_REPORT_APP: 73,
  POWERSTRESS_APP: 74,
  RETICULUM_TUNNEL_APP: 76,
  CAYENNE_APP: 77,
  /** Present only in development snapshots of the protobufs. */
  LORA_OTA_APP: 79,
  PRIVATE_APP: 256,
  ATAK_FORWARDER: 257,
  MAX: 511,
} as const);

export const PRIVATE_PORT_MIN = 256;
export const PRIVATE_PORT_MAX = 511;

export function isPrivatePort(portnum: number): boolean {
  return portnum >= PRIVATE_PORT_MIN && portnum <= PRIVATE_PORT_MAX;
}

/**
 * Ports a node with rebroadcast_mode CORE_PORTNUMS_ONLY ignores in firmware 2.6 (Router::handleReceived blacklist):
 * it neither relays nor handles them.
 */
export const CORE_PORTNUMS_ONLY_BLACKLIST_2_6: ReadonlySet<number> = new Set([
  PortNum.ATAK_FORWARDER,
  PortNum.ATAK_PLUGIN,
  PortNum.PAXCOUNTER_APP,
  PortNum.IP_TUNNEL_APP,
  PortNum.AUDIO_APP,
  PortNum.PRIVATE_APP,
  PortNum.DETECTION_SENSOR_APP,
  PortNum.RANGE_TEST_APP,
  PortNum.REMOTE_HARDWARE_APP,
]);

/** Which firmware generation's CORE_PORTNUMS_ONLY rule to apply. */
export type CorePortnumsPolicy = '2.6-blacklist' | '2.7-whitelist';

/**
 * Whether CORE_PORTNUMS_ONLY drops a port. 2.6 uses a blacklist (includes 256 and 257, not other private ports);
 * 2.7.4 and later drop every port from 256 to 511.
 */
export function droppedByCorePortnumsOnly(portnum: number, policy: CorePortnumsPolicy = '2.6-blacklist'): boolean {
  if (policy === '2.7-whitelist') return isPrivatePort(portnum) || CORE_PORTNUMS_ONLY_BLACKLIST_2_6.has(portnum);
  return CORE_PORTNUMS_ONLY_BLACKLIST_2_6.has(portnum);
}
