import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BROADCAST_NUM, PortNum, nodeUserId } from '@compotastic/mesh';
import { Protobuf } from '@meshtastic/core';
import { storedSettings } from '../client/admin.js';
import { deviceMetrics, TELEMETRY_FIRST_RUN_MS } from '../client/phone-telemetry.js';
import type { SimEvent } from '../engine/event-queue.js';
import { computeOnAirBytes, isBroadcast, newPacket, Priority, RoutingError, type SimPacket } from '../mesh/packet.js';
import type { Simulation } from '../simulation.js';
import type { SimNode } from '../world/node.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = any;
const P = Protobuf as Msg;

/** MESHMODULE_MIN_BROADCAST_DELAY_MS: NodeInfo, the first periodic module, announces the node 30 s after boot. */
export const NODEINFO_START_DELAY_MS = 30_000;
/** MESHMODULE_BROADCAST_SPACING_MS: Position, the second periodic module, starts 15 s after NodeInfo. */
export const POSITION_START_DELAY_MS = NODEINFO_START_DELAY_MS + 15_000;
/** PositionModule and DeviceTelemetryModule check whether a broadcast is due every 5 s and every 60 s. */
const POSITION_RUNONCE_MS = 5_000;
const TELEMETRY_RUNONCE_MS = 60_000;
/** Routers broadcast position and telemetry every 12 h (IF_ROUTER in Default.h). */
const ROUTER_BROADCAST_S = 43_200;
/** NUM_ONLINE_SECS: nodes heard within 2 h count as online for the congestion scaling. */
const ONLINE_MS = 2 * 3_600_000;
/** NodeInfoModule::allocReply sends our NodeInfo at most once per 5 minutes. */
export const NODEINFO_MIN_INTERVAL_MS = 5 * 60_000;
/** polite_duty_cycle_percent: periodic broadcasts stop at half the region's duty cycle. */
const POLITE_DUTY_CYCLE_PERCENT = 50;
/** ROUTE_SIZE: a RouteDiscovery holds at most 8 hops each way. */
const ROUTE_SIZE = 8;
const INT8_MIN = -128;

/** What a node learned about another from its NodeInfo and Position packets. */
export interface LearnedUser {
  longName: string;
  shortName: string;
  hwModel: number;
  role: number;
  isLicensed: boolean;
  publicKey: Uint8Array;
}

export interface LearnedPosition {
  latitudeI: number;
  longitudeI: number;
  altitude: number;
  time: number;
}

// Every receiver of a transmission gets the same payload bytes: decode them once, and let the node DBs share the
// (never modified) result. A NodeInfo heard by 50 nodes is one User, not 50 copies of its names and key.
const decodedUsers = new WeakMap<Uint8Array, LearnedUser | null>();
const decodedPositions = new WeakMap<Uint8Array, LearnedPosition | null>();

/** The User a NodeInfo payload carries, or null when undecodable (ignored, as the firmware does). */
function learnedUser(payload: Uint8Array): LearnedUser | null {
  let user = decodedUsers.get(payload);
  if (user === undefined) {
    try {
      const u: Msg = fromBinary(P.Mesh.UserSchema, payload);
      user = { longName: u.longName, shortName: u.shortName, hwModel: u.hwModel, role: u.role, isLicensed: u.isLicensed, publicKey: u.publicKey };
    } catch {
      user = null;
    }
    decodedUsers.set(payload, user);
  }
  return user;
}

/** The position a Position payload carries, or null when undecodable or without coordinates. */
function learnedPosition(payload: Uint8Array): LearnedPosition | null {
  let position = decodedPositions.get(payload);
  if (position === undefined) {
    try {
      const pos: Msg = fromBinary(P.Mesh.PositionSchema, payload);
      position = pos.latitudeI || pos.longitudeI ? { latitudeI: pos.latitudeI, longitudeI: pos.longitudeI, altitude: pos.altitude ?? 0, time: pos.time ?? 0 } : null;
    } catch {
      position = null;
    }
    decodedPositions.set(payload, position);
  }
  return position;
}

/** A module's answer to a want_response request: its reply, or none (NO_RESPONSE). */
export interface ModuleAnswer {
  request: SimPacket;
  reply: SimPacket | null;
}

/** Default::congestionScalingCoefficient (2.6.11): broadcast more often in small meshes, less often above 40 nodes. */
export function congestionScalingCoefficient(online: number, preset: string): number {
  if (online <= 10) return 0.6;
  if (online <= 20) return 0.7;
  if (online <= 30) return 0.8;
  if (online <= 40) return 1;
  if (preset === 'SHORT_FAST' || preset === 'SHORT_TURBO') return 1;
  const factor = preset === 'MEDIUM_SLOW' ? 0.04 : preset === 'MEDIUM_FAST' ? 0.02 : preset === 'SHORT_SLOW' ? 0.01 : 0.075;
  return 1 + (online - 40) * factor;
}

