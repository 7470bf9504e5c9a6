import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { PortNum } from '@compotastic/mesh';
import { Protobuf } from '@meshtastic/core';
import { describe, expect, it } from 'vitest';
import { VirtualRadio } from '../src/client.js';
import { resolveScenario, Simulation, type ScenarioConfig } from '../src/index.js';
import { parseScenarioArgs } from '../src/node.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const P = Protobuf as any;

function chatter(portnum: number, startEpochS?: number): ScenarioConfig {
  return {
    name: 'chatter',
    duration: '10m',
    startEpochS,
    pathLoss: { model: 'log-distance', sigmaDb: 0 },
    nodes: { list: [{ name: 'a', x: 0, y: 0 }, { name: 'b', x: 300, y: 0 }, { name: 'c', x: 0, y: 300 }] },
    traffic: [{ kind: 'broadcast', periodS: 60, payloadBytes: 40, portnum, senders: [0] }],
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function packetsAt(sim: Simulation, index: number): any[] {
  const radio = new VirtualRadio(sim, sim.nodes[index]!.num);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const got: any[] = [];
  const session = radio.connect((bytes) => got.push(fromBinary(P.Mesh.FromRadioSchema, bytes)));
  session.handleToRadio(toBinary(P.Mesh.ToRadioSchema, create(P.Mesh.ToRadioSchema, { payloadVariant: { case: 'wantConfigId', value: 1 } })));
  return got;
}

describe('wall clock', () => {
  it('starts at the wall clock unless pinned', () => {
    const before = Math.floor(Date.now() / 1000);
    const now = resolveScenario(chatter(1)).startEpochS;
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(resolveScenario(chatter(1, 1_700_000_000)).startEpochS).toBe(1_700_000_000);
    expect(parseScenarioArgs(['--start-epoch', '1700000000']).overrides.startEpochS).toBe(1_700_000_000);
    expect(() => parseScenarioArgs(['--start-epoch', '-1'])).toThrow(/--start-epoch/);
  });

  it('stamps rx_time from the start plus simulated time', () => {
    const sim = new Simulation(chatter(PortNum.TEXT_MESSAGE_APP, 1_700_000_000));
    const got = packetsAt(sim, 1);
    sim.run();
    const packets = got.filter((m) => m.payloadVariant.case === 'packet').map((m) => m.payloadVariant.value);
    expect(packets.length).toBeGreaterThan(3);
    for (const p of packets) {
      expect(p.rxTime).toBeGreaterThanOrEqual(1_700_000_000);
      expect(p.rxTime).toBeLessThanOrEqual(1_700_000_000 + 600);
    }
  });
});

describe('scenario chatter', () => {
  it('is readable text of the scenario size, the same at every receiver and in every run', () => {
    const texts = (index: number) => {
      const sim = new Simulation(chatter(PortNum.TEXT_MESSAGE_APP, 1_700_000_000));
      const got = packetsAt(sim, index);
      sim.run();
      return got.filter((m) => m.payloadVariant.case === 'packet' && m.payloadVariant.value.payloadVariant.value.portnum === PortNum.TEXT_MESSAGE_APP).map((m) => new TextDecoder().decode(m.payloadVariant.value.payloadVariant.value.payload));
    };
    const atB = texts(1);
    expect(atB.length).toBeGreaterThan(3);
    for (const t of atB) {
      expect(t).toHaveLength(40);
      expect(t).toMatch(/^[a-z .]+$/);
      expect(t).toMatch(/[a-z]{2,} [a-z]{2,}/);
    }
    expect(new Set(atB).size).toBe(atB.length);
    expect(texts(2)).toEqual(atB);
  });

  it('is seeded bytes on other ports', () => {
    const sim = new Simulation(chatter(PortNum.PRIVATE_APP, 1_700_000_000));
    const got = packetsAt(sim, 1);
    sim.run();
    const payloads = got.filter((m) => m.payloadVariant.case === 'packet' && m.payloadVariant.value.payloadVariant.value.portnum === PortNum.PRIVATE_APP).map((m) => m.payloadVariant.value.payloadVariant.value.payload as Uint8Array);
    expect(payloads.length).toBeGreaterThan(3);
    for (const p of payloads) {
      expect(p).toHaveLength(40);
      expect(p.some((b) => b !== 0)).toBe(true);
    }
  });
});
