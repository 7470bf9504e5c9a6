import { type CorePortnumsPolicy, droppedByCorePortnumsOnly } from '@compotastic/mesh';
import type { Destination } from '../transport/link.js';

/** Peers remembered as speaking on the fallback port (the oldest is forgotten first). */
const MAX_FALLBACK_PEERS = 1024;

/**
 * The fallback port for an application port: 287 (288 when the application itself uses 287). Both are private ports
 * that firmware 2.6's CORE_PORTNUMS_ONLY blacklist (256, 257 and a few core-adjacent ports) lets through, and neither
 * is one of the OTA ports (290..292).
 */
export function defaultFallbackPortnum(portnum: number): number {
  return portnum === 287 ? 288 : 287;
}

/**
 * Which port a packet of the application goes out on. A radio whose rebroadcast_mode is CORE_PORTNUMS_ONLY (routers
 * and repeaters install it) never hands its client a packet on the application's port in firmware 2.6, but it does
 * hand over other private ports. Such a node speaks only on the fallback port, and every node answers a peer on the
 * port it last heard that peer use, so the node can still take part. Firmware 2.7.4 and later drop every private port
 * there, and then no fallback helps: the node stays blocked.
 *
 * Kept apart from the radio connection so that what was learned about peers outlives a reconnection.
 */
export class PortFallback {
  /** Peers heard on the fallback port more recently than on the main one, oldest first. */
  private readonly peers = new Set<number>();

  constructor(readonly main: number, readonly fallback: number | null) {
    if (fallback === main) this.fallback = null;
  }

  /** Whether a packet on this port is the application's (main or fallback). */
  carries(portnum: number): boolean {
    return portnum === this.main || (this.fallback !== null && portnum === this.fallback);
  }

  /** A packet of the application arrived from `from` on `portnum`: answer it on that port from now on. */
  heard(from: number, portnum: number): void {
    if (this.fallback === null) return;
    if (portnum === this.fallback) {
      this.peers.delete(from);
      this.peers.add(from);
      if (this.peers.size > MAX_FALLBACK_PEERS) this.peers.delete(this.peers.values().next().value as number);
    } else if (portnum === this.main) {
      this.peers.delete(from);
    }
  }

  /** Whether this radio's rebroadcast mode drops the main port but lets the fallback through. */
  usable(mainDropped: boolean, policy: CorePortnumsPolicy): boolean {
    return mainDropped && this.fallback !== null && !droppedByCorePortnumsOnly(this.fallback, policy);
  }

  /** The port to send on: the fallback for everything while our own radio needs it, else for peers that use it. */
  portFor(to: Destination, ownRadioNeedsFallback: boolean): number {
    if (this.fallback === null) return this.main;
    if (ownRadioNeedsFallback) return this.fallback;
    return to !== 'broadcast' && this.peers.has(to >>> 0) ? this.fallback : this.main;
  }

  /** Peers currently answered on the fallback port. */
  get fallbackPeers(): number {
    return this.peers.size;
  }
}
