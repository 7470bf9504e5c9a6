// The viewer's logic without a browser: the player (seeking, the speed it
// really plays at), URL parameters, damaged traces, the trace files the
// command lines write, node names and the readable event log.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeId, nodeLabel, withShortNames } from '../src/names.js';
import { nearestSpeed, readParams } from '../src/params.js';
import { Player } from '../src/player.js';
import { parseTrace } from '../src/trace.js';
import { World, type TraceEvent } from '../src/world.js';

const SPEEDS = ['1', '10', '60', '300', '1000', 'max'];
const ALLOWED = { scenarios: ['disaster-zone', 'urban-canyon'], speeds: SPEEDS, defaultScenario: 'disaster-zone', defaultSpeed: '60' };

const nodes: TraceEvent[] = [
  { t: 0, ev: 'node_info', node: 0x10000001, name: 'n0', x: 0, y: 0 },
  { t: 0, ev: 'node_info', node: 0x10000002, name: 'n1', x: 100, y: 0 },
];
const txAt = (t: number, id: number): TraceEvent => ({ t, ev: 'tx_start', node: 0x10000001, from: 0x10000001, id, port: 1, airtimeMs: 100 });

describe('Player', () => {
  it('seeks back by rebuilding the world, and forward by applying the events in between', () => {
    const p = new Player();
    p.push([...nodes, txAt(1000, 1), txAt(2000, 2), txAt(3000, 3)]);
    p.finish();
    p.start(0);
    p.speed = 1;
    p.tick(250);
    p.seek(2500, 250);
    expect(p.world.counts.txStart).toBe(2);
    p.seek(1500, 250);
    expect(p.world.counts.txStart).toBe(1);
    expect(p.simulatedMs).toBe(1500);
    p.seek(10_000, 250);
    expect(p.simulatedMs).toBe(3000); // clamped to the end of the trace
    expect(p.world.counts.txStart).toBe(3);
    expect(p.state).toBe('finished');
    p.seek(0, 250);
    expect(p.state).toBe('paused');
    expect(p.world.counts.txStart).toBe(0);
  });

  it('plays a finished source on to the run\'s end, not to its last event', () => {
    const p = new Player();
    p.push([...nodes, txAt(1000, 1)]);
    p.durationMs = 60_000;
    p.finish();
    p.speed = Infinity;
    p.start(0);
    p.tick(16);
    expect(p.simulatedMs).toBe(60_000);
    expect(p.state).toBe('finished');
  });

  it('measures the speed it really plays at, and says it is starved when the source lags behind', () => {
    const p = new Player();
    p.speed = 60;
    p.push(nodes);
    p.start(0);
    // The source has produced 1 s of simulation every wall second: playback can only go 1x.
    for (let wall = 100; wall <= 4000; wall += 100) {
      p.push([txAt(wall, wall)]);
      p.tick(wall);
    }
    expect(p.actualSpeed()).toBeCloseTo(1, 1);
    expect(p.starved).toBe(true);
    const fed = new Player();
    fed.speed = 10;
    fed.push([...nodes, txAt(1_000_000, 1)]);
    fed.start(0);
    for (let wall = 100; wall <= 4000; wall += 100) fed.tick(wall);
    expect(fed.actualSpeed()).toBeCloseTo(10, 5);
    expect(fed.starved).toBe(false);
  });
});

describe('URL parameters', () => {
  it('plays a speed that is not offered at the nearest one, and says so', () => {
    const p = readParams(new URLSearchParams('speed=7'), ALLOWED);
    expect(p.speed).toBe('10');
    expect(p.notices.join()).toMatch(/speed 7 .*10x/);
    expect(p.errors).toEqual([]);
    expect(nearestSpeed(2, SPEEDS)).toBe('1');
    expect(nearestSpeed(5000, SPEEDS)).toBe('1000');
  });

  it('rejects an unknown scenario, mode or speed with a message, keeping the defaults', () => {
    const p = readParams(new URLSearchParams('scenario=bogus&mode=fast&speed=abc'), ALLOWED);
    expect(p.scenario).toBe('disaster-zone');
    expect(p.errors).toHaveLength(3);
    expect(p.errors[0]).toMatch(/unknown scenario "bogus".*urban-canyon/);
    expect(p.errors[1]).toMatch(/mode "fast"/);
    expect(p.errors[2]).toMatch(/speed "abc"/);
  });

  it('takes the allowed values as they are', () => {
    const p = readParams(new URLSearchParams('scenario=urban-canyon&mode=radio&speed=max&autostart=1'), ALLOWED);
    expect(p).toMatchObject({ scenario: 'urban-canyon', mode: 'radio', speed: 'max', autostart: true, errors: [], notices: [] });
  });
});

describe('parseTrace', () => {
  const lines = [...nodes, txAt(1000, 1)].map((e) => JSON.stringify(e));
  it('keeps the events before a cut-off last line and names the line', () => {
    const cut = `${lines.join('\n')}\n{"t":2000,"ev":"tx_st`;
    const r = parseTrace(cut);
    expect(r.events).toHaveLength(3);
    expect(r.error?.line).toBe(4);
    expect(r.error?.message).toMatch(/line 4: .*truncated/);
  });

  it('stops at a bad line in the middle and keeps what came before', () => {
    const r = parseTrace([lines[0], '{"ev":"x"}', lines[1]].join('\n'));
    expect(r.events).toHaveLength(1);
    expect(r.error?.message).toMatch(/line 2: .*numeric "t"/);
  });

  it('reads a whole trace without error, and says an empty one holds nothing', () => {
    expect(parseTrace(`${lines.join('\n')}\n`)).toMatchObject({ events: { length: 3 }, error: null });
    expect(parseTrace('\n').error?.message).toMatch(/no events/);
  });
});

