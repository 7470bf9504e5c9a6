import { Prng } from '@compotastic/mesh';
import { TransportError } from '../errors.js';
import type { Destination, MeshLink, PacketLink, RadioFacts, ReceivedPacket, SendOptions, SendResult } from '../transport/link.js';
import { type DeviceTransport, MeshDeviceLink, type MeshDeviceLinkOptions } from './meshdevice-link.js';
import { PathAdvisor } from './path-advisor.js';
import type { PortFallback } from './port-fallback.js';
import { PortHandlers, checkExtraPort, portLink } from './ports.js';

export interface ReconnectingLinkOptions extends MeshDeviceLinkOptions {
  /** First wait before reconnecting, ms (doubles up to maxRetryMs). */
  retryMs?: number;
  maxRetryMs?: number;
  /** Connection state changes (for logs). */
  onStatus?: (connected: boolean, detail: string) => void;
}

/**
 * A MeshLink that survives the radio going away: when the device reboots, powers off or the socket closes, it opens
 * a new transport (from `open`) and a new MeshDevice, with backoff, and carries on. Sends while disconnected fail
 * with DISCONNECTED (the orchestrator's recovery handles that); the node number must stay the same. Ports opened on
 * it (`openPort`) are opened again on every new connection, so their handlers keep receiving.
 */
export class ReconnectingMeshLink implements MeshLink {
  readonly kind = 'lora' as const;
  readonly maxPayload: number;
  readonly nodeNum: number;
  readonly portnum: number;
  private current: MeshDeviceLink | null;
  /** Handlers of the link's own port and of every port opened on it; they outlive the connections. */
  private readonly ports = new PortHandlers();
  /** Each port as the current connection serves it (the connection itself for the link's own port). */
  private currentPorts = new Map<number, PacketLink>();
  private readonly seeds: Prng;
  private closed = false;
  private attempt = 0;
  private lastFacts: RadioFacts;
  private readonly firstFirmware: string;
  /** Which peers speak on the fallback port, kept across connections. */
  private readonly portFallback: PortFallback;

  private constructor(first: MeshDeviceLink, private readonly open: () => Promise<DeviceTransport>, private readonly options: ReconnectingLinkOptions, seeds: Prng, readonly advisor: PathAdvisor) {
    this.current = first;
    this.nodeNum = first.nodeNum;
    this.maxPayload = first.maxPayload;
    this.portnum = first.portnum;
    this.portFallback = first.fallback;
    this.ports.open(this.portnum);
    this.seeds = seeds;
    this.lastFacts = first.facts();
    this.firstFirmware = first.firmware;
    this.adopt(first);
  }

  static async connect(open: () => Promise<DeviceTransport>, options: ReconnectingLinkOptions): Promise<ReconnectingMeshLink> {
    const seeds = new Prng(options.seed >>> 0);
    const advisor = options.advisor ?? new PathAdvisor((w) => options.onRouterWarning?.(w));
    const first = await MeshDeviceLink.connect(await open(), { ...options, seed: seeds.uint32(), advisor });
    return new ReconnectingMeshLink(first, open, options, seeds, advisor);
  }

  /** Firmware version the radio reported. */
  get firmware(): string {
    return this.firstFirmware;
  }

  get connected(): boolean {
    return this.current?.isConnected ?? false;
  }

  private adopt(link: MeshDeviceLink): void {
    this.currentPorts = new Map();
    for (const portnum of this.ports.portnums) this.bind(link, portnum);
    link.onDisconnect((reason) => {
      if (this.current === link) this.current = null;
      this.lastFacts = link.facts();
      this.options.onStatus?.(false, reason);
      this.scheduleReconnect();
    });
  }

  /** Serves one port through a connection: its sends go there, its packets to the port's handlers. */
  private bind(link: MeshDeviceLink, portnum: number): void {
    const port = portnum === this.portnum ? link : link.openPort(portnum);
    port.onPacket((p) => this.ports.deliver(portnum, p));
    this.currentPorts.set(portnum, port);
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const base = this.options.retryMs ?? 2000;
    const wait = Math.min(this.options.maxRetryMs ?? 60_000, base * 2 ** Math.min(this.attempt, 10));
    this.attempt++;
    setTimeout(() => void this.reconnect(), wait);
  }

  private async reconnect(): Promise<void> {
    if (this.closed || this.current) return;
    try {
      const link = await MeshDeviceLink.connect(await this.open(), { ...this.options, seed: this.seeds.uint32(), advisor: this.advisor, portFallback: this.portFallback });
      if (link.nodeNum !== this.nodeNum) {
        await link.disconnect();
        throw new TransportError('NOT_CONFIGURED', `reconnected to node ${link.nodeNum}, expected ${this.nodeNum}`);
      }
      if (this.closed) {
        await link.disconnect();
        return;
      }
      this.current = link;
      this.attempt = 0;
      this.adopt(link);
      this.options.onStatus?.(true, 'reconnected');
    } catch (e) {
      this.options.onStatus?.(false, `reconnect failed: ${(e as Error).message}`);
      this.scheduleReconnect();
    }
  }

  send(to: Destination, payload: Uint8Array, options: SendOptions): Promise<SendResult> {
    return this.sendOn(this.portnum, to, payload, options);
  }

  onPacket(handler: (p: ReceivedPacket) => void): () => void {
    return this.ports.add(this.portnum, handler);
  }

  /**
   * Another private port (256..511, not the link's own) on this radio, kept across reconnections: sends fail with
   * DISCONNECTED while the radio is away, and its handlers receive again once it is back. Throws ConfigError for any
   * other port.
   */
  openPort(portnum: number): PacketLink {
    checkExtraPort(portnum, this.portnum, this.portFallback.fallback);
    if (!this.ports.has(portnum) && this.current) {
      this.ports.open(portnum);
      this.bind(this.current, portnum);
    }
    return portLink(portnum, this.ports, (port, to, payload, options) => this.sendOn(port.portnum, to, payload, options));
  }

  /** The one send path of every port: through the current connection, if any. */
  private sendOn(portnum: number, to: Destination, payload: Uint8Array, options: SendOptions): Promise<SendResult> {
    const port = this.current ? this.currentPorts.get(portnum) : undefined;
    if (!port) return Promise.resolve({ ok: false, error: 'DISCONNECTED' });
    return port.send(to, payload, options);
  }

  facts(): RadioFacts {
    if (this.current) this.lastFacts = this.current.facts();
    return { ...this.lastFacts, ...(this.options.factsOverride?.() ?? {}) };
  }

  hopsTo(num: number): number | null {
    return this.current?.hopsTo(num) ?? null;
  }

  userName(num: number): string | null {
    return this.current?.userName(num) ?? null;
  }

  async close(): Promise<void> {
    this.closed = true;
    const link = this.current;
    this.current = null;
    if (link) await link.disconnect();
  }
}
