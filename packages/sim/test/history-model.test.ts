import { Prng } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { FLOOD_EXPIRE_MS, NUM_RELAYERS, PacketHistory } from '../src/mesh/history.js';

interface Rec {
  sender: number;
  nextHop: number;
  relayed: number[];
  time: number;
}

/** PacketHistory::wasSeenRecently as a Map of record objects: the behaviour the typed table must keep. */
class MapModel {
  readonly recs = new Map<string, Rec>();
  constructor(private readonly ourByte: number, private readonly ourNum: number) {}

  check(p: { origin: number; from: number; id: number; nextHop: number; relayNode: number }, now: number, update: boolean) {
    const r = { seen: false, wasFallback: false, weWereNextHop: false };
    if (p.id === 0) return r;
    const key = `${p.origin}:${p.id}`;
    const rec = this.recs.get(key);
    const live = rec !== undefined && now - rec.time < FLOOD_EXPIRE_MS;
    if (live) {
      r.seen = true;
      r.wasFallback =
        rec.sender !== this.ourNum && rec.nextHop !== 0 && rec.nextHop !== this.ourByte && p.nextHop === 0 &&
        rec.relayed.includes(p.relayNode) && !rec.relayed.includes(this.ourByte) && !rec.relayed.includes(rec.nextHop);
      r.weWereNextHop = rec.nextHop === this.ourByte;
    }
    if (!update) return r;
    if (live) {
      rec.relayed = [p.relayNode, ...rec.relayed].slice(0, NUM_RELAYERS);
      rec.time = now;
    } else {
      this.recs.set(key, { sender: p.from, nextHop: p.nextHop, relayed: [p.relayNode, 0, 0], time: now });
    }
    return r;
  }

  wasRelayer(relayer: number, id: number, origin: number, now: number): boolean {
    if (relayer === 0) return false;
    const rec = this.recs.get(`${origin}:${id}`);
    return rec !== undefined && now - rec.time < FLOOD_EXPIRE_MS && rec.relayed.includes(relayer);
  }
}

describe('packet history table', () => {
  it('answers as a Map of records would under seeded random sightings, refreshes, expiries and purges', () => {
    for (const [seed, capacity] of [[1, 5], [2, 40], [3, 300]] as const) {
      const rng = new Prng(seed);
      const ourByte = 0x21;
      const ourNum = 0x10000021;
      const h = new PacketHistory(capacity, ourByte, ourNum);
      const model = new MapModel(ourByte, ourNum);
      const bytes = [0, ourByte, 0x05, 0x06, 0x07, 0xfe];
      const pick = <T>(a: readonly T[]): T => a[Math.floor(rng.float() * a.length)] as T;
      let now = 0;
      for (let step = 0; step < 20_000; step++) {
        now += rng.float() < 0.001 ? FLOOD_EXPIRE_MS / 2 : rng.float() * 300;
        const origin = Math.floor(rng.float() * 6);
        const id = rng.float() < 0.02 ? 0 : (Math.floor(rng.float() * 60) * 0x10001 + 1) >>> 0;
        const p = { origin, from: rng.float() < 0.1 ? ourNum : 0x10000000 + origin, id, nextHop: pick(bytes), relayNode: pick(bytes) };
        if (rng.float() < 0.2) {
          const relayer = pick(bytes);
          expect(h.wasRelayer(relayer, id, origin, now)).toBe(model.wasRelayer(relayer, id, origin, now));
        } else {
          const update = rng.float() < 0.7;
          expect({ ...h.check(p, now, update) }).toEqual(model.check(p, now, update));
        }
      }
    }
  });
});
