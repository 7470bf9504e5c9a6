import type { Clock } from '@compotastic/mesh';
import { OtaError } from '../errors.js';
import type { TransferLink } from '../transfer/link.js';
import { OTA_PORTNUM, type MeshEndpoint } from './packet-link.js';

/** A packet as a Meshtastic node hands it to its application. */
export interface MeshPacketLike {
  from: number;
  to: number;
  id?: number;
  portnum: number;
  payload: Uint8Array | null;
  /** For routing (ACK/NAK) packets: the id of the packet they answer, and the error (0 = delivered). */
  requestId?: number;
  routingError?: number;
}

/**
 * The part of a mesh (simulated or real) the transfer needs: send an application payload from a node, and listen to
 * what a node's application receives. The project's simulator fits this shape as it is.
 */
export interface MeshLike {
  readonly clock: Clock;
  sendFromApp(nodeNum: number, opts: { to?: number; portnum: number; payload: Uint8Array; wantAck?: boolean; hopLimit?: number }): { id: number; error: number };
  addListener(nodeNum: number, listener: { onPacket?(packet: MeshPacketLike, rxSnr: number, rxRssi: number, viaRadio: boolean): void }): () => void;
}

export interface AttachOptions {
  portnum?: number;
  /** Hop limit for the transfer's packets (default: the mesh's). 0 keeps a broadcast to direct neighbours. */
  hopLimit?: number;
}

/**
 * Connects a sender or receiver on node `nodeNum` to a mesh: returns the TransferLink it sends through, and routes
 * payloads on the transfer port to `endpoint`. Call the returned `detach` to stop listening.
 */
export function attachToMesh(mesh: MeshLike, nodeNum: number, endpoint: MeshEndpoint, options: AttachOptions = {}): { link: TransferLink; detach: () => void } {
  const portnum = options.portnum ?? OTA_PORTNUM;
  if (!Number.isInteger(portnum) || portnum < 256 || portnum > 511) throw new OtaError('INVALID_ARGUMENT', 'the transfer port must be a private port (256..511)');
  const detach = mesh.addListener(nodeNum, {
    onPacket(p, _snr, _rssi, viaRadio) {
      if (viaRadio && p.portnum === portnum && p.payload) endpoint.onMessage(p.from, p.payload);
    },
  });
  const link: TransferLink = {
    send(payload, to) {
      // The firmware answers every packet from the client with a QueueStatus; an error there (queue full, radio off)
      // means the packet never went on air.
      const { error } = mesh.sendFromApp(nodeNum, {
        ...(to === undefined ? {} : { to }),
        portnum,
        payload,
        wantAck: false,
        ...(options.hopLimit === undefined ? {} : { hopLimit: options.hopLimit }),
      });
      return error === 0;
    },
  };
  return { link, detach };
}
