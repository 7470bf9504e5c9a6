import type { SimSummary } from './stats.js';
import { fitText, textWidth } from './svg-text.js';

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Green (100%) to red (0%). */
function colour(pct: number | null): string {
  if (pct === null) return '#888';
  const p = Math.max(0, Math.min(100, pct)) / 100;
  return `hsl(${Math.round(120 * p)},70%,42%)`;
}

/**
 * A self-contained SVG of a run: the node map coloured by how well each node's messages spread (routers square, nodes
 * down at the end hollow), TX airtime per node, and the headline numbers.
 */
export function renderSummarySvg(s: SimSummary, width = 1000): string {
  const mapSize = 460;
  const pad = 40;
  const xs = s.perNode.map((n) => n.x);
  const ys = s.perNode.map((n) => n.y);
  const minX = Math.min(...xs, 0);
  const maxX = Math.max(...xs, 1);
  const minY = Math.min(...ys, 0);
  const maxY = Math.max(...ys, 1);
  const span = Math.max(maxX - minX, maxY - minY, 1);
  const px = (x: number) => pad + ((x - minX) / span) * mapSize;
  // Below the title, with room for the panel headings.
  const mapTop = pad + 16;
  const py = (y: number) => mapTop + mapSize - ((y - minY) / span) * mapSize;
  // The height is known once the bars are laid out; the opening tag goes in first at the end.
  const parts: string[] = [];
  parts.push(`<text x="${pad}" y="24" font-size="16" font-weight="bold">${esc(fitText(`${s.scenario} — seed ${s.seed}, ${s.nodes} nodes, ${s.preset}/${s.region}, ${s.durationS} s`, 16, width - 2 * pad))}</text>`);
  parts.push(`<rect x="${pad}" y="${mapTop}" width="${mapSize}" height="${mapSize}" fill="none" stroke="#ccc"/>`);
  for (const n of s.perNode) {
    const x = px(n.x).toFixed(1);
    const y = py(n.y).toFixed(1);
    const fill = n.up ? colour(n.reachabilityPct) : 'none';
    const stroke = colour(n.reachabilityPct);
    const title = `<title>${esc(n.name)} (${n.role}, ${n.deviceClass}) reach ${n.reachabilityPct ?? '-'}% tx ${n.txPackets} util ${n.channelUtilizationPct}%</title>`;
    if (n.role === 'ROUTER') parts.push(`<rect x="${(+x - 5).toFixed(1)}" y="${(+y - 5).toFixed(1)}" width="10" height="10" fill="${fill}" stroke="${stroke}" stroke-width="2">${title}</rect>`);
    else parts.push(`<circle cx="${x}" cy="${y}" r="4" fill="${fill}" stroke="${stroke}" stroke-width="1.5">${title}</circle>`);
  }
  parts.push(`<text x="${pad}" y="${mapTop + mapSize + 18}">${(span / 1000).toFixed(2)} km across; colour = share of peers reached</text>`);
  // Airtime bars: the name column as wide as the longest name (cut past a third of the panel), the value after the bar.
  const bx = pad * 2 + mapSize;
  const bw = width - bx - pad;
  const top = [...s.perNode].sort((a, b) => b.txAirtimeMs - a.txAirtimeMs).slice(0, 30);
  const maxAir = Math.max(1, ...top.map((n) => n.txAirtimeMs));
  const barH = Math.max(4, Math.min(12, 300 / Math.max(1, top.length)));
  const nameSize = Math.min(11, barH);
  const valueSize = Math.min(10, barH);
  const seconds = (n: { txAirtimeMs: number }) => `${(n.txAirtimeMs / 1000).toFixed(1)}s`;
  const nameW = Math.min(bw / 3, Math.max(0, ...top.map((n) => textWidth(n.name, nameSize)))) + 6;
  const valueW = Math.max(0, ...top.map((n) => textWidth(seconds(n), valueSize))) + 6;
  const barMax = Math.max(1, bw - nameW - valueW);
  parts.push(`<text x="${bx}" y="${mapTop - 6}" font-weight="bold">TX airtime per node (top ${top.length})</text>`);
  top.forEach((n, i) => {
    const y = mapTop + i * (barH + 2);
    const w = (n.txAirtimeMs / maxAir) * barMax;
    parts.push(`<text x="${bx}" y="${y + barH - 1}" font-size="${nameSize}">${esc(fitText(n.name, nameSize, nameW - 6))}<title>${esc(n.name)}</title></text>`);
    parts.push(`<rect x="${(bx + nameW).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="#4a7bd0"/>`);
    parts.push(`<text x="${(bx + nameW + w + 3).toFixed(1)}" y="${y + barH - 1}" font-size="${valueSize}">${seconds(n)}</text>`);
  });
  // The headline numbers across the whole width, below both the map and the bars.
  const barsBottom = mapTop + top.length * (barH + 2);
  const linesTop = Math.max(mapTop + mapSize + 48, barsBottom + 28);
  const lines = [
    `messages ${s.messages}   reachability ${s.reachabilityPct}%   usefulness ${s.usefulnessPct}%   direct messages delivered ${s.directMessages.delivered}/${s.directMessages.sent}`,
    `transmissions ${s.transmissions}   receptions ${s.receptions}   collisions ${s.collisions}   nodes up at end ${s.nodesUpAtEnd}/${s.nodes}`,
    `delay mean ${(s.delayMs.mean / 1000).toFixed(2)} s  p50 ${(s.delayMs.p50 / 1000).toFixed(2)} s  p95 ${(s.delayMs.p95 / 1000).toFixed(2)} s   channel utilization mean ${s.channelUtilizationPct.mean}%  max ${s.channelUtilizationPct.max}%`,
  ];
  lines.forEach((l, i) => parts.push(`<text x="${pad}" y="${linesTop + i * 18}">${esc(fitText(l, 12, width - 2 * pad))}</text>`));
  const height = linesTop + lines.length * 18 + pad / 2;
  parts.unshift(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`, `<rect width="${width}" height="${height}" fill="#fff"/>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/** An HTML page with the SVG and the summary numbers. */
export function renderSummaryHtml(s: SimSummary): string {
  const rows = Object.entries({
    reachability: `${s.reachabilityPct}%`,
    usefulness: `${s.usefulnessPct}%`,
    messages: s.messages,
    transmissions: s.transmissions,
    collisions: s.collisions,
    'delay p50 / p95 (ms)': `${s.delayMs.p50} / ${s.delayMs.p95}`,
    'channel utilization mean / max': `${s.channelUtilizationPct.mean}% / ${s.channelUtilizationPct.max}%`,
    events: s.events,
  })
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`)
    .join('\n');
  const counts = (title: string, what: string, byKind: Record<string, number>): string => {
    const entries = Object.entries(byKind).sort((a, b) => b[1] - a[1]);
    if (entries.length === 0) return `<h2>${esc(title)}</h2><p>none</p>`;
    const body = entries.map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${v}</td></tr>`).join('\n');
    return `<h2>${esc(title)}</h2><table><thead><tr><th>${esc(what)}</th><th class="num">packets</th></tr></thead><tbody>\n${body}\n</tbody></table>`;
  };
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(s.scenario)} — mesh simulation</title>
<style>body{font-family:sans-serif;margin:20px}table{border-collapse:collapse}th,td{text-align:left;padding:2px 10px;border-bottom:1px solid #eee}.num{text-align:right;font-variant-numeric:tabular-nums}h2{font-size:1.1em;margin-top:1.2em}</style>
</head><body>
${renderSummarySvg(s)}
<table>${rows}</table>
${counts('Drops', 'reason', s.drops)}
${counts('Acknowledgements', 'outcome', s.acks)}
</body></html>
`;
}
