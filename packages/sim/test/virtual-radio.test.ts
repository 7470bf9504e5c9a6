import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Prng } from '@compotastic/mesh';
import { Protobuf } from '@meshtastic/core';
import { describe, expect, it } from 'vitest';
import { VirtualRadio } from '../src/client.js';
import { Simulation, type ScenarioConfig } from '../src/index.js';
import { lineScenario, of, QUIET_FIRMWARE, traced } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const P = Protobuf as any;
const scenario: ScenarioConfig = {
  name: 'vr',
  duration: '10m',
  firmware: QUIET_FIRMWARE,
  pathLoss: { model: 'log-distance', sigmaDb: 0 },
  nodes: { list: [{ name: 'a', x: 0, y: 0 }, { name: 'b', x: 300, y: 0 }] },
};

function toRadio(variant: { case: string; value: unknown }): Uint8Array {
  return toBinary(P.Mesh.ToRadioSchema, create(P.Mesh.ToRadioSchema, { payloadVariant: variant }));
}

function attach(sim: Simulation, index: number) {
  const radio = new VirtualRadio(sim, sim.nodes[index]!.num);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const got: any[] = [];
  const session = radio.connect((bytes) => got.push(fromBinary(P.Mesh.FromRadioSchema, bytes)));
  return { radio, session, got };
}

