import { isModemPresetName, MAX_HOP_LIMIT, REGIONS } from '@compotastic/mesh';
import { Protobuf } from '@meshtastic/core';
import type { SimEvent } from '../engine/event-queue.js';
import { channelIdentities } from '../mesh/channels.js';
import { RoutingError } from '../mesh/packet.js';
import type { RebroadcastMode, Role } from '../scenario.js';
import type { Simulation } from '../simulation.js';
import type { SimNode } from '../world/node.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = any;
const P = Protobuf as Msg;

export const CONFIG_CASES = ['device', 'position', 'power', 'network', 'display', 'lora', 'bluetooth', 'security', 'sessionkey', 'deviceUi'] as const;
export const MODULE_CONFIG_CASES = [
  'mqtt',
  'serial',
  'externalNotification',
  'storeForward',
  'rangeTest',
  'telemetry',
  'cannedMessage',
  'audio',
  'remoteHardware',
  'neighborInfo',
  'ambientLighting',
  'detectionSensor',
  'paxcounter',
] as const;
/** MAX_NUM_CHANNELS. */
export const CHANNEL_COUNT = 8;
/** DEFAULT_REBOOT_SECONDS: the firmware reboots this long after a change that needs it. */
export const DEFAULT_REBOOT_SECONDS = 7;
/** How long a simulated reboot keeps the node off the air (meshtasticd and ESP32 nodes are back within seconds). */
export const REBOOT_DOWN_MS = 3000;

type ConfigCase = (typeof CONFIG_CASES)[number];
type ModuleConfigCase = (typeof MODULE_CONFIG_CASES)[number];

/** The fields are equal in both sections, a missing field counting as its protobuf default (0 / false). */
function unchanged(old: Msg, value: Msg, fields: string[]): boolean {
  return fields.every((f) => Number(old[f] ?? 0) === Number(value[f] ?? 0));
}

/** Roles the routing model distinguishes; the firmware's other roles route like one of them. */
function routingRole(roleName: string): Role {
  if (roleName === 'CLIENT_MUTE') return 'CLIENT_MUTE';
  if (roleName === 'ROUTER' || roleName === 'REPEATER' || roleName === 'ROUTER_LATE') return 'ROUTER';
  return 'CLIENT';
}

function routingRebroadcastMode(modeName: string): RebroadcastMode {
  if (modeName === 'NONE' || modeName === 'CORE_PORTNUMS_ONLY' || modeName === 'LOCAL_ONLY' || modeName === 'KNOWN_ONLY') return modeName;
  return 'ALL';
}

/**
 * What a node keeps in flash: owner, config, module config and channels, as the client set them. One per node,
 * shared by every client API attached to it, and kept across power cycles.
 */
export class NodeSettings {
  readonly config = new Map<ConfigCase, Msg>();
  readonly moduleConfig = new Map<ModuleConfigCase, Msg>();
  readonly channels: Msg[] = [];
  rebootCount = 0;
  /** begin_edit_settings ... commit_edit_settings: changes wait for the commit to reboot. */
  editTransaction = false;
  rebootTimer: SimEvent | null = null;

  constructor(readonly sim: Simulation, readonly node: SimNode) {
    const sc = sim.scenario;
    this.config.set('device', {
      role: P.Config.Config_DeviceConfig_Role[node.role],
      rebroadcastMode: P.Config.Config_DeviceConfig_RebroadcastMode[node.rebroadcastMode],
      nodeInfoBroadcastSecs: 10800,
    });
    this.config.set('lora', {
      usePreset: true,
      modemPreset: P.Config.Config_LoRaConfig_ModemPreset[sc.preset],
      region: P.Config.Config_LoRaConfig_RegionCode[sc.region],
      hopLimit: node.hopLimit,
      txEnabled: true,
      txPower: Math.round(node.txPowerDbm),
      overrideDutyCycle: sc.firmware.overrideDutyCycle,
    });
    this.config.set('bluetooth', { enabled: node.profile.ble });
    this.channels.push({ index: 0, role: P.Channel.Channel_Role.PRIMARY, settings: { name: '', psk: new Uint8Array([1]), moduleSettings: { positionPrecision: 32 } } });
    for (let i = 1; i < CHANNEL_COUNT; i++) this.channels.push({ index: i, role: P.Channel.Channel_Role.DISABLED, settings: {} });
  }

