import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BROADCAST_NUM, MAX_TO_FROM_RADIO_BYTES, PortNum, nodeUserId } from '@compotastic/mesh';
import { Protobuf } from '@meshtastic/core';
import { SimError } from '../errors.js';
import { RoutingError, type SimPacket } from '../mesh/packet.js';
import { syntheticPayload } from '../mesh/synthetic-payload.js';
import type { Simulation } from '../simulation.js';
import type { SimNode } from '../world/node.js';
import { CONFIG_CASES, DEFAULT_REBOOT_SECONDS, MODULE_CONFIG_CASES, settingsOf, type NodeSettings } from './admin.js';
import { PhoneTelemetry, deviceMetrics, type DeviceMetricsValues, type TelemetryPhone } from './phone-telemetry.js';

/* The protobuf schemas come from @meshtastic/core, whose type declarations do not resolve; these aliases keep the
   untyped boundary in one place. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = any;
const P = Protobuf as Msg;

/** Firmware version the virtual radios report (with the 2.6 CORE_PORTNUMS_ONLY blacklist, the default). */
export const VIRTUAL_FIRMWARE_VERSION = '2.6.11.sim';
/** Firmware version they report where the scenario applies 2.7.4's whitelist, so a client reads the same rule. */
export const VIRTUAL_FIRMWARE_VERSION_2_7 = '2.7.4.sim';

/** The version a virtual radio reports for the scenario's firmware rules. */
export function virtualFirmwareVersion(policy: '2.6-blacklist' | '2.7-whitelist'): string {
  return policy === '2.7-whitelist' ? VIRTUAL_FIRMWARE_VERSION_2_7 : VIRTUAL_FIRMWARE_VERSION;
}
/** Packets kept for a client that is not attached or not yet configured (MAX_RX_TOPHONE). */
const TO_PHONE_QUEUE = 32;

/** ToRadio requests a session holds before its transport must stop reading (the firmware reads one at a time). */
export const MAX_PENDING_REQUESTS = 8;
/** Bytes of ToRadio requests a session holds before its transport must stop reading. */
export const MAX_PENDING_REQUEST_BYTES = 64 * 1024;

/** One attached client (phone app, MeshDevice...). */
export interface ClientSession {
  /**
   * Hand the radio one unframed ToRadio protobuf. Writes already handed over are processed even when the client closes
   * right after (as the firmware processes what it has read), unless the node loses power first.
   */
  handleToRadio(bytes: Uint8Array): void;
  close(): void;
  readonly closed: boolean;
  /** True while the session holds MAX_PENDING_REQUESTS requests or MAX_PENDING_REQUEST_BYTES: stop reading. */
  readonly backpressured: boolean;
  /** Requests handed over and not processed yet. */
  readonly pendingRequests: number;
  /** Called when a backpressured session has room again. */
  onRoom: (() => void) | null;
  /**
   * Set by a transport whose outgoing buffer is full (the client is not reading): mesh packets then wait in the
   * radio's bounded to-phone queue, as in the firmware, instead of piling up in the transport.
   */
  setCongested(congested: boolean): void;
}


/**
 * The Meshtastic client API of one simulated node (the firmware's PhoneAPI): the want_config handshake, queue status,
 * Routing ACK/NAK for sent packets, received mesh packets and a few admin requests, all as real protobufs. One client
 * at a time, as on the device; a new connection replaces the old one.
 */
export class VirtualRadio implements TelemetryPhone {
  readonly node: SimNode;
  private session: Session | null = null;
  private readonly backlog: Uint8Array[] = [];
  private fromRadioId = 1;
  private readonly telemetry: PhoneTelemetry;
  /** Owner, config, module config and channels: the node's, shared with any other client API attached to it. */
  readonly settings: NodeSettings;

  constructor(readonly sim: Simulation, nodeNum: number) {
    this.node = sim.requireNode(nodeNum);
    this.settings = settingsOf(sim, this.node);
    this.telemetry = new PhoneTelemetry(this, this.node.rng.derive('phone-telemetry'));
    this.telemetry.start();
    sim.addListener(nodeNum, {
      onPacket: (p, snr, rssi, viaRadio) => this.onNodePacket(p, snr, rssi, viaRadio),
      // A node that loses power drops its client connection, as a real one does; reconnect after node_up.
      onStatus: (up) => {
        if (up) {
          this.telemetry.start();
          return;
        }
        this.telemetry.stop();
        this.session?.abort();
        this.backlog.length = 0;
      },
    });
  }

