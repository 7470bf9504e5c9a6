import { Prng } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { IndexSet } from '../src/world/index-set.js';

describe('index set', () => {
  it('holds exactly the indices added, as a Set would, while it grows', () => {
    const rng = new Prng(2);
    const s = new IndexSet();
    const ref = new Set<number>();
    for (let i = 0; i < 3000; i++) {
      const v = rng.intBelow(5000);
      expect(s.add(v)).toBe(!ref.has(v));
      ref.add(v);
    }
    expect(s.size).toBe(ref.size);
    for (let v = 0; v < 5000; v++) expect(s.has(v)).toBe(ref.has(v));
  });
});
