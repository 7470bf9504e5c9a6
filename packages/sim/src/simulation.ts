import {
  BROADCAST_NUM,
  PortNum,
  Prng,
  getModemPreset,
  getRegion,
  type Clock,
  type ModemPreset,
  type Region,
} from '@compotastic/mesh';
import { Scheduler } from './engine/scheduler.js';
import { SimError } from './errors.js';
import { DirectDeliveryTally } from './output/delivery.js';
import { isBroadcast, newPacket, packetKey, ROUTING_ERROR_NAMES, type SimPacket } from './mesh/packet.js';
import { MeshRouter } from './mesh/router.js';
import { FirmwareModules } from './modules/firmware-modules.js';
import { roundTime, type TraceEvent, type TraceSink } from './output/trace.js';
import { LogHistogram, type NodeSummary, type SimSummary } from './output/stats.js';
import { linkNormal, meanPathLossDb, rangeForBudgetM } from './radio/propagation.js';
import { RadioPhy } from './radio/phy.js';
import { SpatialGrid } from './radio/spatial-grid.js';
import { resolveScenario, ROLES, type MoverSpec, type NodeSpec, type ResolvedScenario, type Role, type ScenarioConfig, type TrafficConfig, type Waypoint } from './scenario.js';
import { Battery } from './world/battery.js';
import { IndexSet } from './world/index-set.js';
import { PythonRandom } from './world/python-random.js';
import { assignByFractions, placeNodes } from './world/placement.js';
import { DEVICE_CLASSES, DEVICE_PROFILES, txCurrentMa, type DeviceClass } from './world/devices.js';
import { SimNode, type NodeAppListener, type Transmission } from './world/node.js';
import { ArrivalTable, LOST_BUSY_RX, LOST_CAPTURED, LOST_COLLISION, LOST_HALF_DUPLEX, LOST_NONE, LOST_REASONS } from './radio/arrivals.js';
import { ReceiverArrivals } from './radio/receiver-arrivals.js';

export interface SimulationOptions {
  /** Overrides the scenario's seed. */
  seed?: number;
  /** Receives every trace record. */
  trace?: TraceSink;
  /** Called now and then with simulated progress. */
  onProgress?: (simMs: number, durationMs: number) => void;
}

/** What higher layers may read about a node. */
export interface NodeState {
  num: number;
  index: number;
  name: string;
  x: number;
  y: number;
  lat: number;
  lon: number;
  up: boolean;
  role: Role;
  deviceClass: DeviceClass;
  gops: number;
  ramMb: number;
  batteryPct: number | null;
  ble: boolean;
}

export interface RadioStats {
  channelUtilizationPct: number;
  txUtilizationPct: number;
  txAirtimeMs: number;
  rxAirtimeMs: number;
  txPackets: number;
  rxPackets: number;
  txQueueFree: number;
}

export interface AppSendOptions {
  to?: number;
  portnum: number;
  payload: Uint8Array;
  wantAck?: boolean;
  wantResponse?: boolean;
  hopLimit?: number;
  id?: number;
  requestId?: number;
  replyId?: number;
  channel?: number;
}

interface MessageRecord {
  genMs: number;
  from: number;
  to: number;
  possible: number;
  received: number;
  /** Nodes that got it over the radio (created at the first). */
  seen: IndexSet | null;
}

const BATTERY_CHECK_MAX_MS = 10 * 60 * 1000;
const BLE_CHARACTERISTIC_BYTES = 20;

/**
 * A Meshtastic mesh in simulated time: radios, propagation, collisions, the firmware's routing, nodes that move, drain
 * and drop out, traffic, and hooks for the layers above. Deterministic for a given scenario and seed.
 */
export class Simulation {
  readonly scenario: ResolvedScenario;
  readonly scheduler = new Scheduler();
  readonly preset: ModemPreset;
  readonly region: Region;
  readonly nodes: SimNode[] = [];
  readonly rng: Prng;
  private readonly byNum = new Map<number, SimNode>();
  private readonly byName = new Map<string, SimNode>();
  /** Nodes that never move, and nodes that do: transmissions from static nodes use cached neighbour lists. */
  private readonly grid: SpatialGrid<SimNode>;
  private readonly mobileGrid: SpatialGrid<SimNode>;
  private mobileCount = 0;
  private neighborCachesBuilt = false;
  private readonly traceSink: TraceSink | undefined;
  private readonly onProgress: SimulationOptions['onProgress'];
  /** The scenario's radio setting, which every node starts with. */
  readonly phy: RadioPhy;
  private readonly phys = new Map<string, RadioPhy>();
  /** Lowest interference floor of any setting in use: what the neighbour caches cover. */
  private interferenceFloorDbm: number;
  private readonly linkSeed: number;
  /** Drawn per-link shadowing of the initial nodes (pathLoss.linkOffsets `meshtasticator`), tx-major; null when hashed. */
  private readonly linkOffsetsDb: Float64Array | null;
  private readonly linkOffsetNodes: number;
  private readonly nearScratch: SimNode[] = [];
  private readonly bleCharacteristics = new Map<number, Uint8Array>();
  private txSeq = 0;
  /** Every signal arriving now, at any receiver (recycled: a busy mesh has millions over a run). */
  private readonly arrivalTable = new ArrivalTable();
  /** Each receiver's current arrivals, by node index. */
  private readonly receiverArrivals = new ReceiverArrivals();
  /** Signals delivered to receivers (each one a start and an end at that receiver). */
  arrivalsProcessed = 0;
  /** Set by a real-time driver: brings simulated time up to the wall clock before outside input is handled. */
  externalSync: (() => void) | null = null;
  /** Set by the virtual-time driver: told whenever something was handed to an attached client. */
  clientActivity: (() => void) | null = null;

  // statistics
  private readonly messages = new Map<number, MessageRecord>();
  private readonly delays = new LogHistogram();
  private readonly drops: Record<string, number> = {};
  private readonly acks: Record<string, number> = {};
  private readonly appCounts: Record<string, number> = {};
  private messageCount = 0;
  private upCount = 0;
  private possibleReceptions = 0;
  private uniqueReceptions = 0;
  private receptions = 0;
  private transmissions = 0;
  private collisions = 0;
  private readonly direct = new DirectDeliveryTally();

