import { describe, expect, it } from 'vitest';
import { simulationProgress } from '../src/index.js';

describe('simulation progress', () => {
  it('off a terminal, writes a line every 10 % and at least every 5 s of wall time, with an estimate', () => {
    const lines: string[] = [];
    let wall = 0;
    const p = simulationProgress({ write: (t) => lines.push(t), isTty: false }, { now: () => wall });
    const hour = 3_600_000;
    // A slow stretch: 1 % per 2 s of wall time.
    for (let pct = 0; pct <= 12; pct++) {
      wall = pct * 2000;
      p((pct / 100) * hour, hour);
    }
    expect(lines).toEqual([
      // 6 s for 3 %: 97 % more take 194 s.
      'progress 3% (1m48s/1h00m, 6 s elapsed, about 3 min 14 s left)\n',
      'progress 6% (3m36s/1h00m, 12 s elapsed, about 3 min 8 s left)\n',
      'progress 9% (5m24s/1h00m, 18 s elapsed, about 3 min 2 s left)\n',
      'progress 12% (7m12s/1h00m, 24 s elapsed, about 2 min 56 s left)\n',
    ]);
    lines.length = 0;
    // A fast stretch: every 10 % only, and 100 % always.
    for (let pct = 13; pct <= 100; pct++) p((pct / 100) * hour, hour);
    expect(lines.map((l) => l.split(' ')[1])).toEqual(['22%', '32%', '42%', '52%', '62%', '72%', '82%', '92%', '100%']);
  });

  it('on a terminal, redraws one line in place and ends it at 100 %', () => {
    let text = '';
    const p = simulationProgress({ write: (t) => (text += t), isTty: true }, { now: () => 0 });
    p(0, 1000);
    p(500, 1000);
    p(500, 1000);
    p(1000, 1000);
    expect(text.split('\r').filter(Boolean)).toHaveLength(3);
    expect(text.endsWith('100% 0m01s/0m01s, 0 s elapsed\n')).toBe(true);
  });
});
