import { describe, expect, it } from 'vitest';
import { overlappingLabels, renderSummaryHtml, renderSummarySvg, runScenario, svgBoxes, type ScenarioConfig } from '../src/index.js';

// Long node names and the most bars the plot draws: the layout that used to put names over the bars.
const scenario: ScenarioConfig = {
  name: 'plot-layout',
  duration: '10m',
  preset: 'SHORT_FAST',
  area: { widthM: 2000, heightM: 2000 },
  nodes: {
    list: Array.from({ length: 32 }, (_, i) => ({ name: `${i % 2 ? 'rooftop-repeater' : 'n'}-${i}-${'x'.repeat(i % 5)}`, x: (i % 8) * 250, y: Math.floor(i / 8) * 250, role: i % 7 === 0 ? 'ROUTER' as const : 'CLIENT' as const })),
  },
  traffic: [{ kind: 'broadcast', periodS: 60, wantAck: true }],
};

describe('the summary plot', () => {
  const summary = runScenario(scenario, { seed: 2 });

  it('lays its text out so no label overlaps a bar or another label', () => {
    const svg = renderSummarySvg(summary);
    const boxes = svgBoxes(svg);
    // The check sees the bars and the labels it is meant to keep apart.
    expect(boxes.filter((b) => b.what === 'rect').length).toBeGreaterThanOrEqual(30);
    expect(boxes.some((b) => b.what.startsWith('rooftop-repea'))).toBe(true);
    expect(overlappingLabels(boxes).map(([a, b]) => `${a.what} / ${b.what}`)).toEqual([]);
    // And everything stays inside the picture.
    const width = Number(/width="(\d+)"/.exec(svg)![1]);
    const height = Number(/height="(\d+(?:\.\d+)?)"/.exec(svg)![1]);
    for (const b of boxes) {
      expect(b.x + b.width).toBeLessThanOrEqual(width);
      expect(b.y + b.height).toBeLessThanOrEqual(height);
    }
  });

  it('the overlap check would catch a label drawn over a bar', () => {
    const bad = '<svg><text x="10" y="20" font-size="11">a long node name</text><rect x="40" y="10" width="100" height="12" fill="#4a7bd0"/></svg>';
    expect(overlappingLabels(svgBoxes(bad))).toHaveLength(1);
  });

  it('shows drops and acknowledgements as tables, not JSON', () => {
    const html = renderSummaryHtml(summary);
    expect(Object.keys(summary.acks).length).toBeGreaterThan(0);
    expect(html).not.toContain(JSON.stringify(summary.acks));
    expect(html).not.toMatch(/\{"/);
    for (const [kind, n] of Object.entries(summary.acks)) expect(html).toContain(`<tr><td>${kind}</td><td class="num">${n}</td></tr>`);
    for (const [kind, n] of Object.entries(summary.drops)) expect(html).toContain(`<tr><td>${kind}</td><td class="num">${n}</td></tr>`);
    expect(html).toContain('<h2>Drops</h2>');
    expect(html).toContain('<h2>Acknowledgements</h2>');
  });
});
