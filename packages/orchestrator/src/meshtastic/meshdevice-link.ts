import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BROADCAST_NUM, type CorePortnumsPolicy, PortNum, Prng, droppedByCorePortnumsOnly, getRegion, isModemPresetName, maxPayloadFor, type ModemPresetName } from '@compotastic/mesh';
import { MeshDevice, Protobuf } from '@meshtastic/core';
import { TransportError } from '../errors.js';
import type { Destination, MeshLink, PacketLink, RadioFacts, ReceivedPacket, SendOptions, SendResult } from '../transport/link.js';
import { PathAdvisor, type RouterWarning } from './path-advisor.js';
import { PortFallback, defaultFallbackPortnum } from './port-fallback.js';
import { PortHandlers, type PortShape, checkExtraPort, portLink } from './ports.js';

/* @meshtastic/core's type declarations do not resolve (they reference an unpublished protobuf package), so the
   untyped boundary is kept to this file. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const P = Protobuf as Any;

/** Transport shape MeshDevice consumes (same as @compotastic/mesh's MeshTransport). */
export interface DeviceTransport {
  toDevice: WritableStream<Uint8Array>;
  fromDevice: ReadableStream<Any>;
  disconnect(): Promise<void>;
}

export interface MeshDeviceLinkOptions {
  /** Port this application uses (default PRIVATE_APP, 256). */
  portnum?: number;
  /** Seed for packet ids (ids must differ between packets; a seed makes simulated runs repeatable). */
  seed: number;
  /** Give up waiting for the radio's configuration after this long (default 30 s, on the global timers). */
  configureTimeoutMs?: number;
  /** tslog level for MeshDevice's own logging (default 6: fatal only; it logs every packet on a port it has no case for, e.g. 287, as an error). */
  logLevel?: number;
  /** Radio numbers the device cannot report itself (channel utilization in a simulator...). */
  factsOverride?: () => Partial<RadioFacts>;
  onRouterWarning?: (w: RouterWarning) => void;
  /** Share one advisor across reconnections (default: a new one). */
  advisor?: PathAdvisor;
  /**
   * The port this node speaks on when its own radio drops `portnum` (a 2.6 router or repeater), and on which it
   * answers peers that speak on it (default 287, or 288 when `portnum` is 287; null: no fallback).
   */
  fallbackPortnum?: number | null;
  /** Share what was learned about peers on the fallback port across reconnections (default: a new one). */
  portFallback?: PortFallback;
}

/** Our own packet ids kept after they settled, so late routing replies for them are recognised and dropped. */
const RECENT_IDS = 512;

const ROUTING_NAMES = new Map<number, string>(Object.entries(P.Mesh.Routing_Error as Record<string, unknown>).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, k]));
const ROLE_NAMES = new Map<number, string>(Object.entries(P.Config.Config_DeviceConfig_Role as Record<string, unknown>).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, k]));
const PRESET_NAMES = new Map<number, string>(Object.entries(P.Config.Config_LoRaConfig_ModemPreset as Record<string, unknown>).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, k]));
const REBROADCAST_NAMES = new Map<number, string>(Object.entries(P.Config.Config_DeviceConfig_RebroadcastMode as Record<string, unknown>).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, k]));
const REGION_NAMES = new Map<number, string>(Object.entries(P.Config.Config_LoRaConfig_RegionCode as Record<string, unknown>).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, k]));

interface Pending {
  wantAck: boolean;
  to: number;
  resolve: (r: SendResult) => void;
}

/**
 * The mesh as the orchestrator sees it, through @meshtastic/core's MeshDevice: one code path for a real node over TCP,
 * meshtasticd, and the simulator's virtual radios. It works around MeshDevice's quirks:
 * - `configure()` resolves only after its 60 s queue timeout, so readiness is the DeviceConfigured status event;
 * - `sendPacket` defaults to want_ack and picks random ids, so packets are built here (seeded ids, explicit want_ack)
 *   and sent with `sendRaw`;
 * - a packet without want_ack never gets a routing reply, so its queue entry would time out after 60 s: it completes
 *   on the radio's QueueStatus instead; routing replies for our packets are consumed here (MeshDevice would log every
 *   NAK as an error) and settle our own outcome;
 * - the stock stream deframer loses frames containing 0x94 0xC3: transports come from @compotastic/mesh (TCP) or the
 *   simulator, which frame correctly;
 * - MeshDevice retries a failed write forever unless the error's code is ECONNRESET or ERR_INVALID_STATE; the
 *   project's transports (TCP and the simulator's) use ECONNRESET for a broken link, and a send that fails that way
 *   counts as a disconnect here.
 */
