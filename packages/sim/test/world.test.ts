import { describe, expect, it } from 'vitest';
import { SimError, Simulation, type ScenarioConfig } from '../src/index.js';
import { of, traced } from './helpers.js';

const base: ScenarioConfig = {
  name: 'world',
  duration: '2h',
  pathLoss: { model: 'log-distance', sigmaDb: 0 },
  nodes: {
    list: [
      { name: 'mcu', x: 0, y: 0 },
      { name: 'phone', x: 5, y: 0, deviceClass: 'phone' },
      { name: 'far', x: 500, y: 0, deviceClass: 'sbc' },
    ],
  },
};

describe('nodes', () => {
  it('exposes state and radio statistics to higher layers', () => {
    const sim = new Simulation({ ...base, origin: { lat: 10, lon: 20 } });
    const phone = sim.nodeState(sim.nodes[1]!.num);
    expect(phone).toMatchObject({ name: 'phone', deviceClass: 'phone', up: true, role: 'CLIENT', batteryPct: null });
    expect(phone.gops).toBeGreaterThan(sim.nodeState(sim.nodes[0]!.num).gops);
    expect(phone.lat).toBeCloseTo(10, 3);
    expect(phone.lon).toBeGreaterThan(20);
    sim.sendFromApp(sim.nodes[0]!.num, { portnum: 256, payload: new Uint8Array(100) });
    sim.run(30_000);
    const stats = sim.radioStats(sim.nodes[0]!.num);
    expect(stats.txPackets).toBe(1);
    expect(stats.txAirtimeMs).toBeGreaterThan(0);
    expect(stats.channelUtilizationPct).toBeGreaterThan(0);
    expect(() => sim.nodeState(123)).toThrow(SimError);
  });

  it('drains batteries, reports thresholds and powers nodes off when empty', () => {
    const { sim, events } = traced({ ...base, battery: { enabled: true, capacityMah: 40, initialPct: 100 } });
    sim.run();
    const mcu = sim.nodes[0]!.num;
    expect(of(events, 'battery', { node: mcu }).map((e) => e.state)).toEqual(['low', 'critical', 'depleted']);
    expect(of(events, 'node_down', { node: mcu, reason: 'battery_depleted' }).length).toBe(1);
    expect(sim.nodeState(mcu).up).toBe(false);
    // 40 mAh at 25 + 6 mA lasts about 77 minutes.
    const downAt = of(events, 'node_down', { node: mcu })[0]!.t as number;
    expect(downAt / 60_000).toBeGreaterThan(70);
    expect(downAt / 60_000).toBeLessThan(80);
  });

  it('charges compute to the battery', () => {
    const sim = new Simulation({ ...base, battery: { enabled: true, capacityMah: 1000, initialPct: 100 } });
    const n = sim.nodes[2]!.num;
    const before = sim.nodeState(n).batteryPct as number;
    const after = sim.consumeCompute(n, 3_600_000) as number;
    // An SBC computing for an hour at 600 mA uses 60% of 1000 mAh.
    expect(before - after).toBeCloseTo(60, 1);
    expect(() => sim.consumeCompute(n, -1)).toThrow(SimError);
  });

  it('fails batteries, drops and rejoins nodes on schedule', () => {
    const { sim, events } = traced({
      ...base,
      battery: { enabled: true },
      events: [
        { atS: 60, kind: 'node_down', node: 'phone' },
        { atS: 120, kind: 'node_up', node: 'phone' },
        { atS: 180, kind: 'battery_fail', node: 0 },
      ],
    });
    sim.run(600_000);
    const phone = sim.nodes[1]!.num;
    expect(of(events, 'node_down', { node: phone }).map((e) => e.t)).toEqual([60_000]);
    expect(of(events, 'node_up', { node: phone }).map((e) => e.t)).toEqual([120_000]);
    expect(of(events, 'node_down', { node: sim.nodes[0]!.num, reason: 'battery_failed' }).length).toBe(1);
    expect(sim.nodeState(sim.nodes[0]!.num).batteryPct).toBe(0);
  });

  it('churns nodes at about the configured rate', () => {
    const { sim, events } = traced({ ...base, duration: '10h', availability: { churnPerHour: 1, meanDownS: 60 } });
    sim.run();
    const drops = of(events, 'node_down', { reason: 'churn' }).length;
    // 3 nodes x ~10 h x 1 per hour: about Poisson(30), sd 5.5, so 15..50 is about -2.7..+3.6 sd (seed 1 gives a fixed
    // count inside it; a rate off by a factor of two falls outside).
    expect(drops).toBeGreaterThan(15);
    expect(drops).toBeLessThan(50);
    expect(of(events, 'node_up', { reason: 'churn' }).length).toBeGreaterThanOrEqual(drops - 3);
  });

  it('lets a high-compute node pass through, in range only while it is close', () => {
    const { sim, events } = traced({
      ...base,
      events: [{ atS: 10, kind: 'pass_through', name: 'van', deviceClass: 'jetson', path: [[-3000, 0], [3000, 0]], speedMps: 20 }],
    });
    sim.run(100_000);
    const van = sim.resolveNode('van');
    expect(van.deviceClass).toBe('jetson');
    expect(sim.nodeState(van.num).gops).toBeGreaterThan(1000);
    expect(van.x).toBeGreaterThan(-3000);
    sim.run(400_000);
    expect(of(events, 'node_down', { node: van.num, reason: 'left' }).length).toBe(1);
    // The trace alone can draw it: a node_info on arrival, then positions along the path.
    expect(of(events, 'node_info', { node: van.num })[0]).toMatchObject({ t: 10_000, deviceClass: 'jetson', x: -3000, y: 0 });
    const moves = of(events, 'move', { node: van.num }) as unknown as { t: number; x: number; y: number }[];
    expect(moves.length).toBeGreaterThan(20);
    for (let i = 1; i < moves.length; i++) expect(moves[i]!.x).toBeGreaterThanOrEqual(moves[i - 1]!.x);
    expect(moves[moves.length - 1]!.x).toBe(3000);
    expect(moves.every((m) => m.y === 0)).toBe(true);
  });

  it('stops a passing node where its path says to dwell', () => {
    const { sim, events } = traced({
      ...base,
      events: [{ atS: 0, kind: 'pass_through', name: 'van', deviceClass: 'jetson', path: [[-2000, 0], [0, 0, 300], [2000, 0]], speedMps: 20 }],
    });
    sim.run(600_000);
    const van = sim.resolveNode('van').num;
    const moves = of(events, 'move', { node: van }) as unknown as { t: number; x: number }[];
    const atCentre = moves.filter((m) => m.x === 0);
    expect(atCentre).toHaveLength(1);
    const next = moves[moves.indexOf(atCentre[0]!) + 1]!;
    // 100 s to reach the centre, 300 s parked, then on again.
    expect(atCentre[0]!.t).toBeGreaterThanOrEqual(100_000);
    expect(next.t - atCentre[0]!.t).toBeGreaterThanOrEqual(300_000);
    expect(next.x).toBeGreaterThan(0);
    expect(() => new Simulation({ ...base, events: [{ atS: 0, kind: 'pass_through', path: [[0, 0, -5]], speedMps: 1 }] })).toThrow(/\[2\]/);
    expect(() => new Simulation({ ...base, events: [{ atS: 0, kind: 'pass_through', path: [[0, 0, 1, 2]] as never, speedMps: 1 }] })).toThrow(/dwellS/);
  });

  it('describes every node at the start of the trace', () => {
    const { sim, events } = traced(base);
    const infos = of(events, 'node_info');
    expect(infos.map((e) => e.node)).toEqual(sim.nodes.map((n) => n.num));
    for (const e of infos) {
      const st = sim.nodeState(e.node as number);
      expect(e).toMatchObject({ t: 0, name: st.name, role: st.role, deviceClass: st.deviceClass, gops: st.gops, up: true });
      expect(e.x).toBeCloseTo(st.x, 0);
    }
  });

  it('moves roaming nodes', () => {
    const sim = new Simulation({ name: 'roam', duration: '30m', area: { widthM: 2000, heightM: 2000 }, nodes: { count: 5 }, mobility: { fraction: 1, speedMps: 2, pauseS: 1 } });
    const start = sim.nodes.map((n) => [n.x, n.y]);
    sim.run();
    const moved = sim.nodes.filter((n, i) => n.x !== start[i]![0] || n.y !== start[i]![1]);
    expect(moved.length).toBe(5);
    for (const n of sim.nodes) {
      expect(Math.abs(n.x)).toBeLessThanOrEqual(1000);
      expect(Math.abs(n.y)).toBeLessThanOrEqual(1000);
    }
  });
});

