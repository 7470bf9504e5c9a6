import { Prng, fnv1a32 } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { OtaError } from '../src/errors.js';
import { FountainEncoder } from '../src/fec/fountain.js';
import { sha256 } from '../src/hash.js';
import { generateSigningKey } from '../src/signing.js';
import { MemoryFlash } from '../src/storage/flash.js';
import { FlashProgressStore, MemoryProgressStore, type ProgressStore } from '../src/storage/progress.js';
import { offerDigest, signHashes, signOffer, symbolHash, type UnsignedOffer } from '../src/transfer/auth.js';
import { MAX_HASHES_PER_MESSAGE, decodeMessage, encodeMessage, type OfferMessage, type TransferMessage } from '../src/transfer/messages.js';
import { TransferReceiver } from '../src/transfer/receiver.js';
import { measureForgedSymbolCost } from '../src/experiments/forged-symbols.js';
import { measureAuthenticatedFecOverhead } from '../src/experiments/authenticated-overhead.js';
import { measureFecOverhead } from '../src/experiments/fec-overhead.js';
import { PUBLISHER_KEY, PUBLISHER_TRUST, VirtualClock, expectBytes } from './helpers.js';

// The receiver's side of an authenticated transfer, driven message by message: who can start, hold, end or poison
// a session, and what survives a reboot.

const FORGER_KEY = generateSigningKey(new Uint8Array(32).fill(0x66));

interface Publication {
  bundle: Uint8Array;
  offer: OfferMessage;
  encoder: FountainEncoder;
  /** Signed HASHES then DATA for ESIs [from, to) of block 0. */
  run(from: number, to: number): Uint8Array[];
}

function publish(opts: { session: number; version: number; counter?: number; bytes?: number; key?: typeof PUBLISHER_KEY; seed?: number }): Publication {
  const bundle = new Prng(opts.session).bytes(opts.bytes ?? 4000);
  const key = opts.key ?? PUBLISHER_KEY;
  const unsigned: UnsignedOffer = {
    type: 'offer', session: opts.session, seed: opts.seed ?? 99, length: bundle.length, symbolSize: 225, maxBlockSymbols: 512,
    bundleSha256: sha256(bundle), modelHash: fnv1a32('kws'), version: opts.version, baseVersion: null, securityCounter: opts.counter ?? 1,
  };
  const offer = signOffer(unsigned, key);
  const encoder = new FountainEncoder(bundle, { symbolSize: 225, maxBlockSymbols: 512, seed: unsigned.seed });
  const digest = offerDigest(offer);
  return {
    bundle, offer, encoder,
    run(from, to) {
      const out: Uint8Array[] = [];
      for (let at = from; at < to; at += MAX_HASHES_PER_MESSAGE) {
        const end = Math.min(to, at + MAX_HASHES_PER_MESSAGE);
        const hashes = Array.from({ length: end - at }, (_, i) => symbolHash(encoder.symbol(0, at + i)));
        out.push(encodeMessage(signHashes(digest, { session: opts.session, block: 0, firstEsi: at, hashes }, key)));
        for (let e = at; e < end; e++) out.push(encodeMessage({ type: 'data', session: opts.session, block: 0, esi: e, symbol: encoder.symbol(0, e) }));
      }
      return out;
    },
  };
}

function receiver(clock: VirtualClock, store: ProgressStore = new MemoryProgressStore(), delivered: Uint8Array[] = []): TransferReceiver {
  return new TransferReceiver({
    nodeId: 7, link: { send: () => undefined }, clock, rng: new Prng(1), store, trust: PUBLISHER_TRUST, accept: () => true,
    deliver: (b) => {
      delivered.push(b);
      return { ok: true };
    },
  });
}

const feed = (rx: TransferReceiver, ...payloads: Uint8Array[]): void => payloads.forEach((p) => rx.onMessage(1, p));
const symbolsOf = (p: Publication): number => p.encoder.blocks[0]!.symbols;

