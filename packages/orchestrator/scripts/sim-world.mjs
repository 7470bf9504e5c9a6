/* global setImmediate */
// The attack suite's mesh over the simulator (@compotastic/sim, a devDependency): each node's radio is a simulated
// Meshtastic node (propagation, collisions, the firmware's flooding and next-hop routing), on LONG_FAST, in virtual
// time. An adversary's radio may put any `from` in the header, and hears every packet sent on the port.
import { Simulation } from '@compotastic/sim';
import { Prng, maxPayloadFor, onAirPacketBytes } from '@compotastic/mesh';

const PORT = 256;
const BROADCAST = 0xffffffff;

/** Let promise work (the orchestrators' sends and computations) settle. */
function settle() {
  return new Promise((resolve) => setImmediate(resolve));
}

/** @type {import('./sim-world.mjs').simWorld} */
export function simWorld({ seed, nodes }) {
  const rng = new Prng(seed).derive('attack-world');
  // Nodes spread over 1.5 x 1.5 km: most hear each other directly, some take a relay.
  const list = Array.from({ length: nodes }, (_, i) => ({ name: `n${i}`, x: Math.round(rng.uniform(0, 1500)), y: Math.round(rng.uniform(0, 1500)), deviceClass: 'phone' }));
  const sim = new Simulation({ name: 'attacks', duration: '4h', preset: 'LONG_FAST', hopLimit: 3, nodes: { list } }, { seed });
  const overhearers = [];
  const maxPayload = maxPayloadFor({ portnum: PORT });

  // `options` are the link's SendOptions (want_ack, hop limit), as the firmware takes them from its client.
  const transmit = (radio, from, to, payload, options = { wantAck: to !== 'broadcast' }) => {
    const node = sim.requireNode(radio);
    for (const h of overhearers) h({ from, to, payload });
    if (from === radio) return sim.sendFromApp(radio, { to: to === 'broadcast' ? BROADCAST : to, portnum: PORT, payload, wantAck: options.wantAck, hopLimit: options.hopLimit }).error;
    const p = {
      origin: node.index, from, to: to === 'broadcast' ? BROADCAST : to, id: 0, hopLimit: node.hopLimit, hopStart: 0, wantAck: false, channel: 0,
      nextHop: 0, relayNode: 0, portnum: PORT, payload, payloadBytes: payload.length, wantResponse: false, requestId: 0, replyId: 0,
      routingError: -1, priority: 0, rxSnr: 0, rxRssi: 0, onAirBytes: onAirPacketBytes({ portnum: PORT, payloadBytes: payload.length }),
    };
    return node.router.sendLocal(p);
  };

  const links = new Map();
  const link = (num) => {
    let l = links.get(num);
    if (l) return l;
    const node = sim.requireNode(num);
    l = {
      kind: 'lora',
      nodeNum: num,
      maxPayload,
      send: (to, payload, options) => Promise.resolve(transmit(num, num, to, payload, options) === 0 ? { ok: true } : { ok: false, error: 'NO_INTERFACE' }),
      onPacket: (handler) => {
        const listener = {
          onPacket: (p, snr) => {
            if (p.portnum !== PORT || !p.payload || p.from === num) return;
            handler({ from: p.from, to: p.to, payload: p.payload, hops: p.hopStart ? p.hopStart - p.hopLimit : null, snr, relayNode: p.relayNode || null });
          },
        };
        node.listeners.add(listener);
        return () => node.listeners.delete(listener);
      },
      facts: () => ({ preset: 'LONG_FAST', region: 'EU_868', dutyCyclePct: 10, channelUtilPct: 0, txUtilPct: 0, hopLimit: 3, portBlocked: false }),
      hopsTo: () => null,
      openPort: () => {
        throw new Error('the attack world has one port');
      },
    };
    links.set(num, l);
    return l;
  };

  return {
    clock: sim.clock,
    nodes: sim.nodes.map((n) => n.num),
    link,
    inject: (radio, from, to, payload) => void transmit(radio, from, to, payload),
    overhear: (handler) => void overhearers.push(handler),
    run: async (untilMs) => {
      while (sim.scheduler.nextEventTime() <= untilMs) {
        sim.scheduler.step();
        await settle();
      }
    },
  };
}
