import type { Duplex } from 'node:stream';
import { DeviceStatus, type DeviceOutput, type MeshTransport } from './device-output.js';
import { MeshError } from './errors.js';
import { encodeFrame, FrameDecoder } from './framing.js';

export interface StreamLinkOptions {
  /** Names the link in errors and status reasons, e.g. "TCP 127.0.0.1:4403" or "serial port /dev/ttyUSB0". */
  label: string;
  /** Ends the link and resolves once it is closed (called by toDevice.close and disconnect). */
  close: () => Promise<void>;
  /** Why the link went away, from the stream's 'close' argument (a serial port passes a DisconnectedError). */
  lossReason?: (closeArg: unknown) => string;
}

/**
 * A @meshtastic/core Transport over any byte stream carrying the firmware's stream framing (0x94 0xC3 + u16 length):
 * a TCP socket or a serial port. Deframes with the project's FrameDecoder (which keeps frames whose bodies contain
 * 0x94 0xC3); bytes outside frames are the device's debug console and come out as 'debug' text.
 */
export class StreamTransport implements MeshTransport {
  readonly toDevice: WritableStream<Uint8Array>;
  readonly fromDevice: ReadableStream<DeviceOutput>;
  private closed = false;

  protected constructor(
    protected readonly stream: Duplex,
    private readonly link: StreamLinkOptions,
  ) {
    const decoder = new FrameDecoder();
    const textDecoder = new TextDecoder();
    this.fromDevice = new ReadableStream<DeviceOutput>({
      start: (controller) => {
        controller.enqueue({ type: 'status', data: { status: DeviceStatus.DeviceConnected } });
        stream.on('data', (chunk: Buffer) => {
          if (this.closed) return;
          for (const item of decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
            if (item.type === 'frame') controller.enqueue({ type: 'packet', data: item.payload });
            // stream: a UTF-8 character split across reads is completed by the next run.
            else controller.enqueue({ type: 'debug', data: textDecoder.decode(item.bytes, { stream: true }) });
          }
        });
        stream.on('close', (arg: unknown) => this.finish(controller, link.lossReason?.(arg) ?? `${link.label} closed`));
        stream.on('error', (err: Error) => this.finish(controller, err.message));
      },
      cancel: () => {
        this.closed = true;
        stream.destroy();
      },
    });
    // A write on a broken link rejects with code ECONNRESET, which MeshDevice's queue treats as a disconnect (with any
    // other error it logs and retries the same packet forever).
    this.toDevice = new WritableStream<Uint8Array>({
      write: (chunk) => this.writeRaw(encodeFrame(chunk)),
      close: () => link.close(),
    });
  }

  /** True once the link closed or broke. */
  get isClosed(): boolean {
    return this.closed || this.stream.destroyed;
  }

  /** Write bytes as they are (frames, or a serial wake-up preamble). */
  protected writeRaw(bytes: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.isClosed) {
        reject(new MeshError('ECONNRESET', `${this.link.label} is closed`));
        return;
      }
      this.stream.write(bytes, (err) =>
        err ? reject(new MeshError('ECONNRESET', `${this.link.label}: write failed: ${err.message}`, { cause: err })) : resolve(),
      );
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

  disconnect(): Promise<void> {
    return this.link.close();
  }
}
