import { Socket } from 'node:net';
import { MeshError } from './errors.js';
import { StreamTransport } from './stream-transport.js';

/** Default Meshtastic TCP API port. */
export const MESHTASTIC_TCP_PORT = 4403;

export interface TcpTransportOptions {
  host: string;
  port?: number;
  /** Give up connecting after this long (default 10 s). */
  connectTimeoutMs?: number;
}

/**
 * A @meshtastic/core Transport over TCP: works against a real node's network API, meshtasticd, or a simulated node.
 * Framing, debug output and disconnect handling are StreamTransport's; this class only opens and closes the socket.
 */
export class TcpTransport extends StreamTransport {
  private constructor(socket: Socket, label: string) {
    super(socket, { label, close: () => endSocket(socket), lossReason: () => 'socket closed' });
  }

  /** Connect and resolve once the socket is open. */
  static connect(options: TcpTransportOptions): Promise<TcpTransport> {
    const port = options.port ?? MESHTASTIC_TCP_PORT;
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new MeshError('CONNECT_TIMEOUT', `no connection to ${options.host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new MeshError('CONNECT_FAILED', `cannot connect to ${options.host}:${port}: ${err.message}`));
      });
      socket.connect(port, options.host, () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new TcpTransport(socket, `TCP transport to ${options.host}:${port}`));
      });
    });
  }
}

function endSocket(socket: Socket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.end();
    socket.destroySoon?.();
  });
}