  get nodeNum(): number {
    return this.node.num;
  }

  /**
   * Attach a client; `deliver` receives each FromRadio protobuf after the scenario's client latency, `onClose` runs
   * when the session ends (replaced by a new client, disconnect request, or the node powering off).
   */
  connect(deliver: (fromRadio: Uint8Array) => void, onClose?: () => void): ClientSession {
    this.session?.close();
    const s = new Session(this, deliver, onClose);
    this.session = s;
    return s;
  }

  detach(s: Session): void {
    if (this.session === s) this.session = null;
  }

  // ---------------------------------------------------------------- FromRadio construction

  fromRadio(variant: { case: string; value: unknown }): Uint8Array {
    return toBinary(P.Mesh.FromRadioSchema, create(P.Mesh.FromRadioSchema, { id: this.fromRadioId++, payloadVariant: variant }));
  }

  /** Our own User (owner). */
  ownUser(): Msg {
    const n = this.node;
    return {
      id: nodeUserId(n.num),
      longName: n.owner.longName,
      shortName: n.owner.shortName,
      hwModel: P.Mesh.HardwareModel.PORTDUINO,
      isLicensed: n.owner.isLicensed,
      role: this.settings.roleValue(),
      publicKey: n.owner.isLicensed ? new Uint8Array(0) : n.publicKey,
    };
  }

  private ownPosition(): Msg {
    const { lat, lon } = this.sim.toLatLon(this.node.x, this.node.y);
    return { latitudeI: Math.round(lat * 1e7), longitudeI: Math.round(lon * 1e7), altitude: Math.round(this.node.z), time: this.epochS() };
  }

  epochS(): number {
    return this.sim.scenario.startEpochS + Math.floor(this.sim.now / 1000);
  }

  configSequence(nonce: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    const n = this.node;
    // 2.6.11's MyNodeInfo has no nodedb_count (2.7 added it): the node list follows as node_infos.
    const myInfo = { myNodeNum: n.num, rebootCount: this.settings.rebootCount, minAppVersion: 30200, deviceId: n.deviceId, pioEnv: 'compotastic-sim' };
    out.push(this.fromRadio({ case: 'myInfo', value: myInfo }));
    out.push(this.fromRadio({ case: 'deviceuiConfig', value: {} }));
    out.push(this.fromRadio({ case: 'nodeInfo', value: { num: n.num, user: this.ownUser(), position: this.ownPosition(), lastHeard: this.epochS(), deviceMetrics: deviceMetrics(this.sim, n), isFavorite: true } }));
    out.push(
      this.fromRadio({
        case: 'metadata',
        value: {
          firmwareVersion: virtualFirmwareVersion(this.sim.scenario.firmware.corePortnumsPolicy),
          deviceStateVersion: 24,
          canShutdown: true,
          hasBluetooth: n.profile.ble,
          role: P.Config.Config_DeviceConfig_Role[n.role],
          hwModel: P.Mesh.HardwareModel.PORTDUINO,
        },
      }),
    );
    for (let i = 0; i < this.settings.channels.length; i++) out.push(this.fromRadio({ case: 'channel', value: this.channel(i) }));
    for (const kind of CONFIG_CASES) out.push(this.fromRadio({ case: 'config', value: { payloadVariant: { case: kind, value: this.settings.configValue(kind) } } }));
    for (const kind of MODULE_CONFIG_CASES) out.push(this.fromRadio({ case: 'moduleConfig', value: { payloadVariant: { case: kind, value: this.settings.moduleConfigValue(kind) } } }));
    // Other nodes as the node DB knows them: a user only once its NodeInfo was heard, a position once one was.
    for (const entry of n.router.nodeDb.values()) {
      const info: Msg = { num: entry.num, snr: entry.snr, hopsAway: entry.hopsAway, lastHeard: this.sim.scenario.startEpochS + Math.floor(entry.lastHeardMs / 1000) };
      if (entry.user) info.user = { id: nodeUserId(entry.num), ...entry.user };
      if (entry.position) info.position = entry.position;
      out.push(this.fromRadio({ case: 'nodeInfo', value: info }));
    }
    out.push(this.fromRadio({ case: 'configCompleteId', value: nonce }));
    return out;
  }

