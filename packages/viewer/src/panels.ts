// The side panels: mesh counters (each with its definition), the selected
// node (a summary, its capabilities folded away), jobs, OTA transfers, the
// event log and the node list. Updated a few times a second from the world.

import { nodeId, nodeTitle } from './names.js';
import type { World } from './world.js';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

export function fmtTime(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** "45 s", "3 min", "2 h 5 min": how long ago, for "last heard". */
export function fmtAgo(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor(s / 60) % 60} min`;
}

const pct = (part: number, whole: number) => (whole ? `${((100 * part) / whole).toFixed(1)}%` : '–');

/** The mesh counters: [label, value, definition]. The definitions are shown under the table too. */
export function meshFigures(world: World): [string, string, string][] {
  const up = [...world.nodes.values()].filter((n) => n.up).length;
  const c = world.counts;
  const d = world.direct.summary();
  return [
    ['nodes up', `${up} / ${world.nodes.size}`, 'nodes switched on, of every node the run has described'],
    ['messages', String(c.generated), 'messages the nodes originated (broadcasts and direct messages)'],
    ['delivered', `${d.delivered} / ${d.sent} (${d.deliveredPct}%)`, 'direct messages that reached their destination, of those sent; the simulator CLI prints the same figure'],
    ['transmissions', String(c.txStart), 'packets put on the air: originals, relays and retransmissions'],
    ['receptions', String(c.rx), 'packets a node decoded; one transmission is heard by every node in range'],
    ['collisions', `${c.collisions} (${pct(c.collisions, c.rx + c.collisions)} lost)`, 'receptions lost because another signal overlapped, counted at each receiver (one transmission can collide at several receivers, so this can exceed the transmissions); the share is of all receptions attempted'],
    ['drops', String(c.drops), 'packets a node received and did not pass on or use (duplicates excluded): filtered port, relay cancelled, hop limit reached …'],
    ['jobs done / failed', `${c.jobsDone} / ${c.jobsFailed}`, 'compute jobs finished or given up'],
    ['OTA applied', String(c.otaApplied), 'nodes that installed an over-the-air update'],
    ['detections', String(c.detections), 'keywords a sensor node heard'],
  ];
}

export function renderStats(dl: HTMLElement, world: World): void {
  dl.replaceChildren(...meshFigures(world).flatMap(([k, v, def]) => {
    const dt = el('dt', k);
    dt.title = def;
    const dd = el('dd', v);
    dd.title = def;
    return [dt, dd];
  }));
}

/** The definitions of the mesh counters, written once (they do not change). */
export function renderDefinitions(dl: HTMLElement, world: World): void {
  dl.replaceChildren(...meshFigures(world).flatMap(([k, , def]) => [el('dt', k), el('dd', def)]));
}

function rows(pairs: [string, string][]): HTMLDListElement {
  const dl = el('dl');
  dl.replaceChildren(...pairs.flatMap(([k, v]) => [el('dt', k), el('dd', v)]));
  return dl;
}

/** The selected node: a short summary; its capability record is folded (the open state survives refreshes). */
export function renderNode(box: HTMLElement, world: World, selected: number | null): void {
  const n = selected === null ? undefined : world.nodes.get(selected);
  if (!n) {
    box.replaceChildren(el('span', 'click a node on the map or in the node list', 'muted'));
    return;
  }
  const wasOpen = box.querySelector('details')?.open ?? false;
  const head = el('div', undefined, 'node-head');
  head.append(el('strong', n.name || nodeId(n.num)), el('span', ` ${nodeId(n.num)} · ${n.up ? 'up' : 'down'}`, 'muted'));
  const summary = rows([
    ['role', `${n.role}, ${n.deviceClass}`],
    ['battery', n.batteryPct === null ? 'mains' : `${n.batteryPct.toFixed(1)}%`],
    ['packets tx / rx', `${n.txPackets} / ${n.rxPackets}, ${n.collisions} collided`],
    ['last heard', n.lastHeard === null ? 'never' : `${fmtAgo(world.now - n.lastHeard)} ago`],
  ]);
  const route = world.messages.get(world.lastMessageOf.get(n.num) ?? '');
  const parts: HTMLElement[] = [head, summary];
  if (route) {
    const reached = new Set(route.edges.map(([, r]) => r)).size;
    parts.push(el('div', `route drawn: its last message (${fmtTime(route.t)}), heard by ${reached} node${reached === 1 ? '' : 's'}`, 'explain'));
  }
  const details = el('details');
  details.open = wasOpen;
  const cap = n.capability ?? {};
  details.append(el('summary', `details and capabilities (${Object.keys(cap).length})`));
  const more: [string, string][] = [
    ['compute', `${n.gops} GOPS, ${n.ramMb} MB`],
    ['position', `${Math.round(n.x)}, ${Math.round(n.y)} m`],
    ['airtime', `${(n.txAirtimeMs / 1000).toFixed(1)} s`],
  ];
  for (const [k, v] of Object.entries(cap)) more.push([k, typeof v === 'object' ? JSON.stringify(v) : String(v)]);
  details.append(rows(more));
  parts.push(details);
  box.replaceChildren(...parts);
}

export function renderJobs(list: HTMLElement, world: World): void {
  const items = [...world.jobs.values()].slice(-30).map((j) => {
    const li = el('li');
    li.dataset.state = j.state;
    const who = j.requester === null ? '' : ` from ${world.name(j.requester)}`;
    li.append(el('span', `${j.label}${who}: `), el('span', j.state + (j.latencyMs !== undefined && j.state === 'done' ? ` in ${(j.latencyMs / 1000).toFixed(1)} s` : ''), `state-${j.state}`));
    if (j.plan) li.append(el('div', j.plan, 'explain'));
    return li;
  });
  list.replaceChildren(...items);
}

export function renderOta(list: HTMLElement, world: World): void {
  const items = [...world.ota.values()].map((o) => {
    const li = el('li');
    const total = o.progress.size;
    const mean = total ? [...o.progress.values()].reduce((a, b) => a + b, 0) / total : 0;
    li.append(el('span', `${o.id}${o.bytes ? ` (${o.bytes} B)` : ''}: ${o.applied.size}/${total} applied${o.failed.size ? `, ${o.failed.size} rejected` : ''}`));
    const bar = el('div', undefined, 'bar');
    const fill = el('span');
    fill.style.width = `${mean.toFixed(0)}%`;
    bar.append(fill);
    li.append(bar);
    return li;
  });
  list.replaceChildren(...items);
}

export function renderLog(list: HTMLElement, world: World): void {
  const lines = world.log.slice(-60).reverse().map((l) => {
    const li = el('li', undefined, l.kind ? `log-${l.kind}` : undefined);
    li.append(el('time', fmtTime(l.t)), document.createTextNode(` ${l.text}`));
    li.title = l.text;
    return li;
  });
  list.replaceChildren(...lines);
}

const MAX_LIST_ROWS = 300;

/**
 * The node list, as a Meshtastic client shows it: as heard from one node (the selected one), each node's SNR and RSSI
 * on its link to it, hops away and last heard. With no node selected, the best link each node has to any neighbour.
 */
export function renderNodeList(table: HTMLTableElement, caption: HTMLElement, world: World, vantage: number | null): void {
  const v = vantage !== null && world.nodes.has(vantage) ? vantage : null;
  caption.textContent = v === null
    ? 'SNR/RSSI: the best link each node has to a neighbour (select a node to see the list as it hears the mesh)'
    : `as heard by ${world.name(v)}: SNR/RSSI of the last packet it heard from each node, and hops away`;
  const best = new Map<number, { snr: number; rssi: number }>();
  for (const l of world.links.values()) {
    if (v !== null && l.receiver !== v) continue;
    const b = best.get(l.sender);
    if (!b || l.snr > b.snr) best.set(l.sender, { snr: l.snr, rssi: l.rssi });
  }
  const nodes = [...world.nodes.values()].sort((a, b) => (b.lastHeard ?? -1) - (a.lastHeard ?? -1)).slice(0, MAX_LIST_ROWS);
  const body = nodes.map((n) => {
    const tr = el('tr');
    tr.dataset.node = String(n.num);
    if (n.num === v) tr.className = 'vantage';
    const link = best.get(n.num);
    const hops = v === null ? undefined : n.num === v ? 0 : world.hops.get(`${n.num}>${v}`);
    const name = el('td', n.name || nodeId(n.num));
    name.title = nodeTitle(world, n.num);
    tr.append(
      name,
      el('td', `${n.deviceClass}${n.role === 'CLIENT' ? '' : `, ${n.role.toLowerCase()}`}${n.up ? '' : ' (down)'}`),
      el('td', link ? `${link.snr} dB` : '–'),
      el('td', link ? `${link.rssi} dBm` : '–'),
      el('td', hops === undefined ? '–' : String(hops)),
      el('td', n.lastHeard === null ? 'never' : `${fmtAgo(world.now - n.lastHeard)} ago`),
    );
    return tr;
  });
  table.tBodies[0]!.replaceChildren(...body);
}