describe('trace files the command lines write', () => {
  // pnpm sim --trace and pnpm swarm --trace each start the file with a run header; the viewer reads both alike.
  const cliOf = (pkg: string): string => join(dirname(createRequire(import.meta.url).resolve(pkg)), 'cli.js');
  const dir = mkdtempSync(join(tmpdir(), 'viewer-traces-'));
  const scenario = join(dir, 'pair.json');
  writeFileSync(scenario, JSON.stringify({ name: 'pair', duration: '3m', preset: 'SHORT_FAST', nodes: { list: [{ x: 0, y: 0 }, { x: 200, y: 0, deviceClass: 'phone' }] } }));
  for (const pkg of ['@compotastic/sim', '@compotastic/swarm']) {
    it(`replays the trace ${pkg}'s CLI writes, taking the scenario, seed and length from its run header`, () => {
      const file = join(dir, `${pkg.split('/')[1]}.jsonl`);
      execFileSync(process.execPath, [cliOf(pkg), '--scenario', scenario, '--seed', '4', '--trace', file, '--quiet'], { stdio: 'pipe' });
      const parsed = parseTrace(readFileSync(file, 'utf8'));
      expect(parsed.error).toBeNull();
      expect(parsed.events[0]).toMatchObject({ ev: 'run', scenario: 'pair', seed: 4, durationMs: 180_000 });
      const world = new World();
      for (const e of parsed.events) world.apply(e);
      expect(world.run).toMatchObject({ scenario: 'pair', seed: 4, durationMs: 180_000, origin: { lat: expect.any(Number), lon: expect.any(Number) } });
      expect(world.nodes.size).toBe(2);
      // The header is not an event of the run: the log leaves it out.
      expect(world.log.some((l) => /\bpair\b|version/.test(l.text))).toBe(false);
    });
  }
});

describe('names and the event log', () => {
  it('names a node the same way everywhere, and rewrites node ids in text', () => {
    const w = new World();
    for (const e of nodes) w.apply(e);
    expect(nodeLabel(w, 0x10000002)).toBe('n1');
    expect(nodeLabel(w, 0x1000abcd)).toBe('!1000abcd');
    expect(nodeId(1)).toBe('!00000001');
    expect(withShortNames(w, 'offload: !10000002 (LoRa, 1 hop) then !1000abcd')).toBe('offload: n1 (LoRa, 1 hop) then !1000abcd');
  });

  it('writes events it has no wording for as words, not JSON', () => {
    const w = new World();
    for (const e of nodes) w.apply(e);
    w.apply({ t: 5, ev: 'app', node: 0x10000001, type: 'router_warning', data: { kind: 'self-blocked', message: 'this radio (!10000002) drops port 256', peer: null, extra: { a: 1, b: [1, 2] } } });
    w.apply({ t: 6, ev: 'brand_new_event', node: 0x10000002, level: 0.51234, tags: ['x', 'y'] });
    const [a, b] = w.log.map((l) => l.text);
    expect(a).toBe('n0 router warning: kind self-blocked, message this radio (n1) drops port 256, peer –, extra a 1, b 2 items');
    expect(b).toBe('n1 brand new event: level 0.512, tags [x, y]');
    expect(w.log.map((l) => l.text).join()).not.toMatch(/[{}"]/);
  });

  it('shows a detection as a map marker and a log line, on the event or inside app data', () => {
    const w = new World();
    for (const e of nodes) w.apply(e);
    w.apply({ t: 10, ev: 'detection', node: 0x10000002, keyword: 'help', score: 0.934 });
    w.apply({ t: 20, ev: 'app', node: 0x10000001, type: 'detection', data: { keyword: 'fire', score: 0.7 } });
    expect(w.counts.detections).toBe(2);
    expect(w.marks.filter((m) => m.kind === 'detection').map((m) => [m.node, m.text])).toEqual([[0x10000002, 'help'], [0x10000001, 'fire']]);
    expect(w.log.map((l) => [l.kind, l.text])).toEqual([['detection', 'n1 heard "help" (score 0.93)'], ['detection', 'n0 heard "fire" (score 0.70)']]);
  });

  it('keeps each link\'s last SNR, the route of a message and its hop counts', () => {
    const w = new World();
    for (const e of nodes) w.apply(e);
    w.apply({ t: 1, ev: 'node_info', node: 0x10000003, name: 'n2', x: 200, y: 0 });
    w.apply({ t: 100, ev: 'gen', node: 0x10000001, from: 0x10000001, id: 9, to: 0x10000003, port: 1 });
    w.apply({ t: 200, ev: 'rx', node: 0x10000002, from: 0x10000001, id: 9, sender: 0x10000001, snr: 6.5, rssi: -80 });
    w.apply({ t: 400, ev: 'rx', node: 0x10000003, from: 0x10000001, id: 9, sender: 0x10000002, snr: -9, rssi: -118 });
    w.apply({ t: 400, ev: 'deliver', node: 0x10000003, from: 0x10000001, id: 9, hopsAway: 1 });
    expect(w.messages.get(w.lastMessageOf.get(0x10000001)!)!.edges).toEqual([[0x10000001, 0x10000002], [0x10000002, 0x10000003]]);
    expect(w.links.get(`${0x10000002}>${0x10000003}`)).toMatchObject({ snr: -9, rssi: -118 });
    expect(w.hops.get(`${0x10000001}>${0x10000003}`)).toBe(1);
    expect(w.direct.summary()).toEqual({ sent: 1, delivered: 1, deliveredPct: 100 });
  });
});
