import { Prng } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { EventQueue, type SimEvent } from '../src/index.js';

describe('event queue', () => {
  it('pops in (time, insertion) order with ties and cancellations, as a stable sort of the live events would', () => {
    const rng = new Prng(11);
    const q = new EventQueue();
    const pushed: Array<{ time: number; n: number; ev: SimEvent; cancelled: boolean }> = [];
    const popped: number[] = [];
    // Few distinct times, so many events share an instant; interleave pushes, pops and cancels.
    for (let n = 0; n < 6000; n++) {
      const time = rng.intBelow(200);
      const ev = q.push(time, (arg) => popped.push(arg as number), n);
      pushed.push({ time, n, ev, cancelled: false });
      if (rng.bool(0.2)) {
        const victim = pushed[rng.intBelow(pushed.length)]!;
        if (!victim.cancelled && victim.ev.fn !== null) {
          q.cancel(victim.ev);
          victim.cancelled = true;
        }
      }
    }
    const live = pushed.filter((p) => !p.cancelled).length;
    expect(q.size).toBe(live);
    for (let ev = q.pop(); ev; ev = q.pop()) (ev.fn as (a: unknown) => void)(ev.arg);
    const expected = pushed.filter((p) => !p.cancelled).sort((a, b) => a.time - b.time || a.n - b.n).map((p) => p.n);
    expect(popped).toEqual(expected);
    expect(q.size).toBe(0);
    expect(q.peekTime()).toBe(Infinity);
  });
});
