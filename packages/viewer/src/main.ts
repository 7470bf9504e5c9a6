// The viewer page: controls, the simulation worker or a replayed trace, the
// animation loop, the timeline and the panels. Counters are mirrored on
// <body data-*> so tests (and curious users) can read the state without
// parsing the canvas.

// First: the simulator's index now loads @meshtastic/core, whose logger reads `process` at load time.
import './shims/process.js';
import { MODEM_PRESETS } from '@compotastic/mesh';
import { BUILTIN_SCENARIOS } from '@compotastic/sim';
import { Basemap } from './basemap.js';
import { renderCharts } from './charts.js';
import { nodeTitle } from './names.js';
import { fmtAgo, fmtTime, renderDefinitions, renderJobs, renderLog, renderNode, renderNodeList, renderOta, renderStats } from './panels.js';
import { readParams } from './params.js';
import { Player } from './player.js';
import type { StartRequest, WorkerMessage } from './protocol.js';
import { SNR_BANDS, draw, nodeAt, type View } from './render.js';
import { parseTrace } from './trace.js';
import type { TraceEvent } from './world.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('map');
const stack = $('map-stack');
const ctx = canvas.getContext('2d')!;
const scenarioSel = $<HTMLSelectElement>('scenario');
const presetSel = $<HTMLSelectElement>('preset');
const speedSel = $<HTMLSelectElement>('speed');
const seedInput = $<HTMLInputElement>('seed');
const pauseBtn = $<HTMLButtonElement>('pause');
const timeline = $<HTMLInputElement>('timeline');
const tooltip = $('tooltip');
const notice = $('notice');
const speedWarning = $('speed-warning');

const DEFAULT_SCENARIO = 'disaster-zone';
/** The option shown while a trace that does not name its scenario plays. */
const UNKNOWN_SCENARIO = '';

for (const name of Object.keys(BUILTIN_SCENARIOS)) scenarioSel.add(new Option(name, name));
presetSel.add(new Option('scenario default', ''));
for (const name of Object.keys(MODEM_PRESETS)) presetSel.add(new Option(name, name));
for (const b of SNR_BANDS) {
  const s = document.createElement('span');
  const i = document.createElement('i');
  i.className = 'snr';
  i.style.borderTopColor = b.color;
  s.append(i, b.label);
  $('legend').append(s);
}

const page = readParams(new URLSearchParams(location.search), {
  scenarios: Object.keys(BUILTIN_SCENARIOS),
  speeds: [...speedSel.options].map((o) => o.value),
  defaultScenario: DEFAULT_SCENARIO,
  defaultSpeed: speedSel.value,
});
scenarioSel.value = page.scenario;
$<HTMLSelectElement>('mode').value = page.mode;
speedSel.value = page.speed;

const player = new Player();
let worker: Worker | undefined;
const basemap = new Basemap($('basemap'), page.tiles, (s) => (document.body.dataset.basemap = s));
let view: View = basemap.view();
/** The origin the map shows, as text, to notice when the source names another. */
let shownOrigin = '';
let selected: number | null = null;
let hovered: number | null = null;
let knownNodes = 0;
let lastPanels = 0;
/** What the source is doing, as words: "simulating 57%", "simulation complete", "replaying x.jsonl". */
let sourceText = '';
/** Before the first events: what the worker is setting up, and since when (wall ms). */
let phase: { text: string; since: number } | null = null;
/** The run may end before durationMs (a swarm run drains until its updates finish). */
let durationUpTo = false;
let scrubbing = false;
let errorText = '';

function setStatus(state: string): void {
  document.body.dataset.state = state;
}
setStatus('idle');

function showNotice(lines: string[], kind: 'error' | 'info'): void {
  notice.hidden = lines.length === 0;
  notice.className = kind;
  notice.textContent = lines.join(' · ');
}
/** A new run or replay clears an earlier error (notices about the URL stay). */
function clearError(): void {
  if (notice.className === 'error') showNotice([], 'error');
}
if (page.errors.length) showNotice(page.errors, 'error');
else if (page.notices.length) showNotice(page.notices, 'info');

/** The speed control's value: a factor, or 'max' to play the simulation as fast as it runs. */
function speedOf(value: string): number {
  return value === 'max' ? Infinity : Number(value);
}