export class MeshDeviceLink implements MeshLink {
  readonly kind = 'lora' as const;
  readonly maxPayload: number;
  readonly portnum: number;
  readonly device: MeshDevice;
  readonly advisor: PathAdvisor;
  private num = 0;
  /** Handlers of the link's own port and of every port opened on it. */
  private readonly ports = new PortHandlers();
  readonly fallback: PortFallback;
  private readonly pending = new Map<number, Pending>();
  private readonly rng: Prng;
  private readonly hops = new Map<number, number>();
  private readonly names = new Map<number, string>();
  private preset: ModemPresetName = 'LONG_FAST';
  private region = 'US';
  private hopLimit = 3;
  private channelUtil = 0;
  private airUtilTx = 0;
  private configured = false;
  private connected = true;
  private role = 'CLIENT';
  private rebroadcastMode = 'ALL';
  private firmwareVersion = '';
  private readonly recent = new Set<number>();
  private readonly disconnectHandlers = new Set<(reason: string) => void>();

  private constructor(transport: DeviceTransport, private readonly options: MeshDeviceLinkOptions) {
    this.portnum = options.portnum ?? PortNum.PRIVATE_APP;
    this.maxPayload = maxPayloadFor({ portnum: this.portnum });
    this.ports.open(this.portnum);
    this.fallback = options.portFallback ?? new PortFallback(this.portnum, options.fallbackPortnum === undefined ? defaultFallbackPortnum(this.portnum) : options.fallbackPortnum);
    this.rng = new Prng(options.seed >>> 0);
    this.advisor = options.advisor ?? new PathAdvisor((w) => options.onRouterWarning?.(w));
    this.device = new MeshDevice(this.tap(transport) as Any, this.rng.uint32() % 1_000_000_000 || 1);
    (this.device.log as Any).settings.minLevel = options.logLevel ?? 6;
    this.subscribe();
  }

  /** Attach to a radio, run the config handshake and resolve once the device reports DeviceConfigured. */
  static async connect(transport: DeviceTransport, options: MeshDeviceLinkOptions): Promise<MeshDeviceLink> {
    const link = new MeshDeviceLink(transport, options);
    await link.configure(options.configureTimeoutMs ?? 30_000);
    return link;
  }

  get nodeNum(): number {
    return this.num;
  }

  /** True while the transport is up and the radio configured. */
  get isConnected(): boolean {
    return this.connected && this.configured;
  }

  /** Called once when the transport goes away (device rebooted or powered off, socket closed). */
  onDisconnect(handler: (reason: string) => void): () => void {
    this.disconnectHandlers.add(handler);
    return () => this.disconnectHandlers.delete(handler);
  }

  private lostConnection(reason: string): void {
    if (!this.connected) return;
    this.connected = false;
    for (const [id] of this.pending) this.settle(id, { ok: false, error: 'DISCONNECTED' });
    for (const h of this.disconnectHandlers) h(reason);
  }