  /** A config section as getConfig reports it (the live hop limit and role over what was stored). */
  configValue(kind: ConfigCase): Msg {
    const stored = this.config.get(kind) ?? {};
    if (kind === 'lora') return { ...stored, hopLimit: this.node.hopLimit };
    return stored;
  }

  moduleConfigValue(kind: ModuleConfigCase): Msg {
    return this.moduleConfig.get(kind) ?? {};
  }

  roleValue(): number {
    return this.config.get('device')?.role ?? P.Config.Config_DeviceConfig_Role[this.node.role];
  }

  /** AdminModule::handleSetConfig: store the section, apply it, and say whether the firmware would reboot. */
  setConfig(cfg: Msg): { error: number; reboot: boolean } {
    const kind = cfg?.case as ConfigCase;
    if (!CONFIG_CASES.includes(kind)) return { error: RoutingError.BAD_REQUEST, reboot: false };
    const value: Msg = { ...(cfg.value ?? {}) };
    delete value.$typeName;
    const old = this.config.get(kind) ?? {};
    let reboot = true;
    if (kind === 'lora') {
      const regionName = P.Config.Config_LoRaConfig_RegionCode[value.region ?? 0] as string | undefined;
      const presetName = P.Config.Config_LoRaConfig_ModemPreset[value.modemPreset ?? 0] as string | undefined;
      if (!regionName || !(regionName in REGIONS) || !presetName || !isModemPresetName(presetName)) return { error: RoutingError.BAD_REQUEST, reboot: false };
      const radioFields = ['usePreset', 'region', 'modemPreset', 'bandwidth', 'spreadFactor', 'codingRate', 'txPower', 'frequencyOffset', 'overrideFrequency', 'channelNum', 'sx126xRxBoostedGain'];
      reboot = !unchanged(old, value, radioFields);
      // The radio is reconfigured at once (reloadConfig), and the node reboots as well when a radio parameter changed.
      this.sim.setRadio(this.node.num, presetName, regionName);
      this.node.hopLimit = Math.min(MAX_HOP_LIMIT, value.hopLimit ?? 0);
      this.sim.setTxPower(this.node.num, value.txPower ?? 0);
      // An unnamed channel is named after the preset, so its hash follows the preset.
      if (this.node.channelIds) this.applyChannels();
    } else if (kind === 'device') {
      reboot = !unchanged(old, value, ['buttonGpio', 'buzzerGpio', 'role', 'disableTripleClick', 'rebroadcastMode']);
      const roleName = (P.Config.Config_DeviceConfig_Role[value.role ?? 0] as string | undefined) ?? 'CLIENT';
      if (roleName === 'ROUTER_CLIENT') value.role = P.Config.Config_DeviceConfig_Role.CLIENT; // deprecated
      let modeName = (P.Config.Config_DeviceConfig_RebroadcastMode[value.rebroadcastMode ?? 0] as string | undefined) ?? 'ALL';
      if (modeName === 'NONE' && (roleName === 'ROUTER' || roleName === 'REPEATER')) {
        modeName = 'ALL';
        value.rebroadcastMode = P.Config.Config_DeviceConfig_RebroadcastMode.ALL;
      }
      this.node.role = routingRole(roleName);
      this.node.rebroadcastMode = routingRebroadcastMode(modeName);
    } else if (kind === 'power') {
      reboot = !unchanged(old, value, ['deviceBatteryInaAddress', 'isPowerSaving', 'lsSecs', 'minWakeSecs', 'onBatteryShutdownAfterSecs', 'sdsSecs', 'waitBluetoothSecs']);
    } else if (kind === 'display') {
      reboot = !unchanged(old, value, ['screenOnSecs', 'flipScreen', 'oled']);
    } else if (kind === 'security') {
      reboot = !unchanged(old, value, ['debugLogApiEnabled', 'serialEnabled']);
    } else if (kind === 'deviceUi' || kind === 'sessionkey') {
      return { error: RoutingError.NONE, reboot: false };
    }
    this.config.set(kind, value);
    return { error: RoutingError.NONE, reboot };
  }

