import { describe, expect, it } from 'vitest';
import { PathAdvisor, type RouterWarning } from '../src/meshtastic/path-advisor.js';

describe('router path advisor', () => {
  it('warns once about a router neighbour, unless it has been seen relaying our port', () => {
    const warnings: RouterWarning[] = [];
    const a = new PathAdvisor((w) => warnings.push(w));
    a.setOwnNum(1);
    a.nodeInfo(2, 'ROUTER', 0);
    a.nodeInfo(2, 'ROUTER', 0);
    a.nodeInfo(3, 'CLIENT', 0);
    a.nodeInfo(4, 'REPEATER', 2);
    expect(warnings.map((w) => [w.kind, w.router])).toEqual([['router-neighbour', 2]]);
    const b = new PathAdvisor((w) => warnings.push(w));
    b.setOwnNum(1);
    b.nodeInfo(0x10000505, 'CLIENT', 0);
    b.relayedPrivate(0x05);
    b.nodeInfo(0x10000505, 'ROUTER', 0);
    expect(warnings).toHaveLength(1);
  });

  it('blames a router nearer than a peer that cannot be reached, and every router on a traced route', () => {
    const warnings: RouterWarning[] = [];
    const a = new PathAdvisor((w) => warnings.push(w));
    a.setOwnNum(1);
    a.nodeInfo(2, 'ROUTER_LATE', 1);
    a.nodeInfo(5, 'CLIENT', 3);
    a.nodeInfo(6, 'REPEATER', 4);
    a.deliveryFailed(5, 'MAX_RETRANSMIT');
    expect(warnings.map((w) => [w.kind, w.router, w.peer])).toEqual([['router-on-path', 2, 5]]);
    a.traced(5, [6, 7]);
    expect(warnings.at(-1)).toMatchObject({ kind: 'router-on-path', router: 6, peer: 5 });
    a.deliveryFailed(9, 'MAX_RETRANSMIT'); // unknown peer: nothing to say
    a.selfBlocked('ROUTER', 'CORE_PORTNUMS_ONLY', 256);
    expect(warnings.at(-1)).toMatchObject({ kind: 'self-blocked', router: 1 });
    expect(warnings.at(-1)?.message).toMatch(/cannot receive compute traffic/);
    expect(a.warnings).toBe(warnings.length);
    // With a fallback port the node still takes part, and the warning says where.
    const b = new PathAdvisor((w) => warnings.push(w));
    b.setOwnNum(3);
    b.selfBlocked('ROUTER', 'CORE_PORTNUMS_ONLY', 256, 287);
    expect(warnings.at(-1)).toMatchObject({ kind: 'self-blocked', router: 3 });
    expect(warnings.at(-1)?.message).toMatch(/speaks on port 287 instead/);
  });
});
