// Small charts over simulated time, drawn on canvases (no chart library):
// channel utilization, jobs done and OTA progress as lines, airtime per node as
// bars. Each chart notes how many points it drew in data-points (for tests).

import { nodeLabel } from './names.js';
import { fmtTime } from './panels.js';
import type { Sample, World } from './world.js';

const AXIS = '#3a4654';
const TEXT = '#9aa8b6';

function prepare(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const w = Math.max(200, Math.round(canvas.getBoundingClientRect().width || 300));
  if (canvas.width !== w) canvas.width = w;
  const ctx = canvas.getContext('2d')!;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.font = '10px system-ui';
  return ctx;
}

/** A line over time: y from 0 to the larger of `minMax` and the data's maximum. */
export function lineChart(canvas: HTMLCanvasElement, points: [number, number][], opts: { color: string; unit: string; minMax: number; endMs: number }): void {
  const ctx = prepare(canvas);
  const { width, height } = canvas;
  const left = 34, right = 8, top = 8, bottom = 16;
  const max = Math.max(opts.minMax, ...points.map(([, v]) => v));
  const end = Math.max(opts.endMs, points[points.length - 1]?.[0] ?? 0, 1);
  const x = (t: number) => left + ((width - left - right) * t) / end;
  const y = (v: number) => height - bottom - ((height - top - bottom) * v) / max;
  ctx.strokeStyle = AXIS; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(left, top); ctx.lineTo(left, height - bottom); ctx.lineTo(width - right, height - bottom); ctx.stroke();
  ctx.fillStyle = TEXT;
  ctx.textAlign = 'right';
  ctx.fillText(`${Number.isInteger(max) ? max : max.toFixed(1)}${opts.unit}`, left - 3, top + 6);
  ctx.fillText(`0`, left - 3, height - bottom);
  ctx.textAlign = 'left';
  ctx.fillText('0:00', left, height - 3);
  ctx.textAlign = 'right';
  ctx.fillText(fmtTime(end), width - right, height - 3);
  ctx.textAlign = 'left';
  if (points.length) {
    ctx.strokeStyle = opts.color; ctx.lineWidth = 1.5;
    ctx.beginPath();
    points.forEach(([t, v], i) => (i ? ctx.lineTo(x(t), y(v)) : ctx.moveTo(x(t), y(v))));
    ctx.stroke();
  } else {
    ctx.fillText('no data yet', left + 8, top + 16);
  }
  canvas.dataset.points = String(points.length);
}

/** Horizontal bars, largest first. */
export function barChart(canvas: HTMLCanvasElement, bars: [string, number][], opts: { color: string; unit: string }): void {
  const rowH = 14;
  const wantH = Math.max(40, bars.length * rowH + 6);
  if (canvas.height !== wantH) canvas.height = wantH;
  const ctx = prepare(canvas);
  const { width } = canvas;
  const left = 56, right = 48;
  const max = Math.max(1e-9, ...bars.map(([, v]) => v));
  bars.forEach(([label, v], i) => {
    const y = 3 + i * rowH;
    ctx.fillStyle = TEXT; ctx.textAlign = 'right';
    ctx.fillText(label, left - 4, y + 10);
    ctx.fillStyle = opts.color;
    ctx.fillRect(left, y + 2, ((width - left - right) * v) / max, rowH - 4);
    ctx.fillStyle = TEXT; ctx.textAlign = 'left';
    ctx.fillText(`${v.toFixed(1)}${opts.unit}`, left + ((width - left - right) * v) / max + 4, y + 10);
  });
  if (!bars.length) { ctx.fillStyle = TEXT; ctx.fillText('no transmissions yet', 8, 20); }
  canvas.dataset.points = String(bars.length);
}

const series = (samples: Sample[], pick: (s: Sample) => number): [number, number][] => samples.map((s) => [s.t, pick(s)]);

export function renderCharts(box: HTMLElement, world: World, endMs: number): void {
  const get = (name: string) => box.querySelector<HTMLCanvasElement>(`canvas[data-chart="${name}"]`)!;
  const s = world.chartSamples();
  lineChart(get('util'), series(s, (x) => x.channelUtilPct), { color: '#58a6ff', unit: '%', minMax: 5, endMs });
  lineChart(get('jobs'), series(s, (x) => x.jobsDone), { color: '#46a758', unit: '', minMax: 1, endMs });
  lineChart(get('ota'), series(s, (x) => x.otaPct), { color: '#f0a030', unit: '%', minMax: 100, endMs });
  const top = [...world.nodes.values()].filter((n) => n.txAirtimeMs > 0).sort((a, b) => b.txAirtimeMs - a.txAirtimeMs).slice(0, 12);
  barChart(get('airtime'), top.map((n) => [nodeLabel(world, n.num), n.txAirtimeMs / 1000]), { color: '#b191ff', unit: ' s' });
}
