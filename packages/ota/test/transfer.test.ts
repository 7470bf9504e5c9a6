import { Prng, timeOnAirMs, onAirPacketBytes } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../src/bytes.js';
import { MemoryFlash } from '../src/storage/flash.js';
import { FlashProgressStore, MemoryProgressStore, type ProgressStore } from '../src/storage/progress.js';
import { MAX_HASHES_PER_MESSAGE, MAX_MESSAGE_BYTES, decodeMessage, encodeMessage, type OfferMessage } from '../src/transfer/messages.js';
import { DutyCyclePacer } from '../src/transfer/pacing.js';
import { TransferReceiver } from '../src/transfer/receiver.js';
import { BroadcastSender, type SenderReport } from '../src/transfer/sender.js';
import type { TransferLink } from '../src/transfer/link.js';
import { OtaError } from '../src/errors.js';
import { LossyHub, PUBLISHER_KEY, PUBLISHER_TRUST, VirtualClock, expectBytes, volume } from './helpers.js';
import { offerDigest, signHashes, signOffer } from '../src/transfer/auth.js';

const airtime = (n: number): number => timeOnAirMs('LONG_FAST', onAirPacketBytes({ portnum: 290, payloadBytes: n }));
const manifest = { modelId: 'kws-tiny', version: 2, baseVersion: 1, securityCounter: 1 };

interface Rig {
  clock: VirtualClock;
  hub: LossyHub;
  sender: BroadcastSender;
  receivers: TransferReceiver[];
  delivered: Map<number, Uint8Array>;
  report: () => SenderReport | null;
  stores: ProgressStore[];
}

function rig(opts: {
  seed: number; loss: number; receivers: number; bundle: Uint8Array; stores?: ProgressStore[]; accept?: (o: OfferMessage) => true | 'DOWNGRADE'; pacer?: DutyCyclePacer;
  /** Wraps the sender's link (e.g. a radio whose queue is full for a while). */
  senderLink?: (inner: TransferLink) => TransferLink; maxRefusedMs?: number; maxBlockSymbols?: number;
}): Rig {
  const clock = new VirtualClock();
  const rng = new Prng(opts.seed);
  const hub = new LossyHub(clock, rng.derive('loss'), opts.loss);
  const delivered = new Map<number, Uint8Array>();
  const ids = Array.from({ length: opts.receivers }, (_, i) => 100 + i);
  const stores = opts.stores ?? ids.map(() => new MemoryProgressStore());
  const receivers = ids.map((id, i) => {
    const r = new TransferReceiver({
      nodeId: id, link: hub.link(id), clock, rng: rng.derive(`rx${id}`), store: stores[i]!, trust: PUBLISHER_TRUST,
      accept: opts.accept ?? (() => true),
      deliver: (b) => {
        delivered.set(id, b);
        return { ok: true };
      },
    });
    hub.endpoints.set(id, (from, p) => r.onMessage(from, p));
    return r;
  });
  let report: SenderReport | null = null;
  const sender = new BroadcastSender({
    bundle: opts.bundle, manifest, key: PUBLISHER_KEY, link: opts.senderLink ? opts.senderLink(hub.link(1)) : hub.link(1), clock, maxRefusedMs: opts.maxRefusedMs,
    pacer: opts.pacer ?? new DutyCyclePacer({ dutyCyclePercent: 100, gapFactor: 0 }),
    airtimeMs: airtime, session: 0x1234, seed: rng.uint32(), receivers: ids, maxBlockSymbols: opts.maxBlockSymbols,
    onDone: (r) => (report = r),
  });
  hub.endpoints.set(1, (from, p) => sender.onMessage(from, p));
  return { clock, hub, sender, receivers, delivered, report: () => report, stores };
}