  channel(index: number): Msg {
    return this.settings.channels[index] ?? { index, role: P.Channel.Channel_Role.DISABLED, settings: {} };
  }

  meshPacketFor(p: SimPacket, rxSnr: number, rxRssi: number): Msg {
    return {
      from: p.from,
      to: p.to,
      id: p.id,
      channel: p.channel,
      hopLimit: p.hopLimit,
      hopStart: p.hopStart,
      wantAck: p.wantAck,
      rxTime: this.epochS(),
      rxSnr,
      rxRssi,
      relayNode: p.relayNode,
      nextHop: p.nextHop,
      payloadVariant: {
        case: 'decoded',
        value: {
          portnum: p.portnum,
          payload: p.payload ?? syntheticPayload(p.from, p.id, p.portnum, p.payloadBytes),
          wantResponse: p.wantResponse,
          requestId: p.requestId,
          replyId: p.replyId,
          bitfield: 0,
        },
      },
    };
  }

  // ---------------------------------------------------------------- mesh to phone

  private onNodePacket(p: SimPacket, rxSnr: number, rxRssi: number, viaRadio: boolean): void {
    // Locally generated packets reach the phone only when they are routing results (ACK/NAK) or admin replies.
    if (!viaRadio && p.portnum !== PortNum.ROUTING_APP && p.portnum !== PortNum.ADMIN_APP) return;
    this.toPhone(this.fromRadio({ case: 'packet', value: this.meshPacketFor(p, rxSnr, rxRssi) }));
  }

  get toPhoneQueueEmpty(): boolean {
    return this.backlog.length === 0;
  }

  /** Local telemetry: a DeviceMetrics packet from this node to its client only (TELEMETRY_APP, never on air). */
  deviceMetricsToPhone(packetId: number, metrics: DeviceMetricsValues): void {
    const telemetry = create(P.Telemetry.TelemetrySchema, { time: this.epochS(), variant: { case: 'deviceMetrics', value: metrics } });
    const packet = {
      from: this.node.num,
      to: BROADCAST_NUM,
      id: packetId,
      channel: 0,
      rxTime: this.epochS(),
      priority: P.Mesh.MeshPacket_Priority.BACKGROUND,
      payloadVariant: { case: 'decoded', value: { portnum: PortNum.TELEMETRY_APP, payload: toBinary(P.Telemetry.TelemetrySchema, telemetry) } },
    };
    this.toPhone(this.fromRadio({ case: 'packet', value: packet }));
  }

  toPhone(bytes: Uint8Array): void {
    const s = this.session;
    if (s && s.configured && !s.congested) {
      s.send(bytes);
      return;
    }
    this.backlog.push(bytes);
    if (this.backlog.length > TO_PHONE_QUEUE) this.backlog.shift();
  }

  flushBacklog(s: Session): void {
    if (this.session !== s) return;
    for (const b of this.backlog.splice(0)) s.send(b);
  }

  queueStatus(res: number, meshPacketId: number): Uint8Array {
    return this.fromRadio({
      case: 'queueStatus',
      value: { res, free: Math.max(0, this.node.router.queueFree), maxlen: this.sim.scenario.firmware.txQueueLength, meshPacketId },
    });
  }

  // ---------------------------------------------------------------- phone to mesh

  handlePacketFromPhone(s: Session, mp: Msg): void {
    const node = this.node;
    if (mp.payloadVariant?.case !== 'decoded') return; // the firmware ignores encrypted packets from the phone
    const data = mp.payloadVariant.value;
    if (!node.up) {
      s.send(this.queueStatus(RoutingError.NO_INTERFACE, mp.id >>> 0));
      return;
    }
    const to = mp.to === 0 ? BROADCAST_NUM : mp.to >>> 0;
    if (to === node.num) {
      this.handleLocalRequest(s, mp, data);
      return;
    }
    const payload: Uint8Array = data.payload ?? new Uint8Array(0);
    const { id, error } = this.sim.sendFromApp(node.num, {
      to,
      id: mp.id >>> 0,
      portnum: data.portnum,
      payload,
      wantAck: !!mp.wantAck,
      wantResponse: !!data.wantResponse,
      // Router::sendLocal: a client's hop_limit 0 means "the default" only with want_ack; without, it goes on air as 0
      // (direct neighbours only, nobody relays it).
      hopLimit: mp.hopLimit === 0 && mp.wantAck ? undefined : (mp.hopLimit ?? 0),
      requestId: data.requestId >>> 0,
      replyId: data.replyId >>> 0,
      channel: mp.channel ?? 0,
    });
    s.send(this.queueStatus(error, id));
  }