  constructor(scenario: ScenarioConfig | ResolvedScenario, options: SimulationOptions = {}) {
    const resolved = 'durationMs' in scenario ? scenario : resolveScenario(scenario);
    this.scenario = options.seed === undefined ? resolved : { ...resolved, seed: options.seed };
    if (options.seed !== undefined && (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 0xffffffff)) {
      throw new SimError('INVALID_SEED', `seed must be an integer 0..2^32-1, got ${options.seed}`);
    }
    const sc = this.scenario;
    this.rng = new Prng(sc.seed);
    this.linkSeed = this.rng.derive('links').uint32();
    this.linkOffsetNodes = sc.nodes.list.length + sc.nodes.count;
    this.linkOffsetsDb = sc.pathLoss.linkOffsets === 'meshtasticator' ? drawnLinkOffsets(sc.seed, this.linkOffsetNodes, sc.pathLoss.sigmaDb) : null;
    this.traceSink = options.trace;
    this.onProgress = options.onProgress;
    this.preset = getModemPreset(sc.preset);
    this.region = getRegion(sc.region);
    this.phy = new RadioPhy(this.preset, this.region, sc.noiseFigureDb, sc.captureThresholdDb, sc.sensitivityDbm ?? undefined);
    this.phys.set(this.phy.key, this.phy);
    this.interferenceFloorDbm = this.phy.interferenceFloorDbm;

    const passThrough = sc.events.filter((e) => e.kind === 'pass_through') as Array<Extract<ResolvedScenario['events'][number], { kind: 'pass_through' }>>;
    const range = Math.max(1, this.maxRangeM());
    this.grid = new SpatialGrid<SimNode>(range);
    this.mobileGrid = new SpatialGrid<SimNode>(range);
    this.buildNodes();
    if (this.traceSink) for (const n of this.nodes) this.traceNodeInfo(n);
    this.scheduleScenario(passThrough);
  }

  /** A node's static description, so a trace alone can draw the network. */
  private traceNodeInfo(n: SimNode): void {
    const st = this.nodeState(n.num);
    this.trace({
      t: roundTime(this.now), ev: 'node_info', node: n.num, name: st.name, x: round1(st.x), y: round1(st.y), role: st.role,
      deviceClass: st.deviceClass, gops: st.gops, ramMb: st.ramMb, batteryPct: st.batteryPct === null ? null : Math.round(st.batteryPct * 10) / 10,
      up: st.up,
    });
  }

  get now(): number {
    return this.scheduler.now;
  }

  /** Clock bound to simulated time, for higher layers. */
  get clock(): Clock {
    return this.scheduler.clock;
  }

  get traceEnabled(): boolean {
    return this.traceSink !== undefined;
  }

  // ------------------------------------------------------------------ construction

  /** Longest distance at which a transmission can still matter (reach the interference floor with 4-sigma luck). */
  private maxRangeM(): number {
    const sc = this.scenario;
    const powers = this.scenarioTxPowersDbm();
    const gains = [sc.nodes.antennaGainDbi, ...sc.nodes.list.map((n) => n.antennaGainDbi ?? sc.nodes.antennaGainDbi)];
    const heights = [sc.nodes.heightM, ...sc.nodes.list.map((n) => n.z ?? sc.nodes.heightM)];
    const budget = Math.max(...powers) + 2 * Math.max(...gains) - this.interferenceFloorDbm + 4 * (sc.pathLoss.sigmaDb + sc.pathLoss.fastFadingSigmaDb);
    const h = Math.max(...heights);
    return rangeForBudgetM(sc.pathLoss, budget, h, h);
  }

  private scenarioTxPowersDbm(): number[] {
    const sc = this.scenario;
    const powers = [sc.nodes.txPowerDbm, ...sc.nodes.list.map((n) => n.txPowerDbm ?? sc.nodes.txPowerDbm)];
    for (const e of sc.events) if (e.kind === 'pass_through' && e.txPowerDbm !== undefined) powers.push(e.txPowerDbm);
    return powers;
  }

  /**
   * A client set lora.tx_power: 0 means the region's limit, as in the firmware; the power is clamped to the region's
   * limit and to the scenario's strongest radio (reach stays within the scenario's range). Returns the power applied.
   */
  setTxPower(nodeNum: number, dbm: number): number {
    const node = this.requireNode(nodeNum);
    const limit = Math.min(node.phy.region.powerLimitDbm, Math.max(...this.scenarioTxPowersDbm()));
    const applied = dbm > 0 ? Math.min(dbm, limit) : limit;
    if (applied !== node.txPowerDbm) {
      node.txPowerDbm = applied;
      node.neighborNodes = null;
      node.neighborPowerDbm = null;
    }
    return applied;
  }

  private nodeNumFor(index: number): number {
    // Distinct last bytes for any 255 consecutive nodes, so relay ids rarely collide in small meshes.
    return (0x10000000 + index * 0x100 + ((index % 255) + 1)) >>> 0;
  }

  private buildNodes(): void {
    const sc = this.scenario;
    sc.nodes.list.forEach((spec) => this.addNode(spec));
    const placeRng = this.rng.derive('placement');
    const roles = assignByFractions(sc.nodes.roles, ROLES, sc.nodes.count, this.rng.derive('roles'));
    const classes = assignByFractions(sc.nodes.deviceClasses, DEVICE_CLASSES, sc.nodes.count, this.rng.derive('classes'));
    const positions = placeNodes(sc, sc.nodes.count, placeRng, this.phy.sensitivityDbm);
    const mobileRng = this.rng.derive('mobility');
    const movers = sc.mobility.kind === 'jumps' ? sc.mobility.movers : null;
    for (let i = 0; i < sc.nodes.count; i++) {
      const [x, y] = positions[i] as Waypoint;
      const mover = movers?.find((m) => m.node === i);
      const roams = movers ? mover !== undefined : sc.mobility.fraction > 0 && mobileRng.bool(sc.mobility.fraction);
      const node = this.addNode({ x, y, role: roles[i], deviceClass: classes[i] }, roams);
      if (roams && sc.mobility.kind === 'jumps') this.startJumps(node, mobileRng.fork(), mover);
      else if (roams) this.startRandomWaypoint(node, mobileRng.fork());
    }
  }

  private addNode(spec: NodeSpec, mobile = false): SimNode {
    const sc = this.scenario;
    const index = this.nodes.length;
    const num = this.nodeNumFor(index);
    const deviceClass = spec.deviceClass ?? 'microcontroller';
    const role = spec.role ?? 'CLIENT';
    const name = spec.name ?? `n${index}`;
    if (this.byName.has(name)) throw new SimError('INVALID_SCENARIO', `duplicate node name "${name}"`);
    const node = new SimNode(
      index,
      num,
      name,
      spec.x,
      spec.y,
      spec.z ?? sc.nodes.heightM,
      role,
      spec.rebroadcastMode ?? (role === 'ROUTER' ? 'CORE_PORTNUMS_ONLY' : 'ALL'),
      deviceClass,
      DEVICE_PROFILES[deviceClass],
      spec.txPowerDbm ?? sc.nodes.txPowerDbm,
      spec.antennaGainDbi ?? sc.nodes.antennaGainDbi,
      spec.extraLossDb ?? 0,
      spec.hopLimit ?? sc.hopLimit,
      this.rng.derive(`node:${index}`),
    );
    node.phy = this.phy;
    node.router = new MeshRouter(this, node);
    node.modules = new FirmwareModules(this, node);
    // Seeded identity: the same scenario and seed give every node the same keys (see SimNode) and device id.
    node.deviceId = node.rng.derive('device-id').bytes(16);
    node.traffic = spec.traffic ?? true;
    if (sc.battery.enabled) {
      const init = sc.battery.initialPct;
      const pct = spec.batteryPct ?? (Array.isArray(init) ? node.rng.uniform(init[0], init[1]) : init);
      node.battery = new Battery(spec.batteryMah ?? sc.battery.capacityMah ?? node.profile.batteryMah, pct, node.profile.idleMa + sc.battery.rxMa, this.now);
    }
    this.nodes.push(node);
    this.byNum.set(num, node);
    this.byName.set(name, node);
    node.mobile = mobile || spec.path !== undefined;
    if (node.mobile) {
      this.mobileGrid.insert(node);
      this.mobileCount++;
    } else {
      this.grid.insert(node);
      if (this.neighborCachesBuilt) this.clearNeighborCaches();
    }
    node.bootMs = this.now;
    node.upSinceMs = this.now;
    this.upCount++;
    node.modules.boot();
    if (spec.down) this.setNodeUp(node, false, 'scenario');
    if (spec.path) this.followPath(node, spec.path, spec.speedMps ?? 1.4, false);
    if (node.battery) this.scheduleBatteryCheck(node);
    return node;
  }