function overrides(): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const num = (id: string) => {
    const v = $<HTMLInputElement>(id).value;
    return v === '' ? undefined : Number(v);
  };
  if (presetSel.value) o.preset = presetSel.value;
  if (num('nodes') !== undefined) o['nodes.count'] = num('nodes');
  if (num('latency') !== undefined) o['latency.clientMs'] = num('latency');
  if (num('churn') !== undefined) o['availability.churnPerHour'] = num('churn');
  return o;
}

/** Shows the scenario and seed of what plays: a replay names its own (or says it does not know them). */
function showRunControls(scenario: string | undefined, seed: number | undefined): void {
  scenarioSel.querySelector(`option[value="${UNKNOWN_SCENARIO}"]`)?.remove();
  if (scenario !== undefined && scenario in BUILTIN_SCENARIOS) scenarioSel.value = scenario;
  else {
    scenarioSel.add(new Option(scenario ? `${scenario} (from the trace)` : 'not recorded in the trace', UNKNOWN_SCENARIO), 0);
    scenarioSel.value = UNKNOWN_SCENARIO;
  }
  seedInput.value = seed === undefined ? '' : String(seed);
  seedInput.placeholder = seed === undefined ? 'unknown' : '';
}

function begin(): void {
  worker?.terminate();
  worker = undefined;
  player.reset();
  player.speed = speedOf(speedSel.value);
  selected = null;
  knownNodes = 0;
  shownOrigin = '';
  basemap.setOrigin(null);
  sourceText = '';
  errorText = '';
  phase = null;
  durationUpTo = false;
  pauseBtn.disabled = false;
  pauseBtn.textContent = 'Pause';
  player.start();
  setStatus('running');
}

function fail(message: string): void {
  errorText = message;
  setStatus('error');
  showNotice([message], 'error');
  // At once, not on the next frame: a page that fails while loading may not paint a frame for a while.
  $('status').textContent = statusText();
}

function startSimulation(): void {
  if (scenarioSel.value === UNKNOWN_SCENARIO) {
    fail('pick a scenario to run (the one shown came from a replayed trace)');
    return;
  }
  clearError();
  begin();
  phase = { text: 'starting the simulation', since: performance.now() };
  worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (m: MessageEvent<WorkerMessage>) => {
    const msg = m.data;
    if (msg.type === 'meta') {
      player.durationMs = msg.durationMs;
      durationUpTo = msg.upTo;
    } else if (msg.type === 'phase') phase = { text: msg.text, since: phase?.since ?? performance.now() };
    else if (msg.type === 'events') player.push(msg.events);
    else if (msg.type === 'progress') {
      phase = null;
      sourceText = `simulating ${Math.round((100 * msg.simMs) / msg.durationMs)}%`;
    } else if (msg.type === 'done') {
      phase = null;
      player.durationMs = msg.endMs;
      durationUpTo = false;
      player.finish();
      sourceText = '';
    } else if (msg.type === 'error') {
      phase = null;
      player.finish();
      fail(`the simulation stopped: ${msg.message}`);
    }
  };
  const req: StartRequest = {
    type: 'start', scenario: scenarioSel.value, mode: $<HTMLSelectElement>('mode').value as StartRequest['mode'],
    seed: Number(seedInput.value) || 0, overrides: overrides(),
  };
  worker.postMessage(req);
}

async function startReplay(name: string, text: () => Promise<string>): Promise<void> {
  begin();
  let events: TraceEvent[] = [];
  try {
    const parsed = parseTrace(await text());
    events = parsed.events;
    if (parsed.error) {
      const kept = events.length ? `; replaying the ${events.length} events before it` : '';
      showNotice([`${name} is damaged at ${parsed.error.message}${kept}`], 'error');
      document.body.dataset.traceError = parsed.error.message;
    } else clearError();
  } catch (err) {
    fail(`cannot replay ${name}: ${(err as Error).message}`);
  }
  const run = events.find((e) => e.ev === 'run');
  showRunControls(typeof run?.scenario === 'string' ? run.scenario : undefined, typeof run?.seed === 'number' ? run.seed : undefined);
  const lastT = events[events.length - 1]?.t ?? 0;
  player.durationMs = typeof run?.durationMs === 'number' ? Math.max(run.durationMs, lastT) : lastT;
  player.push(events);
  sourceText = events.length ? `replaying ${name} (${events.length} events)` : '';
  if (!events.length && document.body.dataset.state !== 'error') fail(`${name} holds no event to replay`);
  player.finish();
}

