import { BROADCAST_NUM } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { settingsOf } from '../src/client/admin.js';
import { channelHash, channelIdentities, channelKey, defaultChannelIdentities } from '../src/mesh/channels.js';
import type { Simulation } from '../src/index.js';
import { lineScenario, of, sendAt, traced } from './helpers.js';

/* Channels split the mesh as in firmware 2.6.11 (Channels.cpp, Router.cpp perhapsDecode, RoutingModule). */

const PRIMARY = 1;
const SECONDARY = 2;

/** Give node `index` a primary channel with this PSK, as a client's setChannel would. */
function setPrimaryPsk(sim: Simulation, index: number, psk: Uint8Array, name = ''): void {
  const node = sim.nodes[index]!;
  const r = settingsOf(sim, node).setChannel({ index: 0, role: PRIMARY, settings: { name, psk } });
  expect(r.error).toBe(0);
}

describe('channels', () => {
  it('hashes name and expanded key as the firmware does: the default channel of LONG_FAST is 8', () => {
    // The default LongFast channel's hash byte is 0x08, as every Meshtastic packet sniffer shows.
    const key = channelKey({ role: PRIMARY, psk: Uint8Array.of(1) }, null)!;
    expect(key).toHaveLength(16);
    expect(channelHash('LongFast', key)).toBe(8);
    // PSK index 0 is no encryption; a short key is padded to AES128; an empty secondary key is the primary's.
    expect(channelKey({ role: PRIMARY, psk: Uint8Array.of(0) }, null)).toHaveLength(0);
    expect(channelKey({ role: PRIMARY, psk: Uint8Array.of(1, 2, 3) }, null)).toEqual(Uint8Array.of(1, 2, 3, ...new Array(13).fill(0)));
    expect(channelKey({ role: SECONDARY, psk: new Uint8Array(0) }, { role: PRIMARY, psk: Uint8Array.of(1) })).toEqual(key);
    expect(channelKey({ role: 0, psk: Uint8Array.of(1) }, null)).toBeNull();
    expect(defaultChannelIdentities('LongFast')).toEqual(channelIdentities([{ role: PRIMARY, name: '', psk: Uint8Array.of(1) }], 'LongFast'));
  });

  it('a node on another key hears the packet (airtime, collisions) but cannot decode it; as a rebroadcaster it relays it undecoded', () => {
    // a - b - c, only neighbours hear each other; b's primary has another key (same name, so the same frequency).
    const { sim, events } = traced(lineScenario(3));
    const [a, b, c] = sim.nodes;
    setPrimaryPsk(sim, 1, Uint8Array.of(2));
    const msg = sendAt(sim, 1000, 0, { to: BROADCAST_NUM });
    sim.run();
    // b received it on air: it cost b's receiver the airtime, and b took it into its duplicate history.
    expect(of(events, 'rx', { node: b!.num, id: msg.id }).length).toBeGreaterThanOrEqual(1);
    expect(of(events, 'drop', { node: b!.num, id: msg.id, reason: 'undecodable' })).toHaveLength(1);
    expect(of(events, 'deliver', { node: b!.num, id: msg.id })).toHaveLength(0);
    expect(b!.router.nodeDb.has(a!.num)).toBe(false);
    // RoutingModule takes undecoded packets too (encryptedOk): with rebroadcast mode ALL b relays the encrypted packet,
    // and c, on a's channel, decodes it two hops out.
    expect(of(events, 'relay', { node: b!.num, id: msg.id })).toHaveLength(1);
    expect(of(events, 'deliver', { node: c!.num, id: msg.id })).toHaveLength(1);
  });

  it('LOCAL_ONLY and KNOWN_ONLY keep to their own channels: the packet stops there', () => {
    for (const mode of ['LOCAL_ONLY', 'KNOWN_ONLY'] as const) {
      const { sim, events } = traced(lineScenario(3, {}, [{}, { rebroadcastMode: mode }, {}]));
      const [, b, c] = sim.nodes;
      setPrimaryPsk(sim, 1, Uint8Array.of(2));
      const msg = sendAt(sim, 1000, 0, { to: BROADCAST_NUM });
      sim.run();
      expect(of(events, 'drop', { node: b!.num, id: msg.id, reason: 'undecodable' }), mode).toHaveLength(1);
      expect(of(events, 'relay', { node: b!.num, id: msg.id }), mode).toHaveLength(0);
      expect(of(events, 'deliver', { node: c!.num, id: msg.id }), mode).toHaveLength(0);
    }
  });

  it('a direct message to a node on another channel is not delivered, and the ACKs it gets are undecodable: the sender gives up', () => {
    const { sim, events } = traced(lineScenario(2));
    const [a, b] = sim.nodes;
    setPrimaryPsk(sim, 1, Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9));
    const msg = sendAt(sim, 1000, 0, { to: b!.num, wantAck: true });
    sim.run();
    expect(of(events, 'deliver', { node: b!.num, id: msg.id })).toHaveLength(0);
    expect(of(events, 'ack', { node: a!.num, id: msg.id, kind: 'nak', error: 'MAX_RETRANSMIT' })).toHaveLength(1);
    // The duplicate filter runs before decoding, on header fields: b answers a's repeated copies (to b, want_ack) with
    // an ACK (NextHopRouter::shouldFilterReceived), but on b's channel, which a cannot decode.
    const acks = of(events, 'tx_start', { node: b!.num });
    expect(acks.length).toBeGreaterThan(0);
    for (const t of acks) expect(of(events, 'drop', { node: a!.num, id: t.id, reason: 'undecodable' })).toHaveLength(1);
  });

  it('a node holding the sender\'s channel as a secondary decodes it, under its own index for that channel', () => {
    const { sim, events } = traced(lineScenario(2));
    const [a, b] = sim.nodes;
    const got: number[] = [];
    sim.addListener(b!.num, { onPacket: (p, _s, _r, viaRadio) => viaRadio && p.from === a!.num && got.push(p.channel) });
    setPrimaryPsk(sim, 0, Uint8Array.of(5));
    // b keeps the default primary and adds a's channel (the default name, PSK index 5) as secondary 3.
    settingsOf(sim, b!).setChannel({ index: 3, role: SECONDARY, settings: { name: 'LongFast', psk: Uint8Array.of(5) } });
    const msg = sendAt(sim, 1000, 0, { to: BROADCAST_NUM });
    sim.run();
    expect(of(events, 'deliver', { node: b!.num, id: msg.id })).toHaveLength(1);
    expect(got).toEqual([3]);
  });

  it('an undecodable packet still collides: a foreign-channel sender destroys a packet b could have decoded', () => {
    // a and c are out of each other's range and both reach b; c is on another key and sends at the same moment.
    const run = (cSends: boolean) => {
      // 1500 m apart: b hears both, and a and c are too far apart for channel activity detection to see each other.
      const { sim, events } = traced(lineScenario(3, {}, [{ x: 0 }, { x: 1500 }, { x: 3000 }]));
      const [, b] = sim.nodes;
      setPrimaryPsk(sim, 2, Uint8Array.of(2));
      const m0 = sendAt(sim, 1000, 0, { to: BROADCAST_NUM, hopLimit: 0 });
      if (cSends) sendAt(sim, 1000, 2, { to: BROADCAST_NUM, hopLimit: 0 });
      sim.run();
      return { delivered: of(events, 'deliver', { node: b!.num, id: m0.id }).length, lost: of(events, 'drop', { node: b!.num, from: sim.nodes[0]!.num }).length };
    };
    expect(run(false)).toEqual({ delivered: 1, lost: 0 });
    const both = run(true);
    expect(both.delivered).toBe(0);
    expect(both.lost).toBeGreaterThan(0);
  });
});
