import { describe, expect, it } from 'vitest';
import { axisRange, barChart, colourMap, escapeHtml, renderHtml } from '../src/harness/html.js';
import { RESULT_SCHEMA, type SuiteResult } from '../src/harness/results.js';

function result(): SuiteResult {
  const contender = (id: string, role: 'ours' | 'peer', ms?: number) => ({
    id, label: id, role, status: ms === undefined ? ('skipped' as const) : ('ok' as const), ...(ms === undefined ? { reason: 'not installed' } : { medianMs: ms, gops: 2 / ms }),
  });
  return {
    schema: RESULT_SCHEMA, suite: 'kernels', description: 'kernels <vs> peers', mode: 'full',
    startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:01:00.000Z',
    machine: { cpu: 'Test CPU', cores: 2, memoryGiB: 8, os: 'Linux', arch: 'x64', node: 'v20', v8: '11' },
    build: {}, settings: { rounds: 3, timeMs: 10, minIterations: 2, warmupMs: 0 },
    cases: [
      {
        id: 'gemv <script>alert(1)</script>', group: 'GEMV', work: { ops: 2 },
        contenders: [contender('simd', 'ours', 0.01), contender('relaxed', 'ours', 0.008), contender('ort-web', 'peer', 0.05), contender('ort-node', 'peer')],
        ratios: [
          { key: 'a: simd/ort-web', ours: 'simd', peer: 'ort-web', value: 5, rounds: [5] },
          { key: 'a: relaxed/ort-web', ours: 'relaxed', peer: 'ort-web', value: 6.25, rounds: [6.25] },
          { key: 'a: simd/ort-node', ours: 'simd', peer: 'ort-node', missing: 'ort-node skipped' },
        ],
      },
      {
        id: 'gemv 2', group: 'GEMV', work: { ops: 2 },
        contenders: [contender('simd', 'ours', 0.1), contender('ort-web', 'peer', 0.05)],
        ratios: [{ key: 'gemv 2: simd/ort-web', ours: 'simd', peer: 'ort-web', value: 0.5, rounds: [0.5] }],
      },
    ],
    gates: [
      { key: 'gemv 2: simd/ort-web', case: 'gemv 2', ours: 'simd', peer: 'ort-web', measured: 0.5, min: 1, target: 2, gate: 'fail', targetMet: false },
    ],
  };
}

describe('HTML report', () => {
  it('draws one bar per measured ratio, per peer, with targets, and escapes every text', () => {
    const html = renderHtml([result()]);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).toHaveLength(1); // only ort-web has measured ratios
    expect(svgs[0]!.match(/<rect class="bar"/g)).toHaveLength(3);
    expect(svgs[0]).toContain('class="target"');
    expect(html).not.toContain('<script>');
    expect(html).toContain('gemv &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('kernels &lt;vs&gt; peers');
    expect(html).not.toMatch(/(src|href)=["']?https?:/); // self-contained
    expect(html).toContain('<tr class="bad"><td>fail</td><td>gemv 2: simd/ort-web</td>');
  });

  it('places bars on a log scale around 1x: faster to the right, slower to the left', () => {
    const colours = colourMap(['simd', 'relaxed']);
    const svg = barChart('t', [
      { caseId: 'c', contender: 'simd', label: 'simd', value: 4 },
      { caseId: 'c', contender: 'relaxed', label: 'relaxed', value: 0.25 },
    ], colours);
    const bars = [...svg.matchAll(/<rect class="bar" data-contender="(\w+)" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)]
      .map((m) => ({ id: m[1], x: Number(m[2]), w: Number(m[3]) }));
    const one = Number(/<line x1="([\d.]+)"[^>]*class="one"/.exec(svg)![1]);
    const fast = bars.find((b) => b.id === 'simd')!, slow = bars.find((b) => b.id === 'relaxed')!;
    expect(fast.x).toBeCloseTo(one, 0);
    expect(slow.x + slow.w).toBeCloseTo(one, 0);
    expect(fast.w).toBeCloseTo(slow.w, 0); // 4x and 1/4x are equally far from 1x
    expect(svg).toContain(`fill="${colours.get('simd')}"`);
  });

  it('chooses 1-2-5 ticks covering 1x and every value', () => {
    expect(axisRange([3, 40]).ticks).toEqual([1, 2, 5, 10, 20]);
    const r = axisRange([0.3]);
    expect(r.lo).toBeLessThan(0.3);
    expect(r.hi).toBeGreaterThan(1);
    expect(r.ticks).toEqual([0.5, 1]);
  });

  it('gives each contender the same colour everywhere and escapes attributes', () => {
    expect(colourMap(['b', 'a', 'b'])).toEqual(colourMap(['a', 'b']));
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
