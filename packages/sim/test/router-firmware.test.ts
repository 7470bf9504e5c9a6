import { BROADCAST_NUM, PortNum } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { FLOOD_EXPIRE_MS, PacketHistory } from '../src/mesh/history.js';
import { clusterScenario, lineScenario, of, sendAt, traced } from './helpers.js';

/* Router behaviours taken from firmware 2.6.11 (Router.cpp, FloodingRouter.cpp, ReliableRouter.cpp). */

describe('router fidelity', () => {
  it('a CLIENT_MUTE node never relays, not even the originator repeating a want_ack broadcast (FloodingRouter::isRebroadcaster)', () => {
    // a - mute - c: nobody can relay for a, so it gets no implicit ACK and sends all three copies.
    const { sim, events } = traced(lineScenario(3, {}, [{}, { role: 'CLIENT_MUTE' }, {}]));
    const [a, mute, c] = sim.nodes;
    const msg = sendAt(sim, 1000, 0, { to: BROADCAST_NUM, wantAck: true });
    sim.run();
    expect(of(events, 'tx_start', { node: a!.num, id: msg.id })).toHaveLength(3);
    expect(of(events, 'rx', { node: mute!.num, id: msg.id }).length).toBeGreaterThanOrEqual(2);
    expect(of(events, 'tx_start', { node: mute!.num })).toHaveLength(0);
    expect(of(events, 'deliver', { node: c!.num, id: msg.id })).toHaveLength(0);
  });

  it('every transmission names its sender as relay_node (Router::send), in a busy mesh with want_ack traffic', () => {
    const { sim, events } = traced(
      clusterScenario(12, [], {
        duration: '15m',
        traffic: [{ kind: 'broadcast', periodS: 30, payloadBytes: 40, wantAck: true }, { kind: 'direct', periodS: 60, payloadBytes: 20, wantAck: true }],
      }),
    );
    sim.run();
    const txs = of(events, 'tx_start');
    expect(txs.length).toBeGreaterThan(100);
    expect(of(events, 'retransmit').length).toBeGreaterThan(0);
    for (const tx of txs) expect(tx.relay).toBe((tx.node as number) & 0xff);
  });

  it('pending retries move back by the airtime of each packet received meanwhile (ReliableRouter::shouldFilterReceived)', () => {
    // a sends a want_ack DM to c, out of everyone's range: no ACK, so a retries. b (CLIENT_MUTE, so it never relays
    // a's packet and gives no implicit ACK) sends one packet that a hears while waiting.
    const run = (bSends: boolean) => {
      const { sim, events } = traced(lineScenario(3, {}, [{}, { role: 'CLIENT_MUTE' }, { x: 100_000 }]));
      const [, b, c] = sim.nodes;
      const dm = sendAt(sim, 1000, 0, { to: c!.num, wantAck: true });
      if (bSends) sendAt(sim, 3000, 1, { to: BROADCAST_NUM, hopLimit: 0, bytes: 30, portnum: PortNum.PRIVATE_APP });
      sim.run(120_000);
      const retransmits = of(events, 'retransmit', { id: dm.id });
      const bTx = of(events, 'tx_start', { node: b!.num });
      return { sim, retransmits, bTx, aRx: of(events, 'rx', { node: sim.nodes[0]!.num }) };
    };
    const quiet = run(false);
    const busy = run(true);
    expect(busy.bTx).toHaveLength(1);
    expect(busy.aRx).toHaveLength(1);
    const received = busy.sim.nodes[0]!.phy.packetTimeMs(busy.bTx[0]!.bytes as number);
    expect(received).toBeGreaterThan(0);
    expect(quiet.retransmits.length).toBeGreaterThan(0);
    // The first retry is late by exactly the received packet's airtime; later ones start from there.
    expect((busy.retransmits[0]!.t as number) - (quiet.retransmits[0]!.t as number)).toBeCloseTo(received, 6);
  });
});

describe('next-hop relays (NextHopRouter.cpp 2.6.11)', () => {
  it("a relay that overhears the destination's ACK stops retrying the DM it relayed", () => {
    // a - b - c: the first DM teaches a and b the next hops; b relays the second with c as next hop and keeps a retry
    // pending, which c's ACK (relayed back by b) must cancel.
    const { sim, events } = traced(lineScenario(3, { duration: '5m' }));
    const [, b, c] = sim.nodes;
    sendAt(sim, 1000, 0, { to: c!.num, wantAck: true });
    const second = sendAt(sim, 60_000, 0, { to: c!.num, wantAck: true });
    sim.run();
    const relayed = of(events, 'tx_start', { node: b!.num, id: second.id });
    expect(relayed).toHaveLength(1);
    expect(relayed[0]!.nextHop).toBe(c!.num & 0xff);
    expect(of(events, 'ack', { node: sim.nodes[0]!.num, id: second.id, kind: 'ack' })).toHaveLength(1);
    expect(of(events, 'retransmit', { node: b!.num, id: second.id })).toHaveLength(0);
  });
});

describe('packet history (PacketHistory.cpp 2.6.11)', () => {
  const pkt = (origin: number, id: number) => ({ origin, from: 0x10000000 + origin, id, nextHop: 0, relayNode: 1 });

  it('never forgets a packet seen within 10 minutes, however many others pass: a very late copy is a duplicate', () => {
    const h = new PacketHistory(5, 9, 0x99);
    h.check(pkt(1, 100), 0, true);
    for (let i = 0; i < 50; i++) h.check(pkt(2, 1000 + i), 1000 + i, true);
    expect(h.check(pkt(1, 100), FLOOD_EXPIRE_MS - 1, false).seen).toBe(true);
  });

  it('counts ten minutes from the latest sighting, and forgets after that', () => {
    const h = new PacketHistory(300, 9, 0x99);
    h.check(pkt(1, 7), 0, true);
    h.check(pkt(1, 7), 8 * 60_000, true); // heard again: the record is refreshed
    expect(h.check(pkt(1, 7), 17 * 60_000, false).seen).toBe(true);
    expect(h.check(pkt(1, 7), 18 * 60_000, false).seen).toBe(false);
  });

  it('purges expired records once past its reserved size', () => {
    const h = new PacketHistory(10, 9, 0x99);
    for (let i = 0; i < 8; i++) h.check(pkt(1, i + 1), 0, true);
    for (let i = 0; i < 8; i++) h.check(pkt(2, i + 1), FLOOD_EXPIRE_MS + 1, true);
    expect(h.size).toBeLessThanOrEqual(9);
    expect(h.check(pkt(2, 1), FLOOD_EXPIRE_MS + 2, false).seen).toBe(true);
  });
});