describe('transfer messages', () => {
  it('every message fits one Meshtastic payload and round-trips', () => {
    const offer: OfferMessage = signOffer({
      type: 'offer', session: 1, seed: 2, length: 65536, symbolSize: 225, maxBlockSymbols: 512, bundleSha256: new Uint8Array(32).fill(3),
      modelHash: 4, version: 5, baseVersion: null, securityCounter: 6,
    }, PUBLISHER_KEY);
    const hashes = signHashes(offerDigest(offer), { session: 1, block: 2, firstEsi: 300, hashes: Array.from({ length: MAX_HASHES_PER_MESSAGE }, () => new Uint8Array(8).fill(7)) }, PUBLISHER_KEY);
    const msgs = [
      offer,
      { type: 'data', session: 1, block: 2, esi: 300, symbol: new Uint8Array(225).fill(9) },
      { type: 'poll', session: 1, round: 3, windowMs: 20000, done: Array.from({ length: 200 }, (_, i) => i) },
      { type: 'status', session: 1, round: 3, state: 'receiving', reason: 'NONE', received: 10, first: { block: 0, esi: 3 }, needs: Array.from({ length: 200 }, (_, i) => ({ block: i, need: 4 })) },
      { type: 'end', session: 1, reason: 0 },
      hashes,
    ] as const;
    for (const m of msgs) {
      const b = encodeMessage(m);
      expect(b.length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      expect(decodeMessage(b).type).toBe(m.type);
    }
    expect(decodeMessage(encodeMessage(offer))).toEqual(offer);
    expect(() => encodeMessage({ type: 'data', session: 1, block: 0, esi: 0, symbol: new Uint8Array(226) })).toThrow(OtaError);
  });

  it('decoding fuzzed messages fails only with OtaError; what decodes re-encodes to the same bytes', () => {
    const rng = new Prng(1);
    let decoded = 0;
    let rejected = 0;
    for (let i = 0, n = volume(2000, 200_000); i < n; i++) {
      const b = rng.bytes(rng.int(0, 240));
      if (b.length) b[0] = 0x20 | rng.int(0, 7);
      let m;
      try {
        m = decodeMessage(b);
      } catch (e) {
        expect(e).toBeInstanceOf(OtaError);
        rejected++;
        continue;
      }
      expectBytes(encodeMessage(m), b, `message ${i}`);
      decoded++;
    }
    // Random DATA messages (any symbol length) decode; bad types, lengths and counts are refused.
    expect(decoded).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });
});

describe('broadcast transfer', () => {
  it('delivers one bundle to many receivers through 20% loss in a few rounds', () => {
    const bundle = new Prng(2).bytes(20000);
    const r = rig({ seed: 3, loss: 0.2, receivers: 12, bundle });
    r.sender.start();
    r.clock.run();
    const rep = r.report()!;
    expect(rep.complete).toBe(true);
    expect(r.delivered.size).toBe(12);
    for (const b of r.delivered.values()) expect(bytesEqual(b, bundle)).toBe(true);
    const m = r.sender.sourceSymbolCount;
    // One broadcast serves all: far fewer symbols than 12 unicasts (a receiver that loses both copies of a run's
    // signed hashes loses the run's symbols too, so the neediest of 12 sets a little more repair than loss alone).
    expect(rep.sourceSymbols + rep.repairSymbols).toBeLessThan(m * 2);
    expect(rep.hashMessages).toBeLessThanOrEqual(2 * Math.ceil((rep.sourceSymbols + rep.repairSymbols) / MAX_HASHES_PER_MESSAGE) + 2 * rep.rounds);
    expect(rep.rounds).toBeLessThanOrEqual(5);
    expect(rep.receivers.every((x) => x.state === 'complete')).toBe(true);
  });

  it('signs the hashes of every block of a bundle sent as interleaved blocks', () => {
    const bundle = new Prng(21).bytes(40 * 225);
    const r = rig({ seed: 22, loss: 0.2, receivers: 4, bundle, maxBlockSymbols: 12 });
    r.sender.start();
    r.clock.run();
    expect(r.sender.blocks.length).toBe(4);
    expect(r.delivered.size).toBe(4);
    for (const b of r.delivered.values()) expectBytes(b, bundle);
    const rep = r.report()!;
    // Every run is one block's: at least one HASHES pair per block and round that sent it symbols.
    expect(rep.hashMessages).toBeGreaterThanOrEqual(2 * r.sender.blocks.length);
    expect(r.receivers.every((x) => x.stats.forgedSymbols === 0 && x.stats.corruptBundles === 0)).toBe(true);
  });

  it('keeps the packets a full radio queue refuses and sends them again later', () => {
    const bundle = new Prng(12).bytes(6000);
    // The radio refuses every third packet handed to it during the first three minutes (a relay's queue is full).
    let handed = 0;
    let refused = 0;
    let clockRef: VirtualClock | null = null;
    const r = rig({
      seed: 13, loss: 0, receivers: 3, bundle,
      senderLink: (inner) => ({
        send(payload, to) {
          handed++;
          // (The end marker is a courtesy the sender does not retry; it is left alone here.)
          if (clockRef!.now() < 180_000 && handed % 3 === 0 && decodeMessage(payload).type !== 'end') {
            refused++;
            return false;
          }
          return inner.send(payload, to);
        },
      }),
    });
    clockRef = r.clock;
    r.sender.start();
    r.clock.run();
    const rep = r.report()!;
    expect(refused).toBeGreaterThan(3);
    expect(rep.refusals).toBe(refused);
    expect(rep.complete).toBe(true);
    expect(r.delivered.size).toBe(3);
    // Nothing was lost to the refusals: without loss the sources alone complete every receiver in the first round.
    expect(rep.rounds).toBe(1);
    expect(rep.sourceSymbols).toBe(r.sender.sourceSymbolCount);
  });

  it('gives up, incomplete, when the radio refuses everything for too long', () => {
    const r = rig({ seed: 14, loss: 0, receivers: 2, bundle: new Prng(15).bytes(3000), senderLink: () => ({ send: () => false }), maxRefusedMs: 120_000 });
    r.sender.start();
    r.clock.run();
    const rep = r.report()!;
    expect(rep.complete).toBe(false);
    expect(rep.sourceSymbols).toBe(0);
    expect(rep.durationMs).toBeGreaterThanOrEqual(120_000);
    expect(rep.durationMs).toBeLessThan(120_000 + 31_000);
    expect(r.delivered.size).toBe(0);
  });

  it('is deterministic: the same seed gives the same trace', () => {
    const bundle = new Prng(4).bytes(5000);
    const a = rig({ seed: 5, loss: 0.3, receivers: 5, bundle });
    a.sender.start();
    a.clock.run();
    const b = rig({ seed: 5, loss: 0.3, receivers: 5, bundle });
    b.sender.start();
    b.clock.run();
    expect(a.hub.log).toEqual(b.hub.log);
    const c = rig({ seed: 6, loss: 0.3, receivers: 5, bundle });
    c.sender.start();
    c.clock.run();
    expect(c.hub.log).not.toEqual(a.hub.log);
  });

  it('survives duplicated, reordered, truncated and foreign fragments', () => {
    const bundle = new Prng(7).bytes(8000);
    const r = rig({ seed: 8, loss: 0.1, receivers: 4, bundle });
    const rng = new Prng(9);
    r.hub.tamper = (p) => {
      const x = rng.float();
      if (p[0] === 0x22 && x < 0.05) return p.subarray(0, p.length - 1); // truncated DATA
      if (p[0] === 0x22 && x < 0.1) {
        const q = p.slice();
        q[1] = q[1]! ^ 0xff; // another session
        return q;
      }
      return p;
    };
    r.hub.duplicate = 0.2;
    r.sender.start();
    r.clock.run();
    expect(r.delivered.size).toBe(4);
    for (const b of r.delivered.values()) expectBytes(b, bundle);
    expect(r.hub.duplicated).toBeGreaterThan(10);
    expect(r.receivers.reduce((n, x) => n + x.stats.duplicates, 0)).toBeGreaterThan(0);
    const dropped = r.receivers.reduce((n, x) => n + (x.stats.dropped['BAD_FRAGMENT'] ?? 0) + (x.stats.dropped['unknown session'] ?? 0), 0);
    expect(dropped).toBeGreaterThan(0);
  });

  it('a corrupted symbol is dropped alone, before the decoder: no restart, no wrong bundle', () => {
    const bundle = new Prng(10).bytes(3000);
    const r = rig({ seed: 11, loss: 0, receivers: 1, bundle });
    let poisoned = false;
    r.hub.tamper = (p) => {
      if (!poisoned && p[0] === 0x22) {
        poisoned = true;
        const q = p.slice();
        q[20] = q[20]! ^ 0x55;
        return q;
      }
      return p;
    };
    r.sender.start();
    r.clock.run();
    expect(r.receivers[0]!.stats.forgedSymbols).toBe(1);
    expect(r.receivers[0]!.stats.corruptBundles).toBe(0);
    expectBytes(r.delivered.get(100)!, bundle);
  });

  it('resumes after a reboot from persisted progress', () => {
    const bundle = new Prng(12).bytes(30000);
    const flash = new MemoryFlash(64 * 1024, 4096);
    const store = new FlashProgressStore(flash);
    const r = rig({ seed: 13, loss: 0.1, receivers: 1, bundle, stores: [store] });
    r.sender.start();
    // Run a while, then "reboot" the receiver: a new object over the same flash.
    r.clock.run(60_000);
    const before = r.receivers[0]!.stats.useful;
    expect(before).toBeGreaterThan(5);
    const reborn = new TransferReceiver({
      nodeId: 100, link: r.hub.link(100), clock: r.clock, rng: new Prng(99), store: new FlashProgressStore(flash), trust: PUBLISHER_TRUST,
      accept: () => true, deliver: (b) => (r.delivered.set(100, b), { ok: true }),
    });
    expect(reborn.state).toBe('receiving');
    expect(reborn.needed).toBe(r.sender.sourceSymbolCount - before);
    r.hub.endpoints.set(100, (from, p) => reborn.onMessage(from, p));
    r.clock.run();
    expectBytes(r.delivered.get(100)!, bundle);
    expect(reborn.stats.useful).toBe(r.sender.sourceSymbolCount - before);
  });

  it('receivers decline offers they cannot use and the sender stops asking', () => {
    const bundle = new Prng(14).bytes(2000);
    const r = rig({ seed: 15, loss: 0, receivers: 3, bundle, accept: () => 'DOWNGRADE' });
    r.sender.start();
    r.clock.run();
    const rep = r.report()!;
    expect(rep.receivers.every((x) => x.state === 'declined' && x.reason === 'DOWNGRADE')).toBe(true);
    expect(r.delivered.size).toBe(0);
    expect(rep.rounds).toBe(1);
  });
});

describe('pacing', () => {
  it('keeps own airtime within the duty cycle in every window, with gaps between packets', () => {
    const clock = new VirtualClock();
    const pacer = new DutyCyclePacer({ dutyCyclePercent: 10, share: 0.5, windowMs: 3_600_000, gapFactor: 1 });
    const sends: { at: number; air: number }[] = [];
    const air = airtime(231);
    const step = (): void => {
      const wait = pacer.delayMs(clock.now(), air);
      if (wait > 0) {
        clock.setTimer(wait, step);
        return;
      }
      pacer.sent(clock.now(), air);
      sends.push({ at: clock.now(), air });
      if (sends.length < 400) clock.setTimer(air, step);
    };
    step();
    clock.run();
    const budget = 3_600_000 * 0.1 * 0.5;
    for (const s of sends) {
      const used = sends.filter((x) => x.at > s.at - 3_600_000 && x.at <= s.at).reduce((n, x) => n + x.air, 0);
      expect(used).toBeLessThanOrEqual(budget + 1e-6);
    }
    for (let i = 1; i < sends.length; i++) expect(sends[i]!.at - sends[i - 1]!.at).toBeGreaterThanOrEqual(2 * air - 1e-6);
    expect(sends.length).toBe(400);
  });

  it('holds back while the channel is busy when asked to give way entirely', () => {
    let util = 40;
    const pacer = new DutyCyclePacer({ dutyCyclePercent: 100, channelUtilization: () => util, busyBackoffMs: 5000, busySharePercent: 0 });
    expect(pacer.delayMs(0, 100)).toBe(5000);
    util = 10;
    expect(pacer.delayMs(0, 100)).toBe(0);
  });

  it('keeps a transfer moving at a small share of the airtime while the channel stays busy', () => {
    let util = 60;
    const air = 800;
    const pacer = new DutyCyclePacer({ dutyCyclePercent: 100, channelUtilization: () => util, busyBackoffMs: 5000, busySharePercent: 10 });
    const sends: number[] = [];
    let now = 0;
    while (now < 600_000) {
      const wait = pacer.delayMs(now, air);
      if (wait === 0) {
        pacer.sent(now, air);
        sends.push(now);
        now += air;
      } else {
        expect(wait).toBeLessThanOrEqual(5000); // looks again at least every backoff period
        now += wait;
      }
    }
    // 10 % of ten minutes at 800 ms a packet: 75 packets, evenly spaced.
    expect(sends.length).toBeGreaterThanOrEqual(74);
    expect(sends.length).toBeLessThanOrEqual(76);
    for (let i = 1; i < sends.length; i++) expect(sends[i]! - sends[i - 1]!).toBeGreaterThanOrEqual(air * 10 - 1e-6);
    // When the channel calms down, the usual gap applies again.
    util = 10;
    expect(pacer.delayMs(now + air * 2, air)).toBe(0);
    expect(() => new DutyCyclePacer({ dutyCyclePercent: 100, busySharePercent: 101 })).toThrow(/busySharePercent/);
  });

  it('does not count its own transmissions as a busy channel', () => {
    // The radio reports 30 % utilization, 20 points of which are our own 12 s of airtime in the last minute.
    const util = 30;
    const pacer = new DutyCyclePacer({ dutyCyclePercent: 100, channelUtilization: () => util, busyBackoffMs: 5000, gapFactor: 0, busySharePercent: 0 });
    for (let t = 0; t < 12_000; t += 2000) pacer.sent(t, 2000);
    expect(pacer.delayMs(12_000, 2000)).toBe(0); // others: 10 %
    expect(pacer.delayMs(80_000, 2000)).toBe(5000); // a minute later our share has left the window: 30 % is others'
  });
});
