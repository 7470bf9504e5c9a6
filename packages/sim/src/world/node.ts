import { lastByteOfNodeNum, type Prng } from '@compotastic/mesh';
import type { SimEvent } from '../engine/event-queue.js';
import { x25519 } from '@noble/curves/ed25519.js';
import type { MeshRouter } from '../mesh/router.js';
import type { FirmwareModules } from '../modules/firmware-modules.js';
import type { RadioPhy } from '../radio/phy.js';
import type { RebroadcastMode, Role, Waypoint } from '../scenario.js';
import type { Battery } from './battery.js';
import type { DeviceClass, DeviceProfile } from './devices.js';

export interface Transmission {
  seq: number;
  sender: SimNode;
  packet: import('../mesh/packet.js').SimPacket;
  startMs: number;
  endMs: number;
  airtimeMs: number;
  /** Its arrivals at the receivers it reaches (indices into the simulation's ArrivalTable). */
  arrivals: number[];
}

export interface NodeRadioStats {
  txPackets: number;
  txAirtimeMs: number;
  rxPackets: number;
  rxAirtimeMs: number;
  relays: number;
  collisions: number;
  duplicates: number;
}

/** Receives what a node's firmware would hand to its phone / application. */
export interface NodeAppListener {
  onPacket?(packet: import('../mesh/packet.js').SimPacket, rxSnr: number, rxRssi: number, viaRadio: boolean): void;
  onStatus?(up: boolean): void;
}

export class SimNode {
  readonly byte: number;
  x: number;
  y: number;
  gridKey = 0;
  up = true;
  bootMs = 0;
  router!: MeshRouter;
  /** The firmware modules it runs (NodeInfo, Position, Telemetry, Traceroute). */
  modules!: FirmwareModules;
  /** Owner names, as a client set them and as NodeInfo announces them. */
  owner: { longName: string; shortName: string; isLicensed: boolean };
  /** Curve25519 key pair (PKI, firmware 2.5+), seeded per node; derived on first use (most large runs never ask). */
  private keyPair: { privateKey: Uint8Array; publicKey: Uint8Array } | null = null;
  /** MyNodeInfo.device_id: 16 bytes, seeded per node. */
  deviceId: Uint8Array = new Uint8Array(16);
  /** Draws for outside interference (created on first use). */
  interferenceRng: Prng | null = null;
  /** The radio setting the node is tuned to (the scenario's unless a client changed it). */
  phy!: RadioPhy;
  battery: Battery | null = null;
  /** Current draw while computing is charged per call. */
  transmitting: Transmission | null = null;
  /** The arrival it is demodulating (an ArrivalTable index), -1 when none. */
  locked = -1;
  readonly stats: NodeRadioStats = { txPackets: 0, txAirtimeMs: 0, rxPackets: 0, rxAirtimeMs: 0, relays: 0, collisions: 0, duplicates: 0 };
  readonly listeners = new Set<NodeAppListener>();
  /** Path followed by a moving node, with speed. */
  path: Waypoint[] | null = null;
  speedMps = 0;
  pathIndex = 0;
  moveTimer: SimEvent | null = null;
  batteryTimer: SimEvent | null = null;
  /** Generates scenario traffic. */
  traffic = true;
  /** Battery level thresholds already reported. */
  batteryFlags = 0;
  upSinceMs = 0;
  upTimeMs = 0;
  /** Moves during the run: kept out of the static neighbour cache. */
  mobile = false;
  /** Identity of each channel slot (`channelIdentities`); null: the factory channels of the node's preset. */
  channelIds: (string | null)[] | null = null;
  /** Static receivers this node's transmissions can reach, with their mean received power (lazily built). */
  neighborNodes: SimNode[] | null = null;
  neighborPowerDbm: Float64Array | null = null;

  constructor(
    readonly index: number,
    readonly num: number,
    readonly name: string,
    x: number,
    y: number,
    readonly z: number,
    public role: Role,
    public rebroadcastMode: RebroadcastMode,
    readonly deviceClass: DeviceClass,
    readonly profile: DeviceProfile,
    public txPowerDbm: number,
    readonly antennaGainDbi: number,
    readonly extraLossDb: number,
    public hopLimit: number,
    readonly rng: Prng,
  ) {
    this.byte = lastByteOfNodeNum(num);
    this.owner = { longName: `Sim ${name}`, shortName: name.slice(-4).padStart(4, '_'), isLicensed: false };
    this.x = x;
    this.y = y;
  }

  private keys(): { privateKey: Uint8Array; publicKey: Uint8Array } {
    if (!this.keyPair) {
      // A derived stream depends only on the node's seed, so the keys are the same whenever they are first read.
      const privateKey = this.rng.derive('pki').bytes(32);
      this.keyPair = { privateKey, publicKey: x25519.getPublicKey(privateKey) };
    }
    return this.keyPair;
  }

  get privateKey(): Uint8Array {
    return this.keys().privateKey;
  }

  get publicKey(): Uint8Array {
    return this.keys().publicKey;
  }
}