  private scheduleScenario(passThrough: Array<Extract<ResolvedScenario['events'][number], { kind: 'pass_through' }>>): void {
    const sc = this.scenario;
    for (const ev of sc.events) {
      this.scheduler.scheduleAt(ev.atS * 1000, () => {
        switch (ev.kind) {
          case 'node_down':
            this.setNodeUp(this.resolveNode(ev.node), false, ev.reason ?? 'scenario');
            break;
          case 'node_up':
            this.setNodeUp(this.resolveNode(ev.node), true, 'scenario');
            break;
          case 'battery_fail': {
            const node = this.resolveNode(ev.node);
            if (node.battery) node.battery.failed = true;
            this.emitBattery(node, 0, 'failed');
            this.setNodeUp(node, false, 'battery_failed');
            break;
          }
          case 'pass_through': {
            const i = passThrough.indexOf(ev);
            const start = ev.path[0] as Waypoint;
            const node = this.addNode({
              name: ev.name ?? `passer${i}`,
              x: start[0],
              y: start[1],
              role: ev.role,
              deviceClass: ev.deviceClass,
              txPowerDbm: ev.txPowerDbm,
            }, true);
            this.traceNodeInfo(node);
            this.trace({ t: roundTime(this.now), ev: 'node_up', node: node.num, reason: 'arrived', x: node.x, y: node.y, deviceClass: node.deviceClass });
            this.followPath(node, ev.path, ev.speedMps, true);
            this.scheduleTrafficFor(node);
            break;
          }
          case 'app':
            this.reportApp(null, ev.type, ev.data ?? null);
            break;
        }
      });
    }
    for (const node of this.nodes) this.scheduleTrafficFor(node);
    const churnRng = this.rng.derive('churn');
    if (sc.availability.churnPerHour > 0) {
      for (const node of this.nodes) {
        if (churnRng.bool(sc.availability.fraction)) this.scheduleChurn(node, churnRng.fork());
      }
    }
  }

  private scheduleTrafficFor(node: SimNode): void {
    this.scenario.traffic.forEach((t, ti) => {
      if (!this.isSender(node, t)) return;
      const rng = node.rng.derive(`traffic:${ti}`);
      const first = t.startS * 1000 + (t.distribution === 'fixed' ? rng.uniform(0, t.periodS * 1000) : rng.exponential(t.periodS * 1000));
      const tick = (): void => {
        this.generateMessage(node, t, rng);
        const next = t.distribution === 'fixed' ? t.periodS * 1000 : rng.exponential(t.periodS * 1000);
        this.scheduler.schedule(next, tick);
      };
      this.scheduler.scheduleAt(this.now + first, tick);
    });
  }

  private isSender(node: SimNode, t: TrafficConfig): boolean {
    if (!node.traffic) return false;
    if (t.senders === 'all') return true;
    if (typeof t.senders[0] === 'number') return (t.senders as number[]).includes(node.index);
    return (t.senders as Role[]).includes(node.role);
  }

  private generateMessage(node: SimNode, t: TrafficConfig, rng: Prng): void {
    if (!node.up) return;
    let to = BROADCAST_NUM;
    if (t.kind === 'direct') {
      if (this.nodes.length < 2) return;
      const k = rng.intBelow(this.nodes.length - 1);
      to = (this.nodes[k >= node.index ? k + 1 : k] as SimNode).num;
    }
    if (t.polite && !node.router.airtime.isTxAllowedChannelUtil(this.now, true)) {
      this.countDrop('polite_skip');
      return;
    }
    this.sendFromApp(node.num, { to, portnum: t.portnum, payload: new Uint8Array(0), wantAck: t.wantAck, hopLimit: t.hopLimit }, t.payloadBytes);
  }

  private scheduleChurn(node: SimNode, rng: Prng): void {
    const av = this.scenario.availability;
    const dropIn = rng.exponential(3_600_000 / av.churnPerHour);
    this.scheduler.schedule(dropIn, () => {
      if (node.up) this.setNodeUp(node, false, 'churn');
      this.scheduler.schedule(rng.exponential(av.meanDownS * 1000), () => {
        if (!node.up && !(node.battery && node.battery.percent(this.now) <= 0)) this.setNodeUp(node, true, 'churn');
        this.scheduleChurn(node, rng);
      });
    });
  }

  // ------------------------------------------------------------------ mobility

  private followPath(node: SimNode, path: Waypoint[], speedMps: number, leaveAtEnd: boolean): void {
    this.scheduler.cancel(node.moveTimer);
    node.path = path;
    node.speedMps = speedMps;
    node.pathIndex = 1;
    const step = this.scenario.mobility.stepS * 1000;
    const advance = (): void => {
      node.moveTimer = null;
      const target = node.path?.[node.pathIndex];
      if (!target) {
        if (leaveAtEnd) {
          this.setNodeUp(node, false, 'left');
          this.gridOf(node).remove(node);
        }
        return;
      }
      let budget = (node.speedMps * step) / 1000;
      let dwellMs = 0;
      while (budget > 0) {
        const tgt = node.path?.[node.pathIndex];
        if (!tgt) break;
        const d = Math.hypot(tgt[0] - node.x, tgt[1] - node.y);
        if (d <= budget) {
          node.x = tgt[0];
          node.y = tgt[1];
          budget -= d;
          node.pathIndex++;
          // A stop on the way (a vehicle parked at an incident): wait there before the next leg.
          dwellMs = (tgt[2] ?? 0) * 1000;
          if (dwellMs > 0) break;
        } else {
          node.x += ((tgt[0] - node.x) * budget) / d;
          node.y += ((tgt[1] - node.y) * budget) / d;
          budget = 0;
        }
      }
      this.gridOf(node).move(node);
      // Positions in the trace let a viewer replay mobile nodes.
      if (this.traceEnabled) this.trace({ t: roundTime(this.now), ev: 'move', node: node.num, x: round1(node.x), y: round1(node.y) });
      node.moveTimer = this.scheduler.schedule(step + dwellMs, advance);
    };
    node.moveTimer = this.scheduler.schedule(step, advance);
  }

