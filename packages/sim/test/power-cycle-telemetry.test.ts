import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BROADCAST_NUM, PortNum } from '@compotastic/mesh';
import { Protobuf } from '@meshtastic/core';
import { describe, expect, it } from 'vitest';
import { InProcessTransport, VirtualRadio } from '../src/client.js';
import { JsonlTrace, Simulation, type ScenarioConfig } from '../src/index.js';
import { TELEMETRY_FIRST_RUN_MS } from '../src/client/phone-telemetry.js';
import { liIonVoltage } from '../src/world/battery.js';
import { QUIET_FIRMWARE } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = any;
const P = Protobuf as Msg;

const scenario = (extra: Partial<ScenarioConfig> = {}): ScenarioConfig => ({
  name: 'trio',
  duration: '30m',
  preset: 'SHORT_FAST',
  pathLoss: { model: 'log-distance', sigmaDb: 0 },
  nodes: { list: [{ name: 'a', x: 0, y: 0 }, { name: 'b', x: 300, y: 0 }, { name: 'c', x: 600, y: 0 }] },
  ...extra,
  firmware: { ...QUIET_FIRMWARE, ...extra.firmware },
});

function toRadio(variant: { case: string; value: unknown }): Uint8Array {
  return toBinary(P.Mesh.ToRadioSchema, create(P.Mesh.ToRadioSchema, { payloadVariant: variant }));
}

/** A configured client on a node, recording every FromRadio with the simulated time it arrived. */
function client(sim: Simulation, radio: VirtualRadio) {
  const got: Array<{ t: number; msg: Msg }> = [];
  const session = radio.connect((bytes) => got.push({ t: sim.now, msg: fromBinary(P.Mesh.FromRadioSchema, bytes) }));
  session.handleToRadio(toRadio({ case: 'wantConfigId', value: 77 }));
  return { session, got };
}

function telemetryOf(got: Array<{ t: number; msg: Msg }>): Array<{ t: number; packet: Msg; telemetry: Msg }> {
  return got
    .filter((g) => g.msg.payloadVariant.case === 'packet' && g.msg.payloadVariant.value.payloadVariant.value?.portnum === PortNum.TELEMETRY_APP)
    .map((g) => ({ t: g.t, packet: g.msg.payloadVariant.value, telemetry: fromBinary(P.Telemetry.TelemetrySchema, g.msg.payloadVariant.value.payloadVariant.value.payload) }));
}

