import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BROADCAST_NUM, PortNum, toHex } from '@compotastic/mesh';
import { Protobuf } from '@meshtastic/core';
import { describe, expect, it } from 'vitest';
import { VirtualRadio } from '../src/client.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { NODEINFO_START_DELAY_MS } from '../src/modules/firmware-modules.js';
import { Simulation, type NodeSpec, type ScenarioConfig } from '../src/index.js';
import { lineScenario, of, traced } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const P = Protobuf as any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = any;

function handshake(sim: Simulation, index: number): Msg[] {
  const radio = new VirtualRadio(sim, sim.nodes[index]!.num);
  const got: Msg[] = [];
  const session = radio.connect((bytes) => got.push(fromBinary(P.Mesh.FromRadioSchema, bytes)));
  session.handleToRadio(toBinary(P.Mesh.ToRadioSchema, create(P.Mesh.ToRadioSchema, { payloadVariant: { case: 'wantConfigId', value: 9 } })));
  sim.run(sim.now + 100);
  session.close();
  return got;
}

const nodeInfos = (got: Msg[]) => got.filter((m) => m.payloadVariant.case === 'nodeInfo').map((m) => m.payloadVariant.value);

function announcing(count: number, specs: Partial<NodeSpec>[] = []): ScenarioConfig {
  return lineScenario(count, { duration: '30m', startEpochS: 1_750_000_000, firmware: { nodeInfoBroadcastS: 10_800 } }, specs);
}

describe('NodeInfo', () => {
  it('each node announces its User 30 s after boot, asking for replies; the node list names only nodes heard announcing', () => {
    const { sim, events } = traced(announcing(3));
    const [a, b, c] = sim.nodes;
    sim.run(NODEINFO_START_DELAY_MS - 1);
    expect(of(events, 'tx_start', { port: PortNum.NODEINFO_APP })).toHaveLength(0);
    sim.run(NODEINFO_START_DELAY_MS + 20_000);
    const announcements = of(events, 'tx_start', { port: PortNum.NODEINFO_APP }).filter((e) => e.from === e.node);
    expect(new Set(announcements.map((e) => e.node))).toEqual(new Set([a!.num, b!.num, c!.num]));
    const infos = nodeInfos(handshake(sim, 0));
    const bInfo = infos.find((i) => i.num === b!.num);
    expect(bInfo.user.longName).toBe('Sim n1');
    expect(bInfo.user.id).toBe(`!${b!.num.toString(16)}`);
    expect(toHex(bInfo.user.publicKey)).toBe(toHex(b!.publicKey));
    // c is two hops away; its announcement was relayed by b.
    expect(infos.find((i) => i.num === c!.num)?.user?.longName).toBe('Sim n2');
  });

  it("announces on the firmware's schedule unless a scenario switches it off", () => {
    const on = new Simulation({ name: 'defaults', duration: '1m', nodes: { count: 2 } });
    expect(on.scenario.firmware.nodeInfoBroadcastS).toBe(10_800);
    const off = new Simulation({ name: 'quiet', duration: '1m', nodes: { count: 2 }, firmware: { nodeInfoBroadcastS: 0 } });
    expect(off.scenario.firmware.nodeInfoBroadcastS).toBe(0);
    expect(() => new Simulation({ name: 'bad', duration: '1m', nodes: { count: 2 }, firmware: { nodeInfoBroadcastS: 5 } })).toThrow(/nodeInfoBroadcastS/);
  });

  it('without announcements a heard node is listed without a user', () => {
    const sim = new Simulation(lineScenario(2, { startEpochS: 1_750_000_000 }));
    sim.sendFromApp(sim.nodes[1]!.num, { portnum: PortNum.PRIVATE_APP, payload: new Uint8Array(4) });
    sim.run(60_000);
    const infos = nodeInfos(handshake(sim, 0));
    const other = infos.find((i) => i.num === sim.nodes[1]!.num);
    expect(other).toBeDefined();
    expect(other.user).toBeUndefined();
  });

  it('a node that comes up later asks for replies and its neighbour answers it directly', () => {
    const { sim, events } = traced(announcing(2, [{}, { down: true }]));
    const [a, b] = sim.nodes;
    sim.scheduler.scheduleAt(10 * 60_000, () => sim.setNodeUp(b!, true, 'test'));
    sim.run(12 * 60_000);
    const bAnnounce = of(events, 'tx_start', { node: b!.num, port: PortNum.NODEINFO_APP, to: BROADCAST_NUM });
    expect(bAnnounce).toHaveLength(1);
    const reply = of(events, 'tx_start', { node: a!.num, from: a!.num, port: PortNum.NODEINFO_APP, to: b!.num });
    expect(reply).toHaveLength(1);
    expect(nodeInfos(handshake(sim, 1)).find((i) => i.num === a!.num)?.user?.longName).toBe('Sim n0');
  });

  it('answers a NodeInfo request (want_response) with its User, at most once per 5 minutes', () => {
    const { sim, events } = traced(lineScenario(2, { duration: '30m' }));
    const [a, b] = sim.nodes;
    const ask = () => sim.sendFromApp(a!.num, { to: b!.num, portnum: PortNum.NODEINFO_APP, payload: new Uint8Array(0), wantResponse: true });
    sim.scheduler.scheduleAt(1000, ask);
    sim.scheduler.scheduleAt(60_000, ask);
    sim.scheduler.scheduleAt(7 * 60_000, ask);
    sim.run(10 * 60_000);
    expect(of(events, 'tx_start', { node: b!.num, from: b!.num, port: PortNum.NODEINFO_APP })).toHaveLength(2);
  });

  it('reports a seeded device id and an X25519 public key per node', () => {
    const config = lineScenario(3, { startEpochS: 1_750_000_000 });
    const first = () => {
      const sim = new Simulation(config, { seed: 5 });
      sim.sendFromApp(sim.nodes[1]!.num, { portnum: PortNum.PRIVATE_APP, payload: new Uint8Array(4) });
      sim.run(30_000);
      const got = handshake(sim, 0);
      return { sim, myInfo: got.find((m) => m.payloadVariant.case === 'myInfo').payloadVariant.value, own: nodeInfos(got)[0] };
    };
    const r1 = first();
    const r2 = first();
    expect(r1.myInfo.deviceId).toHaveLength(16);
    expect(toHex(r1.myInfo.deviceId)).toBe(toHex(r2.myInfo.deviceId));
    expect(toHex(r1.sim.nodes[0]!.deviceId)).not.toBe(toHex(r1.sim.nodes[1]!.deviceId));
    const n0 = r1.sim.nodes[0]!;
    expect(toHex(r1.own.user.publicKey)).toBe(toHex(x25519.getPublicKey(n0.privateKey)));
    expect(toHex(n0.publicKey)).not.toBe(toHex(r1.sim.nodes[1]!.publicKey));
    expect(toHex(new Simulation(config, { seed: 6 }).nodes[0]!.publicKey)).not.toBe(toHex(n0.publicKey));
  });
});