  private configure(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new TransportError('NOT_CONFIGURED', `the radio did not finish its configuration within ${timeoutMs} ms`));
      }, timeoutMs);
      const unsubscribe = this.device.events.onDeviceStatus.subscribe((status: number) => {
        if (status === 7 && this.num !== 0) {
          this.configured = true;
          clearTimeout(timer);
          unsubscribe();
          if (this.ownPortDropped) this.advisor.selfBlocked(this.role, this.rebroadcastMode, this.portnum, this.usesFallback ? this.fallback.fallback : null);
          resolve();
        }
      });
      // Its promise settles only on the queue timeout; readiness comes from the status event above.
      this.device.configure().catch(() => undefined);
    });
  }

  /** Watch the FromRadio stream for routing replies and queue status of our own packets. */
  private tap(transport: DeviceTransport): DeviceTransport {
    const consumed = (bytes: Uint8Array): boolean => this.consumed(bytes);
    const filtered = transport.fromDevice.pipeThrough(
      new TransformStream<Any, Any>({
        transform(chunk, controller) {
          if (chunk?.type === 'packet' && consumed(chunk.data as Uint8Array)) return;
          controller.enqueue(chunk);
        },
      }),
    );
    return { toDevice: transport.toDevice, fromDevice: filtered, disconnect: () => transport.disconnect() };
  }

  /** True when the frame was a routing reply to one of our packets (settled here, hidden from MeshDevice). */
  private consumed(bytes: Uint8Array): boolean {
    let fr: Any;
    try {
      fr = fromBinary(P.Mesh.FromRadioSchema, bytes);
    } catch {
      return false;
    }
    const v = fr.payloadVariant;
    if (v?.case === 'queueStatus') {
      const id = v.value.meshPacketId >>> 0;
      const p = this.pending.get(id);
      if (p && (v.value.res !== 0 || !p.wantAck)) {
        this.settle(id, v.value.res === 0 ? { ok: true } : { ok: false, error: ROUTING_NAMES.get(v.value.res) ?? `ERROR_${v.value.res}` });
      }
      return false;
    }
    if (v?.case !== 'packet') return false;
    const mp = v.value;
    if (mp.payloadVariant?.case !== 'decoded' || mp.payloadVariant.value.portnum !== PortNum.ROUTING_APP) return false;
    const requestId = mp.payloadVariant.value.requestId >>> 0;
    if (!this.pending.has(requestId)) {
      // Replies to packets MeshDevice itself is not waiting for (ours that already settled, or packets of another
      // application on the node) would only be logged as errors by it.
      return this.recent.has(requestId) || !this.device.queue.getState().some((q: Any) => q.id === requestId);
    }
    let routing: Any;
    try {
      routing = fromBinary(P.Mesh.RoutingSchema, mp.payloadVariant.value.payload);
    } catch {
      return false;
    }
    if (routing.variant?.case !== 'errorReason') return false;
    const code = routing.variant.value as number;
    this.settle(requestId, code === 0 ? { ok: true } : { ok: false, error: ROUTING_NAMES.get(code) ?? `ERROR_${code}` });
    return true;
  }

  private settle(id: number, r: SendResult): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.recent.add(id);
    if (this.recent.size > RECENT_IDS) this.recent.delete(this.recent.values().next().value as number);
    // Clears MeshDevice's queue entry quietly (its own timeout would log and reject).
    if (this.connected) this.device.queue.processAck(id);
    if (!r.ok && p.to !== BROADCAST_NUM && r.error !== 'TOO_LARGE') this.advisor.deliveryFailed(p.to, r.error);
    p.resolve(r);
  }

  private subscribe(): void {
    const ev = this.device.events as Any;
    ev.onDeviceStatus.subscribe((status: number) => {
      if (status === 2) this.lostConnection('device disconnected');
    });
    ev.onMyNodeInfo.subscribe((info: Any) => {
      this.num = info.myNodeNum >>> 0;
      this.advisor.setOwnNum(this.num);
    });
    ev.onDeviceMetadataPacket.subscribe((m: Any) => {
      if (typeof m.data?.firmwareVersion === 'string') this.firmwareVersion = m.data.firmwareVersion;
    });
    ev.onConfigPacket.subscribe((cfg: Any) => {
      if (cfg.payloadVariant?.case === 'device') {
        this.role = ROLE_NAMES.get(cfg.payloadVariant.value.role ?? 0) ?? 'CLIENT';
        this.rebroadcastMode = REBROADCAST_NAMES.get(cfg.payloadVariant.value.rebroadcastMode ?? 0) ?? 'ALL';
        return;
      }
      if (cfg.payloadVariant?.case !== 'lora') return;
      const lora = cfg.payloadVariant.value;
      const preset = PRESET_NAMES.get(lora.modemPreset);
      if (preset && isModemPresetName(preset)) this.preset = preset;
      const region = REGION_NAMES.get(lora.region);
      if (region) this.region = region;
      if (lora.hopLimit > 0) this.hopLimit = lora.hopLimit;
    });
    ev.onNodeInfoPacket.subscribe((info: Any) => {
      const num = info.num >>> 0;
      const hopsAway = typeof info.hopsAway === 'number' ? info.hopsAway : null;
      if (hopsAway !== null) this.hops.set(num, hopsAway);
      const role = ROLE_NAMES.get(info.user?.role ?? 0) ?? 'CLIENT';
      this.advisor.nodeInfo(num, role, hopsAway);
      this.rememberName(num, info.user?.longName);
    });
    // NodeInfo broadcasts carry a node's role; the hop count comes from the packets we heard from it.
    ev.onUserPacket.subscribe((u: Any) => {
      const num = u.from >>> 0;
      this.rememberName(num, u.data?.longName);
      if (num === this.num || typeof u.data?.role !== 'number') return;
      this.advisor.nodeInfo(num, ROLE_NAMES.get(u.data.role) ?? 'CLIENT', this.hops.get(num) ?? null);
    });
    ev.onTelemetryPacket.subscribe((t: Any) => {
      if (t.from >>> 0 !== this.num) return;
      const m = t.data?.variant?.case === 'deviceMetrics' ? t.data.variant.value : null;
      if (!m) return;
      if (typeof m.channelUtilization === 'number') this.channelUtil = m.channelUtilization;
      if (typeof m.airUtilTx === 'number') this.airUtilTx = m.airUtilTx;
    });
    ev.onTraceRoutePacket.subscribe((t: Any) => {
      const route = (t.data?.route ?? []) as number[];
      this.advisor.traced(t.from >>> 0, route.map((n) => n >>> 0));
    });
    ev.onMeshPacket.subscribe((mp: Any) => {
      if (mp.payloadVariant?.case !== 'decoded') return;
      const data = mp.payloadVariant.value;
      const from = mp.from >>> 0;
      if (from === this.num) return;
      const hops = mp.hopStart > 0 && mp.hopStart >= mp.hopLimit ? mp.hopStart - mp.hopLimit : null;
      if (hops !== null) this.hops.set(from, hops);
      // The application's packets arrive on its port or on the fallback port, and go to the same handlers.
      const application = this.fallback.carries(data.portnum);
      if (application) this.fallback.heard(from, data.portnum);
      const portnum = application ? this.portnum : data.portnum;
      if (!this.ports.has(portnum)) return;
      const relay = typeof mp.relayNode === 'number' && mp.relayNode !== 0 ? mp.relayNode : null;
      if (hops !== null && hops > 0) this.advisor.relayedPrivate(relay);
      const packet: ReceivedPacket = {
        from,
        to: mp.to >>> 0,
        payload: data.payload instanceof Uint8Array ? data.payload : new Uint8Array(0),
        hops,
        snr: typeof mp.rxSnr === 'number' && mp.rxSnr !== 0 ? mp.rxSnr : null,
        relayNode: relay,
      };
      this.ports.deliver(portnum, packet);
    });
  }

  onPacket(handler: (p: ReceivedPacket) => void): () => void {
    return this.ports.add(this.portnum, handler);
  }

  /** On the link's port, or on the fallback port where our radio or the peer needs it (see PortFallback). */
  send(to: Destination, payload: Uint8Array, options: SendOptions): Promise<SendResult> {
    const portnum = this.fallback.portFor(to, this.usesFallback);
    return this.sendOn(portnum === this.portnum ? this : { portnum, maxPayload: this.maxPayload }, to, payload, options);
  }

  /**
   * Another private port (256..511, not the link's own) on this radio, e.g. for OTA transfers: its packets get the
   * same seeded ids, queue status and routing replies as the link's own; received packets of that port go to the
   * returned link's handlers only. Throws ConfigError for any other port.
   */
  openPort(portnum: number): PacketLink {
    checkExtraPort(portnum, this.portnum, this.fallback.fallback);
    return portLink(portnum, this.ports, (port, to, payload, options) => this.sendOn(port, to, payload, options));
  }

  /** The one send path of every port. */
  private sendOn(port: PortShape, to: Destination, payload: Uint8Array, options: SendOptions): Promise<SendResult> {
    if (!this.configured) return Promise.resolve({ ok: false, error: 'NOT_CONFIGURED' });
    // MeshDevice would retry a write to a closed transport forever: refuse instead.
    if (!this.connected) return Promise.resolve({ ok: false, error: 'DISCONNECTED' });
    if (payload.length > port.maxPayload) return Promise.resolve({ ok: false, error: 'TOO_LARGE' });
    const dest = to === 'broadcast' ? BROADCAST_NUM : to >>> 0;
    let id = this.rng.uint32();
    while (id === 0 || this.pending.has(id)) id = this.rng.uint32();
    const packet = create(P.Mesh.MeshPacketSchema, {
      from: this.num,
      to: dest,
      id,
      wantAck: options.wantAck,
      channel: 0,
      // Without want_ack the firmware sends hop_limit 0 as given (direct neighbours only); the radio's configured
      // lora.hop_limit is the default, as the official clients send it.
      hopLimit: options.hopLimit ?? this.hopLimit,
      payloadVariant: { case: 'decoded', value: { portnum: port.portnum, payload, wantResponse: false } },
    });
    const toRadio = toBinary(P.Mesh.ToRadioSchema, create(P.Mesh.ToRadioSchema, { payloadVariant: { case: 'packet', value: packet } }));
    return new Promise<SendResult>((resolve) => {
      this.pending.set(id, { wantAck: options.wantAck, to: dest, resolve });
      this.device.sendRaw(toRadio, id).catch((e: Any) => {
        // The write failed because the link broke (the radio lost power, the socket closed): that is a disconnect.
        if (e?.code === 'ECONNRESET' || e?.code === 'ERR_INVALID_STATE') {
          this.lostConnection(`write failed: ${(e as Error).message}`);
          this.settle(id, { ok: false, error: 'DISCONNECTED' });
          return;
        }
        // Otherwise only reached when neither a routing reply nor a queue status settled the packet (MeshDevice's 60 s
        // timeout).
        const code = typeof e?.error === 'number' ? (ROUTING_NAMES.get(e.error) ?? 'TIMEOUT') : 'TIMEOUT';
        const p = this.pending.get(id);
        if (p) {
          this.pending.delete(id);
          p.resolve({ ok: false, error: code });
        }
      });
    });
  }

  /** Firmware version the radio reported ("" until its metadata arrived). */
  get firmware(): string {
    return this.firmwareVersion;
  }

  /** Which CORE_PORTNUMS_ONLY rule the radio's firmware applies. */
  private get corePortnumsPolicy(): CorePortnumsPolicy {
    const m = /^(\d+)\.(\d+)\.(\d+)/.exec(this.firmwareVersion);
    const v = m ? Number(m[1]) * 10_000 + Number(m[2]) * 100 + Number(m[3]) : 0;
    return v >= 20704 ? '2.7-whitelist' : '2.6-blacklist';
  }

  /** The radio's rebroadcast mode drops our port (firmware 2.6: a blacklist incl. 256/257; 2.7.4+: all of 256-511). */
  get ownPortDropped(): boolean {
    return this.rebroadcastMode === 'CORE_PORTNUMS_ONLY' && droppedByCorePortnumsOnly(this.portnum, this.corePortnumsPolicy);
  }

  /** Our radio drops our port but passes the fallback port: this node speaks on the fallback port only. */
  get usesFallback(): boolean {
    return this.fallback.usable(this.ownPortDropped, this.corePortnumsPolicy);
  }

  /** Nothing of this application addressed to us can arrive: the radio drops our port and any fallback. */
  get portBlocked(): boolean {
    return this.ownPortDropped && !this.usesFallback;
  }

  facts(): RadioFacts {
    let duty = 100;
    try {
      duty = getRegion(this.region).dutyCyclePercent;
    } catch {
      duty = 100;
    }
    const base: RadioFacts = { preset: this.preset, region: this.region, dutyCyclePct: duty, channelUtilPct: this.channelUtil, txUtilPct: this.airUtilTx, hopLimit: this.hopLimit, portBlocked: this.portBlocked, ...(this.usesFallback && this.fallback.fallback !== null ? { fallbackPortnum: this.fallback.fallback } : {}) };
    return { ...base, ...(this.options.factsOverride?.() ?? {}) };
  }

  hopsTo(num: number): number | null {
    return this.hops.get(num) ?? null;
  }

  userName(num: number): string | null {
    return this.names.get(num >>> 0) ?? null;
  }

  /** Names are shown to people: kept short and free of control characters, whatever a peer sends. */
  private rememberName(num: number, name: unknown): void {
    if (typeof name !== 'string') return;
    const clean = [...name].filter((c) => c >= ' ' && c !== '\u007f').join('').trim().slice(0, 40);
    if (clean) this.names.set(num, clean);
  }

  /** Ask the mesh for the route to a peer (core port, which routers forward); the reply feeds the router check. */
  traceRoute(peer: number): void {
    this.device.traceRoute(peer).catch(() => undefined);
  }

  async disconnect(): Promise<void> {
    const was = this.connected;
    this.lostConnection('closed by the application');
    if (was) await this.device.disconnect().catch(() => undefined);
  }
}
