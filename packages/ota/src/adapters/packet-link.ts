import { OtaError } from '../errors.js';
import type { TransferLink, TransferLinkStats } from '../transfer/link.js';

/** Private port the transfer uses by default: in 256..511, and not one CORE_PORTNUMS_ONLY routers drop in firmware 2.6. */
export const OTA_PORTNUM = 290;

/** Where an adapter hands the payloads that arrive on the transfer's port: a sender's or a receiver's onMessage. */
export interface MeshEndpoint {
  onMessage(from: number, payload: Uint8Array): void;
}

/**
 * One application port of a radio link, as the transfer needs it: a payload limit, a send that resolves with the
 * radio's answer, and the packets received on that port. The orchestrator's `openPort(portnum)` links (a Meshtastic
 * radio through MeshDevice) have this shape as they are.
 */
export interface PortLink {
  readonly maxPayload: number;
  send(to: number | 'broadcast', payload: Uint8Array, options: { wantAck: boolean; hopLimit?: number }): Promise<{ ok: true } | { ok: false; error: string }>;
  onPacket(handler: (p: { from: number; payload: Uint8Array }) => void): () => void;
}

export interface PacketLinkOptions {
  /** Hop limit of the transfer's packets (default: the link's, i.e. the radio's). 0 keeps them to direct neighbours. */
  hopLimit?: number;
  /** Packets handed to the link and not yet answered by the radio, at most (default 4); more and `send` says no. */
  maxInFlight?: number;
}

export const DEFAULT_MAX_IN_FLIGHT = 4;

/**
 * Connects a sender or receiver to one port of a radio link: returns the TransferLink it sends through, and routes
 * payloads received on the port to `endpoint`. Every packet goes without want_ack (the fountain code repairs loss),
 * to everyone in range unless a node is given. `send` answers at once: false while `maxInFlight` packets still wait
 * for the radio's queue status (the sender keeps the packet and backs off); a packet the radio then refuses (queue
 * full, duty cycle, link down) never went on air and is counted in `link.stats`. Call `detach` to stop listening.
 */
export function attachToPacketLink(link: PortLink, endpoint: MeshEndpoint, options: PacketLinkOptions = {}): { link: TransferLink; detach: () => void } {
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new OtaError('INVALID_ARGUMENT', `maxInFlight must be a positive integer, got ${maxInFlight}`);
  const { hopLimit } = options;
  if (hopLimit !== undefined && (!Number.isInteger(hopLimit) || hopLimit < 0 || hopLimit > 7)) {
    throw new OtaError('INVALID_ARGUMENT', `hopLimit must be 0..7, got ${hopLimit}`);
  }
  const sendOptions = hopLimit === undefined ? { wantAck: false } : { wantAck: false, hopLimit };
  const stats: TransferLinkStats = { sent: 0, inFlight: 0, dropped: 0, droppedBy: {}, busy: 0 };
  const dropped = (reason: string): void => {
    stats.dropped++;
    stats.droppedBy[reason] = (stats.droppedBy[reason] ?? 0) + 1;
  };
  const detach = link.onPacket((p) => endpoint.onMessage(p.from, p.payload));
  const transfer: TransferLink = {
    stats,
    send(payload, to) {
      if (stats.inFlight >= maxInFlight) {
        stats.busy++;
        return false;
      }
      stats.inFlight++;
      stats.sent++;
      link.send(to ?? 'broadcast', payload, sendOptions).then(
        (r) => {
          stats.inFlight--;
          if (!r.ok) dropped(r.error);
        },
        (e: unknown) => {
          stats.inFlight--;
          dropped(e instanceof Error ? e.name : 'ERROR');
        },
      );
      return true;
    },
  };
  return { link: transfer, detach };
}
