// SVG bar charts of ratios on a log scale around 1x (bars grow right of 1x when ours is faster), laid out so that no
// two texts overlap, and the escaping and colours every part of the HTML report shares.

import { fitText, textWidth } from '@compotastic/sim';
import { formatRatio } from './report.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

const PALETTE = ['#4e79a7', '#59a14f', '#9c755f', '#f28e2b', '#b07aa1', '#76b7b2', '#e15759', '#edc948', '#bab0ac', '#ff9da7'];

/** A stable colour per contender id, shared by every chart of the report. */
export function colourMap(ids: readonly string[]): Map<string, string> {
  const unique = [...new Set(ids)].sort();
  return new Map(unique.map((id, i) => [id, PALETTE[i % PALETTE.length]!]));
}

export interface ChartBar {
  caseId: string;
  contender: string;
  label: string;
  value: number;
}

/** A text's bounding box in SVG units (x, y: top left), estimated from its length: SVG cannot measure text on a server. */
export interface TextBox {
  text: string;
  cls: string;
  /** The anchor point and baseline the text is drawn at. */
  ax: number;
  baseline: number;
  anchor: 'start' | 'middle' | 'end';
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface BarBox {
  bar: ChartBar;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ChartLayout {
  width: number;
  height: number;
  texts: TextBox[];
  bars: BarBox[];
  /** Vertical lines: the 1x line, grid ticks and targets, at their x. */
  lines: { x: number; cls: 'one' | 'grid' | 'target'; value: number }[];
  plotTop: number;
  plotBottom: number;
}

/** Font sizes by class, as the report's style sheet sets them (tests read the SVG with the same sizes). */
export const FONT_PX: Readonly<Record<string, number>> = { title: 13, case: 12, label: 12, value: 11, tick: 11 };
/** Bold text (titles, case names) runs wider: its width is estimated as that of a text this much larger. */
const BOLD_WIDTH = 1.1;

function textBox(text: string, cls: string, ax: number, baseline: number, anchor: TextBox['anchor'] = 'start'): TextBox {
  const px = FONT_PX[cls] ?? 12;
  const width = textWidth(text, cls === 'title' || cls === 'case' ? px * BOLD_WIDTH : px);
  const x = anchor === 'start' ? ax : anchor === 'middle' ? ax - width / 2 : ax - width;
  return { text, cls, ax, baseline, anchor, x, y: baseline - px * 0.85, width, height: px * 1.1 };
}

/** Log-scale axis bounds covering the values, 1x and the targets, on 1-2-5 ticks. */
export function axisRange(values: readonly number[]): { lo: number; hi: number; ticks: number[] } {
  const finite = values.filter((v) => v > 0 && Number.isFinite(v));
  const lo0 = Math.min(1, ...finite) / 1.15;
  const hi0 = Math.max(1, ...finite) * 1.15;
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo0)); e <= Math.ceil(Math.log10(hi0)); e++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t >= lo0 && t <= hi0) ticks.push(Number(t.toPrecision(3)));
    }
  }
  return { lo: lo0, hi: hi0, ticks };
}

/**
 * Where everything of a bar chart goes. Each case's name has a row of its own above its bars, contender labels are
 * cut to the label column, value labels sit right of their bar and widen the chart when needed, and a tick label that
 * would touch its neighbour is left out: no two texts overlap, and no text overlaps a bar.
 */
export function chartLayout(title: string, bars: readonly ChartBar[], targets: readonly number[] = []): ChartLayout {
  const rowH = 18, gap = 8, plotW = 440, titleH = 28, axisH = 26;
  const labelW = Math.min(300, Math.max(120, ...bars.map((b) => textBox(b.label, 'label', 0, 0).width + 12)));
  const { lo, hi, ticks } = axisRange([...bars.map((b) => b.value), ...targets]);
  const x = (v: number) => labelW + ((Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * plotW;
  const texts: TextBox[] = [textBox(title, 'title', 0, 16)];
  const boxes: BarBox[] = [];
  let y = titleH;
  for (const caseId of [...new Set(bars.map((b) => b.caseId))]) {
    texts.push(textBox(caseId, 'case', 0, y + 13));
    y += rowH;
    for (const bar of bars.filter((b) => b.caseId === caseId)) {
      const x0 = x(1), x1 = x(bar.value);
      boxes.push({ bar, x: Math.min(x0, x1), y: y + 2, width: Math.max(1, Math.abs(x1 - x0)), height: rowH - 4 });
      texts.push(textBox(fitText(bar.label, FONT_PX.label!, labelW - 12), 'label', labelW - 6, y + 13, 'end'));
      texts.push(textBox(formatRatio(bar.value), 'value', Math.max(x0, x1) + 4, y + 13));
      y += rowH;
    }
    y += gap;
  }
  const plotBottom = y;
  const lines: ChartLayout['lines'] = [];
  let lastTick: TextBox | undefined;
  for (const t of ticks) {
    lines.push({ x: x(t), cls: t === 1 ? 'one' : 'grid', value: t });
    const label = textBox(`${Number(t.toPrecision(2))}x`, 'tick', x(t), plotBottom + 16, 'middle');
    if (lastTick && label.x < lastTick.x + lastTick.width + 4) continue;
    texts.push(label);
    lastTick = label;
  }
  for (const t of targets) lines.push({ x: x(t), cls: 'target', value: t });
  const width = Math.ceil(Math.max(labelW + plotW + 40, ...texts.map((t) => t.x + t.width + 4)));
  return { width, height: plotBottom + axisH, texts, bars: boxes, lines, plotTop: titleH - 4, plotBottom };
}

/** One horizontal bar chart (SVG markup). */
export function barChart(title: string, bars: readonly ChartBar[], colours: Map<string, string>, targets: readonly number[] = []): string {
  const layout = chartLayout(title, bars, targets);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${layout.width}" height="${layout.height}" role="img" aria-label="${escapeHtml(title)}">`);
  for (const l of layout.lines) {
    const tip = l.cls === 'target' ? `<title>target ${escapeHtml(formatRatio(l.value))}</title>` : '';
    parts.push(`<line x1="${l.x.toFixed(1)}" x2="${l.x.toFixed(1)}" y1="${layout.plotTop}" y2="${layout.plotBottom}" class="${l.cls}">${tip}</line>`);
  }
  for (const b of layout.bars) {
    const tip = `${b.bar.caseId} ${b.bar.label}: ${formatRatio(b.bar.value)}`;
    parts.push(`<rect class="bar" data-contender="${escapeHtml(b.bar.contender)}" x="${b.x.toFixed(1)}" y="${b.y}" width="${b.width.toFixed(1)}" height="${b.height}" fill="${colours.get(b.bar.contender) ?? '#888'}"><title>${escapeHtml(tip)}</title></rect>`);
  }
  for (const t of layout.texts) {
    const anchor = t.anchor === 'start' ? '' : ` text-anchor="${t.anchor}"`;
    parts.push(`<text x="${t.ax.toFixed(1)}" y="${t.baseline}" class="${t.cls}"${anchor}>${escapeHtml(t.text)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}