$<HTMLFormElement>('controls').addEventListener('submit', (e) => {
  e.preventDefault();
  startSimulation();
});
pauseBtn.addEventListener('click', () => {
  if (player.state === 'finished') {
    player.seek(0);
    player.togglePause();
  } else player.togglePause();
  pauseBtn.textContent = player.state === 'paused' ? 'Resume' : 'Pause';
});
speedSel.addEventListener('change', () => (player.speed = speedOf(speedSel.value)));
$<HTMLInputElement>('replay').addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file) void startReplay(file.name, () => file.text());
});
timeline.addEventListener('input', () => {
  scrubbing = true;
  player.seek(Number(timeline.value));
  if (selected !== null) renderNode($('node-info'), player.world, selected);
});
timeline.addEventListener('change', () => (scrubbing = false));

// Tabs: the overview, the node list and the charts share the side column.
let tab = 'overview';
for (const b of document.querySelectorAll<HTMLButtonElement>('#tabs button')) {
  b.addEventListener('click', () => {
    tab = b.dataset.tab!;
    for (const other of document.querySelectorAll<HTMLButtonElement>('#tabs button')) other.setAttribute('aria-selected', String(other === b));
    for (const id of ['overview', 'nodes', 'charts']) $(`tab-${id}`).hidden = id !== tab;
    lastPanels = 0;
  });
}

function select(num: number | null): void {
  selected = num;
  document.body.dataset.selected = num === null ? '' : String(num);
  renderNode($('node-info'), player.world, selected);
  lastPanels = 0;
}
$('node-list').addEventListener('click', (e) => {
  const row = (e.target as HTMLElement).closest('tr[data-node]') as HTMLElement | null;
  if (row) select(Number(row.dataset.node));
});

/** The canvas point under a mouse event. */
function canvasPoint(e: MouseEvent): [number, number] {
  const r = canvas.getBoundingClientRect();
  return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
}
stack.addEventListener('click', (e) => {
  const n = nodeAt(player.world, view, ...canvasPoint(e));
  select(n ? n.num : null);
});
stack.addEventListener('mousemove', (e) => {
  const n = nodeAt(player.world, view, ...canvasPoint(e));
  hovered = n ? n.num : null;
  document.body.dataset.hovered = hovered === null ? '' : String(hovered);
  if (!n) {
    tooltip.hidden = true;
    return;
  }
  const w = player.world;
  tooltip.textContent = [
    nodeTitle(w, n.num),
    `${n.deviceClass}, ${n.role.toLowerCase()}, ${n.up ? 'up' : 'down'}`,
    `battery ${n.batteryPct === null ? 'mains' : `${n.batteryPct.toFixed(0)}%`}`,
    `last heard ${n.lastHeard === null ? 'never' : `${fmtAgo(w.now - n.lastHeard)} ago`}`,
  ].join('\n');
  const r = stack.getBoundingClientRect();
  tooltip.style.left = `${Math.min(e.clientX - r.left + 14, r.width - 180)}px`;
  tooltip.style.top = `${Math.max(0, e.clientY - r.top - 10)}px`;
  tooltip.hidden = false;
});
stack.addEventListener('mouseleave', () => {
  hovered = null;
  tooltip.hidden = true;
});

function resizeCanvas(): void {
  const r = canvas.getBoundingClientRect();
  const w = Math.max(100, Math.round(r.width)), h = Math.max(100, Math.round(r.height));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
    knownNodes = -1;
  }
}

/** The total shown on the clock and the timeline: the run's length once known. */
function totalMs(): number {
  return Math.max(player.durationMs, player.availableMs);
}

function statusText(): string {
  if (errorText) return errorText;
  if (phase) return `${phase.text}… ${Math.round((performance.now() - phase.since) / 1000)} s`;
  const playing = player.state === 'running' ? 'playing' : player.state === 'paused' ? 'paused' : player.state === 'finished' ? 'complete' : 'not started';
  return sourceText && player.state !== 'finished' ? `${playing} · ${sourceText}` : playing;
}