  /** Packets the phone addresses to its own node: admin requests. */
  private handleLocalRequest(s: Session, mp: Msg, data: Msg): void {
    const id = mp.id >>> 0;
    s.send(this.queueStatus(RoutingError.NONE, id));
    let error: number = RoutingError.NONE;
    if (data.portnum === PortNum.ADMIN_APP) {
      let admin: Msg = null;
      try {
        admin = fromBinary(P.Admin.AdminMessageSchema, data.payload ?? new Uint8Array(0));
      } catch {
        error = RoutingError.BAD_REQUEST;
      }
      if (admin) {
        const result = this.handleAdmin(admin);
        error = result.error;
        if (result.reply) {
          const packet = {
            from: this.node.num,
            to: this.node.num,
            id: this.node.router.nextPacketId(),
            channel: 0,
            rxTime: this.epochS(),
            payloadVariant: {
              case: 'decoded',
              value: { portnum: PortNum.ADMIN_APP, payload: toBinary(P.Admin.AdminMessageSchema, create(P.Admin.AdminMessageSchema, { payloadVariant: result.reply })), requestId: id },
            },
          };
          this.toPhone(this.fromRadio({ case: 'packet', value: packet }));
        }
      }
    }
    // allocErrorResponse answers a refused request whether or not it wanted an ACK.
    if (mp.wantAck || error !== RoutingError.NONE) this.node.router.sendAckNak(error, this.node.num, id, 0);
  }

  /** AdminModule::handleReceivedProtobuf for the requests a client makes of its own node. */
  private handleAdmin(admin: Msg): { reply: { case: string; value: unknown } | null; error: number } {
    const v = admin.payloadVariant;
    const settings = this.settings;
    const none = { reply: null, error: RoutingError.NONE };
    const saved = (r: { error: number; reboot: boolean }) => {
      if (r.error === RoutingError.NONE && r.reboot && !settings.editTransaction) settings.reboot(DEFAULT_REBOOT_SECONDS);
      return { reply: null, error: r.error };
    };
    switch (v?.case) {
      case 'getOwnerRequest':
        return { reply: { case: 'getOwnerResponse', value: this.ownUser() }, error: RoutingError.NONE };
      case 'getChannelRequest': {
        const index = (v.value as number) - 1;
        if (!(index >= 0 && index < settings.channels.length)) return { reply: null, error: RoutingError.BAD_REQUEST };
        return { reply: { case: 'getChannelResponse', value: this.channel(index) }, error: RoutingError.NONE };
      }
      case 'getConfigRequest': {
        const kind = CONFIG_CASES[v.value as number];
        return kind ? { reply: { case: 'getConfigResponse', value: { payloadVariant: { case: kind, value: settings.configValue(kind) } } }, error: RoutingError.NONE } : none;
      }
      case 'getModuleConfigRequest': {
        const kind = MODULE_CONFIG_CASES[v.value as number];
        return kind ? { reply: { case: 'getModuleConfigResponse', value: { payloadVariant: { case: kind, value: settings.moduleConfigValue(kind) } } }, error: RoutingError.NONE } : none;
      }
      case 'getDeviceMetadataRequest':
        return { reply: { case: 'getDeviceMetadataResponse', value: { firmwareVersion: virtualFirmwareVersion(this.sim.scenario.firmware.corePortnumsPolicy), deviceStateVersion: 24, hwModel: P.Mesh.HardwareModel.PORTDUINO } }, error: RoutingError.NONE };
      case 'setOwner':
        // MeshService::reloadOwner announces the new names to the mesh.
        if (settings.setOwner(v.value)) this.node.modules.sendOurNodeInfo(BROADCAST_NUM, false);
        return none;
      case 'setConfig':
        return saved(settings.setConfig(v.value?.payloadVariant));
      case 'setModuleConfig':
        return saved(settings.setModuleConfig(v.value?.payloadVariant));
      case 'setChannel':
        return saved(settings.setChannel(v.value));
      case 'beginEditSettings':
        settings.editTransaction = true;
        return none;
      case 'commitEditSettings':
        settings.editTransaction = false;
        settings.reboot(DEFAULT_REBOOT_SECONDS);
        return none;
      case 'rebootSeconds':
        settings.reboot(v.value as number);
        return none;
      default:
        return none;
    }
  }
}