  /** Meshtasticator's movement: random jumps, and position broadcasts from nodes with GPS (see MobilityConfig). */
  private startJumps(node: SimNode, rng: Prng, mover?: MoverSpec): void {
    const { widthM: w, heightM: h } = this.scenario.area;
    const mob = this.scenario.mobility;
    const steps = mob.jumpStepsM.length > 0 ? mob.jumpStepsM : [0];
    const gps = mover ? mover.gps : rng.bool(mob.gpsFraction);
    const stepM = mover ? mover.stepM : (steps[rng.intBelow(steps.length)] as number);
    let lastX = node.x;
    let lastY = node.y;
    let lastBroadcastMs = 0;
    const jump = (): void => {
      node.moveTimer = null;
      const angle = 2 * Math.PI * rng.float();
      const dist = stepM * rng.float();
      node.x = Math.min(Math.max(node.x + dist * Math.cos(angle), -w / 2), w / 2);
      node.y = Math.min(Math.max(node.y + dist * Math.sin(angle), -h / 2), h / 2);
      this.gridOf(node).move(node);
      if (this.traceEnabled) this.trace({ t: roundTime(this.now), ev: 'move', node: node.num, x: round1(node.x), y: round1(node.y) });
      const moved = Math.hypot(node.x - lastX, node.y - lastY);
      if (gps && node.up && moved >= mob.positionDistanceM && this.now - lastBroadcastMs >= mob.positionMinIntervalS * 1000 && node.router.airtime.isTxAllowedChannelUtil(this.now, true)) {
        this.sendFromApp(node.num, { portnum: PortNum.POSITION_APP, payload: new Uint8Array(0), wantAck: true }, mob.positionPayloadBytes);
        lastX = node.x;
        lastY = node.y;
        lastBroadcastMs = this.now;
      }
      node.moveTimer = this.scheduler.schedule(rng.exponential(mob.meanJumpIntervalS * 1000), jump);
    };
    node.moveTimer = this.scheduler.schedule(0, jump);
  }

  private startRandomWaypoint(node: SimNode, rng: Prng): void {
    const { widthM: w, heightM: h } = this.scenario.area;
    const mob = this.scenario.mobility;
    const leg = (): void => {
      const target: Waypoint = [rng.uniform(-w / 2, w / 2), rng.uniform(-h / 2, h / 2)];
      const d = Math.hypot(target[0] - node.x, target[1] - node.y);
      this.followPath(node, [[node.x, node.y], target], mob.speedMps, false);
      const travelMs = mob.speedMps > 0 ? (d / mob.speedMps) * 1000 : 0;
      this.scheduler.schedule(travelMs + mob.stepS * 1000 + rng.exponential(mob.pauseS * 1000), leg);
    };
    this.scheduler.schedule(rng.exponential(mob.pauseS * 1000), leg);
  }

  // ------------------------------------------------------------------ availability and power

  /** Power a node off or on. Off loses all volatile state (queues, history) as a reboot would; the node DB survives. */
  setNodeUp(node: SimNode, up: boolean, reason: string): void {
    if (node.up === up) return;
    node.up = up;
    this.upCount += up ? 1 : -1;
    if (up) {
      node.bootMs = this.now;
      node.upSinceMs = this.now;
      node.battery?.setBaseDraw(this.now, node.profile.idleMa + this.scenario.battery.rxMa);
      if (node.battery) this.scheduleBatteryCheck(node);
      node.modules.boot();
    } else {
      node.upTimeMs += this.now - node.upSinceMs;
      node.router.reset();
      node.modules.halt();
      if (node.locked >= 0) {
        this.arrivalTable.locked[node.locked] = 0;
        node.locked = -1;
      }
      node.battery?.setBaseDraw(this.now, 0);
    }
    this.trace({ t: roundTime(this.now), ev: up ? 'node_up' : 'node_down', node: node.num, reason, x: round1(node.x), y: round1(node.y) });
    for (const l of node.listeners) l.onStatus?.(up);
  }

  private scheduleBatteryCheck(node: SimNode): void {
    const b = node.battery;
    if (!b) return;
    const sc = this.scenario.battery;
    const thresholds = [sc.lowPct, sc.criticalPct, 0];
    const nextIdx = thresholds.findIndex((_, i) => !(node.batteryFlags & (1 << i)));
    if (nextIdx < 0) return;
    const wait = Math.min(b.msUntilPercent(this.now, thresholds[nextIdx] as number), BATTERY_CHECK_MAX_MS);
    this.scheduler.cancel(node.batteryTimer);
    node.batteryTimer = this.scheduler.schedule(Math.max(wait, 1), () => this.checkBattery(node));
  }

  private checkBattery(node: SimNode): void {
    this.scheduler.cancel(node.batteryTimer);
    node.batteryTimer = null;
    const b = node.battery;
    if (!b || !node.up) return;
    const pct = b.percent(this.now);
    const sc = this.scenario.battery;
    const levels: Array<[number, string]> = [
      [sc.lowPct, 'low'],
      [sc.criticalPct, 'critical'],
      [0, 'depleted'],
    ];
    levels.forEach(([level, state], i) => {
      if (!(node.batteryFlags & (1 << i)) && pct <= level) {
        node.batteryFlags |= 1 << i;
        this.emitBattery(node, pct, state);
      }
    });
    if (pct <= 0) {
      this.setNodeUp(node, false, 'battery_depleted');
      return;
    }
    this.scheduleBatteryCheck(node);
  }

  private emitBattery(node: SimNode, pct: number, state: string): void {
    this.trace({ t: roundTime(this.now), ev: 'battery', node: node.num, pct: Math.round(pct * 10) / 10, state });
  }

  // ------------------------------------------------------------------ radio channel

  /** Firmware whole-ms packet time for a PHY payload length, with the scenario's radio setting. */
  packetTimeMs(onAirBytes: number): number {
    return this.phy.packetTimeMs(onAirBytes);
  }

  /** Exact time on air, ms, with the scenario's radio setting. */
  airtimeMs(onAirBytes: number): number {
    return this.phy.airtimeMs(onAirBytes);
  }

  /**
   * Retune a node (a client set its LoRa region or modem preset): from now on it hears, and is heard by, only nodes
   * with the same setting, and its packets take that setting's time on air. Reach stays within the scenario
   * preset's range.
   */
  setRadio(nodeNum: number, presetName: string, regionName: string): void {
    const node = this.requireNode(nodeNum);
    const preset = getModemPreset(presetName);
    const region = getRegion(regionName);
    const key = RadioPhy.keyOf(preset, region);
    let phy = this.phys.get(key);
    if (!phy) {
      phy = new RadioPhy(preset, region, this.scenario.noiseFigureDb, this.scenario.captureThresholdDb);
      this.phys.set(key, phy);
      if (phy.interferenceFloorDbm < this.interferenceFloorDbm) {
        this.interferenceFloorDbm = phy.interferenceFloorDbm;
        this.clearNeighborCaches();
      }
    }
    node.phy = phy;
  }

