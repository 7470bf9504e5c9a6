export { VirtualRadio, VIRTUAL_FIRMWARE_VERSION, VIRTUAL_FIRMWARE_VERSION_2_7, virtualFirmwareVersion, type ClientSession } from './client/virtual-radio.js';
export { InProcessTransport } from './client/in-process-transport.js';
export { VirtualTime, type VirtualTimeOptions, type VirtualRunOptions } from './client/virtual-time.js';
export { runRealtime, type RealtimeOptions, type RealtimeRun } from './client/realtime.js';
