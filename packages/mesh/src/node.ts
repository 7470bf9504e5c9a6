export { StreamTransport, type StreamLinkOptions } from './stream-transport.js';
export { TcpTransport, MESHTASTIC_TCP_PORT, type TcpTransportOptions } from './tcp-transport.js';
export {
  SerialTransport,
  MESHTASTIC_SERIAL_BAUD,
  SERIAL_WAKE_PREAMBLE,
  serialOpenError,
  type SerialTransportOptions,
  type SerialOpenErrorCode,
} from './serial-transport.js';
