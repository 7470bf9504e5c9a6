// Draws the world on a canvas: nodes by device class (hollow when down), a
// battery arc, rings for transmissions in flight, crosses for collisions, and
// dashed lines from a job's requester to the peers working for it.

import type { World, NodeView } from './world.js';

const CLASS_COLORS: Record<string, string> = {
  microcontroller: '#6cb6ff', sbc: '#b191ff', phone: '#7ee787', laptop: '#ffa657', jetson: '#ff7b72',
};
const ACCENT = '#f0a030';
const BAD = '#e5484d';

export interface View {
  toScreen(x: number, y: number): [number, number];
  scale: number;
}

/** Fits every node (with a margin) into the canvas, keeping the aspect ratio. */
export function fitView(world: World, width: number, height: number): View {
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (const n of world.nodes.values()) {
    minX = Math.min(minX, n.x); maxX = Math.max(maxX, n.x);
    minY = Math.min(minY, n.y); maxY = Math.max(maxY, n.y);
  }
  if (!Number.isFinite(minX)) { minX = -1000; maxX = 1000; minY = -1000; maxY = 1000; }
  const spanX = Math.max(maxX - minX, 100), spanY = Math.max(maxY - minY, 100);
  const margin = 30;
  const scale = Math.min((width - 2 * margin) / spanX, (height - 2 * margin) / spanY);
  const cx = (minX + maxX) / 2, cy = (minY + maxY) / 2;
  return {
    scale,
    toScreen: (x, y) => [width / 2 + (x - cx) * scale, height / 2 - (y - cy) * scale],
  };
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

export function draw(ctx: CanvasRenderingContext2D, world: World, view: View, selected: number | null): void {
  const { width, height } = ctx.canvas;
  ctx.clearRect(0, 0, width, height);
  // Scale bar: a round number of metres near 100 px.
  const metres = 10 ** Math.floor(Math.log10(100 / view.scale));
  const bar = metres * view.scale;
  ctx.strokeStyle = '#3a4654'; ctx.fillStyle = '#7a8896'; ctx.lineWidth = 2;
  ctx.beginPath(); ctx.moveTo(16, height - 16); ctx.lineTo(16 + bar, height - 16); ctx.stroke();
  ctx.font = '11px system-ui'; ctx.fillText(metres >= 1000 ? `${metres / 1000} km` : `${metres} m`, 16, height - 22);

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
  for (const n of world.nodes.values()) {
    const [x, y] = view.toScreen(n.x, n.y);
    const color = CLASS_COLORS[n.deviceClass] ?? '#aaa';
    const r = n.deviceClass === 'jetson' || n.deviceClass === 'laptop' ? 7 : 5;
    ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
    if (n.up) { ctx.fillStyle = color; ctx.fill(); } else { ctx.strokeStyle = '#555f6b'; ctx.lineWidth = 1.5; ctx.stroke(); }
    if (n.role === 'ROUTER') { ctx.strokeStyle = '#ffffff'; ctx.lineWidth = 1; ctx.strokeRect(x - r - 2, y - r - 2, 2 * r + 4, 2 * r + 4); }
    if (n.batteryPct !== null) {
      ctx.strokeStyle = n.batteryPct < 20 ? BAD : '#46a758'; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(x, y, r + 3, Math.PI / 2, Math.PI / 2 + (2 * Math.PI * Math.max(0, n.batteryPct)) / 100); ctx.stroke();
    }
    if (n.num === selected) { ctx.strokeStyle = '#ffffff'; ctx.lineWidth = 2; ctx.beginPath(); ctx.arc(x, y, r + 7, 0, 2 * Math.PI); ctx.stroke(); }
  }

  // Collisions fade out over a few simulated seconds.
  ctx.strokeStyle = BAD; ctx.lineWidth = 2;
  for (const m of world.marks) {
    if (m.kind !== 'collision') continue;
    const n = world.nodes.get(m.node);
    if (!n) continue;
    const [x, y] = view.toScreen(n.x, n.y);
    ctx.globalAlpha = Math.max(0.1, 1 - (world.now - m.t) / 3000);
    ctx.beginPath(); ctx.moveTo(x - 6, y - 6 - 10); ctx.lineTo(x + 6, y + 6 - 10); ctx.moveTo(x + 6, y - 6 - 10); ctx.lineTo(x - 6, y + 6 - 10); ctx.stroke();
  }
  ctx.globalAlpha = 1;
}
