import { Prng } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { Authenticator } from '../src/auth/authenticator.js';
import { JobIdPermutation } from '../src/auth/job-ids.js';
import { keyPairFromPrng, pairKey } from '../src/auth/keys.js';
import { ReplayWindow } from '../src/auth/replay-window.js';
import { Reputation } from '../src/auth/reputation.js';
import { COUNTER_BLOCK, SendCounter } from '../src/auth/send-counter.js';
import { MemoryAuthStore } from '../src/auth/store.js';
import { splitTrailer, trailerBytes } from '../src/auth/trailer.js';
import { fuzzAuthenticatedFrames } from '../src/auth/fuzz.js';

const BROADCAST = 0xffffffff;

function node(num: number, seed: number, store = new MemoryAuthStore()): { auth: Authenticator; store: MemoryAuthStore; keys: ReturnType<typeof keyPairFromPrng> } {
  const keys = keyPairFromPrng(new Prng(seed));
  return { auth: new Authenticator({ num, keys, store }), store, keys };
}

/** b learns a's key from a signed, introducing broadcast. */
function introduce(a: Authenticator, b: Authenticator, aNum: number): void {
  const r = b.open(aNum, BROADCAST, a.seal('broadcast', Uint8Array.of(0xc1, 1, 0), true));
  expect(r.ok).toBe(true);
}

const msg = Uint8Array.of(0xc1, 0x0c, 1, 2, 3, 4, 5, 6);

describe('packet authentication', () => {
  it('derives the same pair key on both sides, bound to both node numbers', () => {
    const a = keyPairFromPrng(new Prng(1));
    const b = keyPairFromPrng(new Prng(2));
    expect(pairKey(a, 10, b.publicKey, 20)).toEqual(pairKey(b, 20, a.publicKey, 10));
    expect(pairKey(a, 10, b.publicKey, 21)).not.toEqual(pairKey(b, 20, a.publicKey, 10));
  });

  it('accepts a sealed unicast and rejects every single-byte tamper', () => {
    const a = node(10, 1);
    const b = node(20, 2);
    introduce(b.auth, a.auth, 20);
    const sealed = a.auth.seal(20, msg, true);
    expect(sealed.length).toBe(msg.length + trailerBytes(false, true));
    for (let i = 0; i < sealed.length; i++) {
      const bad = sealed.slice();
      bad[i] = (bad[i] as number) ^ 0x01;
      expect(b.auth.open(10, 20, bad).ok).toBe(false);
    }
    const ok = b.auth.open(10, 20, sealed);
    expect(ok.ok && ok.payload).toEqual(msg);
    // Sent as if from another node, or to another node: refused.
    expect(node(30, 3).auth.open(10, 30, sealed).ok).toBe(false);
  });

  it('refuses a replay, also after the receiver restarts from its store', () => {
    const a = node(10, 1);
    const b = node(20, 2);
    introduce(b.auth, a.auth, 20);
    const first = a.auth.seal(20, msg, true);
    const second = a.auth.seal(20, msg, true);
    expect(b.auth.open(10, 20, second).ok).toBe(true);
    // Out of order within the window is fine, once.
    expect(b.auth.open(10, 20, first).ok).toBe(true);
    const replay = b.auth.open(10, 20, first);
    expect(replay.ok === false && replay.code).toBe('REPLAY');
    const restarted = new Authenticator({ num: 20, keys: b.keys, store: b.store });
    const again = restarted.open(10, 20, second);
    expect(again.ok === false && again.code).toBe('REPLAY');
    expect(restarted.open(10, 20, a.auth.seal(20, msg, false)).ok).toBe(true);
  });

  it('continues the sender counter above everything used before a restart', () => {
    const a = node(10, 1);
    const b = node(20, 2);
    introduce(b.auth, a.auth, 20);
    const counters = [0, 1, 2].map(() => splitTrailer(a.auth.seal(20, msg, false)).trailer.counter);
    const restarted = new Authenticator({ num: 10, keys: a.keys, store: a.store });
    const next = splitTrailer(restarted.seal(20, msg, false)).trailer.counter;
    expect(next).toBeGreaterThan(Math.max(...counters));
    const persisted: number[] = [];
    const c = new SendCounter(5, (upTo) => persisted.push(upTo));
    for (let i = 0; i < COUNTER_BLOCK + 1; i++) c.take();
    expect(persisted).toEqual([5 + COUNTER_BLOCK, 5 + 2 * COUNTER_BLOCK]);
  });

  it('pins the first key and refuses another key for the same node number (KEY_CONFLICT)', () => {
    const real = node(10, 1);
    const impostor = node(10, 9);
    const b = node(20, 2);
    introduce(real.auth, b.auth, 10);
    const forged = b.auth.open(10, BROADCAST, impostor.auth.seal('broadcast', Uint8Array.of(0xc1, 1, 0), true));
    expect(forged.ok === false && forged.code).toBe('KEY_CONFLICT');
    expect(forged.ok === false && forged.presentedKey).toEqual(impostor.keys.publicKey);
    expect(b.auth.peerKey(10)).toEqual(real.keys.publicKey);
    // Without introducing a key, the impostor's signature fails against the pinned one.
    const plain = b.auth.open(10, BROADCAST, impostor.auth.seal('broadcast', Uint8Array.of(0xc1, 1, 0), false));
    expect(plain.ok === false && plain.code).toBe('BAD_SIGNATURE');
  });

  it('refuses an unknown peer without an introduction, and a swarm-refused key', () => {
    const a = node(10, 1);
    const b = node(20, 2);
    const r = b.auth.open(10, BROADCAST, a.auth.seal('broadcast', msg, false));
    expect(r.ok === false && r.code).toBe('UNKNOWN_PEER');
    const gated = new Authenticator({ num: 30, keys: keyPairFromPrng(new Prng(3)), store: new MemoryAuthStore(), admit: () => 'no certificate' });
    const g = gated.open(10, BROADCAST, a.auth.seal('broadcast', msg, true));
    expect(g.ok === false && g.code).toBe('NOT_ADMITTED');
    expect(gated.peerKey(10)).toBeNull();
  });
});