  /** Mean received power (before per-packet fading) from tx at rx, dBm. */
  receivedPowerDbm(tx: SimNode, rx: SimNode): number {
    const sc = this.scenario;
    const d = Math.hypot(tx.x - rx.x, tx.y - rx.y);
    let loss = meanPathLossDb(sc.pathLoss, d, tx.z, rx.z) + sc.extraLossDb + tx.extraLossDb + rx.extraLossDb;
    if (sc.pathLoss.sigmaDb > 0) loss += this.linkOffsetDb(tx.index, rx.index);
    return tx.txPowerDbm + tx.antennaGainDbi + rx.antennaGainDbi - loss;
  }

  /** A directed link's static shadowing, dB (nodes added after the start, such as passers-by, take the hashed draw). */
  private linkOffsetDb(txIndex: number, rxIndex: number): number {
    const n = this.linkOffsetNodes;
    if (this.linkOffsetsDb && txIndex < n && rxIndex < n) return this.linkOffsetsDb[txIndex * n + rxIndex] as number;
    return this.scenario.pathLoss.sigmaDb * linkNormal(this.linkSeed, txIndex, rxIndex);
  }

  isTransmitting(node: SimNode): boolean {
    return node.transmitting !== null;
  }

  isActivelyReceiving(node: SimNode): boolean {
    return node.locked >= 0;
  }

  /** Channel activity detection: a preamble/packet strong enough for CAD that started at least a CAD period ago. */
  isChannelActive(node: SimNode): boolean {
    const now = this.now;
    const busy = this.scenario.interference.cadBusyProbability;
    // Outside traffic, drawn from a stream of its own so the mesh's other random choices stay put.
    if (busy > 0 && (node.interferenceRng ??= node.rng.derive('interference')).float() < busy) return true;
    const t = this.arrivalTable;
    const lists = this.receiverArrivals;
    const items = lists.items;
    for (let i = lists.start(node.index), end = i + lists.count(node.index); i < end; i++) {
      const a = items[i] as number;
      if ((t.power[a] as number) >= node.phy.cadThresholdDbm && now >= (t.start[a] as number) + node.phy.cadMs) return true;
    }
    return false;
  }

  startTransmission(sender: SimNode, p: SimPacket): void {
    const now = this.now;
    const airtime = sender.phy.airtimeMs(p.onAirBytes);
    const tx: Transmission = { seq: this.txSeq++, sender, packet: p, startMs: now, endMs: now + airtime, airtimeMs: airtime, arrivals: [] };
    sender.transmitting = tx;
    sender.stats.txPackets++;
    sender.stats.txAirtimeMs += airtime;
    if (p.from !== sender.num) sender.stats.relays++;
    sender.router.airtime.logTx(now, sender.phy.packetTimeMs(p.onAirBytes));
    sender.battery?.charge(now, txCurrentMa(sender.txPowerDbm), airtime);
    this.transmissions++;
    if (sender.locked >= 0) this.arrivalTable.lose(sender.locked, LOST_HALF_DUPLEX, -1, 0);
    if (this.traceSink) this.trace({
      t: roundTime(now),
      ev: 'tx_start',
      node: sender.num,
      from: p.from,
      id: p.id,
      to: p.to,
      hopLimit: p.hopLimit,
      hopStart: p.hopStart,
      port: p.portnum,
      bytes: p.onAirBytes,
      relay: p.relayNode,
      nextHop: p.nextHop,
      wantAck: p.wantAck,
      airtimeMs: roundTime(airtime),
    });
    if (!sender.mobile) {
      const nodes = this.neighborCache(sender);
      const powers = sender.neighborPowerDbm as Float64Array;
      for (let i = 0; i < nodes.length; i++) {
        const rx = nodes[i] as SimNode;
        if (rx.up) this.offer(tx, rx, powers[i] as number);
      }
    } else {
      for (const rx of this.grid.near(sender.x, sender.y, this.nearScratch)) if (rx.up) this.offer(tx, rx, this.receivedPowerDbm(sender, rx));
    }
    if (this.mobileCount > 0) {
      for (const rx of this.mobileGrid.near(sender.x, sender.y, this.nearScratch)) {
        if (rx !== sender && rx.up) this.offer(tx, rx, this.receivedPowerDbm(sender, rx));
      }
    }
    this.scheduler.schedule(airtime, this.endTransmissionFn, tx);
  }

  private readonly endTransmissionFn = (tx: unknown): void => this.endTransmission(tx as Transmission);

  private gridOf(node: SimNode): SpatialGrid<SimNode> {
    return node.mobile ? this.mobileGrid : this.grid;
  }

  private clearNeighborCaches(): void {
    for (const n of this.nodes) {
      n.neighborNodes = null;
      n.neighborPowerDbm = null;
    }
  }

  /** Static nodes a static sender can affect, with mean received power; computed once per sender. */
  private neighborCache(sender: SimNode): SimNode[] {
    if (sender.neighborNodes) return sender.neighborNodes;
    this.neighborCachesBuilt = true;
    const margin = 3 * this.scenario.pathLoss.fastFadingSigmaDb;
    const nodes: SimNode[] = [];
    const powers: number[] = [];
    for (const rx of this.grid.near(sender.x, sender.y, this.nearScratch)) {
      if (rx === sender) continue;
      const p = this.receivedPowerDbm(sender, rx);
      if (p + margin >= this.interferenceFloorDbm) {
        nodes.push(rx);
        powers.push(p);
      }
    }
    // Stable order (by index) so results do not depend on grid bookkeeping.
    const order = nodes.map((_, i) => i).sort((a, b) => (nodes[a] as SimNode).index - (nodes[b] as SimNode).index);
    sender.neighborNodes = order.map((i) => nodes[i] as SimNode);
    sender.neighborPowerDbm = Float64Array.from(order.map((i) => powers[i] as number));
    return sender.neighborNodes;
  }

  /** A transmission reaching a receiver with the given mean power. */
  private offer(tx: Transmission, rx: SimNode, meanPowerDbm: number): void {
    if (rx.phy !== tx.sender.phy) return;
    const fading = this.scenario.pathLoss.fastFadingSigmaDb;
    const power = fading > 0 ? meanPowerDbm + fading * tx.sender.rng.gaussian() : meanPowerDbm;
    if (power < rx.phy.interferenceFloorDbm) return;
    const p = tx.packet;
    const a = this.arrivalTable.alloc(rx.index, power, tx.startMs + rx.phy.criticalOffsetMs, tx.startMs, tx.endMs, p.from, p.id);
    this.arrivalsProcessed++;
    this.arrive(rx, a);
    tx.arrivals.push(a);
  }

