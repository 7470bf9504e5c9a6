import { describe, expect, it } from 'vitest';
import {
  type GatesFile, GateFileError, checkDeclared, evaluateGates, focusOf, gatesFailed, parseGates, parseRatioKey, ratchet,
} from '../src/harness/gates.js';
import type { CaseResult } from '../src/harness/results.js';
import { floorSignificant } from '../src/harness/stats.js';
import type { Suite } from '../src/harness/suite.js';

const suite: Suite = {
  name: 's',
  description: 'test suite',
  cases: () => [],
  gates: [
    { case: 'gemv 1x8x8', ours: 'simd', peer: 'ort-web' },
    { case: 'gemv 1x8x8', ours: 'simd', peer: 'js' },
    { case: 'quant 1M', ours: 'simd', peer: 'ort-node' },
    { case: 'quant 1M', ours: 'simd', peer: 'ort-web' },
  ],
};

function caseResult(id: string, ratios: Record<string, number | undefined>, states: Record<string, 'ok' | 'skipped' | 'failed' | 'wrong'> = {}): CaseResult {
  const ids = new Set(Object.keys(ratios).flatMap((k) => k.split('/')));
  return {
    id,
    group: 'g',
    contenders: [...ids].map((x) => ({ id: x, label: x, role: x === 'simd' ? 'ours' : 'peer', status: states[x] ?? 'ok', ...(states[x] && states[x] !== 'ok' ? { reason: 'because' } : {}) })),
    ratios: Object.entries(ratios).map(([k, v]) => {
      const [ours, peer] = k.split('/') as [string, string];
      return v === undefined ? { key: `${id}: ${k}`, ours, peer, missing: 'x' } : { key: `${id}: ${k}`, ours, peer, value: v, rounds: [v] };
    }),
  };
}

const gates: GatesFile = parseGates({
  ratchetMargin: 0.5,
  suites: {
    s: {
      'gemv 1x8x8: simd/ort-web': { min: 3, target: 2 },
      'gemv 1x8x8: simd/js': { min: 10 },
      'quant 1M: simd/ort-node': { target: 1 },
      'quant 1M: simd/ort-web': { min: 1.5 },
    },
  },
});