function updateClock(): void {
  const total = totalMs();
  const shown = total ? ` / ${durationUpTo ? 'up to ' : ''}${fmtTime(total)} (${Math.min(100, Math.round((100 * player.simulatedMs) / total))}%)` : '';
  $('time').textContent = `${fmtTime(player.simulatedMs)}${shown}`;
  $('status').textContent = statusText();
  timeline.disabled = player.state === 'idle' || total === 0;
  timeline.max = String(Math.ceil(total));
  if (!scrubbing) timeline.value = String(player.simulatedMs);
  const actual = player.actualSpeed();
  speedWarning.hidden = !player.starved;
  if (player.starved && actual !== null) {
    speedWarning.textContent = `playing at ${actual < 10 ? actual.toFixed(1) : Math.round(actual)}x, not the ${player.speed}x chosen: the simulation cannot run faster on this machine`;
  }
  const b = document.body.dataset;
  b.starved = player.starved ? '1' : '';
  b.actualSpeed = actual === null ? '' : actual.toFixed(2);
  b.phase = phase ? 'setup' : '';
}

function frame(now: number): void {
  resizeCanvas();
  player.tick(now);
  const world = player.world;
  const origin = world.run.origin ? `${world.run.origin.lat},${world.run.origin.lon}` : '';
  if (origin !== shownOrigin) {
    shownOrigin = origin;
    basemap.setOrigin(world.run.origin ?? null);
    knownNodes = -1;
  }
  if (world.nodes.size !== knownNodes) {
    basemap.fit([...world.nodes.values()].map((n) => [n.x, n.y]));
    knownNodes = world.nodes.size;
  }
  view = basemap.view();
  const route = selected === null ? null : (world.messages.get(world.lastMessageOf.get(selected) ?? '') ?? null);
  const drawn = draw(ctx, world, view, { selected, hovered, links: $<HTMLInputElement>('show-links').checked, route, grid: basemap.state !== 'tiles' });
  if (now - lastPanels > 200) {
    lastPanels = now;
    renderStats($('stats'), world);
    if (!$('defs').childElementCount) renderDefinitions($('defs'), world);
    if (tab === 'overview') {
      renderJobs($('jobs'), world);
      renderOta($('ota'), world);
      renderLog($('log'), world);
      if (selected !== null) renderNode($('node-info'), world, selected);
    } else if (tab === 'nodes') renderNodeList($<HTMLTableElement>('node-list'), $('node-list-caption'), world, selected);
    else renderCharts($('tab-charts'), world, totalMs());
    updateClock();
    const b = document.body.dataset;
    b.nodes = String(world.nodes.size);
    b.packets = String(world.counts.txStart);
    b.collisions = String(world.counts.collisions);
    b.delivered = String(world.direct.summary().delivered);
    b.jobsDone = String(world.counts.jobsDone);
    b.otaApplied = String(world.counts.otaApplied);
    b.detections = String(world.counts.detections);
    b.labels = String(drawn.labels);
    b.links = String(drawn.links);
    b.routeHops = String(drawn.routeHops);
    b.simulatedMs = String(Math.round(player.simulatedMs));
    if (player.state === 'finished' && b.state === 'running') setStatus('finished');
    else if (player.state !== 'finished' && b.state === 'finished') setStatus('running');
  }
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);

/** For tests and the curious: where a node is drawn, in page coordinates. */
(window as unknown as { compotasticViewer: unknown }).compotasticViewer = {
  nodeScreen(num: number): [number, number] | null {
    const n = player.world.nodes.get(num);
    if (!n) return null;
    const [x, y] = view.toScreen(n.x, n.y);
    const r = canvas.getBoundingClientRect();
    return [r.left + (x * r.width) / canvas.width, r.top + (y * r.height) / canvas.height];
  },
};

if (page.errors.length) fail(page.errors.join(' · '));
else if (page.trace) {
  // A trace served next to the page (pnpm start -- --serve), replayed on load.
  const url = page.trace;
  void startReplay(url, async () => {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.text();
  });
} else if (page.autostart) {
  startSimulation();
}