  /** AdminModule::handleSetModuleConfig: stored; the firmware reboots after every module config change. */
  setModuleConfig(cfg: Msg): { error: number; reboot: boolean } {
    const kind = cfg?.case as ModuleConfigCase;
    if (!MODULE_CONFIG_CASES.includes(kind)) return { error: RoutingError.BAD_REQUEST, reboot: false };
    const value: Msg = { ...(cfg.value ?? {}) };
    delete value.$typeName;
    this.moduleConfig.set(kind, value);
    return { error: RoutingError.NONE, reboot: true };
  }

  /** The mesh decodes with the stored channels from now on (Channels::onConfigChanged). */
  private applyChannels(): void {
    const specs = this.channels.map((c: Msg) => ({ role: c.role ?? 0, name: c.settings?.name, psk: c.settings?.psk }));
    this.node.channelIds = channelIdentities(specs, this.node.phy.preset.displayName);
  }

  /** AdminModule::handleSetChannel: index 0..7, no reboot. */
  setChannel(ch: Msg): { error: number; reboot: boolean } {
    const index = ch?.index ?? 0;
    if (!Number.isInteger(index) || index < 0 || index >= CHANNEL_COUNT) return { error: RoutingError.BAD_REQUEST, reboot: false };
    this.channels[index] = { index, role: ch.role ?? P.Channel.Channel_Role.DISABLED, settings: { ...(ch.settings ?? {}) } };
    this.applyChannels();
    return { error: RoutingError.NONE, reboot: false };
  }

  /** AdminModule::handleSetOwner: non-empty names replace; returns whether anything changed. */
  setOwner(user: Msg): boolean {
    const owner = this.node.owner;
    let changed = false;
    if (user?.longName && user.longName !== owner.longName) {
      owner.longName = String(user.longName).slice(0, 39);
      changed = true;
    }
    if (user?.shortName && user.shortName !== owner.shortName) {
      owner.shortName = String(user.shortName).slice(0, 4);
      changed = true;
    }
    if (!!user?.isLicensed !== owner.isLicensed) {
      owner.isLicensed = !!user?.isLicensed;
      changed = true;
    }
    return changed;
  }

  /**
   * AdminModule::reboot: in `seconds` the node goes off the air for REBOOT_DOWN_MS (its client connection drops, as a
   * rebooting device's does) and comes back with its settings. A later call moves the time, as in the firmware.
   */
  reboot(seconds: number): void {
    const sim = this.sim;
    sim.scheduler.cancel(this.rebootTimer);
    this.rebootTimer = sim.scheduler.schedule(Math.max(0, seconds) * 1000, () => {
      this.rebootTimer = null;
      if (!this.node.up) return;
      sim.setNodeUp(this.node, false, 'reboot');
      this.rebootCount++;
      sim.scheduler.schedule(REBOOT_DOWN_MS, () => {
        const b = this.node.battery;
        if (!this.node.up && !(b && (b.failed || b.percent(sim.now) <= 0))) sim.setNodeUp(this.node, true, 'reboot');
      });
    });
  }
}

const settings = new WeakMap<SimNode, NodeSettings>();

/** The settings a client stored on a node, if any client ever touched them (the firmware modules read them). */
export function storedSettings(node: SimNode): NodeSettings | undefined {
  return settings.get(node);
}

/** The settings of a node (created with the scenario's values on first use). */
export function settingsOf(sim: Simulation, node: SimNode): NodeSettings {
  let s = settings.get(node);
  if (!s) {
    s = new NodeSettings(sim, node);
    settings.set(node, s);
  }
  return s;
}
