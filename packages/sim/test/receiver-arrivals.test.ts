// The pooled per-receiver arrival lists against per-node JS arrays with the swap-remove the simulator used before:
// the same entries in the same order after seeded random pushes and removals, across list growth and pool compaction.
import { Prng } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { ReceiverArrivals } from '../src/radio/receiver-arrivals.js';

/** The behaviour to keep: push returns the slot; removal moves the last entry into the hole. */
class ArrayModel {
  readonly lists: number[][] = [];
  push(rx: number, a: number): number {
    const l = (this.lists[rx] ??= []);
    l.push(a);
    return l.length - 1;
  }
  removeAt(rx: number, slot: number, a: number): number {
    const l = this.lists[rx] ?? [];
    if (l[slot] !== a) return -1;
    const last = l.pop() as number;
    if (last === a) return -1;
    l[slot] = last;
    return last;
  }
}

function entries(lists: ReceiverArrivals, rx: number): number[] {
  const start = lists.start(rx);
  return Array.from(lists.items.subarray(start, start + lists.count(rx)));
}

describe('ReceiverArrivals', () => {
  it('keeps every list, in order, as per-node arrays with swap-remove do', () => {
    for (const seed of [1, 2, 3]) {
      const rng = new Prng(seed);
      const pooled = new ReceiverArrivals();
      const model = new ArrayModel();
      const receivers = 300;
      const live: { rx: number; a: number }[] = [];
      const slotOf = new Map<number, number>();
      let next = 0;
      for (let step = 0; step < 40_000; step++) {
        // Bursts of arrivals then drains, so lists grow past their first segments and the pool compacts.
        const grow = Math.floor(step / 5000) % 2 === 0 ? 0.7 : 0.3;
        if (live.length === 0 || rng.float() < grow) {
          const rx = Math.floor(rng.float() * receivers);
          const a = next++;
          const slot = pooled.push(rx, a);
          expect(slot).toBe(model.push(rx, a));
          slotOf.set(a, slot);
          live.push({ rx, a });
        } else {
          const k = Math.floor(rng.float() * live.length);
          const { rx, a } = live[k]!;
          live[k] = live[live.length - 1]!;
          live.pop();
          const slot = slotOf.get(a)!;
          const moved = pooled.removeAt(rx, slot, a);
          expect(moved).toBe(model.removeAt(rx, slot, a));
          if (moved >= 0) slotOf.set(moved, slot);
          slotOf.delete(a);
        }
      }
      for (let rx = 0; rx < receivers; rx++) expect(entries(pooled, rx)).toEqual(model.lists[rx] ?? []);
      expect(live.length).toBeGreaterThan(0);
    }
  });

  it('removes nothing for a wrong slot or an entry that is not there', () => {
    const lists = new ReceiverArrivals();
    lists.push(5, 10);
    lists.push(5, 11);
    expect(lists.removeAt(5, 0, 11)).toBe(-1);
    expect(lists.removeAt(5, 7, 10)).toBe(-1);
    expect(lists.removeAt(9, 0, 10)).toBe(-1);
    expect(entries(lists, 5)).toEqual([10, 11]);
    expect(lists.removeAt(5, 0, 10)).toBe(11);
    expect(entries(lists, 5)).toEqual([11]);
    expect(lists.count(1_000_000)).toBe(0);
  });
});