/**
 * The firmware modules every node runs whether or not a client is attached (MeshModule::callModules): NodeInfo
 * (announce at boot and every `firmware.nodeInfoBroadcastS`, answer want_response), Position and device Telemetry
 * responders, and Traceroute (each relay appends itself and the SNR it heard, the destination answers). Packets they
 * send carry real protobufs, so a client receives exactly what a firmware node would send.
 */
export class FirmwareModules {
  private nodeInfoTimer: SimEvent | null = null;
  private positionTimer: SimEvent | null = null;
  private telemetryTimer: SimEvent | null = null;
  private lastPositionMs: number | null = null;
  private lastTelemetryMs: number | null = null;
  private lastNodeInfoMs: number | null = null;
  private prevNodeInfoId = 0;
  /** The first announcement after a boot asks for replies (NodeInfoModule's radioGeneration check). */
  private firstAnnouncement = true;

  constructor(private readonly sim: Simulation, private readonly node: SimNode) {}

  /** The node booted: RAM state is fresh and the NodeInfo announcement is scheduled. */
  boot(): void {
    this.halt();
    this.lastNodeInfoMs = null;
    this.firstAnnouncement = true;
    const fw = this.sim.scenario.firmware;
    if (fw.nodeInfoBroadcastS > 0) this.nodeInfoTimer = this.sim.scheduler.schedule(NODEINFO_START_DELAY_MS, () => this.announce());
    this.lastPositionMs = null;
    this.lastTelemetryMs = null;
    if (fw.positionBroadcastS > 0) this.positionTimer = this.sim.scheduler.schedule(POSITION_START_DELAY_MS, () => this.positionRunOnce());
    if (fw.telemetryBroadcastS > 0) this.telemetryTimer = this.sim.scheduler.schedule(TELEMETRY_FIRST_RUN_MS, () => this.telemetryRunOnce());
  }

  halt(): void {
    this.sim.scheduler.cancel(this.nodeInfoTimer);
    this.sim.scheduler.cancel(this.positionTimer);
    this.sim.scheduler.cancel(this.telemetryTimer);
    this.nodeInfoTimer = null;
    this.positionTimer = null;
    this.telemetryTimer = null;
  }

  /**
   * Default::getConfiguredOrDefaultMsScaled: the interval a client configured (or the default: the scenario's, 12 h
   * on a router), times the congestion coefficient of the nodes online, except on routers.
   */
  private broadcastIntervalMs(configuredS: number | undefined, defaultS: number): number {
    const router = this.node.role === 'ROUTER';
    const base = (configuredS || (router ? ROUTER_BROADCAST_S : defaultS)) * 1000;
    if (router) return base;
    const now = this.sim.now;
    let online = 1; // ourselves
    online += this.node.router.nodeDb.countHeardWithin(now, ONLINE_MS);
    return base * congestionScalingCoefficient(online, this.node.phy.preset.name);
  }

  /** isTxAllowedChannelUtil (polite: below 25% channel utilization) and isTxAllowedAirUtil (half the duty cycle). */
  private politeTxAllowed(polite: boolean): boolean {
    const now = this.sim.now;
    const router = this.node.router;
    if (!router.airtime.isTxAllowedChannelUtil(now, polite)) return false;
    const region = this.node.phy.region;
    const fw = this.sim.scenario.firmware;
    return fw.overrideDutyCycle || region.dutyCyclePercent >= 100 || router.airtime.txUtilizationPercent(now) < (region.dutyCyclePercent * POLITE_DUTY_CYCLE_PERCENT) / 100;
  }

  /** PositionModule::runOnce: our position to the mesh every position_broadcast_secs (every node has a fixed position). */
  private positionRunOnce(): void {
    const now = this.sim.now;
    const interval = this.broadcastIntervalMs(storedSettings(this.node)?.config.get('position')?.positionBroadcastSecs, this.sim.scenario.firmware.positionBroadcastS);
    if (this.politeTxAllowed(true) && (this.lastPositionMs === null || now - this.lastPositionMs >= interval)) {
      this.lastPositionMs = now;
      this.broadcast(PortNum.POSITION_APP, this.positionPayload());
    }
    this.positionTimer = this.sim.scheduler.schedule(POSITION_RUNONCE_MS, () => this.positionRunOnce());
  }

