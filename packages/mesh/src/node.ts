export { StreamTransport, type StreamLinkOptions } from './stream-transport.js';
export { TcpTransport, MESHTASTIC_TCP_PORT, type TcpTransportOptions } from './tcp-transport.js';
