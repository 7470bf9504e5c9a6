import { lastByteOfNodeNum } from '@compotastic/mesh';
import { nodeName } from '../scheduler/planner.js';

/** Device roles that install rebroadcast_mode CORE_PORTNUMS_ONLY by default (firmware 2.6: ROUTER, REPEATER). */
export const PRIVATE_PORT_DROPPING_ROLES: ReadonlySet<string> = new Set(['ROUTER', 'REPEATER', 'ROUTER_LATE']);

export interface RouterWarning {
  kind: 'router-neighbour' | 'router-on-path' | 'self-blocked';
  router: number;
  peer: number | null;
  message: string;
}

interface KnownNode {
  role: string;
  hopsAway: number | null;
}

/**
 * Spots Meshtastic routers that may drop this application's traffic. Routers and repeaters default to
 * rebroadcast_mode CORE_PORTNUMS_ONLY, which drops PRIVATE_APP (256) in firmware 2.6 and every port from 256 to 511
 * from 2.7.4. The advisor warns when such a node is a direct neighbour, and when traffic to a peer fails while a
 * router sits on the likely or traced path; a router seen relaying our port is cleared.
 */
export class PathAdvisor {
  private readonly nodes = new Map<number, KnownNode>();
  private readonly relaysPrivate = new Set<number>();
  private readonly warned = new Set<string>();

  private own = 0;

  constructor(private readonly onWarning: (w: RouterWarning) => void) {}

  /** This node's number, once the radio reported it. */
  setOwnNum(num: number): void {
    this.own = num >>> 0;
  }

  private ownNum(): number {
    return this.own;
  }

  /**
   * This node's own radio drops the port: nothing addressed to us on it will ever arrive. With a fallback port the
   * radio passes, the node speaks there instead (peers answer it there); without one it cannot take part.
   */
  selfBlocked(role: string, mode: string, portnum: number, fallback: number | null = null): void {
    const num = this.ownNum();
    const what = `this radio (${nodeName(num)}, role ${role}) has rebroadcast_mode ${mode}, which drops port ${portnum}`;
    this.warn({
      kind: 'self-blocked',
      router: num,
      peer: null,
      message: fallback !== null
        ? `${what}: this node speaks on port ${fallback} instead, which the firmware passes, and its peers answer it there; set rebroadcast_mode ALL to use port ${portnum}`
        : `${what}: it cannot receive compute traffic; set rebroadcast_mode ALL or use a port the firmware passes`,
    });
  }

  /** From the radio's node database (config handshake or NodeInfo updates). */
  nodeInfo(num: number, role: string, hopsAway: number | null): void {
    this.nodes.set(num, { role, hopsAway });
    if (num !== this.ownNum() && hopsAway === 0 && PRIVATE_PORT_DROPPING_ROLES.has(role) && !this.relaysPrivate.has(num)) {
      this.warn({
        kind: 'router-neighbour',
        router: num,
        peer: null,
        message: `neighbour ${nodeName(num)} is a ${role}: with its default rebroadcast_mode CORE_PORTNUMS_ONLY it drops private ports, so compute traffic must find another relay`,
      });
    }
  }

  /** A packet on our port arrived through a relay: that relay forwards private ports. */
  relayedPrivate(relayByte: number | null): void {
    if (!relayByte) return;
    for (const [num] of this.nodes) if (lastByteOfNodeNum(num) === relayByte) this.relaysPrivate.add(num);
  }

  /** Delivery to a peer failed at the routing level. */
  deliveryFailed(peer: number, error: string): void {
    const target = this.nodes.get(peer);
    if (!target || (target.hopsAway ?? 0) < 1) return;
    // Routers no farther than the peer could be between us.
    for (const [num, n] of this.nodes) {
      if (num === peer || num === this.ownNum() || !PRIVATE_PORT_DROPPING_ROLES.has(n.role) || this.relaysPrivate.has(num)) continue;
      if (n.hopsAway === null || n.hopsAway >= (target.hopsAway ?? 0)) continue;
      this.warn({
        kind: 'router-on-path',
        router: num,
        peer,
        message: `delivery to ${nodeName(peer)} failed (${error}) and ${role(n)} ${nodeName(num)} is likely on the path: routers with CORE_PORTNUMS_ONLY drop private ports`,
      });
    }
  }

  /** A traceroute to a peer came back: every router on it is a suspect. */
  traced(peer: number, route: readonly number[]): void {
    for (const num of route) {
      const n = this.nodes.get(num);
      if (!n || !PRIVATE_PORT_DROPPING_ROLES.has(n.role) || this.relaysPrivate.has(num)) continue;
      this.warn({
        kind: 'router-on-path',
        router: num,
        peer,
        message: `the route to ${nodeName(peer)} goes through ${role(n)} ${nodeName(num)}: routers with CORE_PORTNUMS_ONLY drop private ports`,
      });
    }
  }

  private warn(w: RouterWarning): void {
    const key = `${w.kind}:${w.router}:${w.peer ?? ''}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.onWarning(w);
  }

  get warnings(): number {
    return this.warned.size;
  }
}

function role(n: KnownNode): string {
  return n.role;
}
