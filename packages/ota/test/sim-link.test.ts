import { describe, expect, it } from 'vitest';
import { type SimulatorLike, attachToSimulator } from '../src/experiments/sim-link.js';
import { VirtualClock } from './helpers.js';

/** A simulator with one node whose radio queue takes `room` packets, then answers with an error until drained. */
function fakeSimulator(room: number) {
  const sent: { to?: number; portnum: number; hopLimit?: number; wantAck?: boolean }[] = [];
  const listeners: Parameters<SimulatorLike['addListener']>[1][] = [];
  const sim: SimulatorLike = {
    clock: new VirtualClock(),
    sendFromApp(_node, opts) {
      if (sent.length >= room) return { id: 0, error: 3 /* NO_INTERFACE: queue full */ };
      sent.push({ to: opts.to, portnum: opts.portnum, hopLimit: opts.hopLimit, wantAck: opts.wantAck });
      return { id: sent.length, error: 0 };
    },
    addListener(_node, l) {
      listeners.push(l);
      return () => listeners.splice(listeners.indexOf(l), 1);
    },
  };
  return { sim, sent, listeners };
}

describe("the experiments' simulator adapter", () => {
  it('reports a packet the radio refused, so the sender can keep it', () => {
    const { sim, sent } = fakeSimulator(2);
    const link = attachToSimulator(sim, 1, { onMessage: () => {} }, { portnum: 290, hopLimit: 0 });
    expect(link.send(new Uint8Array([1]))).toBe(true);
    expect(link.send(new Uint8Array([2]), 7)).toBe(true);
    expect(link.send(new Uint8Array([3]))).toBe(false);
    expect(sent).toEqual([{ to: undefined, portnum: 290, hopLimit: 0, wantAck: false }, { to: 7, portnum: 290, hopLimit: 0, wantAck: false }]);
  });

  it('hands on only radio packets on the transfer port', () => {
    const { sim, listeners } = fakeSimulator(10);
    const got: number[] = [];
    attachToSimulator(sim, 1, { onMessage: (from) => got.push(from) }, { portnum: 290 });
    const packet = (from: number, portnum: number) => ({ from, portnum, payload: new Uint8Array([0]) });
    listeners[0]!.onPacket!(packet(5, 290), 0, 0, true);
    listeners[0]!.onPacket!(packet(6, 256), 0, 0, true);
    listeners[0]!.onPacket!(packet(7, 290), 0, 0, false);
    expect(got).toEqual([5]);
  });
});
