import { DeviceStatus, type DeviceOutput, type MeshTransport } from '@compotastic/mesh';
import { SimError } from '../errors.js';
import type { Simulation } from '../simulation.js';
import { VirtualRadio, type ClientSession } from './virtual-radio.js';

/**
 * A @meshtastic/core Transport wired straight to a simulated node: ToRadio protobufs in, FromRadio protobufs out,
 * no framing. Pass it to `new MeshDevice(transport)`.
 */
export class InProcessTransport implements MeshTransport {
  readonly toDevice: WritableStream<Uint8Array>;
  readonly fromDevice: ReadableStream<DeviceOutput>;
  readonly radio: VirtualRadio;
  private session: ClientSession | null = null;
  private controller: ReadableStreamDefaultController<DeviceOutput> | null = null;

  constructor(sim: Simulation, nodeNumOrRadio: number | VirtualRadio) {
    this.radio = typeof nodeNumOrRadio === 'number' ? new VirtualRadio(sim, nodeNumOrRadio) : nodeNumOrRadio;
    this.fromDevice = new ReadableStream<DeviceOutput>({
      start: (controller) => {
        this.controller = controller;
        controller.enqueue({ type: 'status', data: { status: DeviceStatus.DeviceConnected } });
        this.session = this.radio.connect(
          (bytes) => {
            controller.enqueue({ type: 'packet', data: bytes });
            sim.notifyClientActivity();
          },
          () => this.closeStream('session closed'),
        );
      },
      cancel: () => this.session?.close(),
    });
    // After a power cut, a disconnect or a takeover the session is closed and a write rejects with SimError ECONNRESET,
    // which MeshDevice treats as a lost connection.
    this.toDevice = new WritableStream<Uint8Array>({
      write: (chunk) => {
        if (!this.session) throw new SimError('ECONNRESET', 'the transport has no session');
        this.session.handleToRadio(chunk);
      },
    });
  }

  private streamClosed = false;

  private closeStream(reason: string): void {
    if (this.streamClosed) return;
    this.streamClosed = true;
    try {
      this.controller?.enqueue({ type: 'status', data: { status: DeviceStatus.DeviceDisconnected, reason } });
      this.controller?.close();
    } catch {
      // Already closed by the consumer.
    }
    this.radio.sim.notifyClientActivity();
  }

  async disconnect(): Promise<void> {
    this.session?.close();
    this.closeStream('disconnect');
  }
}
