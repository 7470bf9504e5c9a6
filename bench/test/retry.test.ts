import { describe, expect, it } from 'vitest';
import type { GateOutcome } from '../src/harness/gates.js';
import type { CaseResult } from '../src/harness/results.js';
import { casesToRetry, mergeRetried } from '../src/harness/retry.js';

const c = (id: string, ratios: Record<string, number>): CaseResult => ({
  id, group: 'g', contenders: [],
  ratios: Object.entries(ratios).map(([k, value]) => {
    const [ours, peer] = k.split('/') as [string, string];
    return { key: `${id}: ${k}`, ours, peer, value, rounds: [value] };
  }),
});

const outcome = (cs: string, ours: string, peer: string, min: number, gate: GateOutcome['gate']): GateOutcome => ({ key: `${cs}: ${ours}/${peer}`, case: cs, ours, peer, min, gate });

describe('gate retries', () => {
  const outcomes = [outcome('a', 'simd', 'ort-web', 2, 'fail'), outcome('a', 'simd', 'js', 10, 'pass'), outcome('b', 'simd', 'js', 1, 'pass'), outcome('c', 'simd', 'js', 1, 'missing')];

  it('retries only cases with a failed gate (not broken or skipped ones)', () => {
    expect([...casesToRetry(outcomes)]).toEqual(['a']);
  });

  it('keeps the attempt that does better on its worst gate', () => {
    const first = [c('a', { 'simd/ort-web': 1.5, 'simd/js': 30 }), c('b', { 'simd/js': 3 })];
    const better = mergeRetried(first, [c('a', { 'simd/ort-web': 2.5, 'simd/js': 25 })], outcomes);
    expect(better.replaced).toEqual(['a']);
    expect(better.cases[0]!.ratios[0]!.value).toBe(2.5);
    expect(better.cases[1]).toBe(first[1]);
    const worse = mergeRetried(first, [c('a', { 'simd/ort-web': 1.2, 'simd/js': 90 })], outcomes);
    expect(worse.replaced).toEqual([]);
    expect(worse.cases[0]).toBe(first[0]);
    // A retry that lost a ratio does not replace a measured one.
    expect(mergeRetried(first, [c('a', { 'simd/js': 90 })], outcomes).replaced).toEqual([]);
  });
});