  /** Collision and capture rules for a signal (an ArrivalTable index) starting at a receiver. */
  private arrive(rx: SimNode, a: number): void {
    const t = this.arrivalTable;
    const capture = this.scenario.captureThresholdDb;
    const locked = rx.locked;
    const power = t.power[a] as number;
    const decodable = power >= rx.phy.sensitivityDbm;
    const canCapture = this.scenario.captureRule === 'anytime' || (locked >= 0 && this.now < (t.critical[locked] as number));
    if (decodable && !rx.transmitting && locked >= 0 && canCapture && power >= (t.power[locked] as number) + capture) {
      // A much stronger frame arriving during the preamble (or at any time, with captureRule 'anytime'): the receiver
      // re-synchronises on it.
      t.lose(locked, LOST_CAPTURED, t.from[a] as number, t.id[a] as number);
      t.locked[locked] = 0;
      this.lock(rx, a);
    } else {
      if (locked >= 0 && (t.end[a] as number) > (t.critical[locked] as number) && (t.power[locked] as number) - power < capture) {
        t.lose(locked, LOST_COLLISION, t.from[a] as number, t.id[a] as number);
      }
      if (decodable) {
        if (rx.transmitting) t.lose(a, LOST_HALF_DUPLEX, -1, 0);
        else if (locked < 0) this.lock(rx, a);
        else t.lose(a, LOST_BUSY_RX, t.from[locked] as number, t.id[locked] as number);
      }
    }
    t.slot[a] = this.receiverArrivals.push(rx.index, a);
  }

  private lock(rx: SimNode, a: number): void {
    const t = this.arrivalTable;
    t.locked[a] = 1;
    rx.locked = a;
    const capture = this.scenario.captureThresholdDb;
    const critical = t.critical[a] as number;
    const power = t.power[a] as number;
    const lists = this.receiverArrivals;
    const items = lists.items;
    for (let i = lists.start(rx.index), end = i + lists.count(rx.index); i < end; i++) {
      const x = items[i] as number;
      if ((t.end[x] as number) > critical && power - (t.power[x] as number) < capture) t.lose(a, LOST_COLLISION, t.from[x] as number, t.id[x] as number);
    }
  }

  private endTransmission(tx: Transmission): void {
    const sender = tx.sender;
    if (sender.transmitting === tx) sender.transmitting = null;
    const p = tx.packet;
    if (this.traceSink) this.trace({ t: roundTime(this.now), ev: 'tx_end', node: sender.num, from: p.from, id: p.id });
    const t = this.arrivalTable;
    const nodes = this.nodes;
    const lists = this.receiverArrivals;
    for (const a of tx.arrivals) {
      const r = t.rx[a] as number;
      // Swap-remove by the slot the arrival remembers (searching the list read every arrival's memory).
      const i = t.slot[a] as number;
      const moved = lists.removeAt(r, i, a);
      if (moved >= 0) t.slot[moved] = i;
      const wasLocked = t.locked[a] === 1;
      // Most arrivals were never demodulated nor lost (too weak to decode, there only as interference): nothing more
      // to do, and the receiver's node object stays out of the cache.
      if (!wasLocked && t.lost[a] === LOST_NONE) continue;
      const rx = nodes[r] as SimNode;
      if (wasLocked) {
        t.locked[a] = 0;
        if (rx.locked === a) rx.locked = -1;
      }
      if (!rx.up) continue;
      const lost = t.lost[a] as number;
      if (wasLocked) rx.router.airtime.logRx(this.now, rx.phy.packetTimeMs(p.onAirBytes));
      if (lost === LOST_NONE && wasLocked) {
        this.receive(rx, tx, t.power[a] as number);
      } else if (lost !== LOST_NONE) {
        this.recordLoss(rx, tx, lost, t.lostFrom[a] as number, t.lostId[a] as number);
      }
      if (wasLocked) rx.router.setTransmitDelay();
    }
    for (const a of tx.arrivals) t.release(a);
    tx.arrivals.length = 0;
    if (sender.up) sender.router.onTransmitDone();
  }

  private receive(rx: SimNode, tx: Transmission, powerDbm: number): void {
    const p = tx.packet;
    const snr = Math.min(powerDbm - rx.phy.noiseFloorDbm, this.scenario.snrCeilingDb);
    const rssi = Math.round(powerDbm);
    const snrQ = Math.round(snr * 4) / 4;
    rx.stats.rxPackets++;
    rx.stats.rxAirtimeMs += tx.airtimeMs;
    this.receptions++;
    if (this.traceSink) this.trace({ t: roundTime(this.now), ev: 'rx', node: rx.num, from: p.from, id: p.id, sender: tx.sender.num, rssi, snr: snrQ, hopLimit: p.hopLimit });
    const processing = this.scenario.latency.processingMs;
    if (processing > 0) this.scheduler.schedule(processing, () => rx.up && rx.router.onRadioReceive(p, snrQ, rssi));
    else rx.router.onRadioReceive(p, snrQ, rssi);
  }

  /** A signal lost at its receiver for `lost` (a LOST_ code), to the packet (lostFrom, lostId), lostFrom -1 if none. */
  private recordLoss(rx: SimNode, tx: Transmission, lost: number, lostFrom: number, lostId: number): void {
    const reason = LOST_REASONS[lost] as string;
    const p = tx.packet;
    if (lost === LOST_COLLISION || lost === LOST_CAPTURED) {
      this.collisions++;
      rx.stats.collisions++;
      const other = lostFrom >= 0;
      if (this.traceSink) this.trace({ t: roundTime(this.now), ev: 'collision', node: rx.num, from: p.from, id: p.id, sender: tx.sender.num, reason, withFrom: other ? lostFrom : null, withId: other ? lostId : null });
    }
    this.countDrop(reason);
    if (this.traceSink) this.trace({ t: roundTime(this.now), ev: 'drop', node: rx.num, from: p.from, id: p.id, reason });
  }

  // ------------------------------------------------------------------ trace helpers used by the routers

  trace(e: TraceEvent): void {
    if (this.traceSink) this.traceSink(e);
  }

