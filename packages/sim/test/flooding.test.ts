import { PortNum, onAirPacketBytes, timeOnAirMs } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { SimError } from '../src/index.js';
import { clusterScenario, lineScenario, of, sendAt, traced } from './helpers.js';

describe('managed flooding on hand-built topologies', () => {
  it('a line of five nodes with hop_limit 3 reaches the far end, three hops away, and nobody relays past it', () => {
    const { sim, events } = traced(lineScenario(5));
    const msg = sendAt(sim, 1000, 0);
    sim.run();
    const delivered = of(events, 'deliver', { id: msg.id });
    expect(delivered.map((e) => e.node)).toEqual(sim.nodes.slice(1).map((n) => n.num));
    expect(delivered.map((e) => e.hopsAway)).toEqual([0, 1, 2, 3]);
    // The last node got it with hop_limit 0: it must not transmit.
    expect(sim.nodes[4]!.stats.txPackets).toBe(0);
    // Relays carry the decremented hop limit.
    expect(of(events, 'tx_start', { id: msg.id }).map((e) => e.hopLimit)).toEqual([3, 2, 1, 0]);
  });

  it('a sixth node, four hops away, is not reached', () => {
    const { sim, events } = traced(lineScenario(6));
    const msg = sendAt(sim, 1000, 0);
    sim.run();
    const reached = new Set(of(events, 'deliver', { id: msg.id }).map((e) => e.node));
    expect(reached.has(sim.nodes[4]!.num)).toBe(true);
    expect(reached.has(sim.nodes[5]!.num)).toBe(false);
  });

  it('a smaller hop limit reaches fewer hops', () => {
    const { sim, events } = traced(lineScenario(6));
    const msg = sendAt(sim, 1000, 0, { hopLimit: 1 });
    sim.run();
    expect(of(events, 'deliver', { id: msg.id }).map((e) => e.hopsAway)).toEqual([0, 1]);
  });

  it('rejects hop limits above 7', () => {
    expect(() => traced(lineScenario(2, { hopLimit: 8 }))).toThrow(SimError);
  });

  it('suppresses duplicates: in a cluster one relay is enough and the others cancel theirs', () => {
    const { sim, events } = traced(clusterScenario(5));
    const msg = sendAt(sim, 1000, 0);
    sim.run();
    const deliveries = of(events, 'deliver', { id: msg.id });
    expect(new Set(deliveries.map((e) => e.node)).size).toBe(4);
    expect(deliveries.length).toBe(4);
    expect(of(events, 'tx_start', { id: msg.id }).length).toBe(2);
    expect(of(events, 'drop', { id: msg.id, reason: 'relay_cancelled' }).length).toBe(3);
    expect(of(events, 'duplicate', { id: msg.id }).length).toBeGreaterThan(0);
  });

  it('routers do not cancel their relay on hearing a duplicate', () => {
    const roles = Array.from({ length: 5 }, (_, i) => ({ role: i === 0 ? ('CLIENT' as const) : ('ROUTER' as const) }));
    const { sim, events } = traced(clusterScenario(5, roles));
    const msg = sendAt(sim, 1000, 0);
    sim.run();
    expect(of(events, 'tx_start', { id: msg.id }).length).toBe(5);
    expect(of(events, 'drop', { id: msg.id, reason: 'relay_cancelled' }).length).toBe(0);
  });

  it('a CLIENT_MUTE in the middle of a line never relays', () => {
    const { sim, events } = traced(lineScenario(3, {}, [{}, { role: 'CLIENT_MUTE' }, {}]));
    const msg = sendAt(sim, 1000, 0);
    sim.run();
    expect(of(events, 'deliver', { id: msg.id }).map((e) => e.node)).toEqual([sim.nodes[1]!.num]);
    expect(sim.nodes[1]!.stats.txPackets).toBe(0);
  });

  it('a router drops a private-portnum packet (2.6 CORE_PORTNUMS_ONLY) but relays core ports', () => {
    const spec = [{}, { role: 'ROUTER' as const }, {}];
    const priv = traced(lineScenario(3, {}, spec));
    const m1 = sendAt(priv.sim, 1000, 0, { portnum: PortNum.PRIVATE_APP });
    priv.sim.run();
    expect(of(priv.events, 'deliver', { id: m1.id }).map((e) => e.node)).toEqual([]);
    expect(of(priv.events, 'drop', { id: m1.id, reason: 'portnum_filtered' }).map((e) => e.node)).toEqual([priv.sim.nodes[1]!.num]);

    const text = traced(lineScenario(3, {}, spec));
    const m2 = sendAt(text.sim, 1000, 0, { portnum: PortNum.TEXT_MESSAGE_APP });
    text.sim.run();
    expect(of(text.events, 'deliver', { id: m2.id }).map((e) => e.node)).toEqual([text.sim.nodes[1]!.num, text.sim.nodes[2]!.num]);
  });

  it('applies the 2.7 whitelist to other private ports only when asked', () => {
    const spec = [{}, { role: 'ROUTER' as const }, {}];
    const v26 = traced(lineScenario(3, {}, spec));
    const a = sendAt(v26.sim, 1000, 0, { portnum: 300 });
    v26.sim.run();
    expect(of(v26.events, 'deliver', { id: a.id }).length).toBe(2);
    const v27 = traced(lineScenario(3, { firmware: { corePortnumsPolicy: '2.7-whitelist' } }, spec));
    const b = sendAt(v27.sim, 1000, 0, { portnum: 300 });
    v27.sim.run();
    expect(of(v27.events, 'deliver', { id: b.id }).length).toBe(0);
  });
});

