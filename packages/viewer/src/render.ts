// Draws the world on a canvas: link lines coloured by SNR, the route of the
// selected node's last message, nodes by device class (hollow when down,
// routers framed by a square, a battery arc), rings for transmissions in
// flight, OTA progress rings, crosses for collisions, detection markers,
// dashed lines from a job's requester to the peers working for it, and labels.
// The projection (a View) comes from the map underneath (basemap.ts).

import { nodeLabel } from './names.js';
import { COLLISION_MARK_MS, DETECTION_MARK_MS, type MessageView, type World, type NodeView } from './world.js';

export const CLASS_COLORS: Record<string, string> = {
  microcontroller: '#6cb6ff', sbc: '#b191ff', phone: '#7ee787', laptop: '#ffa657', jetson: '#ff7b72',
};
const ACCENT = '#f0a030';
const BAD = '#e5484d';
const DETECT = '#f5d90a';
/** Links heard within this much simulated time are drawn. */
const LINK_MS = 10 * 60_000;
const MAX_LINKS_DRAWN = 3000;
/** Up to this many nodes every node is labelled; above it only routers, the selected and the hovered node. */
const LABEL_ALL_UP_TO = 120;

/** SNR bands for link lines (dB), strongest first; the legend shows the same bands. */
export const SNR_BANDS: { min: number; color: string; label: string }[] = [
  { min: 5, color: '#46a758', label: '≥ 5 dB' },
  { min: -5, color: '#e3b341', label: '−5…5' },
  { min: -12, color: '#f0883e', label: '−12…−5' },
  { min: -Infinity, color: '#e5484d', label: '< −12 dB' },
];

export function snrColor(snr: number): string {
  return SNR_BANDS.find((b) => snr >= b.min)!.color;
}

export interface View {
  toScreen(x: number, y: number): [number, number];
  /** Pixels per metre. */
  scale: number;
}

export interface DrawOptions {
  selected: number | null;
  hovered: number | null;
  links: boolean;
  /** The message whose route is drawn. */
  route: MessageView | null;
  /** Draw a metre grid (the plain background when there are no map tiles). */
  grid: boolean;
}

export interface DrawResult {
  labels: number;
  links: number;
  routeHops: number;
}

/** The radius a node is drawn with. */
function radiusOf(n: NodeView): number {
  return n.deviceClass === 'jetson' || n.deviceClass === 'laptop' ? 7 : 5;
}

export function nodeAt(world: World, view: View, sx: number, sy: number): NodeView | undefined {
  let best: NodeView | undefined, bestD = 12;
  for (const n of world.nodes.values()) {
    const [x, y] = view.toScreen(n.x, n.y);
    const d = Math.hypot(x - sx, y - sy);
    if (d < bestD) { best = n; bestD = d; }
  }
  return best;
}

function arrow(ctx: CanvasRenderingContext2D, x1: number, y1: number, x2: number, y2: number): void {
  const a = Math.atan2(y2 - y1, x2 - x1);
  const back = 9; // stop short of the node's dot
  const ex = x2 - back * Math.cos(a), ey = y2 - back * Math.sin(a);
  ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(ex, ey); ctx.stroke();
  ctx.beginPath(); ctx.moveTo(ex, ey);
  ctx.lineTo(ex - 7 * Math.cos(a - 0.4), ey - 7 * Math.sin(a - 0.4));
  ctx.lineTo(ex - 7 * Math.cos(a + 0.4), ey - 7 * Math.sin(a + 0.4));
  ctx.closePath(); ctx.fill();
}

