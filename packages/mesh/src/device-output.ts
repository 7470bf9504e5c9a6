/** Connection states a Transport reports (values match @meshtastic/core's DeviceStatusEnum). */
export const DeviceStatus = Object.freeze({
  DeviceRestarting: 1,
  DeviceDisconnected: 2,
  DeviceConnecting: 3,
  DeviceReconnecting: 4,
  DeviceConnected: 5,
  DeviceConfiguring: 6,
  DeviceConfigured: 7,
} as const);

export type DeviceStatusValue = (typeof DeviceStatus)[keyof typeof DeviceStatus];

/** What a Transport's fromDevice stream yields (the shape @meshtastic/core's MeshDevice consumes). */
export type DeviceOutput =
  | { type: 'packet'; data: Uint8Array }
  | { type: 'debug'; data: string }
  | { type: 'status'; data: { status: DeviceStatusValue; reason?: string } };

/** The Transport contract of @meshtastic/core's MeshDevice: unframed ToRadio in, unframed FromRadio out. */
export interface MeshTransport {
  toDevice: WritableStream<Uint8Array>;
  fromDevice: ReadableStream<DeviceOutput>;
  disconnect(): Promise<void>;
}