  /** DeviceTelemetryModule::runOnce: our DeviceMetrics to the mesh at the first run, then every device_update_interval. */
  private telemetryRunOnce(): void {
    const now = this.sim.now;
    const interval = this.broadcastIntervalMs(storedSettings(this.node)?.moduleConfig.get('telemetry')?.deviceUpdateInterval, this.sim.scenario.firmware.telemetryBroadcastS);
    if ((this.lastTelemetryMs === null || now - this.lastTelemetryMs >= interval) && this.politeTxAllowed(this.node.role !== 'ROUTER')) {
      this.lastTelemetryMs = now;
      this.broadcast(PortNum.TELEMETRY_APP, this.telemetryPayload());
    }
    this.telemetryTimer = this.sim.scheduler.schedule(TELEMETRY_RUNONCE_MS, () => this.telemetryRunOnce());
  }

  private broadcast(portnum: number, payload: Uint8Array): void {
    const p = this.packet(BROADCAST_NUM, portnum, payload);
    p.priority = Priority.BACKGROUND;
    p.onAirBytes = computeOnAirBytes(p);
    this.node.router.sendLocal(p);
  }

  private positionPayload(): Uint8Array {
    const { lat, lon } = this.sim.toLatLon(this.node.x, this.node.y);
    const position = { latitudeI: Math.round(lat * 1e7), longitudeI: Math.round(lon * 1e7), altitude: Math.round(this.node.z), time: this.epochS(), precisionBits: 32 };
    return toBinary(P.Mesh.PositionSchema, create(P.Mesh.PositionSchema, position));
  }

  private telemetryPayload(): Uint8Array {
    const t = create(P.Telemetry.TelemetrySchema, { time: this.epochS(), variant: { case: 'deviceMetrics', value: deviceMetrics(this.sim, this.node) } });
    return toBinary(P.Telemetry.TelemetrySchema, t);
  }

  private announce(): void {
    const node = this.node;
    const region = node.phy.region;
    const fw = this.sim.scenario.firmware;
    const airUtilOk = fw.overrideDutyCycle || region.dutyCyclePercent >= 100 || node.router.airtime.txUtilizationPercent(this.sim.now) < (region.dutyCyclePercent * POLITE_DUTY_CYCLE_PERCENT) / 100;
    if (airUtilOk) this.sendOurNodeInfo(BROADCAST_NUM, this.firstAnnouncement);
    this.firstAnnouncement = false;
    this.nodeInfoTimer = this.sim.scheduler.schedule(fw.nodeInfoBroadcastS * 1000, () => this.announce());
  }

  /** NodeInfoModule::sendOurNodeInfo (also after an owner change, as MeshService::reloadOwner does). */
  sendOurNodeInfo(to: number, wantReplies: boolean): void {
    if (this.prevNodeInfoId) this.node.router.cancelSending(this.node.num, this.prevNodeInfoId, 'replaced');
    const user = this.allocNodeInfo();
    if (!user) return;
    const p = this.packet(to, PortNum.NODEINFO_APP, user);
    p.wantResponse = wantReplies;
    p.priority = Priority.BACKGROUND;
    p.onAirBytes = computeOnAirBytes(p);
    this.prevNodeInfoId = p.id;
    this.node.router.sendLocal(p);
  }

  /** NodeInfoModule::allocReply: our User, unless the channel is busy or we sent it less than 5 minutes ago. */
  private allocNodeInfo(): Uint8Array | null {
    const now = this.sim.now;
    if (!this.node.router.airtime.isTxAllowedChannelUtil(now, false)) return null;
    if (this.lastNodeInfoMs !== null && now - this.lastNodeInfoMs < NODEINFO_MIN_INTERVAL_MS) return null;
    this.lastNodeInfoMs = now;
    const n = this.node;
    return toBinary(
      P.Mesh.UserSchema,
      create(P.Mesh.UserSchema, {
        id: nodeUserId(n.num),
        longName: n.owner.longName,
        shortName: n.owner.shortName,
        hwModel: P.Mesh.HardwareModel.PORTDUINO,
        isLicensed: n.owner.isLicensed,
        role: P.Config.Config_DeviceConfig_Role[n.role],
        publicKey: n.owner.isLicensed ? new Uint8Array(0) : n.publicKey,
      }),
    );
  }

  private packet(to: number, portnum: number, payload: Uint8Array): SimPacket {
    const n = this.node;
    return newPacket({ origin: n.index, from: n.num, to, id: n.router.nextPacketId(), hopLimit: n.hopLimit, portnum, payload, payloadBytes: payload.length });
  }


