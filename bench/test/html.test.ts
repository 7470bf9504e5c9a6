import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Box, overlappingLabels, svgBoxes } from '@compotastic/sim';
import { FONT_PX, axisRange, barChart, chartLayout, colourMap, escapeHtml } from '../src/harness/chart.js';
import { renderHtml } from '../src/harness/html.js';
import { formatThroughput } from '../src/harness/report.js';
import { RESULT_SCHEMA, type SuiteResult, isSuiteResult } from '../src/harness/results.js';

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

// Recorded result files, trimmed: an OTA run (apply and inflate against bspatch, zstd and fflate; the patch sizes of
// two esbuild releases) and a simulator run (the scaling ratio, Meshtasticator reachability, memory at 10,000 nodes).
function recorded(name: string): SuiteResult {
  const json: unknown = JSON.parse(readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8'));
  if (!isSuiteResult(json)) throw new Error(`${name} is not a result file`);
  return json;
}

/** The boxes of every chart a report draws, read back from its SVG markup with the report's font sizes. */
function chartsOf(result: SuiteResult): { svg: string; width: number; boxes: Box[] }[] {
  return [...renderHtml([result]).matchAll(/<svg[^>]*width="(\d+)"[\s\S]*?<\/svg>/g)].map((m) => ({
    svg: m[0], width: Number(m[1]), boxes: svgBoxes(m[0], { classSizes: { ...FONT_PX } }),
  }));
}

function expectNoOverlap(chart: { width: number; boxes: Box[] }): void {
  expect(overlappingLabels(chart.boxes).map(([a, b]) => `"${a.what}" over "${b.what}"`)).toEqual([]);
  for (const box of chart.boxes) {
    expect(box.x, box.what).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width, box.what).toBeLessThanOrEqual(chart.width);
  }
}

describe('HTML report from recorded results', () => {
  const ota = recorded('ota-result.json');
  const sim = recorded('sim-result.json');

  it('lays out the OTA and simulator charts with no two labels overlapping', () => {
    const charts = [...chartsOf(ota), ...chartsOf(sim)];
    expect(charts.length).toBe(5); // bspatch, zstd, fflate, patch size; the scaling ratio
    for (const chart of charts) {
      expect(chart.boxes.filter((b) => b.what !== 'rect').length).toBeGreaterThan(4);
      expectNoOverlap(chart);
    }
  });

  it('would have caught the old layout: a case name beside a long contender label on the same row', () => {
    const layout = chartLayout('t', [{ caseId: 'inflate literals esbuild-linux-x64 0.24.0->0.24.1', contender: 'ours', label: 'RawInflater (about 1.1 KB of tables)', value: 0.37 }]);
    const name = layout.texts.find((t) => t.cls === 'case')!, label = layout.texts.find((t) => t.cls === 'label')!;
    expect(label.y).toBeGreaterThanOrEqual(name.y + name.height); // its own row
    const crowded = barChart('t', [{ caseId: 'c', contender: 'ours', label: 'x'.repeat(200), value: 2 }], colourMap(['ours']));
    expectNoOverlap({ width: Number(/width="(\d+)"/.exec(crowded)![1]), boxes: svgBoxes(crowded, { classSizes: { ...FONT_PX } }) });
    expect(crowded).toMatch(/x…<\/text>/);
  });

  it('shows the patch sizes and the Meshtasticator reachability', () => {
    const otaHtml = renderHtml([ota]);
    expect(otaHtml).toContain('OTA patch sizes (bytes)');
    expect(otaHtml).toMatch(/<td>esbuild-linux-x64 0\.24\.0-&gt;0\.24\.1<\/td><td class="num">10,182,808<\/td><td class="num">180,101<\/td><td>1\.77%<\/td><td class="num">256,922<\/td><td>2\.52%<\/td><td>0\.701<\/td>/);
    expect(otaHtml).toContain('patch size: how many times smaller than bsdiff');
    expect(otaHtml).toContain('Rollout airtime');
    const simHtml = renderHtml([sim]);
    expect(simHtml).toMatch(/<td>moving nodes \(its default\)<\/td><td>77\.8% \(sd 10\.1\)<\/td><td>72\.7%<\/td><td>\+5\.1 points<\/td>/);
    expect(simHtml).toMatch(/<td>movement off<\/td><td>86\.6% \(sd 8\.3\)<\/td><td>75\.7%<\/td><td>\+10\.9 points<\/td>/);
    expect(simHtml).toMatch(/<td>memory 10k nodes<\/td><td class="num">10,000<\/td><td class="num">267<\/td><td class="num">545\.1<\/td>/);
  });

  it('shows no time per call for a case that measures something else, and no column of zeros', () => {
    const simHtml = renderHtml([sim]);
    const fidelity = /<h3>fidelity<\/h3>[\s\S]*?<\/table>/.exec(simHtml)![0];
    expect(fidelity).not.toMatch(/\d ms</);
    expect(fidelity).toContain('measures reachability against Meshtasticator');
    expect(fidelity).not.toContain('<th>throughput</th>'); // no case of the group has work per call
    const otaHtml = renderHtml([ota]);
    expect(otaHtml).not.toMatch(/>0\.00+ [GMk]?B\/s</);
    expect(otaHtml).toContain('>2.97 MB/s<'); // streaming apply of 10.2 MB in 3.43 s
  });

  it('puts throughput in the unit that fits it', () => {
    expect(formatThroughput({ gbps: 0.0029664 })).toBe('2.97 MB/s');
    expect(formatThroughput({ gbps: 12.345 })).toBe('12.3 GB/s');
    expect(formatThroughput({ gbps: 0.0000123 })).toBe('12.3 kB/s');
    expect(formatThroughput({ gops: 0.5 })).toBe('500 MOPS');
    expect(formatThroughput({})).toBe('');
  });

  it('lays out the simulator event-rate figures when a run stored them', () => {
    const withRates = { ...sim, build: { figures: { '1000-node hour': { nodes: 1000, events: 2_000_000, wallMs: 4000, cpuMs: 2000, eventsPerSecond: 500_000, eventsPerCpuSecond: 1_000_000, goal: 1_000_000 } } } };
    expect(renderHtml([withRates])).toMatch(/<td>1000-node hour<\/td><td>4\.0<\/td><td>2\.0<\/td><td class="num">2,000,000<\/td><td class="num">500,000<\/td><td class="num">1,000,000<\/td><td>1\.00 of 1,000,000\/s<\/td>/);
  });
});

describe('machine line', () => {
  it('says how busy the machine was when the result records it', () => {
    const r = result();
    expect(renderHtml([r])).not.toContain('load average');
    expect(renderHtml([{ ...r, machine: { ...r.machine, load1: 6.5 } }])).toContain('2 cores, Linux x64, Node v20, V8 11, load average 6.5 at the start; full mode');
  });
});