describe('writes after a power cut', () => {
  it('reject with ECONNRESET, as a dead serial port or socket does', async () => {
    const sim = new Simulation(scenario());
    const a = sim.nodes[0]!;
    const transport = new InProcessTransport(sim, a.num);
    const writer = transport.toDevice.getWriter();
    await writer.write(toRadio({ case: 'wantConfigId', value: 1 }));
    sim.run(1000);
    sim.setNodeUp(a, false, 'power cut');
    await expect(writer.write(toRadio({ case: 'heartbeat', value: {} }))).rejects.toMatchObject({ code: 'ECONNRESET' });
    // The stream reports the disconnect before it ends.
    const reader = transport.fromDevice.getReader();
    const statuses: number[] = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (value?.type === 'status') statuses.push(value.data.status);
    }
    expect(statuses.at(-1)).toBe(2); // DeviceDisconnected
  });

  it('also after the client disconnected or another client took over the radio', async () => {
    const sim = new Simulation(scenario());
    const radio = new VirtualRadio(sim, sim.nodes[0]!.num);
    const first = new InProcessTransport(sim, radio);
    const second = new InProcessTransport(sim, radio);
    await expect(first.toDevice.getWriter().write(toRadio({ case: 'heartbeat', value: {} }))).rejects.toMatchObject({ code: 'ECONNRESET' });
    await second.disconnect();
    await expect(second.toDevice.getWriter().write(toRadio({ case: 'heartbeat', value: {} }))).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});

describe('node DB across a power cycle', () => {
  it('survives, so the config handshake after a reboot lists the nodes heard before it', () => {
    const sim = new Simulation(scenario());
    const [a, b, c] = sim.nodes;
    sim.sendFromApp(b!.num, { portnum: PortNum.TEXT_MESSAGE_APP, payload: new Uint8Array(8) });
    sim.sendFromApp(c!.num, { portnum: PortNum.TEXT_MESSAGE_APP, payload: new Uint8Array(8) });
    sim.run(60_000);
    const before = new Map([...a!.router.nodeDb.values()].map((e) => [e.num, { ...e }]));
    expect([...before.keys()].sort()).toEqual([b!.num, c!.num].sort());
    sim.setNodeUp(a!, false, 'power cut');
    sim.run(120_000);
    sim.setNodeUp(a!, true, 'power restored');
    // A client attaches right after the reboot, before the node has heard anything new.
    const radio = new VirtualRadio(sim, a!.num);
    const { got } = client(sim, radio);
    sim.run(121_000);
    const infos = got.map((g) => g.msg.payloadVariant).filter((v) => v.case === 'nodeInfo').map((v) => v.value);
    expect(infos[0].num).toBe(a!.num);
    const others = infos.slice(1);
    expect(others.map((i: Msg) => i.num).sort()).toEqual([b!.num, c!.num].sort());
    for (const info of others) {
      const e = before.get(info.num)!;
      expect(info.hopsAway).toBe(e.hopsAway);
      expect(info.snr).toBe(e.snr);
      expect(info.lastHeard).toBe(sim.scenario.startEpochS + Math.floor(e.lastHeardMs / 1000));
    }
    // c is two hops from a: the hop count learned before the reboot is still there.
    expect(others.find((i: Msg) => i.num === c!.num).hopsAway).toBe(1);
  });
});

describe('local device telemetry', () => {
  it('hands the client its own DeviceMetrics every minute from 45 s after boot, matching the radio, never on air', () => {
    const trace = new JsonlTrace();
    const sim = new Simulation(scenario({ traffic: [{ kind: 'broadcast', periodS: 20, payloadBytes: 100 }] }), { seed: 4, trace: trace.sink });
    const a = sim.nodes[0]!;
    const radio = new VirtualRadio(sim, a.num);
    const { got } = client(sim, radio);
    // Read the radio's own counters at the moments telemetry is due (these probes run just after the telemetry timer).
    const expected = new Map<number, { cu: number; tx: number }>();
    for (let k = 0; k < 8; k++) {
      const at = TELEMETRY_FIRST_RUN_MS + k * 60_000;
      sim.scheduler.scheduleAt(at, () => {
        const s = sim.radioStats(a.num);
        expected.set(at, { cu: s.channelUtilizationPct, tx: s.txUtilizationPct });
      });
    }
    sim.run(TELEMETRY_FIRST_RUN_MS + 7 * 60_000 + 1000);
    const tel = telemetryOf(got);
    const latency = sim.scenario.latency.clientMs;
    expect(tel.map((x) => x.t - latency)).toEqual([...expected.keys()]);
    for (const x of tel) {
      const sentAt = x.t - latency;
      expect(x.packet.from).toBe(a.num);
      expect(x.packet.to).toBe(BROADCAST_NUM);
      expect(x.telemetry.variant.case).toBe('deviceMetrics');
      const m = x.telemetry.variant.value;
      const e = expected.get(sentAt)!;
      expect(m.channelUtilization).toBe(Math.fround(e.cu));
      expect(m.airUtilTx).toBe(Math.fround(e.tx));
      expect(m.uptimeSeconds).toBe(Math.floor(sentAt / 1000));
      expect(m.batteryLevel).toBe(101); // no battery model: external power, as the firmware reports it
    }
    // The traffic keeps the channel busy: the node reports it.
    expect(tel.at(-1)!.telemetry.variant.value.channelUtilization).toBeGreaterThan(1);
    // Nothing on TELEMETRY_APP went on air, and no other node received any.
    expect(trace.text()).not.toMatch(/"port":67/);
  });

  it('reports battery level and voltage, restarts with uptime 0 after a reboot, and follows the scenario interval', () => {
    const sim = new Simulation(scenario({ battery: { enabled: true, initialPct: 60 }, firmware: { telemetryToPhoneS: 120 } }), { seed: 5 });
    const a = sim.nodes[0]!;
    const radio = new VirtualRadio(sim, a.num);
    let c = client(sim, radio);
    sim.run(200_000);
    let tel = telemetryOf(c.got);
    expect(tel.map((x) => x.t - sim.scenario.latency.clientMs)).toEqual([45_000, 165_000]);
    const m = tel[0]!.telemetry.variant.value;
    expect(m.batteryLevel).toBe(Math.round(sim.nodeState(a.num).batteryPct!));
    expect(m.batteryLevel).toBeLessThanOrEqual(60);
    expect(m.voltage).toBeCloseTo(liIonVoltage(m.batteryLevel), 1);
    sim.setNodeUp(a, false, 'power cut');
    sim.run(300_000);
    sim.setNodeUp(a, true, 'power restored');
    c = client(sim, radio);
    sim.run(300_000 + 44_000);
    expect(telemetryOf(c.got)).toHaveLength(0);
    sim.run(300_000 + 46_000);
    tel = telemetryOf(c.got);
    expect(tel).toHaveLength(1);
    expect(tel[0]!.telemetry.variant.value.uptimeSeconds).toBe(45);
  });

  it('queues at most one report for a radio nobody reads, like the firmware (it skips while the phone queue is full)', () => {
    const sim = new Simulation(scenario(), { seed: 6 });
    const radio = new VirtualRadio(sim, sim.nodes[0]!.num);
    sim.run(10 * 60_000);
    const { got } = client(sim, radio);
    sim.run(10 * 60_000 + 1000);
    const complete = got.findIndex((g) => g.msg.payloadVariant.case === 'configCompleteId');
    const tel = telemetryOf(got.slice(complete + 1));
    expect(tel).toHaveLength(1);
    expect(tel[0]!.telemetry.variant.value.uptimeSeconds).toBe(45);
  });

  it('can be switched off with firmware.telemetryToPhoneS = 0', () => {
    const sim = new Simulation(scenario({ firmware: { telemetryToPhoneS: 0 } }));
    const radio = new VirtualRadio(sim, sim.nodes[0]!.num);
    const { got } = client(sim, radio);
    sim.run(10 * 60_000);
    expect(telemetryOf(got)).toHaveLength(0);
    expect(() => new Simulation(scenario({ firmware: { telemetryToPhoneS: -1 } }))).toThrow(/telemetryToPhoneS/);
  });

  it('maps charge to the firmware\'s Li-ion open-circuit voltages', () => {
    expect(liIonVoltage(100)).toBeCloseTo(4.19, 6);
    expect(liIonVoltage(90)).toBeCloseTo(4.05, 6);
    expect(liIonVoltage(95)).toBeCloseTo(4.12, 6);
    expect(liIonVoltage(5)).toBeCloseTo(3.2, 6);
    expect(liIonVoltage(0)).toBeCloseTo(3.1, 6);
    expect(liIonVoltage(-3)).toBeCloseTo(3.1, 6);
    for (let p = 1; p <= 100; p++) expect(liIonVoltage(p)).toBeGreaterThan(liIonVoltage(p - 1));
  });
});