  /**
   * TraceRouteModule::alterReceivedProtobuf, for every traceroute packet heard (it is promiscuous): note unknown hops,
   * then our SNR and, unless the packet is for us, our node number; towards the destination on a request, back on a
   * reply. Returns the altered copy (what we relay and deliver), or the packet itself.
   */
  alter(p: SimPacket, rxSnr: number): SimPacket {
    if (p.portnum !== PortNum.TRACEROUTE_APP || !p.payload) return p;
    let r: Msg;
    try {
      r = fromBinary(P.Mesh.RouteDiscoverySchema, p.payload);
    } catch {
      return p;
    }
    const towards = p.requestId === 0;
    const route: number[] = towards ? r.route : r.routeBack;
    const snrs: number[] = towards ? r.snrTowards : r.snrBack;
    if (p.hopStart !== 0 && p.hopLimit <= p.hopStart) {
      const hopsTaken = p.hopStart - p.hopLimit;
      while (route.length < hopsTaken && route.length < ROUTE_SIZE) route.push(BROADCAST_NUM);
      while (snrs.length < route.length && snrs.length < ROUTE_SIZE) snrs.push(INT8_MIN);
    }
    if (snrs.length < ROUTE_SIZE) snrs.push(Math.trunc(rxSnr * 4));
    if (p.to !== this.node.num && route.length < ROUTE_SIZE) route.push(this.node.num);
    const payload = toBinary(P.Mesh.RouteDiscoverySchema, r);
    const c: SimPacket = { ...p, payload, payloadBytes: payload.length };
    c.onAirBytes = computeOnAirBytes(c);
    return c;
  }

  /**
   * The rest of MeshModule::callModules for a packet from the mesh: learn from it, and prepare the answer to a
   * want_response request (a reply, or a NO_RESPONSE error when no module serves it). The router sends the answer after
   * its own ACK and relay decisions (RoutingModule runs last), and skips its ACK when a module replied.
   */
  received(p: SimPacket): ModuleAnswer | null {
    const db = this.node.router.nodeDb;
    const known = db.has(p.from);
    if (p.portnum === PortNum.NODEINFO_APP && p.payload && known) {
      const user = learnedUser(p.payload);
      if (user) db.setUser(p.from, user);
    }
    if (p.portnum === PortNum.POSITION_APP && p.payload && p.payload.length > 0 && known) {
      const position = learnedPosition(p.payload);
      if (position) db.setPosition(p.from, position);
    }
    const toUs = isBroadcast(p.to) || p.to === this.node.num;
    if (!p.wantResponse || !toUs || p.from === this.node.num) return null;
    const reply = this.replyTo(p);
    if (reply === 'ignored') return null;
    if (!reply) return { request: p, reply: null };
    const r = this.packet(p.from, p.portnum, reply);
    // MeshModule::setReplyTo
    r.channel = p.channel;
    r.hopLimit = this.node.router.hopLimitForResponse(p.hopStart, p.hopLimit);
    r.requestId = p.id;
    r.wantAck = p.wantAck;
    r.priority = Priority.RESPONSE;
    r.onAirBytes = computeOnAirBytes(r);
    return { request: p, reply: r };
  }

  /** Send what received() prepared. */
  answer(a: ModuleAnswer): void {
    const router = this.node.router;
    const p = a.request;
    if (a.reply) router.sendLocal(a.reply);
    // Nobody answered a request for us: the firmware tells the requester.
    else router.sendAckNak(RoutingError.NO_RESPONSE, p.from, p.id, p.channel, router.hopLimitForResponse(p.hopStart, p.hopLimit));
  }

  /** The module that handles the port answers (payload), declines ('ignored'), or nobody does (null). */
  private replyTo(p: SimPacket): Uint8Array | 'ignored' | null {
    switch (p.portnum) {
      case PortNum.NODEINFO_APP:
        return this.allocNodeInfo() ?? 'ignored';
      case PortNum.POSITION_APP:
        return this.positionPayload();
      case PortNum.TELEMETRY_APP: {
        let req: Msg = null;
        try {
          req = p.payload ? fromBinary(P.Telemetry.TelemetrySchema, p.payload) : null;
        } catch {
          return 'ignored';
        }
        // DeviceTelemetryModule answers a device-metrics request; other telemetry kinds have no module here.
        if (req?.variant?.case !== 'deviceMetrics') return null;
        return this.telemetryPayload();
      }
      case PortNum.TRACEROUTE_APP:
        // A multi-hop broadcast request is ignored; otherwise the (already altered) route goes back.
        if (isBroadcast(p.to) && p.hopLimit < p.hopStart) return 'ignored';
        return p.payload ?? new Uint8Array(0);
      default:
        return null;
    }
  }

  private epochS(): number {
    return this.sim.scenario.startEpochS + Math.floor(this.sim.now / 1000);
  }
}