export function draw(ctx: CanvasRenderingContext2D, world: World, view: View, opts: DrawOptions): DrawResult {
  const { width, height } = ctx.canvas;
  const result: DrawResult = { labels: 0, links: 0, routeHops: 0 };
  ctx.clearRect(0, 0, width, height);
  // Scale bar: a round number of metres (1, 2 or 5 times a power of ten) of at most 120 px.
  const most = 120 / view.scale;
  const power = 10 ** Math.floor(Math.log10(most));
  const metres = [5, 2, 1].map((f) => f * power).find((m) => m <= most) ?? power;
  const bar = metres * view.scale;
  ctx.strokeStyle = '#7a8896'; ctx.fillStyle = '#9aa8b6'; ctx.lineWidth = 2;
  ctx.beginPath(); ctx.moveTo(16, height - 16); ctx.lineTo(16 + bar, height - 16); ctx.stroke();
  ctx.font = '11px system-ui'; ctx.fillText(metres >= 1000 ? `${metres / 1000} km` : `${metres} m`, 16, height - 22);

  // The plain projected background: grid lines every scale-bar length, through the scenario's origin.
  if (opts.grid && bar >= 8) {
    const [ox, oy] = view.toScreen(0, 0);
    ctx.strokeStyle = '#1a232d'; ctx.lineWidth = 1;
    ctx.beginPath();
    for (let x = ox - Math.ceil(ox / bar) * bar; x <= width; x += bar) { ctx.moveTo(x, 0); ctx.lineTo(x, height); }
    for (let y = oy - Math.ceil(oy / bar) * bar; y <= height; y += bar) { ctx.moveTo(0, y); ctx.lineTo(width, y); }
    ctx.stroke();
  }

  // Links heard recently, faint, coloured by the SNR of the last packet on them.
  if (opts.links) {
    ctx.lineWidth = 1; ctx.globalAlpha = 0.45;
    const since = world.now - LINK_MS;
    for (const l of world.links.values()) {
      if (l.t < since || result.links >= MAX_LINKS_DRAWN) continue;
      const a = world.nodes.get(l.sender), b = world.nodes.get(l.receiver);
      if (!a || !b) continue;
      const [x1, y1] = view.toScreen(a.x, a.y), [x2, y2] = view.toScreen(b.x, b.y);
      ctx.strokeStyle = snrColor(l.snr);
      ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
      result.links++;
    }
    ctx.globalAlpha = 1;
  }

  // The route of one message: every hop that carried it, as arrows.
  if (opts.route) {
    ctx.strokeStyle = '#ffffff'; ctx.fillStyle = '#ffffff'; ctx.lineWidth = 2;
    const seen = new Set<string>();
    for (const [s, r] of opts.route.edges) {
      const key = `${s}>${r}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const a = world.nodes.get(s), b = world.nodes.get(r);
      if (!a || !b) continue;
      const [x1, y1] = view.toScreen(a.x, a.y), [x2, y2] = view.toScreen(b.x, b.y);
      arrow(ctx, x1, y1, x2, y2);
      result.routeHops++;
    }
  }

  // Jobs: requester -> peers.
  ctx.setLineDash([4, 4]); ctx.lineWidth = 1.5;
  for (const j of world.jobs.values()) {
    if (j.requester === null || (j.state !== 'running' && j.state !== 'planned')) continue;
    const r = world.nodes.get(j.requester);
    if (!r) continue;
    for (const p of j.peers) {
      const peer = world.nodes.get(p);
      if (!peer) continue;
      const [x1, y1] = view.toScreen(r.x, r.y), [x2, y2] = view.toScreen(peer.x, peer.y);
      ctx.strokeStyle = ACCENT; ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
    }
  }
  ctx.setLineDash([]);

  // Transmissions in flight: a ring growing over the packet's airtime.
  for (const tx of world.onAir()) {
    const n = world.nodes.get(tx.node);
    if (!n) continue;
    const f = Math.min(1, Math.max(0, (world.now - tx.start) / Math.max(1, tx.end - tx.start)));
    const [x, y] = view.toScreen(n.x, n.y);
    ctx.strokeStyle = tx.port === 256 ? ACCENT : '#58a6ff';
    ctx.globalAlpha = 0.8 * (1 - f) + 0.2;
    ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(x, y, 8 + 40 * f, 0, 2 * Math.PI); ctx.stroke();
  }
  ctx.globalAlpha = 1;

  // OTA progress rings.
  for (const o of world.ota.values()) {
    for (const [num, pct] of o.progress) {
      const n = world.nodes.get(num);
      if (!n) continue;
      const [x, y] = view.toScreen(n.x, n.y);
      ctx.strokeStyle = o.applied.has(num) ? '#46a758' : '#58a6ff'; ctx.lineWidth = 3;
      ctx.beginPath(); ctx.arc(x, y, 11, -Math.PI / 2, -Math.PI / 2 + (2 * Math.PI * pct) / 100); ctx.stroke();
    }
  }

  // Nodes.
  const labelAll = world.nodes.size <= LABEL_ALL_UP_TO;
  ctx.textBaseline = 'middle';
  for (const n of world.nodes.values()) {
    const [x, y] = view.toScreen(n.x, n.y);
    const color = CLASS_COLORS[n.deviceClass] ?? '#aaa';
    const r = radiusOf(n);
    ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
    if (n.up) { ctx.fillStyle = color; ctx.fill(); } else { ctx.strokeStyle = color; ctx.globalAlpha = 0.7; ctx.lineWidth = 1.5; ctx.stroke(); ctx.globalAlpha = 1; }
    if (n.role === 'ROUTER' || n.role === 'ROUTER_LATE' || n.role === 'REPEATER') { ctx.strokeStyle = '#ffffff'; ctx.lineWidth = 1; ctx.strokeRect(x - r - 2, y - r - 2, 2 * r + 4, 2 * r + 4); }
    if (n.batteryPct !== null) {
      ctx.strokeStyle = n.batteryPct < 20 ? BAD : '#46a758'; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(x, y, r + 3, Math.PI / 2, Math.PI / 2 + (2 * Math.PI * Math.max(0, n.batteryPct)) / 100); ctx.stroke();
    }
    if (n.num === opts.selected || n.num === opts.hovered) {
      ctx.strokeStyle = '#ffffff'; ctx.lineWidth = n.num === opts.selected ? 2 : 1;
      ctx.beginPath(); ctx.arc(x, y, r + 7, 0, 2 * Math.PI); ctx.stroke();
    }
    if (labelAll || n.role === 'ROUTER' || n.num === opts.selected || n.num === opts.hovered) {
      ctx.fillStyle = n.up ? '#d8e0e8' : '#7a8896';
      ctx.font = n.num === opts.selected ? 'bold 11px system-ui' : '10px system-ui';
      ctx.fillText(nodeLabel(world, n.num), x + r + 5, y);
      result.labels++;
    }
  }
  ctx.textBaseline = 'alphabetic';

  // Collisions and detections fade out over a few simulated seconds.
  for (const m of world.marks) {
    const n = world.nodes.get(m.node);
    if (!n) continue;
    const [x, y] = view.toScreen(n.x, n.y);
    if (m.kind === 'collision') {
      ctx.strokeStyle = BAD; ctx.lineWidth = 2;
      ctx.globalAlpha = Math.max(0.1, 1 - (world.now - m.t) / COLLISION_MARK_MS);
      ctx.beginPath(); ctx.moveTo(x - 6, y - 16); ctx.lineTo(x + 6, y - 4); ctx.moveTo(x + 6, y - 16); ctx.lineTo(x - 6, y - 4); ctx.stroke();
    } else {
      // A detection: a yellow diamond above the node, with the keyword it heard.
      ctx.globalAlpha = Math.max(0.2, 1 - (world.now - m.t) / DETECTION_MARK_MS);
      ctx.fillStyle = DETECT; ctx.strokeStyle = '#111'; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(x, y - 26); ctx.lineTo(x + 7, y - 19); ctx.lineTo(x, y - 12); ctx.lineTo(x - 7, y - 19); ctx.closePath(); ctx.fill(); ctx.stroke();
      if (m.text) { ctx.font = 'bold 11px system-ui'; ctx.fillText(m.text, x + 10, y - 19); }
    }
  }
  ctx.globalAlpha = 1;
  return result;
}
