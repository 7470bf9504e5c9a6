import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { PortNum } from '@compotastic/mesh';
import { Protobuf } from '@meshtastic/core';
import { describe, expect, it } from 'vitest';
import { Simulation, type SimPacket } from '../src/index.js';
import { lineScenario } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const P = Protobuf as any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = any;

/** Send a request from node `from` to node `to` and collect what comes back to `from`. */
function request(sim: Simulation, from: number, to: number, portnum: number, payload: Uint8Array, wantAck = false): { id: () => number; replies: SimPacket[] } {
  const replies: SimPacket[] = [];
  let id = 0;
  sim.addListener(sim.nodes[from]!.num, { onPacket: (p, _s, _r, viaRadio) => viaRadio && p.requestId === id && replies.push(p) });
  sim.scheduler.scheduleAt(1000, () => {
    id = sim.sendFromApp(sim.nodes[from]!.num, { to: sim.nodes[to]!.num, portnum, payload, wantResponse: true, wantAck }).id;
  });
  return { id: () => id, replies };
}

describe('module responders', () => {
  it('traceroute: each relay adds itself and the SNR it heard, both ways; the destination adds its SNR and answers', () => {
    const sim = new Simulation(lineScenario(4));
    const [, b, c, d] = sim.nodes;
    const empty = toBinary(P.Mesh.RouteDiscoverySchema, create(P.Mesh.RouteDiscoverySchema, {}));
    const r = request(sim, 0, 3, PortNum.TRACEROUTE_APP, empty);
    sim.run(120_000);
    const reply = r.replies.find((p) => p.portnum === PortNum.TRACEROUTE_APP);
    expect(reply).toBeDefined();
    expect(reply!.from).toBe(d!.num);
    const route: Msg = fromBinary(P.Mesh.RouteDiscoverySchema, reply!.payload!);
    expect(route.route).toEqual([b!.num, c!.num]);
    expect(route.routeBack).toEqual([c!.num, b!.num]);
    // One SNR per hop: a->b, b->c, c->d and back; in quarter dB, as the firmware stores them.
    expect(route.snrTowards).toHaveLength(3);
    expect(route.snrBack).toHaveLength(3);
    for (const snr of [...route.snrTowards, ...route.snrBack]) {
      expect(Number.isInteger(snr)).toBe(true);
      expect(snr).toBeGreaterThan(-128);
      expect(snr).toBeLessThanOrEqual(12 * 4);
    }
  });

  it('telemetry: a device metrics request gets the node\'s own device metrics', () => {
    const sim = new Simulation(lineScenario(2, { startEpochS: 1_750_000_000 }));
    const req = toBinary(P.Telemetry.TelemetrySchema, create(P.Telemetry.TelemetrySchema, { variant: { case: 'deviceMetrics', value: {} } }));
    const r = request(sim, 0, 1, PortNum.TELEMETRY_APP, req);
    sim.run(60_000);
    const reply = r.replies.find((p) => p.portnum === PortNum.TELEMETRY_APP);
    expect(reply).toBeDefined();
    const t: Msg = fromBinary(P.Telemetry.TelemetrySchema, reply!.payload!);
    expect(t.variant.case).toBe('deviceMetrics');
    expect(t.variant.value.batteryLevel).toBe(101); // external power: no battery model
    expect(t.variant.value.uptimeSeconds).toBeGreaterThanOrEqual(1);
    expect(t.time).toBeGreaterThanOrEqual(1_750_000_001);
  });

  it("position: a request gets the node's position", () => {
    const sim = new Simulation(lineScenario(2, { origin: { lat: 47, lon: 8 } }));
    const r = request(sim, 0, 1, PortNum.POSITION_APP, new Uint8Array(0));
    sim.run(60_000);
    const reply = r.replies.find((p) => p.portnum === PortNum.POSITION_APP);
    expect(reply).toBeDefined();
    const pos: Msg = fromBinary(P.Mesh.PositionSchema, reply!.payload!);
    const { lat, lon } = sim.toLatLon(sim.nodes[1]!.x, sim.nodes[1]!.y);
    expect(pos.latitudeI).toBe(Math.round(lat * 1e7));
    expect(pos.longitudeI).toBe(Math.round(lon * 1e7));
  });

  it('a want_response request nobody serves is answered with a NO_RESPONSE routing error', () => {
    const sim = new Simulation(lineScenario(2));
    const r = request(sim, 0, 1, PortNum.PRIVATE_APP, new Uint8Array([1]));
    sim.run(60_000);
    const nak = r.replies.find((p) => p.portnum === PortNum.ROUTING_APP);
    expect(nak?.routingError).toBe(P.Mesh.Routing_Error.NO_RESPONSE);
  });
});
