// The side panels: mesh counters, the selected node, jobs, OTA transfers and
// an event log. Updated a few times a second from the world.

import type { World } from './world.js';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function fmtTime(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export function renderStats(dl: HTMLElement, world: World): void {
  const up = [...world.nodes.values()].filter((n) => n.up).length;
  const c = world.counts;
  const rows: [string, string][] = [
    ['nodes up', `${up} / ${world.nodes.size}`],
    ['messages', String(c.generated)],
    ['transmissions', String(c.txStart)],
    ['receptions', String(c.rx)],
    ['delivered', String(c.delivered)],
    ['collisions', String(c.collisions)],
    ['drops', String(c.drops)],
    ['jobs done / failed', `${c.jobsDone} / ${c.jobsFailed}`],
    ['OTA applied', String(c.otaApplied)],
  ];
  dl.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', k), el('dd', v)]));
}

export function renderNode(box: HTMLElement, world: World, selected: number | null): void {
  const n = selected === null ? undefined : world.nodes.get(selected);
  if (!n) {
    box.replaceChildren(el('span', 'click a node', 'muted'));
    return;
  }
  const dl = el('dl');
  const rows: [string, string][] = [
    ['name', `${n.name} (!${n.num.toString(16)})`],
    ['state', n.up ? 'up' : 'down'],
    ['role', n.role],
    ['device', n.deviceClass],
    ['compute', `${n.gops} GOPS, ${n.ramMb} MB`],
    ['battery', n.batteryPct === null ? 'mains' : `${n.batteryPct.toFixed(1)}%`],
    ['position', `${Math.round(n.x)}, ${Math.round(n.y)} m`],
    ['packets tx / rx', `${n.txPackets} / ${n.rxPackets}`],
    ['collisions', String(n.collisions)],
  ];
  if (n.capability) {
    for (const [k, v] of Object.entries(n.capability)) rows.push([k, typeof v === 'object' ? JSON.stringify(v) : String(v)]);
  }
  dl.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', k), el('dd', v)]));
  box.replaceChildren(dl);
}

export function renderJobs(list: HTMLElement, world: World): void {
  const items = [...world.jobs.values()].slice(-30).map((j) => {
    const li = el('li');
    li.dataset.state = j.state;
    const who = j.requester === null ? '' : ` from ${world.nodes.get(j.requester)?.name ?? j.requester}`;
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
  const lines = world.log.slice(-60).reverse().map((l) => el('li', `${fmtTime(l.t)} ${l.text}`));
  list.replaceChildren(...lines);
}

export { fmtTime };