describe('virtual radio client API', () => {
  it('answers want_config with the firmware handshake sequence', () => {
    const sim = new Simulation(scenario);
    // The radio exists from the start; its client attaches later, after a packet arrived.
    const radio = new VirtualRadio(sim, sim.nodes[0]!.num);
    sim.sendFromApp(sim.nodes[1]!.num, { portnum: 1, payload: new TextEncoder().encode('hi') });
    sim.run(60_000);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const got: any[] = [];
    const session = radio.connect((bytes) => got.push(fromBinary(P.Mesh.FromRadioSchema, bytes)));
    session.handleToRadio(toRadio({ case: 'wantConfigId', value: 4242 }));
    sim.run(61_000);
    const cases: string[] = got.map((m) => m.payloadVariant.case);
    const count = (c: string) => cases.filter((x) => x === c).length;
    expect(cases.slice(0, 4)).toEqual(['myInfo', 'deviceuiConfig', 'nodeInfo', 'metadata']);
    expect(count('channel')).toBe(8);
    expect(count('config')).toBe(10);
    expect(count('moduleConfig')).toBe(13);
    // Own node plus the node it has heard.
    expect(count('nodeInfo')).toBe(2);
    const complete = got.findIndex((m) => m.payloadVariant.case === 'configCompleteId');
    expect(got[complete].payloadVariant.value).toBe(4242);
    // The packet heard before the client attached is delivered after the handshake.
    expect(cases.slice(complete + 1)).toEqual(['packet']);
    expect(got[0].payloadVariant.value.myNodeNum).toBe(sim.nodes[0]!.num);
    const lora = got.find((m) => m.payloadVariant.case === 'config' && m.payloadVariant.value.payloadVariant.case === 'lora');
    expect(lora.payloadVariant.value.payloadVariant.value.hopLimit).toBe(3);
    expect(new Set(got.map((m) => m.id)).size).toBe(got.length);
  });

  it('reports queue status for each packet and a Routing ACK for an acknowledged one', () => {
    const sim = new Simulation(scenario);
    const { session, got } = attach(sim, 0);
    session.handleToRadio(toRadio({ case: 'wantConfigId', value: 1 }));
    sim.run(1000);
    got.length = 0;
    const mp = { to: sim.nodes[1]!.num, id: 777, wantAck: true, payloadVariant: { case: 'decoded', value: { portnum: 256, payload: new Uint8Array([1, 2, 3]) } } };
    session.handleToRadio(toRadio({ case: 'packet', value: mp }));
    sim.run(60_000);
    const qs = got.find((m) => m.payloadVariant.case === 'queueStatus');
    expect(qs.payloadVariant.value).toMatchObject({ res: 0, meshPacketId: 777, maxlen: 16 });
    const acks = got.filter((m) => m.payloadVariant.case === 'packet' && m.payloadVariant.value.payloadVariant.value.portnum === 5);
    expect(acks.length).toBeGreaterThan(0);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const routing: any = fromBinary(P.Mesh.RoutingSchema, acks[0].payloadVariant.value.payloadVariant.value.payload);
    expect(routing.variant).toEqual({ case: 'errorReason', value: 0 });
    expect(acks[0].payloadVariant.value.payloadVariant.value.requestId).toBe(777);
  });

  it('sends a client packet with hop_limit 0 to direct neighbours only, unless it wants an ACK (then the default)', () => {
    // n0 - n1 - n2: n2 hears n0 only through n1's relay.
    const { sim, events } = traced(lineScenario(3));
    const { session } = attach(sim, 0);
    session.handleToRadio(toRadio({ case: 'wantConfigId', value: 1 }));
    sim.run(1000);
    const send = (id: number, to: number, wantAck: boolean) =>
      session.handleToRadio(toRadio({ case: 'packet', value: { to, id, wantAck, hopLimit: 0, payloadVariant: { case: 'decoded', value: { portnum: 256, payload: new Uint8Array(8) } } } }));
    send(101, 0xffffffff, false);
    sim.run(60_000);
    send(102, sim.nodes[2]!.num, true);
    sim.run(120_000);
    // Without want_ack: on air with hop_limit 0, n1 delivers it and does not relay, so n2 never gets it.
    expect(of(events, 'tx_start', { id: 101 }).map((e) => [e.node, e.hopLimit])).toEqual([[sim.nodes[0]!.num, 0]]);
    expect(of(events, 'deliver', { id: 101 }).map((e) => e.node)).toEqual([sim.nodes[1]!.num]);
    // With want_ack: the node's default hop limit (3), so n1 relays it to n2.
    expect(of(events, 'tx_start', { id: 102 })[0]).toMatchObject({ node: sim.nodes[0]!.num, hopLimit: 3 });
    expect(of(events, 'deliver', { id: 102 }).map((e) => e.node)).toContain(sim.nodes[2]!.num);
  });

  it('answers admin requests addressed to the node itself', () => {
    const sim = new Simulation(scenario);
    const { session, got } = attach(sim, 0);
    session.handleToRadio(toRadio({ case: 'wantConfigId', value: 1 }));
    sim.run(1000);
    got.length = 0;
    const admin = toBinary(P.Admin.AdminMessageSchema, create(P.Admin.AdminMessageSchema, { payloadVariant: { case: 'getOwnerRequest', value: true } }));
    session.handleToRadio(toRadio({ case: 'packet', value: { to: sim.nodes[0]!.num, id: 5, wantAck: true, payloadVariant: { case: 'decoded', value: { portnum: 6, payload: admin, wantResponse: true } } } }));
    sim.run(5000);
    const reply = got.find((m) => m.payloadVariant.case === 'packet' && m.payloadVariant.value.payloadVariant.value.portnum === 6);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const msg: any = fromBinary(P.Admin.AdminMessageSchema, reply.payloadVariant.value.payloadVariant.value.payload);
    expect(msg.payloadVariant.case).toBe('getOwnerResponse');
    expect(msg.payloadVariant.value.id).toBe(`!${sim.nodes[0]!.num.toString(16)}`);
  });

  it('fuzz: random and mutated ToRadio bytes never break the radio, and each one gets the reply it should', () => {
    const sim = new Simulation(scenario);
    const radio = new VirtualRadio(sim, sim.nodes[0]!.num);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const got: any[] = [];
    const connect = () => radio.connect((b) => got.push(fromBinary(P.Mesh.FromRadioSchema, b)));
    let session = connect();
    const rng = new Prng(5);
    const valid = toRadio({ case: 'packet', value: { to: 0xffffffff, payloadVariant: { case: 'decoded', value: { portnum: 1, payload: new Uint8Array(10) } } } });
    // What the firmware's rules say each input should produce, worked out from the protobuf alone: a decoded mesh
    // packet or a heartbeat gets one queueStatus, a repeat of one of the last 20 packet ids nothing, want_config one
    // handshake, anything malformed nothing.
    const expected = { queueStatus: 0, configComplete: 0, disconnects: 0 };
    let recentIds: number[] = [];
    const predict = (bytes: Uint8Array) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      let msg: any;
      try {
        msg = fromBinary(P.Mesh.ToRadioSchema, bytes);
      } catch {
        return;
      }
      const v = msg.payloadVariant;
      if (v.case === 'wantConfigId') expected.configComplete++;
      else if (v.case === 'heartbeat') expected.queueStatus++;
      else if (v.case === 'disconnect') expected.disconnects++;
      else if (v.case === 'packet') {
        const id = v.value.id >>> 0;
        if (id !== 0 && recentIds.includes(id)) return;
        if (id !== 0) recentIds = [...recentIds, id].slice(-20);
        if (v.value.payloadVariant?.case === 'decoded') expected.queueStatus++;
      }
    };
    let reconnects = 0;
    for (let i = 0; i < 400; i++) {
      let bytes: Uint8Array;
      // Now and then a heartbeat, and a packet id the radio has seen before, among the noise.
      if (i % 50 === 7) bytes = toRadio({ case: 'heartbeat', value: {} });
      else if (i % 40 === 3) bytes = toRadio({ case: 'packet', value: { to: 0xffffffff, id: 99, payloadVariant: { case: 'decoded', value: { portnum: 1, payload: new Uint8Array(3) } } } });
      else if (i % 2 === 0) bytes = rng.bytes(rng.intBelow(200));
      else {
        bytes = valid.slice();
        for (let k = 0; k < 3; k++) bytes[rng.intBelow(bytes.length)] = rng.intBelow(256);
      }
      // Random bytes can decode as a valid "disconnect": reattach like a client would (a new session, no id history).
      if (session.closed) {
        session = connect();
        recentIds = [];
        reconnects++;
      }
      predict(bytes);
      session.handleToRadio(bytes);
      sim.run(sim.now + 10);
    }
    if (session.closed) session = connect();
    expect(() => session.handleToRadio(new Uint8Array(513))).toThrow(expect.objectContaining({ name: 'SimError', code: 'TOO_LARGE' }));
    sim.run(120_000);
    expect(sim.now).toBe(120_000);
    const count = (c: string) => got.filter((m) => m.payloadVariant.case === c).length;
    expect(expected.queueStatus).toBeGreaterThan(40);
    expect(count('queueStatus')).toBe(expected.queueStatus);
    expect(count('configCompleteId')).toBe(expected.configComplete);
    expect(reconnects).toBe(expected.disconnects);
    // Still fully working afterwards: a clean handshake, then a packet that goes on air and reaches the other node.
    got.length = 0;
    session.handleToRadio(toRadio({ case: 'wantConfigId', value: 9 }));
    sim.run(121_000);
    expect(got[0].payloadVariant.case).toBe('myInfo');
    expect(got.filter((m) => m.payloadVariant.case === 'configCompleteId').map((m) => m.payloadVariant.value)).toEqual([9]);
    const before = sim.summary().messages;
    session.handleToRadio(toRadio({ case: 'packet', value: { to: 0xffffffff, id: 4321, payloadVariant: { case: 'decoded', value: { portnum: 1, payload: new Uint8Array([7]) } } } }));
    sim.run(180_000);
    expect(got.find((m) => m.payloadVariant.case === 'queueStatus').payloadVariant.value).toMatchObject({ res: 0, meshPacketId: 4321 });
    expect(sim.summary().messages).toBe(before + 1);
    expect(sim.nodes[1]!.stats.rxPackets).toBeGreaterThan(0);
  });
});