  private countDrop(reason: string): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }

  traceDrop(node: SimNode, p: SimPacket, reason: string): void {
    this.countDrop(reason);
    if (this.traceSink) this.traceSink({ t: roundTime(this.now), ev: 'drop', node: node.num, from: p.from, id: p.id, reason });
  }

  traceCad(node: SimNode): void {
    if (this.traceSink) this.traceSink({ t: roundTime(this.now), ev: 'cad_busy', node: node.num });
  }

  traceAck(node: SimNode, from: number, id: number, kind: string, error: number): void {
    const key = error === 0 ? kind : `${kind}:${ROUTING_ERROR_NAMES[error] ?? error}`;
    this.acks[key] = (this.acks[key] ?? 0) + 1;
    if (this.traceSink) this.traceSink({ t: roundTime(this.now), ev: 'ack', node: node.num, from, id, kind, error: ROUTING_ERROR_NAMES[error] ?? error });
  }

  traceRetransmit(node: SimNode, p: SimPacket, left: number): void {
    if (this.traceSink) this.traceSink({ t: roundTime(this.now), ev: 'retransmit', node: node.num, from: p.from, id: p.id, left });
  }

  traceDuplicate(node: SimNode, p: SimPacket): void {
    node.stats.duplicates++;
    if (this.traceSink) this.traceSink({ t: roundTime(this.now), ev: 'duplicate', node: node.num, from: p.from, id: p.id });
  }

  traceRelay(node: SimNode, p: SimPacket): void {
    if (this.traceSink) this.traceSink({ t: roundTime(this.now), ev: 'relay', node: node.num, from: p.from, id: p.id, hopLimit: p.hopLimit });
  }

  // ------------------------------------------------------------------ application side

  /** Called by a router for every packet its application / phone gets. */
  deliverToApp(node: SimNode, p: SimPacket, rxSnr: number, rxRssi: number, viaRadio: boolean): void {
    if (viaRadio) {
      const rec = this.messages.get(packetKey(p.origin, p.id));
      if (rec && node.num !== rec.from) {
        rec.seen ??= new IndexSet();
        if (rec.seen.add(node.index)) {
          rec.received++;
          this.uniqueReceptions++;
          const delay = this.now - rec.genMs;
          this.delays.add(delay);
          this.direct.received(packetKey(p.origin, p.id), node.num);
          const hops = p.hopStart !== 0 ? p.hopStart - p.hopLimit : null;
          if (this.traceSink) this.trace({ t: roundTime(this.now), ev: 'deliver', node: node.num, from: p.from, id: p.id, hopsAway: hops, delayMs: roundTime(delay) });
        }
      }
    }
    for (const l of node.listeners) l.onPacket?.(p, rxSnr, rxRssi, viaRadio);
  }

  /**
   * Send a packet from a node's application (as its phone would). `payloadBytes` lets synthetic traffic skip real
   * payload bytes. Returns the packet id, or throws SimError when the node is unknown.
   */
  sendFromApp(nodeNum: number, opts: AppSendOptions, payloadBytes?: number): { id: number; error: number } {
    const node = this.requireNode(nodeNum);
    const to = opts.to ?? BROADCAST_NUM;
    const p = newPacket({
      origin: node.index,
      from: node.num,
      to,
      id: opts.id ?? 0,
      hopLimit: opts.hopLimit ?? node.hopLimit,
      wantAck: opts.wantAck ?? false,
      channel: opts.channel ?? 0,
      portnum: opts.portnum,
      payload: payloadBytes === undefined ? opts.payload : null,
      payloadBytes: payloadBytes ?? opts.payload.length,
      wantResponse: opts.wantResponse ?? false,
      requestId: opts.requestId ?? 0,
      replyId: opts.replyId ?? 0,
    });
    if (p.id === 0) p.id = node.router.nextPacketId();
    if (to !== node.num) {
      const possible = isBroadcast(to) ? Math.max(0, this.upCount - 1) : 1;
      this.messages.set(packetKey(p.origin, p.id), { genMs: this.now, from: p.from, to, possible, received: 0, seen: null });
      this.messageCount++;
      this.possibleReceptions += possible;
      this.direct.generated(packetKey(p.origin, p.id), to);
      this.trace({ t: roundTime(this.now), ev: 'gen', node: node.num, from: p.from, id: p.id, to, port: p.portnum, bytes: p.payloadBytes, wantAck: p.wantAck });
    }
    const error = node.router.sendLocal(p);
    return { id: p.id, error };
  }

  /** Record an application event in the trace. */
  reportApp(nodeNum: number | null, type: string, data: unknown = null): void {
    this.appCounts[type] = (this.appCounts[type] ?? 0) + 1;
    this.trace({ t: roundTime(this.now), ev: 'app', node: nodeNum, type, data });
  }

  /** Simulation index of a node number, or -1. */
  indexOfNum(nodeNum: number): number {
    const n = this.byNum.get(nodeNum);
    return n ? n.index : -1;
  }

  requireNode(nodeNum: number): SimNode {
    const n = this.byNum.get(nodeNum);
    if (!n) throw new SimError('UNKNOWN_NODE', `no node with number ${nodeNum}`);
    return n;
  }

  /** Find a node by index, name or node number. */
  resolveNode(ref: number | string): SimNode {
    if (typeof ref === 'string') {
      const n = this.byName.get(ref);
      if (!n) throw new SimError('UNKNOWN_NODE', `no node named "${ref}"`);
      return n;
    }
    const n = this.nodes[ref] ?? this.byNum.get(ref);
    if (!n) throw new SimError('UNKNOWN_NODE', `no node ${ref}`);
    return n;
  }

  nodeState(nodeNum: number): NodeState {
    const n = this.requireNode(nodeNum);
    const { lat, lon } = this.toLatLon(n.x, n.y);
    return {
      num: n.num,
      index: n.index,
      name: n.name,
      x: n.x,
      y: n.y,
      lat,
      lon,
      up: n.up,
      role: n.role,
      deviceClass: n.deviceClass,
      gops: n.profile.gops,
      ramMb: n.profile.ramMb,
      batteryPct: n.battery ? n.battery.percent(this.now) : null,
      ble: n.profile.ble,
    };
  }

  /** Local metres to latitude/longitude around the scenario origin (equirectangular; fine over tens of km). */
  toLatLon(x: number, y: number): { lat: number; lon: number } {
    const o = this.scenario.origin;
    const lat = o.lat + (y / 6_371_000) * (180 / Math.PI);
    const lon = o.lon + (x / (6_371_000 * Math.cos((o.lat * Math.PI) / 180))) * (180 / Math.PI);
    return { lat, lon };
  }

  radioStats(nodeNum: number): RadioStats {
    const n = this.requireNode(nodeNum);
    return {
      channelUtilizationPct: n.router.airtime.channelUtilizationPercent(this.now),
      txUtilizationPct: n.router.airtime.txUtilizationPercent(this.now),
      txAirtimeMs: n.stats.txAirtimeMs,
      rxAirtimeMs: n.stats.rxAirtimeMs,
      txPackets: n.stats.txPackets,
      rxPackets: n.stats.rxPackets,
      txQueueFree: n.router.queueFree,
    };
  }

  /** Charge `ms` of compute to a node's battery; returns the level afterwards (null without a battery model). */
  consumeCompute(nodeNum: number, ms: number): number | null {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new SimError('INVALID_ARGUMENT', `compute time must be a non-negative number of ms, got ${ms}`);
    const n = this.requireNode(nodeNum);
    if (!n.up) throw new SimError('NODE_DOWN', `node ${nodeNum} is down`);
    this.trace({ t: roundTime(this.now), ev: 'compute', node: n.num, ms: roundTime(ms) });
    if (!n.battery) return null;
    n.battery.charge(this.now, n.profile.computeMa, ms);
    const pct = n.battery.percent(this.now);
    if (pct <= 0) this.checkBattery(n);
    return pct;
  }

  addListener(nodeNum: number, listener: NodeAppListener): () => void {
    const n = this.requireNode(nodeNum);
    n.listeners.add(listener);
    return () => n.listeners.delete(listener);
  }

  /** Nodes within BLE range of a node right now (both up and BLE-capable). */
  bleNeighbors(nodeNum: number): number[] {
    const n = this.requireNode(nodeNum);
    if (!n.up || !n.profile.ble) return [];
    const r = this.scenario.ble.rangeM;
    return [...this.grid.near(n.x, n.y, []), ...this.mobileGrid.near(n.x, n.y, [])]
      .filter((o) => o !== n && o.up && o.profile.ble && Math.hypot(o.x - n.x, o.y - n.y) <= r)
      .sort((a, b) => a.index - b.index)
      .map((o) => o.num);
  }

  /** Publish the 20-byte characteristic a node serves to BLE reads. */
  setBleCharacteristic(nodeNum: number, value: Uint8Array): void {
    this.requireNode(nodeNum);
    if (value.length > BLE_CHARACTERISTIC_BYTES) throw new SimError('INVALID_ARGUMENT', `a BLE characteristic holds at most ${BLE_CHARACTERISTIC_BYTES} bytes`);
    this.bleCharacteristics.set(nodeNum, value.slice());
  }

  /**
   * Default characteristic: [1, device class index, battery % (255 = none), role index, gops float32 LE,
   * RAM MB uint32 LE, 8 zero bytes].
   */
  defaultBleCharacteristic(nodeNum: number): Uint8Array {
    const n = this.requireNode(nodeNum);
    const out = new Uint8Array(BLE_CHARACTERISTIC_BYTES);
    const view = new DataView(out.buffer);
    out[0] = 1;
    out[1] = DEVICE_CLASSES.indexOf(n.deviceClass);
    out[2] = n.battery ? Math.round(n.battery.percent(this.now)) : 255;
    out[3] = ROLES.indexOf(n.role);
    view.setFloat32(4, n.profile.gops, true);
    view.setUint32(8, Math.round(n.profile.ramMb), true);
    return out;
  }

  /** Read a neighbour's characteristic over BLE: resolves after connection + read latency, in simulated time. */
  bleRead(fromNum: number, toNum: number, onResult: (value: Uint8Array | null, error?: SimError) => void): void {
    const from = this.requireNode(fromNum);
    const to = this.requireNode(toNum);
    const ble = this.scenario.ble;
    const latency = ble.connectMs + ble.readMs + from.rng.uniform(0, ble.readMs);
    this.scheduler.schedule(latency, () => {
      const inRange = from.up && to.up && from.profile.ble && to.profile.ble && Math.hypot(from.x - to.x, from.y - to.y) <= ble.rangeM;
      this.trace({ t: roundTime(this.now), ev: 'ble_read', node: from.num, peer: to.num, ok: inRange });
      if (!inRange) onResult(null, new SimError('BLE_OUT_OF_RANGE', `node ${toNum} is not within BLE range of ${fromNum}`));
      else onResult(this.bleCharacteristics.get(toNum) ?? this.defaultBleCharacteristic(toNum));
    });
  }

  /** Bring simulated time up to date before handling input from outside (real-time mode only). */
  syncExternal(): void {
    this.externalSync?.();
  }

  /** Something was delivered to an attached client (virtual-time mode lets its promises settle). */
  notifyClientActivity(): void {
    this.clientActivity?.();
  }

  // ------------------------------------------------------------------ running

  /** Run until `untilMs` (default: the scenario's duration). */
  run(untilMs = this.scenario.durationMs): void {
    const progressEvery = 50_000;
    let nextProgress = this.scheduler.eventsProcessed + progressEvery;
    while (this.scheduler.nextEventTime() <= untilMs) {
      this.scheduler.step();
      if (this.onProgress && this.scheduler.eventsProcessed >= nextProgress) {
        nextProgress += progressEvery;
        this.onProgress(this.now, untilMs);
      }
    }
    if (untilMs > this.now) this.scheduler.runUntil(untilMs);
    this.onProgress?.(this.now, untilMs);
  }

  summary(): SimSummary {
    const now = this.now;
    const perNode: NodeSummary[] = this.nodes.map((n) => {
      const upMs = n.upTimeMs + (n.up ? now - n.upSinceMs : 0);
      return {
        num: n.num,
        name: n.name,
        role: n.role,
        deviceClass: n.deviceClass,
        x: round1(n.x),
        y: round1(n.y),
        up: n.up,
        batteryPct: n.battery ? Math.round(n.battery.percent(now) * 10) / 10 : null,
        txPackets: n.stats.txPackets,
        txAirtimeMs: roundTime(n.stats.txAirtimeMs),
        rxPackets: n.stats.rxPackets,
        rxAirtimeMs: roundTime(n.stats.rxAirtimeMs),
        relays: n.stats.relays,
        collisions: n.stats.collisions,
        channelUtilizationPct: upMs > 0 ? round2(((n.stats.txAirtimeMs + n.stats.rxAirtimeMs) / upMs) * 100) : 0,
        reachabilityPct: null,
      };
    });
    const perSender = new Map<number, { possible: number; received: number }>();
    for (const m of this.messages.values()) {
      const s = perSender.get(m.from) ?? { possible: 0, received: 0 };
      s.possible += m.possible;
      s.received += m.received;
      perSender.set(m.from, s);
    }
    for (const ns of perNode) {
      const s = perSender.get(ns.num);
      if (s && s.possible > 0) ns.reachabilityPct = round2((s.received / s.possible) * 100);
    }
    const utils = perNode.map((n) => n.channelUtilizationPct);
    const totalTx = this.nodes.reduce((s, n) => s + n.stats.txAirtimeMs, 0);
    return {
      scenario: this.scenario.name,
      seed: this.scenario.seed,
      preset: this.scenario.preset,
      region: this.scenario.region,
      nodes: this.nodes.length,
      durationS: round2(now / 1000),
      events: this.scheduler.eventsProcessed,
      messages: this.messageCount,
      reachabilityPct: this.possibleReceptions ? round2((this.uniqueReceptions / this.possibleReceptions) * 100) : 0,
      usefulnessPct: this.receptions ? round2((this.uniqueReceptions / this.receptions) * 100) : 0,
      directMessages: this.direct.summary(),
      transmissions: this.transmissions,
      receptions: this.receptions,
      collisions: this.collisions,
      drops: { ...this.drops },
      acks: { ...this.acks },
      delayMs: { mean: round2(this.delays.mean()), p50: round2(this.delays.quantile(0.5)), p95: round2(this.delays.quantile(0.95)), max: round2(this.delays.max) },
      channelUtilizationPct: { mean: utils.length ? round2(utils.reduce((a, b) => a + b, 0) / utils.length) : 0, max: utils.length ? Math.max(...utils) : 0 },
      airtime: { totalTxMs: roundTime(totalTx), meanTxPerNodeMs: this.nodes.length ? roundTime(totalTx / this.nodes.length) : 0 },
      nodesUpAtEnd: this.nodes.filter((n) => n.up).length,
      appEvents: { ...this.appCounts },
      perNode,
    };
  }
}

/** Meshtasticator's per-link offsets: gauss(0, sigma) for each (tx, rx), tx != rx, tx-major, from Python's Random(seed). */
function drawnLinkOffsets(seed: number, n: number, sigmaDb: number): Float64Array {
  const py = new PythonRandom(seed);
  const out = new Float64Array(n * n);
  for (let tx = 0; tx < n; tx++) for (let rx = 0; rx < n; rx++) if (tx !== rx) out[tx * n + rx] = py.gauss(0, sigmaDb);
  return out;
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
