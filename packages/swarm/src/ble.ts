import type { Simulation } from '@compotastic/sim';
import { type BleAdapter, type BleRead, type Destination, type FastPath, OrchestratorError, type PacketLink, type ReceivedPacket, type SendOptions, type SendResult } from '@compotastic/orchestrator';

/** BLE link figures used in simulation: a connection-interval latency and an effective GATT throughput. */
export const SIM_BLE_PATH: FastPath = Object.freeze({ kind: 'ble', latencyMs: 30, bytesPerS: 40_000, mtu: 244 });

/**
 * The GATT tables and message handlers of every simulated node, over the simulator's BLE proximity model: a read or
 * a message succeeds only if both nodes are up, BLE-capable and within range when it lands.
 */
export class SimBleHub {
  private readonly batteries = new Map<number, number>();
  private readonly inboxes = new Map<number, Set<(p: ReceivedPacket) => void>>();

  constructor(readonly sim: Simulation, readonly path: FastPath = SIM_BLE_PATH) {}

  adapter(num: number): SimBleAdapter {
    return new SimBleAdapter(this, num);
  }

  publish(num: number, record: Uint8Array, battery: number): void {
    this.sim.setBleCharacteristic(num, record);
    this.batteries.set(num, battery);
  }

  battery(num: number): number {
    return this.batteries.get(num) ?? 255;
  }

  inbox(num: number): Set<(p: ReceivedPacket) => void> {
    let s = this.inboxes.get(num);
    if (!s) {
      s = new Set();
      this.inboxes.set(num, s);
    }
    return s;
  }

  inRange(a: number, b: number): boolean {
    return this.sim.bleNeighbors(a).includes(b);
  }

  /** Deliver a message after the link's latency plus its bytes at the link's throughput. */
  deliver(from: number, to: number, payload: Uint8Array): Promise<SendResult> {
    const sim = this.sim;
    const delay = this.path.latencyMs + (payload.length / this.path.bytesPerS) * 1000;
    return new Promise((resolve) => {
      sim.clock.setTimer(delay, () => {
        sim.notifyClientActivity();
        if (!this.inRange(from, to)) {
          resolve({ ok: false, error: 'BLE_OUT_OF_RANGE' });
          return;
        }
        const packet: ReceivedPacket = { from, to, payload: payload.slice(), hops: 0, snr: null, relayNode: null };
        for (const h of this.inbox(to)) h(packet);
        resolve({ ok: true });
      });
    });
  }
}

class SimBleLink implements PacketLink {
  readonly kind = 'ble' as const;
  readonly maxPayload: number;

  constructor(private readonly hub: SimBleHub, private readonly num: number) {
    this.maxPayload = Math.min(231, hub.path.mtu - 3);
  }

  send(to: Destination, payload: Uint8Array, _options: SendOptions): Promise<SendResult> {
    if (to === 'broadcast') return Promise.resolve({ ok: false, error: 'BLE_NO_BROADCAST' });
    if (payload.length > this.maxPayload) return Promise.resolve({ ok: false, error: 'TOO_LARGE' });
    return this.hub.deliver(this.num, to, payload);
  }

  onPacket(handler: (p: ReceivedPacket) => void): () => void {
    const inbox = this.hub.inbox(this.num);
    inbox.add(handler);
    return () => inbox.delete(handler);
  }
}

/** One node's BLE: its GATT server (capability record, battery level) and client, and the message characteristic. */
export class SimBleAdapter implements BleAdapter {
  readonly link: PacketLink;
  readonly path: FastPath;

  constructor(private readonly hub: SimBleHub, private readonly num: number) {
    this.link = new SimBleLink(hub, num);
    this.path = hub.path;
  }

  publish(record: Uint8Array, battery: number): void {
    this.hub.publish(this.num, record, battery);
  }

  scan(): number[] {
    return this.hub.sim.bleNeighbors(this.num);
  }

  read(peer: number): Promise<BleRead> {
    return new Promise((resolve, reject) => {
      this.hub.sim.bleRead(this.num, peer, (value, error) => {
        this.hub.sim.notifyClientActivity();
        if (!value) reject(error ?? new OrchestratorError('BLE_READ_FAILED', `BLE read of ${peer} failed`));
        else resolve({ record: value, battery: this.hub.battery(peer) });
      });
    });
  }

  close(): void {
    this.hub.inbox(this.num).clear();
  }
}
