import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BROADCAST_NUM, getModemPreset, PortNum, timeOnAirMs } from '@compotastic/mesh';
import { Protobuf } from '@meshtastic/core';
import { describe, expect, it } from 'vitest';
import { VirtualRadio } from '../src/client.js';
import { DEFAULT_REBOOT_SECONDS, REBOOT_DOWN_MS } from '../src/client/admin.js';
import { Simulation, type ScenarioConfig } from '../src/index.js';
import { of, traced } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const P = Protobuf as any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = any;

const scenario: ScenarioConfig = {
  name: 'admin',
  duration: '10m',
  startEpochS: 1_750_000_000,
  pathLoss: { model: 'log-distance', sigmaDb: 0 },
  nodes: { list: [{ name: 'a', x: 0, y: 0 }, { name: 'b', x: 300, y: 0 }] },
};

let nextId = 1000;

function adminToRadio(to: number, variant: { case: string; value: unknown }, wantAck = true): Uint8Array {
  const payload = toBinary(P.Admin.AdminMessageSchema, create(P.Admin.AdminMessageSchema, { payloadVariant: variant }));
  const packet = { to, id: nextId++, wantAck, payloadVariant: { case: 'decoded', value: { portnum: PortNum.ADMIN_APP, payload, wantResponse: true } } };
  return toBinary(P.Mesh.ToRadioSchema, create(P.Mesh.ToRadioSchema, { payloadVariant: { case: 'packet', value: packet } }));
}

function attach(sim: Simulation, index: number) {
  const radio = new VirtualRadio(sim, sim.nodes[index]!.num);
  const got: Msg[] = [];
  let closed = false;
  const session = radio.connect((bytes) => got.push(fromBinary(P.Mesh.FromRadioSchema, bytes)), () => (closed = true));
  // A client configures first: only then does the node hand it packets.
  session.handleToRadio(toBinary(P.Mesh.ToRadioSchema, create(P.Mesh.ToRadioSchema, { payloadVariant: { case: 'wantConfigId', value: 1 } })));
  const admin = (variant: { case: string; value: unknown }) => session.handleToRadio(adminToRadio(radio.nodeNum, variant));
  const routing = () =>
    got
      .filter((m) => m.payloadVariant.case === 'packet' && m.payloadVariant.value.payloadVariant.value.portnum === PortNum.ROUTING_APP)
      .map((m) => (fromBinary(P.Mesh.RoutingSchema, m.payloadVariant.value.payloadVariant.value.payload) as Msg).variant.value as number);
  const adminReplies = () =>
    got
      .filter((m) => m.payloadVariant.case === 'packet' && m.payloadVariant.value.payloadVariant.value.portnum === PortNum.ADMIN_APP)
      .map((m) => (fromBinary(P.Admin.AdminMessageSchema, m.payloadVariant.value.payloadVariant.value.payload) as Msg).payloadVariant);
  return { radio, session, got, admin, routing, adminReplies, isClosed: () => closed };
}

function loraOf(radio: VirtualRadio): Msg {
  return { ...radio.settings.configValue('lora') };
}