describe('application hooks', () => {
  it('records application events in the trace and summary', () => {
    const { sim, events } = traced(base);
    sim.scheduler.schedule(5000, () => sim.reportApp(sim.nodes[0]!.num, 'job_done', { job: 'j1', ms: 120 }));
    sim.run(10_000);
    expect(of(events, 'app', { type: 'job_done' })[0]).toMatchObject({ t: 5000, node: sim.nodes[0]!.num, data: { job: 'j1', ms: 120 } });
    expect(sim.summary().appEvents).toEqual({ job_done: 1 });
  });

  it('finds BLE neighbours and reads a 20-byte characteristic with BLE latency', () => {
    const sim = new Simulation(base);
    const [mcu, phone, far] = sim.nodes;
    expect(sim.bleNeighbors(mcu!.num)).toEqual([phone!.num]);
    const reads: Array<{ at: number; value: number[] | null; code?: string }> = [];
    sim.setBleCharacteristic(phone!.num, new Uint8Array([7, 7, 7]));
    sim.bleRead(mcu!.num, phone!.num, (v, e) => (reads[0] = { at: sim.now, value: v ? Array.from(v) : null, code: e?.code }));
    sim.bleRead(mcu!.num, far!.num, (v, e) => (reads[1] = { at: sim.now, value: v ? Array.from(v) : null, code: e?.code }));
    sim.run(5000);
    expect(reads[0]!.value).toEqual([7, 7, 7]);
    expect(reads[0]!.at).toBeGreaterThanOrEqual(150);
    expect(reads[0]!.at).toBeLessThan(1000);
    expect(reads[1]!.code).toBe('BLE_OUT_OF_RANGE');
    const def = sim.defaultBleCharacteristic(far!.num);
    expect(def.length).toBe(20);
    expect(new DataView(def.buffer).getFloat32(4, true)).toBeCloseTo(20, 3);
    expect(() => sim.setBleCharacteristic(phone!.num, new Uint8Array(21))).toThrow(SimError);
  });

  it('drives application timers through the Clock on simulated time', () => {
    const sim = new Simulation(base);
    const fired: number[] = [];
    sim.clock.setTimer(1234, () => fired.push(sim.clock.now()));
    sim.run(2000);
    expect(fired).toEqual([1234]);
  });
});
