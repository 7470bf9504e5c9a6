import type { Clock } from '@compotastic/mesh';
import type { MeshEndpoint } from '../adapters/packet-link.js';
import type { TransferLink } from '../transfer/link.js';

// The experiments measure the transfer against the project's mesh simulator directly: they run weeks of simulated
// time synchronously (`sim.run`), and the naive baseline they compare with needs each packet's ACK or NAK. A radio
// link through a client (attachToPacketLink over a MeshDevice port) answers every packet with a promise, which
// cannot settle inside a synchronous run, and this package depends on neither the orchestrator nor MeshDevice. So
// the experiments, and only they, talk to the simulator's node application API; real transfers go through
// attachToPacketLink.

/** A packet as the simulator hands it to a node's application. */
export interface SimulatorPacket {
  from: number;
  portnum: number;
  payload: Uint8Array | null;
  /** For routing (ACK/NAK) packets: the id of the packet they answer, and the error (0 = delivered). */
  requestId?: number;
  routingError?: number;
}

/** The part of the project's simulator the experiments drive (it has this shape as it is). */
export interface SimulatorLike {
  readonly clock: Clock;
  sendFromApp(nodeNum: number, opts: { to?: number; portnum: number; payload: Uint8Array; wantAck?: boolean; hopLimit?: number }): { id: number; error: number };
  addListener(nodeNum: number, listener: { onPacket?(packet: SimulatorPacket, rxSnr: number, rxRssi: number, viaRadio: boolean): void }): () => void;
}

/**
 * A sender or receiver on simulated node `nodeNum`: the TransferLink it sends through (false when the node's radio
 * refuses the packet: queue full, duty cycle) and its radio's packets on `portnum` routed to `endpoint`.
 */
export function attachToSimulator(sim: SimulatorLike, nodeNum: number, endpoint: MeshEndpoint, options: { portnum: number; hopLimit?: number }): TransferLink {
  sim.addListener(nodeNum, {
    onPacket(p, _snr, _rssi, viaRadio) {
      if (viaRadio && p.portnum === options.portnum && p.payload) endpoint.onMessage(p.from, p.payload);
    },
  });
  const hop = options.hopLimit === undefined ? {} : { hopLimit: options.hopLimit };
  return {
    send: (payload, to) => sim.sendFromApp(nodeNum, { ...(to === undefined ? {} : { to }), portnum: options.portnum, payload, wantAck: false, ...hop }).error === 0,
  };
}