describe('admin', () => {
  it('a modem preset change retunes the node: its packets take the new time on air and the old mesh no longer hears it', () => {
    const { sim, events } = traced(scenario);
    const c = attach(sim, 0);
    const lora = loraOf(c.radio);
    lora.modemPreset = P.Config.Config_LoRaConfig_ModemPreset.SHORT_FAST;
    c.admin({ case: 'setConfig', value: { payloadVariant: { case: 'lora', value: lora } } });
    sim.run(1000);
    expect(c.routing()).toEqual([0]);
    const [a, b] = sim.nodes;
    sim.sendFromApp(a!.num, { to: BROADCAST_NUM, portnum: PortNum.PRIVATE_APP, payload: new Uint8Array(20) });
    sim.run(5000);
    const tx = of(events, 'tx_start', { node: a!.num });
    expect(tx).toHaveLength(1);
    expect(tx[0]!.airtimeMs).toBeCloseTo(timeOnAirMs(getModemPreset('SHORT_FAST'), tx[0]!.bytes as number), 3);
    expect(of(events, 'rx', { node: b!.num })).toHaveLength(0);
  });

  it('a radio change reboots DEFAULT_REBOOT_SECONDS later: the session closes, the node is off the air, then back with its settings', () => {
    const { sim, events } = traced(scenario);
    const c = attach(sim, 0);
    const a = sim.nodes[0]!;
    const lora = loraOf(c.radio);
    lora.region = P.Config.Config_LoRaConfig_RegionCode.EU_868;
    lora.hopLimit = 6;
    c.admin({ case: 'setConfig', value: { payloadVariant: { case: 'lora', value: lora } } });
    sim.run(DEFAULT_REBOOT_SECONDS * 1000 - 100);
    expect(c.isClosed()).toBe(false);
    sim.run(DEFAULT_REBOOT_SECONDS * 1000 + 100);
    expect(c.isClosed()).toBe(true);
    expect(a.up).toBe(false);
    sim.run(DEFAULT_REBOOT_SECONDS * 1000 + REBOOT_DOWN_MS + 100);
    expect(a.up).toBe(true);
    expect(of(events, 'node_down', { node: a.num, reason: 'reboot' })).toHaveLength(1);
    const again = attach(sim, 0);
    sim.run(sim.now + 100);
    const myInfo = again.got.find((m) => m.payloadVariant.case === 'myInfo').payloadVariant.value;
    expect(myInfo.rebootCount).toBe(1);
    const reported = again.got.find((m) => m.payloadVariant.case === 'config' && m.payloadVariant.value.payloadVariant.case === 'lora').payloadVariant.value.payloadVariant.value;
    expect(P.Config.Config_LoRaConfig_RegionCode[reported.region]).toBe('EU_868');
    expect(reported.hopLimit).toBe(6);
  });

  it('a hop limit change alone applies at once without a reboot', () => {
    const { sim, events } = traced(scenario);
    const c = attach(sim, 0);
    const lora = loraOf(c.radio);
    lora.hopLimit = 1;
    c.admin({ case: 'setConfig', value: { payloadVariant: { case: 'lora', value: lora } } });
    sim.run(60_000);
    expect(sim.nodes[0]!.hopLimit).toBe(1);
    expect(of(events, 'node_down')).toHaveLength(0);
  });

  it('a role change applies to routing and reboots; the deprecated ROUTER_CLIENT becomes CLIENT', () => {
    const { sim, events } = traced(scenario);
    const c = attach(sim, 0);
    c.admin({ case: 'setConfig', value: { payloadVariant: { case: 'device', value: { role: P.Config.Config_DeviceConfig_Role.CLIENT_MUTE } } } });
    sim.run(1000);
    expect(sim.nodes[0]!.role).toBe('CLIENT_MUTE');
    sim.run(20_000);
    expect(of(events, 'node_down', { reason: 'reboot' })).toHaveLength(1);
    const d = attach(sim, 0);
    d.admin({ case: 'setConfig', value: { payloadVariant: { case: 'device', value: { role: P.Config.Config_DeviceConfig_Role.ROUTER_CLIENT } } } });
    d.admin({ case: 'getConfigRequest', value: P.Admin.AdminMessage_ConfigType.DEVICE_CONFIG });
    sim.run(sim.now + 1000);
    expect(sim.nodes[0]!.role).toBe('CLIENT');
    expect(d.adminReplies()[0].value.payloadVariant.value.role).toBe(P.Config.Config_DeviceConfig_Role.CLIENT);
  });

  it('an unknown region is refused with BAD_REQUEST and changes nothing', () => {
    const { sim } = traced(scenario);
    const c = attach(sim, 0);
    const lora = loraOf(c.radio);
    lora.region = P.Config.Config_LoRaConfig_RegionCode.UNSET;
    c.admin({ case: 'setConfig', value: { payloadVariant: { case: 'lora', value: lora } } });
    sim.run(1000);
    expect(c.routing()).toEqual([P.Mesh.Routing_Error.BAD_REQUEST]);
    expect(sim.nodes[0]!.phy.region.name).toBe('US');
  });

  it('setModuleConfig is stored, reported and reboots; inside an edit transaction the reboot waits for the commit', () => {
    const { sim, events } = traced(scenario);
    const c = attach(sim, 0);
    c.admin({ case: 'beginEditSettings', value: true });
    c.admin({ case: 'setModuleConfig', value: { payloadVariant: { case: 'telemetry', value: { deviceUpdateInterval: 900 } } } });
    c.admin({ case: 'getModuleConfigRequest', value: P.Admin.AdminMessage_ModuleConfigType.TELEMETRY_CONFIG });
    sim.run(30_000);
    expect(c.adminReplies()[0].value.payloadVariant.value.deviceUpdateInterval).toBe(900);
    expect(of(events, 'node_down')).toHaveLength(0);
    const d = attach(sim, 0);
    d.admin({ case: 'commitEditSettings', value: true });
    sim.run(60_000);
    expect(of(events, 'node_down', { reason: 'reboot' })).toHaveLength(1);
  });

  it('setOwner renames the node without a reboot; getOwner returns the new names', () => {
    const { sim, events } = traced(scenario);
    const c = attach(sim, 0);
    c.admin({ case: 'setOwner', value: { longName: 'Base camp', shortName: 'BASE' } });
    c.admin({ case: 'getOwnerRequest', value: true });
    sim.run(30_000);
    const owner = c.adminReplies()[0].value;
    expect(owner.longName).toBe('Base camp');
    expect(owner.shortName).toBe('BASE');
    expect(of(events, 'node_down')).toHaveLength(0);
  });

  it('rebootSeconds reboots after the given time', () => {
    const { sim, events } = traced(scenario);
    const c = attach(sim, 0);
    c.admin({ case: 'rebootSeconds', value: 2 });
    sim.run(1900);
    expect(sim.nodes[0]!.up).toBe(true);
    sim.run(2100);
    expect(sim.nodes[0]!.up).toBe(false);
    expect(of(events, 'node_down', { reason: 'reboot' })).toHaveLength(1);
  });
});