describe('authenticated transfer: the receiver', () => {
  it('drops an offer signed by an unknown key or with a bad signature, and then takes the real one', () => {
    const clock = new VirtualClock();
    const rx = receiver(clock);
    const forged = publish({ session: 5, version: 9, key: FORGER_KEY });
    feed(rx, encodeMessage(forged.offer), ...forged.run(0, 3));
    const real = publish({ session: 6, version: 2 });
    const tampered = encodeMessage({ ...real.offer, version: 10 });
    feed(rx, tampered);
    expect(rx.state).toBe('idle');
    expect(rx.stats.dropped['UNKNOWN_KEY']).toBe(1);
    expect(rx.stats.dropped['BAD_SIGNATURE']).toBe(1);
    const delivered: Uint8Array[] = [];
    const rx2 = receiver(clock, new MemoryProgressStore(), delivered);
    feed(rx2, encodeMessage(forged.offer), ...forged.run(0, 3), encodeMessage(real.offer), ...real.run(0, symbolsOf(real)));
    expect(rx2.state).toBe('complete');
    expectBytes(delivered[0]!, real.bundle);
  });

  it('drops each forged symbol alone and forged HASHES entirely; the bundle decodes from exactly its sources', () => {
    const clock = new VirtualClock();
    const delivered: Uint8Array[] = [];
    const rx = receiver(clock, new MemoryProgressStore(), delivered);
    const real = publish({ session: 8, version: 2, bytes: 20_000 });
    const m = symbolsOf(real);
    feed(rx, encodeMessage(real.offer));
    const rng = new Prng(3);
    // Forged symbols for every ESI, before and after the real ones, and a HASHES signed by another key.
    const forgedHashes = signHashes(offerDigest(real.offer), { session: 8, block: 0, firstEsi: 0, hashes: [new Uint8Array(8)] }, FORGER_KEY);
    feed(rx, encodeMessage(forgedHashes));
    for (const p of real.run(0, m)) {
      const d = decodeMessage(p);
      if (d.type === 'data') feed(rx, encodeMessage({ ...d, symbol: rng.bytes(225) }));
      feed(rx, p);
    }
    expect(rx.stats.dropped['BAD_SIGNATURE']).toBe(1);
    expect(rx.stats.forgedSymbols).toBe(m);
    expect(rx.stats.useful).toBe(m);
    expect(rx.stats.corruptBundles).toBe(0);
    expectBytes(delivered[0]!, real.bundle);
  });

  it('keeps symbols that come before their HASHES, and checks them when it arrives', () => {
    const clock = new VirtualClock();
    const rx = receiver(clock);
    const real = publish({ session: 9, version: 2 });
    const [hashes, ...data] = real.run(0, symbolsOf(real));
    feed(rx, encodeMessage(real.offer), ...data);
    expect(rx.stats.useful).toBe(0);
    feed(rx, hashes!);
    expect(rx.state).toBe('complete');
  });

  it('a live session holds the receiver; END, a stall or a newer signed release releases it', () => {
    const clock = new VirtualClock();
    const a = publish({ session: 10, version: 2 });
    const b = publish({ session: 11, version: 2, seed: 5 });
    const newer = publish({ session: 12, version: 3 });
    const start = (): TransferReceiver => {
      const rx = receiver(clock);
      feed(rx, encodeMessage(a.offer), ...a.run(0, 4));
      expect(rx.session).toBe(10);
      return rx;
    };
    const held = start();
    feed(held, encodeMessage(b.offer));
    expect(held.session).toBe(10);
    expect(held.stats.dropped['busy']).toBe(1);
    // END: the same session still takes its symbols, but another offer may now come in.
    const ended = start();
    feed(ended, encodeMessage({ type: 'end', session: 10, reason: 1 }), ...a.run(4, 6));
    expect(ended.stats.useful).toBe(6);
    feed(ended, encodeMessage(b.offer));
    expect(ended.session).toBe(11);
    expect(ended.stats.takeovers).toBe(1);
    // A stall: no progress for the timeout.
    const stalled = start();
    clock.setTimer(599_000, () => feed(stalled, encodeMessage(b.offer)));
    clock.run();
    expect(stalled.session).toBe(10);
    clock.setTimer(1_000, () => feed(stalled, encodeMessage(b.offer)));
    clock.run();
    expect(stalled.session).toBe(11);
    // A newer release of the same model takes over at once.
    const superseded = start();
    feed(superseded, encodeMessage(newer.offer));
    expect(superseded.session).toBe(12);
  });

  it('persists only a verified offer: a forged one never survives a reboot, a real one resumes', () => {
    const clock = new VirtualClock();
    const flash = new MemoryFlash(64 * 1024, 4096);
    const forged = publish({ session: 13, version: 9, key: FORGER_KEY });
    feed(receiver(clock, new FlashProgressStore(flash)), encodeMessage(forged.offer), ...forged.run(0, 5));
    expect(new FlashProgressStore(flash).load()).toBeNull();
    const real = publish({ session: 14, version: 2 });
    feed(receiver(clock, new FlashProgressStore(flash)), encodeMessage(real.offer), ...real.run(0, 5));
    const delivered: Uint8Array[] = [];
    const reborn = receiver(clock, new FlashProgressStore(flash), delivered);
    expect(reborn.session).toBe(14);
    expect(reborn.stats.useful).toBe(0);
    feed(reborn, ...real.run(5, symbolsOf(real)));
    expectBytes(delivered[0]!, real.bundle);
  });

  it('a stored offer whose key is no longer trusted is discarded on boot', () => {
    const clock = new VirtualClock();
    const store = new MemoryProgressStore();
    const other = publish({ session: 15, version: 2, key: FORGER_KEY });
    store.begin(encodeMessage(other.offer));
    const rx = receiver(clock, store);
    expect(rx.state).toBe('idle');
    expect(store.load()).toBeNull();
  });

  it('refuses the unauthenticated version-1 protocol with UNSUPPORTED_VERSION', () => {
    const real = publish({ session: 16, version: 2 });
    const v1 = encodeMessage(real.offer).slice(0, 62);
    v1[0] = 0x11;
    const decode = (): TransferMessage => decodeMessage(v1);
    expect(decode).toThrow(OtaError);
    try {
      decode();
    } catch (e) {
      expect((e as OtaError).code).toBe('UNSUPPORTED_VERSION');
    }
    const rx = receiver(new VirtualClock());
    feed(rx, v1);
    expect(rx.stats.dropped['UNSUPPORTED_VERSION']).toBe(1);
  });

  it('a 90-symbol transfer needs its 90 genuine symbols with 0, 1, 5 or 20 forged ones mixed in', () => {
    for (const forged of [0, 1, 5, 20]) {
      const cost = measureForgedSymbolCost({ symbols: 90, forged, seed: forged + 1 });
      expect(cost).toMatchObject({ symbols: 90, forged, genuineNeeded: 90, forgedDropped: forged, delivered: true });
    }
  });

  it('signed hashes cost the fountain code only the symbols whose two HASHES copies were both lost', () => {
    expect(measureAuthenticatedFecOverhead({ bytes: 9000, loss: 0, trials: 3, seed: 1 }).mean).toBe(1);
    const options = { bytes: 9000, loss: 0.2, trials: 12, seed: 2 };
    const plain = measureFecOverhead(options);
    const authenticated = measureAuthenticatedFecOverhead(options);
    // Both copies of a run's HASHES are lost with probability 0.04: the effective loss is about 0.232, not 0.2.
    expect(authenticated.mean).toBeGreaterThan(1 / 0.8);
    expect(authenticated.mean).toBeLessThan(1.15 / (1 - 0.232));
    expect(authenticated.mean).toBeLessThan(plain.mean * 1.2);
  });
});
