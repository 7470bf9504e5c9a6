import { describe, expect, it } from 'vitest';
import { type Message, encodeMessage } from '../src/wire/messages.js';
import { Messenger, SHED_AFTER_MS } from '../src/transport/messenger.js';
import { FakeMesh } from './fake-mesh.js';

describe('messenger', () => {
  it('fragments what does not fit, reassembles it, and ignores other applications on the port', async () => {
    const mesh = new FakeMesh(1);
    const a = new Messenger({ lora: mesh.link(1) }, { clock: mesh.clock });
    const b = new Messenger({ lora: mesh.link(2) }, { clock: mesh.clock });
    const got: Message[] = [];
    b.onMessage((from, m) => {
      expect(from).toBe(1);
      got.push(m);
    });
    const big: Message = { type: 'FAILURE', jobId: 1, shard: 0, attempt: 1, reason: 7, detail: 'y'.repeat(64) };
    Object.defineProperty(mesh.link(1), 'maxPayload', { value: 30 });
    const sent = a.send(2, big);
    mesh.link(1).deliver({ from: 9, to: 1, payload: Uint8Array.of(0x08, 0x01, 0x12), hops: 0, snr: null, relayNode: null });
    mesh.link(2).deliver({ from: 9, to: 2, payload: Uint8Array.of(0xc2, 0x7f), hops: 0, snr: null, relayNode: null });
    await mesh.run(60_000);
    expect(await sent).toEqual({ ok: true });
    expect(got).toEqual([big]);
    expect(mesh.link(1).sent.length).toBeGreaterThan(2);
    expect(b.stats.decodeErrors).toBe(1);
    expect(a.stats.foreign).toBe(1);
  });

  it('sends control messages before queued bulk data, keeping few packets in flight', async () => {
    const mesh = new FakeMesh(2);
    const a = new Messenger({ lora: mesh.link(1) }, { clock: mesh.clock, maxInFlight: 1 });
    mesh.link(2);
    const data = (i: number): Message => ({ type: 'DATA', jobId: 1, shard: 0, attempt: 1, stream: 0, offset: i * 10, bytes: new Uint8Array(10) });
    for (let i = 0; i < 5; i++) void a.send(2, data(i), { priority: 'bulk' });
    void a.send(2, { type: 'CANCEL', jobId: 1, shard: null, reason: 9 });
    await mesh.run(60_000);
    const order = mesh.link(1).sent.map((p) => p[1]);
    expect(order[0]).toBe(0x09); // the first DATA was already in flight
    expect(order[1]).toBe(0x0e); // CANCEL overtakes the rest
    expect(mesh.link(1).sent[0]).toEqual(encodeMessage(data(0)));
  });

  it('reports the radio\'s failure and an unencodable message without throwing', async () => {
    const mesh = new FakeMesh(3);
    const a = new Messenger({ lora: mesh.link(1) }, { clock: mesh.clock });
    mesh.link(2).up = false;
    const r = a.send(2, { type: 'CAP_QUERY', wantAdvert: true });
    await mesh.run(10_000);
    expect(await r).toEqual({ ok: false, error: 'MAX_RETRANSMIT' });
    expect(await a.send(2, { type: 'OFFER', jobId: -5, etaMs: 0, battery: 0, load: 0 })).toEqual({ ok: false, error: 'ENCODE:BAD_VALUE' });
    a.stop();
    expect(await a.send(2, { type: 'CAP_QUERY', wantAdvert: true })).toEqual({ ok: false, error: 'STOPPED' });
  });

  it('sends a more urgent job\'s messages first, data included, and keeps first-come order within a class', async () => {
    const mesh = new FakeMesh(4);
    const a = new Messenger({ lora: mesh.link(1) }, { clock: mesh.clock, maxInFlight: 1 });
    mesh.link(2);
    const data = (job: number, i: number): Message => ({ type: 'DATA', jobId: job, shard: 0, attempt: 1, stream: 0, offset: i * 10, bytes: new Uint8Array(10) });
    const sends: Array<[Message, number, 'bulk' | 'control']> = [
      [data(1, 0), 1, 'bulk'],
      [data(1, 1), 1, 'bulk'],
      [data(2, 0), 0, 'bulk'],
      [{ type: 'CANCEL', jobId: 2, shard: null, reason: 9 }, 0, 'control'],
      [data(3, 0), 3, 'bulk'],
      [data(3, 1), 3, 'bulk'],
      [{ type: 'CAP_QUERY', wantAdvert: true }, 1, 'control'],
    ];
    for (const [m, rank, priority] of sends) void a.send(2, m, { rank, priority });
    await mesh.run(60_000);
    const order = mesh.link(1).sent.map((p) => sends.findIndex(([m]) => encodeMessage(m).every((b, i) => p[i] === b) && encodeMessage(m).length === p.length));
    // The first was already in flight; then critical data, routine control, routine data, bulk control, bulk data.
    expect(order).toEqual([0, 4, 5, 6, 1, 3, 2]);
  });

  it('holds low-priority data back on a congested channel and sheds it if the channel stays busy', async () => {
    const mesh = new FakeMesh(5);
    let util = 80;
    const a = new Messenger({ lora: mesh.link(1) }, { clock: mesh.clock, channelUtilPct: () => util });
    mesh.link(2);
    const data = (i: number): Message => ({ type: 'DATA', jobId: 1, shard: 0, attempt: 1, stream: 0, offset: i * 10, bytes: new Uint8Array(10) });
    const shed = a.send(2, data(0), { rank: 0, priority: 'bulk', yieldAbovePct: 40 });
    const urgent = a.send(2, data(1), { rank: 3, priority: 'bulk' });
    await mesh.run(SHED_AFTER_MS + 10_000);
    expect(await urgent).toEqual({ ok: true });
    expect(await shed).toEqual({ ok: false, error: 'SHED' });
    expect(a.stats.shed).toBe(1);
    expect(mesh.link(1).sent.length).toBe(1);
    // Once the channel calms down, the same kind of message goes out after a short wait.
    util = 20;
    const later = a.send(2, data(2), { rank: 0, priority: 'bulk', yieldAbovePct: 40 });
    await mesh.run(mesh.scheduler.now + 10_000);
    expect(await later).toEqual({ ok: true });
  });

  it('limits a direct message to the relays its peer is known to be away, and leaves broadcasts and explicit limits alone', async () => {
    const mesh = new FakeMesh(7);
    const link = mesh.link(1);
    mesh.link(2);
    const limits: Array<number | undefined> = [];
    const send = link.send.bind(link);
    link.send = (to, payload, options) => {
      limits.push(options.hopLimit);
      return send(to, payload, options);
    };
    const distance = new Map([[2, 2]]);
    const a = new Messenger({ lora: link }, { clock: mesh.clock, hopLimitFor: (to) => distance.get(to) });
    const query: Message = { type: 'CAP_QUERY', wantAdvert: true };
    void a.send(2, query);
    void a.send('broadcast', query);
    void a.send(2, query, { hopLimit: 5 });
    void a.send(3, query);
    await mesh.run(60_000);
    expect(limits).toEqual([2, undefined, 5, undefined]);
  });
});