describe('gates', () => {
  it('parses ratio keys and rejects malformed ones', () => {
    expect(parseRatioKey('gemv 1x1024x1024: simd raw/ort-web')).toEqual({ case: 'gemv 1x1024x1024', ours: 'simd raw', peer: 'ort-web' });
    for (const bad of ['gemv', 'gemv: simd', ': a/b', 'x: a/b/c', 'x: /b']) expect(() => parseRatioKey(bad)).toThrow(GateFileError);
  });

  it('validates the gates file', () => {
    expect(() => parseGates(null)).toThrow(GateFileError);
    expect(() => parseGates({ ratchetMargin: 0.5 })).toThrow(/suites/);
    expect(() => parseGates({ ratchetMargin: 1.5, suites: {} })).toThrow(/ratchetMargin/);
    expect(() => parseGates({ suites: {} })).toThrow(/ratchetMargin/);
    expect(() => parseGates({ ratchetMargin: 0.5, suites: { s: { 'a: b/c': { min: -1 } } } })).toThrow(/positive/);
    expect(() => parseGates({ ratchetMargin: 0.5, suites: { s: { 'a: b/c': { min: '2' } } } })).toThrow(/positive/);
    expect(() => parseGates({ ratchetMargin: 0.5, suites: { s: { broken: {} } } })).toThrow(GateFileError);
  });

  it('evaluates pass, fail, targets, skipped and missing contenders', () => {
    const outcomes = evaluateGates(suite, [caseResult('gemv 1x8x8', { 'simd/ort-web': 3.2, 'simd/js': 9.9 }), caseResult('quant 1M', { 'simd/ort-node': undefined, 'simd/ort-web': 2 }, { 'ort-node': 'skipped' })], gates);
    const by = Object.fromEntries(outcomes.map((o) => [o.key, o]));
    expect(by['gemv 1x8x8: simd/ort-web']).toMatchObject({ gate: 'pass', measured: 3.2, min: 3, target: 2, targetMet: true });
    expect(by['gemv 1x8x8: simd/js']).toMatchObject({ gate: 'fail', measured: 9.9, min: 10 });
    expect(by['quant 1M: simd/ort-node']).toMatchObject({ gate: 'none', target: 1, reason: 'because' });
    expect(by['quant 1M: simd/ort-node']!.targetMet).toBeUndefined();
    expect(gatesFailed(outcomes)).toBe(true);
    expect(gatesFailed(outcomes.filter((o) => o.key !== 'gemv 1x8x8: simd/js'))).toBe(false);
  });

  it('fails a gate whose contender broke, but not one whose peer is unavailable here', () => {
    const broken = evaluateGates(suite, [caseResult('quant 1M', { 'simd/ort-web': undefined }, { simd: 'wrong' })], gates);
    expect(broken.find((o) => o.key === 'quant 1M: simd/ort-web')).toMatchObject({ gate: 'missing' });
    expect(gatesFailed(broken)).toBe(true);
    const skipped = evaluateGates(suite, [caseResult('quant 1M', { 'simd/ort-web': undefined }, { 'ort-web': 'skipped' })], gates);
    expect(skipped.find((o) => o.key === 'quant 1M: simd/ort-web')).toMatchObject({ gate: 'skipped' });
    expect(gatesFailed(skipped)).toBe(false);
    // Cases that were not selected produce no outcome at all.
    expect(evaluateGates(suite, [], gates)).toEqual([]);
  });

  it('ratchets up to the lowest run times the margin and never lowers a gate', () => {
    const run = (v: number) => ({ suite, outcomes: evaluateGates(suite, [caseResult('gemv 1x8x8', { 'simd/ort-web': v, 'simd/js': 30 })], gates) });
    const { gates: up, changes } = ratchet(gates, [run(9), run(8.4), run(12)]);
    expect(up.suites.s!['gemv 1x8x8: simd/ort-web']!.min).toBe(4.2); // 8.4 * 0.5
    expect(up.suites.s!['gemv 1x8x8: simd/js']!.min).toBe(15);
    expect(up.suites.s!['gemv 1x8x8: simd/ort-web']!.target).toBe(2);
    expect(changes).toEqual([
      { suite: 's', key: 'gemv 1x8x8: simd/ort-web', from: 3, to: 4.2 },
      { suite: 's', key: 'gemv 1x8x8: simd/js', from: 10, to: 15 },
    ]);
    const { gates: same, changes: none } = ratchet(up, [run(2)]);
    expect(same.suites.s!['gemv 1x8x8: simd/ort-web']!.min).toBe(4.2);
    expect(none.filter((c) => c.key === 'gemv 1x8x8: simd/ort-web')).toEqual([]);
    expect(gates.suites.s!['gemv 1x8x8: simd/ort-web']!.min).toBe(3); // the input is not modified
  });

  it('gives declared gates without a threshold one, and ignores undeclared ratios', () => {
    const empty = parseGates({ ratchetMargin: 0.8, suites: {} });
    const outcomes = evaluateGates(suite, [caseResult('gemv 1x8x8', { 'simd/ort-web': 5, 'simd/other': 50 })], empty);
    const { gates: next } = ratchet(empty, [{ suite, outcomes }]);
    expect(next.suites.s).toEqual({ 'gemv 1x8x8: simd/ort-web': { min: 4 } });
  });

  it('rejects stale gates and computes the short-mode focus', () => {
    expect(() => checkDeclared(gates, [suite])).not.toThrow();
    expect(() => checkDeclared(parseGates({ ratchetMargin: 0.5, suites: { s: { 'gone: a/b': { min: 1 } } } }), [suite])).toThrow(/not declared/);
    expect(() => checkDeclared(parseGates({ ratchetMargin: 0.5, suites: { nope: {} } }), [suite])).toThrow(/does not exist/);
    const focus = focusOf(suite, gates);
    expect([...focus.keys()].sort()).toEqual(['gemv 1x8x8', 'quant 1M']);
    expect([...focus.get('quant 1M')!].sort()).toEqual(['ort-node', 'ort-web', 'simd']);
  });

  it('rounds gates down to two significant digits', () => {
    expect(floorSignificant(4.2799)).toBe(4.2);
    expect(floorSignificant(0.0567)).toBe(0.056);
    expect(floorSignificant(123)).toBe(120);
    expect(floorSignificant(4.2)).toBe(4.2);
    expect(floorSignificant(0)).toBe(0);
    expect(floorSignificant(NaN)).toBe(0);
  });
});
