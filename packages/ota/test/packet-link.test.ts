import { Prng, onAirPacketBytes, timeOnAirMs } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { type PortLink, attachToPacketLink } from '../src/adapters/packet-link.js';
import { OtaError } from '../src/errors.js';
import { MemoryProgressStore } from '../src/storage/progress.js';
import { DutyCyclePacer } from '../src/transfer/pacing.js';
import { TransferReceiver } from '../src/transfer/receiver.js';
import { BroadcastSender, type SenderReport } from '../src/transfer/sender.js';
import { LossyHub, PUBLISHER_KEY, PUBLISHER_TRUST, VirtualClock, expectBytes } from './helpers.js';

type Answer = { ok: true } | { ok: false; error: string };

/** A port whose sends wait until the test answers them, as a radio's queue status does. */
function manualPort() {
  const sent: { to: number | 'broadcast'; payload: number[]; options: { wantAck: boolean; hopLimit?: number } }[] = [];
  const answers: ((a: Answer) => void)[] = [];
  const handlers = new Set<(p: { from: number; payload: Uint8Array }) => void>();
  const port: PortLink = {
    maxPayload: 233,
    send(to, payload, options) {
      sent.push({ to, payload: Array.from(payload), options });
      return new Promise<Answer>((resolve) => answers.push(resolve));
    },
    onPacket(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
  };
  return { port, sent, answers, handlers };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('attachToPacketLink', () => {
  it('broadcasts unless a node is given, never with want_ack, with the hop limit asked for', () => {
    const { port, sent } = manualPort();
    const { link } = attachToPacketLink(port, { onMessage: () => {} }, { hopLimit: 0 });
    expect(link.send(Uint8Array.of(1))).toBe(true);
    expect(link.send(Uint8Array.of(2), 7)).toBe(true);
    const { link: plain } = attachToPacketLink(port, { onMessage: () => {} });
    plain.send(Uint8Array.of(3));
    expect(sent).toEqual([
      { to: 'broadcast', payload: [1], options: { wantAck: false, hopLimit: 0 } },
      { to: 7, payload: [2], options: { wantAck: false, hopLimit: 0 } },
      { to: 'broadcast', payload: [3], options: { wantAck: false } },
    ]);
  });

  it('says no while maxInFlight packets wait for the radio, and yes again once it answered', async () => {
    const { port, sent, answers } = manualPort();
    const { link } = attachToPacketLink(port, { onMessage: () => {} }, { maxInFlight: 2 });
    expect([link.send(Uint8Array.of(1)), link.send(Uint8Array.of(2)), link.send(Uint8Array.of(3))]).toEqual([true, true, false]);
    expect(sent).toHaveLength(2);
    expect(link.stats).toMatchObject({ sent: 2, inFlight: 2, busy: 1, dropped: 0 });
    answers[0]!({ ok: true });
    await settle();
    expect(link.stats?.inFlight).toBe(1);
    expect(link.send(Uint8Array.of(3))).toBe(true);
    expect(link.send(Uint8Array.of(4))).toBe(false);
    expect(sent.map((s) => s.payload[0])).toEqual([1, 2, 3]);
  });

  it('counts the packets the radio refused after taking them, by reason', async () => {
    const { port, answers } = manualPort();
    const { link } = attachToPacketLink(port, { onMessage: () => {} }, { maxInFlight: 8 });
    for (let i = 0; i < 5; i++) link.send(Uint8Array.of(i));
    answers[0]!({ ok: true });
    answers[1]!({ ok: false, error: 'NO_INTERFACE' });
    answers[2]!({ ok: false, error: 'NO_INTERFACE' });
    answers[3]!({ ok: false, error: 'DUTY_CYCLE_LIMIT' });
    answers[4]!({ ok: false, error: 'DISCONNECTED' });
    await settle();
    expect(link.stats).toEqual({ sent: 5, inFlight: 0, dropped: 4, droppedBy: { NO_INTERFACE: 2, DUTY_CYCLE_LIMIT: 1, DISCONNECTED: 1 }, busy: 0 });
  });

  it('hands the port\'s packets to the endpoint until detached', () => {
    const { port, handlers } = manualPort();
    const got: [number, number[]][] = [];
    const { detach } = attachToPacketLink(port, { onMessage: (from, p) => got.push([from, Array.from(p)]) });
    for (const h of handlers) h({ from: 5, payload: Uint8Array.of(9) });
    detach();
    expect(handlers.size).toBe(0);
    expect(got).toEqual([[5, [9]]]);
  });

  it('refuses a hop limit outside 0..7 and a maxInFlight below 1', () => {
    const { port } = manualPort();
    for (const o of [{ hopLimit: 8 }, { hopLimit: -1 }, { hopLimit: 1.5 }, { maxInFlight: 0 }, { maxInFlight: 2.5 }]) {
      expect(() => attachToPacketLink(port, { onMessage: () => {} }, o)).toThrow(OtaError);
    }
  });

  it('a broadcast transfer through radio ports completes although the radio drops some packets it took', async () => {
    const clock = new VirtualClock();
    const rng = new Prng(21);
    const hub = new LossyHub(clock, rng.derive('loss'), 0.1);
    // Each port answers 10 ms after a send, as a radio's queue status; the sender's radio refuses every fifth packet
    // (its queue was full), after having taken it.
    let handed = 0;
    const radioPort = (node: number): PortLink => ({
      maxPayload: 233,
      send(to, payload) {
        const refuse = node === 1 && ++handed % 5 === 0;
        if (!refuse) hub.link(node).send(payload, to === 'broadcast' ? undefined : to);
        return new Promise((resolve) => clock.setTimer(10, () => resolve(refuse ? { ok: false, error: 'NO_INTERFACE' } : { ok: true })));
      },
      onPacket(handler) {
        hub.endpoints.set(node, (from, payload) => handler({ from, payload }));
        return () => hub.endpoints.delete(node);
      },
    });
    const bundle = rng.bytes(5000);
    const ids = [100, 101, 102];
    const delivered = new Map<number, Uint8Array>();
    for (const id of ids) {
      let rx: TransferReceiver | null = null;
      const { link } = attachToPacketLink(radioPort(id), { onMessage: (from, p) => rx?.onMessage(from, p) });
      rx = new TransferReceiver({
        nodeId: id, link, clock, rng: rng.derive(`rx${id}`), store: new MemoryProgressStore(), trust: PUBLISHER_TRUST, accept: () => true,
        deliver: (b) => {
          delivered.set(id, b);
          return { ok: true };
        },
      });
    }
    let report: SenderReport | null = null;
    let tx: BroadcastSender | null = null;
    const { link } = attachToPacketLink(radioPort(1), { onMessage: (from, p) => tx?.onMessage(from, p) }, { hopLimit: 0 });
    tx = new BroadcastSender({
      bundle, manifest: { modelId: 'm', version: 2, baseVersion: null, securityCounter: 0 }, key: PUBLISHER_KEY, link, clock,
      pacer: new DutyCyclePacer({ dutyCyclePercent: 100, gapFactor: 0 }),
      airtimeMs: (n) => timeOnAirMs('SHORT_FAST', onAirPacketBytes({ portnum: 290, payloadBytes: n })),
      session: 7, seed: 3, receivers: ids, onDone: (r) => (report = r),
    });
    tx.start();
    await clock.runSettling(3_600_000, () => report !== null);
    expect(report).not.toBeNull();
    const r = report as unknown as SenderReport;
    expect(r.complete).toBe(true);
    for (const id of ids) expectBytes(delivered.get(id)!, bundle, `bundle at ${id}`);
    // Every fifth packet the sender handed over never went on air, and the report says how many.
    expect(r.dropped).toBeGreaterThan(0);
    expect(r.dropped).toBe(link.stats!.droppedBy['NO_INTERFACE']);
    expect(link.stats!.sent).toBe(handed);
    expect(r.dropped).toBe(Math.floor((handed - link.stats!.inFlight) / 5));
  });
});