describe('replay window', () => {
  it('accepts each counter once inside 64 below the top and nothing older', () => {
    const w = new ReplayWindow(0, false);
    expect(w.accept(100)).toBe(true);
    expect(w.accept(100)).toBe(false);
    expect(w.accept(37)).toBe(true);
    expect(w.accept(36)).toBe(false);
    expect(w.accept(99)).toBe(true);
    expect(w.accept(99)).toBe(false);
    expect(w.accept(300)).toBe(true);
    expect(w.accept(100)).toBe(false);
  });
});

describe('job ids', () => {
  it('are distinct for distinct counters and differ between node keys', () => {
    const p = new JobIdPermutation(new Prng(1).bytes(32));
    const q = new JobIdPermutation(new Prng(2).bytes(32));
    const ids = new Set(Array.from({ length: 5000 }, (_, i) => p.idFor(i)));
    expect(ids.size).toBe(5000);
    expect(p.idFor(1)).not.toBe(q.idFor(1));
    expect(p.idFor(1)).toBe(new JobIdPermutation(new Prng(1).bytes(32)).idFor(1));
  });
});

describe('reputation', () => {
  it('demotes a peer that loses votes and keeps it demoted across a restart', () => {
    const store = new MemoryAuthStore();
    const a = new Authenticator({ num: 1, keys: keyPairFromPrng(new Prng(1)), store });
    const rep = new Reputation(a.durable);
    rep.record(7, true);
    rep.record(7, false);
    expect(rep.isDemoted(7)).toBe(false);
    rep.record(7, false);
    expect(rep.isDemoted(7)).toBe(true);
    const again = new Reputation(new Authenticator({ num: 1, keys: keyPairFromPrng(new Prng(1)), store }).durable);
    expect(again.of(7)).toEqual({ votesWon: 1, votesLost: 2 });
    expect(again.isDemoted(8)).toBe(false);
  });
});

describe('authenticated frame fuzzing', () => {
  it('refuses every mutated sealed frame with a typed reason', () => {
    const s = fuzzAuthenticatedFrames(3, 3000);
    expect(s.frames).toBe(3000);
    expect(s.crashes).toBe(0);
    expect(s.accepted).toBe(0);
    expect(s.rejected).toBe(3000);
    expect(Object.keys(s.byCode)).toEqual(expect.arrayContaining(['BAD_MAC', 'BAD_TRAILER']));
  });
});
