import { describe, expect, it } from 'vitest';
import { attachToMesh, type MeshLike } from '../src/adapters/mesh-link.js';
import { OtaError } from '../src/errors.js';
import { VirtualClock } from './helpers.js';

/** A mesh with one node whose radio queue takes `room` packets, then answers with an error until drained. */
function fakeMesh(room: number) {
  const sent: { to?: number; portnum: number; hopLimit?: number; payload: Uint8Array }[] = [];
  const listeners: Parameters<MeshLike['addListener']>[1][] = [];
  const mesh: MeshLike = {
    clock: new VirtualClock(),
    sendFromApp(_node, opts) {
      if (sent.length >= room) return { id: 0, error: 3 /* NO_INTERFACE: queue full */ };
      sent.push(opts);
      return { id: sent.length, error: 0 };
    },
    addListener(_node, l) {
      listeners.push(l);
      return () => listeners.splice(listeners.indexOf(l), 1);
    },
  };
  return { mesh, sent, listeners };
}

describe('attachToMesh', () => {
  it('reports a packet the radio refused, so the sender can keep it', () => {
    const { mesh, sent } = fakeMesh(2);
    const { link } = attachToMesh(mesh, 1, { onMessage: () => {} }, { hopLimit: 0 });
    expect(link.send(new Uint8Array([1]))).toBe(true);
    expect(link.send(new Uint8Array([2]), 7)).toBe(true);
    expect(link.send(new Uint8Array([3]))).toBe(false);
    expect(sent.map((s) => [s.to, s.portnum, s.hopLimit])).toEqual([[undefined, 290, 0], [7, 290, 0]]);
  });

  it('hands on only radio packets on the transfer port, until detached', () => {
    const { mesh, listeners } = fakeMesh(10);
    const got: number[] = [];
    const { detach } = attachToMesh(mesh, 1, { onMessage: (from) => got.push(from) });
    const packet = (from: number, portnum: number) => ({ from, to: 0xffffffff, portnum, payload: new Uint8Array([0]) });
    listeners[0]!.onPacket!(packet(5, 290) as never, 0, 0, true);
    listeners[0]!.onPacket!(packet(6, 256) as never, 0, 0, true);
    listeners[0]!.onPacket!(packet(7, 290) as never, 0, 0, false);
    expect(got).toEqual([5]);
    detach();
    expect(listeners.length).toBe(0);
  });

  it('only takes a private port', () => {
    const { mesh } = fakeMesh(1);
    expect(() => attachToMesh(mesh, 1, { onMessage: () => {} }, { portnum: 1 })).toThrow(OtaError);
  });
});