describe('reliability', () => {
  it('a broadcast with want_ack is acknowledged implicitly by hearing the rebroadcast', () => {
    const { sim, events } = traced(lineScenario(3));
    const msg = sendAt(sim, 1000, 0, { wantAck: true });
    sim.run();
    expect(of(events, 'ack', { id: msg.id, kind: 'implicit' }).length).toBe(1);
    expect(of(events, 'tx_start', { id: msg.id, node: sim.nodes[0]!.num }).length).toBe(1);
  });

  it('a direct message gets a real ACK and the sender learns the next hop from it', () => {
    const { sim, events } = traced(lineScenario(3));
    const c = sim.nodes[2]!;
    const first = sendAt(sim, 1000, 0, { to: c.num, wantAck: true });
    const second = sendAt(sim, 60_000, 0, { to: c.num, wantAck: true });
    sim.run();
    expect(of(events, 'deliver', { id: first.id, node: c.num }).length).toBe(1);
    // The relay's rebroadcast is the implicit ACK; the destination's real ACK follows.
    expect(of(events, 'ack', { id: first.id, kind: 'implicit', node: sim.nodes[0]!.num }).length).toBe(1);
    expect(of(events, 'ack', { id: first.id, kind: 'ack', node: sim.nodes[0]!.num }).length).toBe(1);
    expect(of(events, 'tx_start', { id: first.id, node: sim.nodes[0]!.num }).length).toBe(1);
    expect(sim.nodes[0]!.router.nodeDb.get(c.num)?.nextHop).toBe(sim.nodes[1]!.byte);
    const secondTx = of(events, 'tx_start', { id: second.id, node: sim.nodes[0]!.num });
    expect(secondTx[0]!.nextHop).toBe(sim.nodes[1]!.byte);
    expect(of(events, 'deliver', { id: second.id, node: c.num }).length).toBe(1);
  });

  it('the originator transmits three times, then reports MAX_RETRANSMIT', () => {
    const { sim, events } = traced(lineScenario(2, {}, [{}, { down: true }]));
    const msg = sendAt(sim, 1000, 0, { to: sim.nodes[1]!.num, wantAck: true });
    sim.run();
    expect(of(events, 'tx_start', { id: msg.id }).length).toBe(3);
    expect(of(events, 'retransmit', { id: msg.id }).map((e) => e.left)).toEqual([2, 1]);
    expect(of(events, 'ack', { id: msg.id, kind: 'nak', error: 'MAX_RETRANSMIT' }).length).toBe(1);
  });
});

describe('limits', () => {
  it('refuses packets over the size limit with TOO_LARGE', () => {
    const { sim, events } = traced(lineScenario(2));
    const big = sendAt(sim, 1000, 0, { portnum: PortNum.PRIVATE_APP, bytes: 232 });
    const ok = sendAt(sim, 2000, 0, { portnum: PortNum.PRIVATE_APP, bytes: 231 });
    sim.run();
    expect(big.error).toBe(7);
    expect(ok.error).toBe(0);
    expect(of(events, 'drop', { id: big.id, reason: 'too_large' }).length).toBe(1);
    expect(of(events, 'tx_start', { id: big.id }).length).toBe(0);
    expect(of(events, 'tx_start', { id: ok.id, node: sim.nodes[0]!.num }).length).toBe(1);
  });

  it('refuses to send once the hourly TX duty cycle passes the region limit (EU_868: 10%)', () => {
    const config = lineScenario(1, { region: 'EU_868', preset: 'LONG_SLOW', duration: '40m' });
    const { sim, events } = traced(config);
    const results = Array.from({ length: 60 }, (_, i) => sendAt(sim, 1000 + i * 30_000, 0, { portnum: PortNum.PRIVATE_APP, bytes: 200 }));
    sim.run();
    const refused = results.filter((r) => r.error === 9);
    const firstRefused = results.findIndex((r) => r.error === 9);
    // Each frame is 16 + 208 = 224 bytes, 12.72 s on air with LONG_SLOW. A send is refused once the frames already sent
    // this hour exceed 10% of it (360 s): 28 frames are 356 s, 29 are 369 s, so the 30th send (index 29) is the first
    // refused, and every later one too, as all 60 sends fall within the same hour.
    const airtimeMs = timeOnAirMs('LONG_SLOW', onAirPacketBytes({ portnum: PortNum.PRIVATE_APP, payloadBytes: 200 }));
    expect(airtimeMs).toBeCloseTo(12722.176, 3);
    expect(firstRefused).toBe(Math.floor(360_000 / airtimeMs) + 1);
    expect(firstRefused).toBe(29);
    expect(refused.length).toBe(60 - 29);
    expect(of(events, 'drop', { reason: 'duty_cycle' }).length).toBe(refused.length);
    expect(sim.radioStats(sim.nodes[0]!.num).txUtilizationPct).toBeGreaterThan(10);
  });

  it('never refuses in a region without a duty cycle limit', () => {
    const { sim } = traced(lineScenario(1, { region: 'US', preset: 'LONG_SLOW', duration: '40m' }));
    const results = Array.from({ length: 60 }, (_, i) => sendAt(sim, 1000 + i * 30_000, 0, { portnum: PortNum.PRIVATE_APP, bytes: 200 }));
    sim.run();
    expect(results.every((r) => r.error === 0)).toBe(true);
  });
});