class Session implements ClientSession {
  configured = false;
  closed = false;
  congested = false;
  onRoom: (() => void) | null = null;
  private readonly seenIds: number[] = [];
  /** Requests handed over and not yet processed, and their bytes. */
  pendingRequests = 0;
  private pendingBytes = 0;
  /** Set when the node lost power: requests not yet processed are lost with the RAM that held them. */
  private aborted = false;

  constructor(
    private readonly radio: VirtualRadio,
    private readonly deliver: (fromRadio: Uint8Array) => void,
    private readonly onClose?: () => void,
  ) {}

  get backpressured(): boolean {
    return this.pendingRequests >= MAX_PENDING_REQUESTS || this.pendingBytes >= MAX_PENDING_REQUEST_BYTES;
  }

  send(bytes: Uint8Array): void {
    if (this.closed) return;
    const sim = this.radio.sim;
    sim.scheduler.schedule(sim.scenario.latency.clientMs, () => {
      if (!this.closed) this.deliver(bytes);
    });
  }

  setCongested(congested: boolean): void {
    if (this.congested === congested) return;
    this.congested = congested;
    if (!congested && this.configured && !this.closed) this.radio.flushBacklog(this);
  }

  handleToRadio(bytes: Uint8Array): void {
    // Like a write to a serial port or socket whose device lost power: ECONNRESET is what MeshDevice's queue treats as a
    // lost connection (it retries any other error forever).
    if (this.closed) throw new SimError('ECONNRESET', 'client session is closed (the node powered off, the client disconnected or another client took over)');
    if (!this.radio.node.up) {
      // The radio is off: the write is lost, as it would be on a dead link.
      return;
    }
    if (bytes.length > MAX_TO_FROM_RADIO_BYTES) throw new SimError('TOO_LARGE', `ToRadio of ${bytes.length} bytes exceeds ${MAX_TO_FROM_RADIO_BYTES}`);
    const copy = bytes.slice();
    const sim = this.radio.sim;
    sim.syncExternal();
    this.pendingRequests++;
    this.pendingBytes += copy.length;
    sim.scheduler.schedule(sim.scenario.latency.clientMs, () => {
      const wasFull = this.backpressured;
      this.pendingRequests--;
      this.pendingBytes -= copy.length;
      this.process(copy);
      if (wasFull && !this.backpressured) this.onRoom?.();
    });
  }

  private process(bytes: Uint8Array): void {
    if (this.aborted) return;
    let msg: Msg;
    try {
      msg = fromBinary(P.Mesh.ToRadioSchema, bytes);
    } catch {
      return; // "ignore malformed toradio"
    }
    const v = msg.payloadVariant;
    switch (v?.case) {
      case 'wantConfigId': {
        if (this.closed) return; // nobody to answer
        this.configured = false;
        for (const b of this.radio.configSequence(v.value >>> 0)) this.send(b);
        this.configured = true;
        this.radio.flushBacklog(this);
        break;
      }
      case 'packet': {
        // Processed even after the client closed: a one-shot `--sendtext` writes and hangs up at once.
        const id = v.value.id >>> 0;
        if (id !== 0 && this.seenIds.includes(id)) return; // the firmware ignores a repeated ToRadio packet id
        if (id !== 0) {
          this.seenIds.push(id);
          if (this.seenIds.length > 20) this.seenIds.shift();
        }
        this.radio.handlePacketFromPhone(this, v.value);
        break;
      }
      case 'heartbeat':
        this.send(this.radio.queueStatus(0, 0));
        break;
      case 'disconnect':
        this.close();
        break;
      default:
        break;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.radio.detach(this);
    this.onClose?.();
  }

  /** The node lost power: close, and lose the requests not processed yet. */
  abort(): void {
    this.aborted = true;
    this.close();
  }
}
