// The viewer page: controls, the simulation worker or a replayed trace, the
// animation loop and the panels. Counters are mirrored on <body data-*> so
// tests (and curious users) can read the state without parsing the canvas.

// First: the simulator's index now loads @meshtastic/core, whose logger reads `process` at load time.
import './shims/process.js';
import { MODEM_PRESETS } from '@compotastic/mesh';
import { BUILTIN_SCENARIOS } from '@compotastic/sim';
import { Player } from './player.js';
import { fmtTime, renderJobs, renderLog, renderNode, renderOta, renderStats } from './panels.js';
import type { StartRequest, WorkerMessage } from './protocol.js';
import { draw, fitView, nodeAt, type View } from './render.js';
import { parseTrace } from './trace.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('map');
const ctx = canvas.getContext('2d')!;
const scenarioSel = $<HTMLSelectElement>('scenario');
const presetSel = $<HTMLSelectElement>('preset');
const speedSel = $<HTMLSelectElement>('speed');
const pauseBtn = $<HTMLButtonElement>('pause');
const clock = $('clock');

const params = new URLSearchParams(location.search);
const DEFAULT_SCENARIO = 'disaster-zone';

for (const name of Object.keys(BUILTIN_SCENARIOS)) scenarioSel.add(new Option(name, name, false, name === (params.get('scenario') ?? DEFAULT_SCENARIO)));
presetSel.add(new Option('scenario default', ''));
for (const name of Object.keys(MODEM_PRESETS)) presetSel.add(new Option(name, name));
if (params.get('mode')) $<HTMLSelectElement>('mode').value = params.get('mode')!;
if (params.get('speed')) speedSel.value = params.get('speed')!;

const player = new Player();
let worker: Worker | undefined;
let view: View = fitView(player.world, canvas.width, canvas.height);
let selected: number | null = null;
let knownNodes = 0;
let lastPanels = 0;
let simProgress = '';

function setStatus(state: string): void {
  document.body.dataset.state = state;
}
setStatus('idle');

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

function begin(): void {
  worker?.terminate();
  worker = undefined;
  player.reset();
  player.speed = speedOf(speedSel.value);
  selected = null;
  knownNodes = 0;
  simProgress = '';
  pauseBtn.disabled = false;
  pauseBtn.textContent = 'Pause';
  player.start();
  setStatus('running');
}

function startSimulation(): void {
  begin();
  worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (m: MessageEvent<WorkerMessage>) => {
    const msg = m.data;
    if (msg.type === 'meta') player.durationMs = msg.durationMs;
    else if (msg.type === 'events') player.push(msg.events);
    else if (msg.type === 'progress') simProgress = `simulated ${Math.round((100 * msg.simMs) / msg.durationMs)}%`;
    else if (msg.type === 'done') { player.finish(); simProgress = 'simulation complete'; }
    else if (msg.type === 'error') { player.finish(); simProgress = `error: ${msg.message}`; setStatus('error'); }
  };
  const req: StartRequest = {
    type: 'start', scenario: scenarioSel.value, mode: $<HTMLSelectElement>('mode').value as StartRequest['mode'],
    seed: Number($<HTMLInputElement>('seed').value) || 0, overrides: overrides(),
  };
  worker.postMessage(req);
}

async function startReplay(name: string, text: () => Promise<string>): Promise<void> {
  begin();
  try {
    const events = parseTrace(await text());
    player.durationMs = events[events.length - 1]?.t ?? 0;
    player.push(events);
    simProgress = `replaying ${name} (${events.length} events)`;
  } catch (err) {
    simProgress = `cannot replay ${name}: ${(err as Error).message}`;
    setStatus('error');
  }
  player.finish();
}

$<HTMLFormElement>('controls').addEventListener('submit', (e) => {
  e.preventDefault();
  startSimulation();
});
pauseBtn.addEventListener('click', () => {
  player.togglePause();
  pauseBtn.textContent = player.state === 'paused' ? 'Resume' : 'Pause';
});
speedSel.addEventListener('change', () => (player.speed = speedOf(speedSel.value)));
$<HTMLInputElement>('replay').addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file) void startReplay(file.name, () => file.text());
});
canvas.addEventListener('click', (e) => {
  const r = canvas.getBoundingClientRect();
  const n = nodeAt(player.world, view, ((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height);
  selected = n ? n.num : null;
  renderNode($('node-info'), player.world, selected);
});

function resizeCanvas(): void {
  const r = canvas.getBoundingClientRect();
  const w = Math.max(300, Math.round(r.width)), h = Math.max(200, Math.round(r.height));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
    knownNodes = -1;
  }
}

function frame(now: number): void {
  resizeCanvas();
  player.tick(now);
  const world = player.world;
  if (world.nodes.size !== knownNodes) {
    view = fitView(world, canvas.width, canvas.height);
    knownNodes = world.nodes.size;
  }
  draw(ctx, world, view, selected);
  if (now - lastPanels > 200) {
    lastPanels = now;
    renderStats($('stats'), world);
    renderJobs($('jobs'), world);
    renderOta($('ota'), world);
    renderLog($('log'), world);
    if (selected !== null) renderNode($('node-info'), world, selected);
    const total = player.durationMs ? ` / ${fmtTime(player.durationMs)}` : '';
    clock.textContent = `${fmtTime(player.simulatedMs)}${total}  ${player.state}  ${simProgress}`;
    const b = document.body.dataset;
    b.nodes = String(world.nodes.size);
    b.packets = String(world.counts.txStart);
    b.collisions = String(world.counts.collisions);
    b.jobsDone = String(world.counts.jobsDone);
    b.otaApplied = String(world.counts.otaApplied);
    if (player.state === 'finished' && b.state === 'running') setStatus('finished');
  }
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);

const traceParam = params.get('trace');
if (traceParam) {
  // A trace served next to the page (pnpm start -- --serve), replayed on load.
  void startReplay(traceParam, async () => {
    const res = await fetch(traceParam);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.text();
  });
} else if (params.get('autostart') === '1') {
  startSimulation();
}
