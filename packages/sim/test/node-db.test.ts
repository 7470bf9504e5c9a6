import { Prng } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { NodeDb, type NodeDbEntry } from '../src/mesh/node-db.js';
import type { LearnedUser } from '../src/modules/firmware-modules.js';

/** The node DB as a Map of entry objects, whose insertion order is the recency order (the behaviour to keep). */
class MapModel {
  readonly db = new Map<number, NodeDbEntry>();
  constructor(private readonly maxSize: number) {}

  heardFrom(num: number, now: number, snr: number, hopsAway: number): void {
    let e = this.db.get(num);
    if (!e) {
      if (this.db.size >= this.maxSize) this.db.delete(this.db.keys().next().value as number);
      e = { num, lastHeardMs: now, snr: 0, hopsAway: 0, nextHop: 0 };
      this.db.set(num, e);
    } else if (now - e.lastHeardMs > 60_000) {
      this.db.delete(num);
      this.db.set(num, e);
    }
    e.lastHeardMs = now;
    e.snr = snr;
    if (hopsAway >= 0) e.hopsAway = hopsAway;
  }
}

function user(i: number): LearnedUser {
  return { longName: `n${i}`, shortName: `${i}`.slice(-4), hwModel: 37, role: 0, isLicensed: false, publicKey: new Uint8Array([i & 255]) };
}

function exercise(seed: number, maxSize: number, pool: number[], steps: number): void {
  const rng = new Prng(seed);
  const db = new NodeDb(maxSize);
  const model = new MapModel(maxSize);
  let now = 0;
  for (let step = 0; step < steps; step++) {
    now += rng.float() < 0.2 ? 61_000 : Math.floor(rng.float() * 20_000);
    const num = pool[Math.floor(rng.float() * pool.length)] as number;
    const op = rng.float();
    if (op < 0.6) {
      const snr = Math.round((rng.float() * 40 - 20) * 4) / 4;
      const hops = rng.float() < 0.3 ? -1 : Math.floor(rng.float() * 8);
      db.heardFrom(num, now, snr, hops);
      model.heardFrom(num, now, snr, hops);
    } else if (op < 0.75) {
      const byte = Math.floor(rng.float() * 256);
      db.setNextHop(num, byte);
      const e = model.db.get(num);
      if (e) e.nextHop = byte;
    } else if (op < 0.85) {
      const u = user(step);
      db.setUser(num, u);
      const e = model.db.get(num);
      if (e) e.user = u;
    } else if (op < 0.9) {
      const pos = { latitudeI: step, longitudeI: -step, altitude: 3, time: now };
      db.setPosition(num, pos);
      const e = model.db.get(num);
      if (e) e.position = pos;
    } else {
      expect(db.countHeardWithin(now, 7_200_000)).toBe([...model.db.values()].filter((e) => now - e.lastHeardMs < 7_200_000).length);
    }
    const want = model.db.get(num);
    expect(db.has(num)).toBe(want !== undefined);
    expect(db.get(num)).toEqual(want);
    expect(db.nextHop(num)).toBe(want?.nextHop ?? 0);
    expect(db.user(num)).toBe(want?.user);
    expect(db.size).toBe(model.db.size);
    if (step % 97 === 0) expect([...db.values()]).toEqual([...model.db.values()]);
  }
  expect([...db.values()]).toEqual([...model.db.values()]);
  for (const num of pool) expect(db.get(num)).toEqual(model.db.get(num));
}

describe('node DB table', () => {
  it('behaves as the Map it replaces under seeded random operations: entries, recency order and eviction', () => {
    const rng = new Prng(11);
    // Node numbers across the whole uint32 range (half of them above 2^31), some sharing low bits.
    const pool = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? (0x10000000 + i * 4096) >>> 0 : rng.uint32() >>> 0));
    for (const [seed, maxSize] of [[1, 1], [2, 3], [3, 7], [4, 40], [5, 100]] as const) exercise(seed, maxSize, pool, 4000);
  });

  it('grows past its first allocation and keeps every node while below its size', () => {
    const db = new NodeDb(1000);
    for (let i = 0; i < 700; i++) db.heardFrom(0xa0000000 + i * 7, i, 1, 1);
    expect(db.size).toBe(700);
    for (let i = 0; i < 700; i++) expect(db.has(0xa0000000 + i * 7)).toBe(true);
    expect(db.has(0xa0000000 + 3)).toBe(false);
    expect([...db.values()].map((e) => e.num)).toEqual(Array.from({ length: 700 }, (_, i) => 0xa0000000 + i * 7));
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => new NodeDb(0)).toThrow(RangeError);
    expect(() => new NodeDb(2.5)).toThrow(RangeError);
  });
});
