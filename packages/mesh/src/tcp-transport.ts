import { Socket } from 'node:net';
import { DeviceStatus, type DeviceOutput, type MeshTransport } from './device-output.js';
import { MeshError } from './errors.js';
import { encodeFrame, FrameDecoder } from './framing.js';

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
 * Deframes with the project's FrameDecoder, which keeps frames whose bodies contain 0x94 0xC3.
 */
export class TcpTransport implements MeshTransport {
  readonly toDevice: WritableStream<Uint8Array>;
  readonly fromDevice: ReadableStream<DeviceOutput>;
  private readonly socket: Socket;
  private closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    const decoder = new FrameDecoder();
    const textDecoder = new TextDecoder();
    this.fromDevice = new ReadableStream<DeviceOutput>({
      start: (controller) => {
        controller.enqueue({ type: 'status', data: { status: DeviceStatus.DeviceConnected } });
        socket.on('data', (chunk: Buffer) => {
          if (this.closed) return;
          for (const item of decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
            if (item.type === 'frame') controller.enqueue({ type: 'packet', data: item.payload });
            else controller.enqueue({ type: 'debug', data: textDecoder.decode(item.bytes) });
          }
        });
        socket.on('close', () => this.finish(controller, 'socket closed'));
        socket.on('error', (err) => this.finish(controller, err.message));
      },
      cancel: () => {
        this.closed = true;
        socket.destroy();
      },
    });
    // A write on a broken link rejects with code ECONNRESET, which MeshDevice's queue treats as a disconnect (with any
    // other error it logs and retries the same packet forever).
    this.toDevice = new WritableStream<Uint8Array>({
      write: (chunk) =>
        new Promise<void>((resolve, reject) => {
          if (this.closed || socket.destroyed) {
            reject(new MeshError('ECONNRESET', 'TCP transport is closed'));
            return;
          }
          socket.write(encodeFrame(chunk), (err) => (err ? reject(connectionLost(err)) : resolve()));
        }),
      close: () => {
        socket.end();
      },
    });
  }

  private finish(controller: ReadableStreamDefaultController<DeviceOutput>, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    try {
      controller.enqueue({ type: 'status', data: { status: DeviceStatus.DeviceDisconnected, reason } });
      controller.close();
    } catch {
      // The consumer may already have cancelled the stream.
    }
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
        resolve(new TcpTransport(socket));
      });
    });
  }

  async disconnect(): Promise<void> {
    if (this.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      this.socket.destroySoon?.();
    });
  }
}

function connectionLost(err: Error): MeshError {
  return new MeshError('ECONNRESET', `TCP write failed: ${err.message}`, { cause: err });
}
