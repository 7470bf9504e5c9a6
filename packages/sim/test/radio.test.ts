import { MODEM_PRESETS, noiseFloorDbm, timeOnAirMs } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { linkNormal, meanPathLossDb, rangeForBudgetM, Simulation, type PathLossParams, type SimPacket } from '../src/index.js';
import { clusterScenario, of, QUIET_FIRMWARE, traced } from './helpers.js';

function packet(sim: Simulation, fromIndex: number, id: number, bytes = 40): SimPacket {
  const from = sim.nodes[fromIndex]!;
  return {
    origin: from.index,
    from: from.num,
    to: 0xffffffff,
    id,
    hopLimit: 0,
    hopStart: 0,
    wantAck: false,
    channel: 0,
    nextHop: 0,
    relayNode: from.byte,
    portnum: 1,
    payload: null,
    payloadBytes: bytes - 21,
    wantResponse: false,
    requestId: 0,
    replyId: 0,
    routingError: -1,
    priority: 64,
    rxSnr: 0,
    rxRssi: 0,
    onAirBytes: bytes,
  };
}

/** Receiver R at the origin, transmitters at the given x positions. */
function star(xs: number[]) {
  return traced({
    name: 'star',
    duration: '1m',
    firmware: QUIET_FIRMWARE,
    pathLoss: { model: 'log-distance', sigmaDb: 0 },
    nodes: { txPowerDbm: 20, list: [{ name: 'r', x: 0, y: 0 }, ...xs.map((x, i) => ({ name: `t${i}`, x, y: i % 2 ? 1 : -1 }))] },
  });
}

describe('propagation', () => {
  const logd: PathLossParams = { model: 'log-distance', d0M: 40, gamma: 2.08, pl0Db: 127.41, sigmaDb: 0, fastFadingSigmaDb: 0, frequencyMHz: 915, linkOffsets: 'hashed' };
  it('log-distance has PL(d0) at d0 and 20.8 dB per decade', () => {
    expect(meanPathLossDb(logd, 40)).toBeCloseTo(127.41, 6);
    expect(meanPathLossDb(logd, 400) - meanPathLossDb(logd, 40)).toBeCloseTo(20.8, 6);
  });
  it('3GPP suburban macro matches the Hata-style formula', () => {
    const p: PathLossParams = { ...logd, model: '3gpp-suburban-macro', frequencyMHz: 908.75 };
    const expected = 45.5 + 34.36 * Math.log10(908.75) + 0.7;
    expect(meanPathLossDb(p, 1000, 1, 1)).toBeCloseTo(expected, 6);
    expect(meanPathLossDb({ ...p, model: '3gpp-urban-macro' }, 1000, 1, 1)).toBeCloseTo(expected + 3, 6);
  });
  it('urban loses more per decade than the default', () => {
    const urban: PathLossParams = { ...logd, model: 'urban', d0M: 1, gamma: 3.76, pl0Db: 31.7 };
    expect(meanPathLossDb(urban, 1000) - meanPathLossDb(urban, 100)).toBeGreaterThan(meanPathLossDb(logd, 1000) - meanPathLossDb(logd, 100));
  });
  it('inverts the link budget', () => {
    const d = rangeForBudgetM(logd, 150);
    expect(meanPathLossDb(logd, d)).toBeCloseTo(150, 3);
  });
  it('draws fixed, roughly standard-normal shadowing per directed link', () => {
    // A hash, not a stream: the value for a link does not depend on which links were drawn before it.
    const links = Array.from({ length: 50 }, (_, i) => [i % 7, (i * 3) % 11] as const);
    const forward = links.map(([tx, rx]) => linkNormal(1, tx, rx));
    const backward = [...links].reverse().map(([tx, rx]) => linkNormal(1, tx, rx)).reverse();
    expect(backward).toEqual(forward);
    expect(new Set(forward).size).toBe(new Set(links.map(([tx, rx]) => `${tx}>${rx}`)).size);
    // Directed: the two directions of a link get independent values; so do different seeds.
    expect(linkNormal(1, 2, 3)).not.toBe(linkNormal(1, 3, 2));
    expect(linkNormal(1, 2, 3)).not.toBe(linkNormal(2, 2, 3));
    let sum = 0;
    let sq = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const v = linkNormal(9, i, i + 1);
      sum += v;
      sq += v * v;
    }
    // Pinned seed, 4-sigma bands for n draws of N(0, 1): sd of the mean 1/sqrt(n) = 0.0071, of the sd about
    // 1/sqrt(2n) = 0.0050.
    expect(Math.abs(sum / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(Math.sqrt(sq / n) - 1)).toBeLessThan(4 / Math.sqrt(2 * n));
  });
});

describe('radio channel', () => {
  it('reports RSSI from the path loss and SNR against the noise floor, and stays on air for the exact airtime', () => {
    const { sim, events } = star([400]);
    sim.startTransmission(sim.nodes[1]!, packet(sim, 1, 1));
    sim.run();
    const rx = of(events, 'rx', { id: 1 })[0]!;
    // Log-distance with the scenario defaults, written out: PL = 127.41 dB + 10 * 2.08 * log10(d / 40 m).
    const power = 20 - (127.41 + 20.8 * Math.log10(Math.hypot(400, 1) / 40));
    expect(rx.rssi).toBe(Math.round(power));
    expect(rx.snr).toBeCloseTo(Math.round(Math.min(power - noiseFloorDbm(250), 12) * 4) / 4, 6);
    const start = of(events, 'tx_start', { id: 1 })[0]!;
    const end = of(events, 'tx_end', { id: 1 })[0]!;
    expect((end.t as number) - (start.t as number)).toBeCloseTo(timeOnAirMs('LONG_FAST', 40), 3);
  });

  it('does not decode below the preset sensitivity', () => {
    const sens = MODEM_PRESETS.LONG_FAST.sensitivityDbm;
    // 20 dBm - PL(d) = sens - 1 dB
    const p: PathLossParams = { model: 'log-distance', d0M: 40, gamma: 2.08, pl0Db: 127.41, sigmaDb: 0, fastFadingSigmaDb: 0, frequencyMHz: 915, linkOffsets: 'hashed' };
    const far = rangeForBudgetM(p, 20 - sens + 1);
    const near = rangeForBudgetM(p, 20 - sens - 1);
    const { sim, events } = star([near, -far]);
    sim.startTransmission(sim.nodes[1]!, packet(sim, 1, 1));
    sim.scheduler.schedule(5000, () => sim.startTransmission(sim.nodes[2]!, packet(sim, 2, 2)));
    sim.run();
    expect(of(events, 'rx', { id: 1, node: sim.nodes[0]!.num }).length).toBe(1);
    expect(of(events, 'rx', { id: 2, node: sim.nodes[0]!.num }).length).toBe(0);
  });

  it('loses both packets when two of similar strength overlap', () => {
    const { sim, events } = star([500, -500]);
    sim.startTransmission(sim.nodes[1]!, packet(sim, 1, 1));
    sim.startTransmission(sim.nodes[2]!, packet(sim, 2, 2));
    sim.run();
    const r = sim.nodes[0]!.num;
    expect(of(events, 'rx', { node: r }).length).toBe(0);
    expect(of(events, 'collision', { node: r }).length).toBe(1);
    expect(of(events, 'drop', { node: r, id: 2, reason: 'busy_rx' }).length).toBe(1);
    expect(sim.summary().collisions).toBe(1);
  });

  it('captures the stronger packet when it is 6 dB above the other', () => {
    const { sim, events } = star([200, -550]);
    sim.startTransmission(sim.nodes[2]!, packet(sim, 2, 2)); // weak one first
    sim.scheduler.schedule(10, () => sim.startTransmission(sim.nodes[1]!, packet(sim, 1, 1))); // strong one during the preamble
    sim.run();
    const r = sim.nodes[0]!.num;
    expect(of(events, 'rx', { node: r }).map((e) => e.id)).toEqual([1]);
    expect(of(events, 'collision', { node: r, id: 2, reason: 'captured' }).length).toBe(1);
  });

  it('a strong packet after the weak one has passed its preamble destroys it but is not received either', () => {
    const { sim, events } = star([200, -550]);
    sim.startTransmission(sim.nodes[2]!, packet(sim, 2, 2));
    sim.scheduler.schedule(200, () => sim.startTransmission(sim.nodes[1]!, packet(sim, 1, 1)));
    sim.run();
    const r = sim.nodes[0]!.num;
    expect(of(events, 'rx', { node: r }).length).toBe(0);
    expect(of(events, 'drop', { node: r, id: 2, reason: 'collision' }).length).toBe(1);
    expect(of(events, 'drop', { node: r, id: 1, reason: 'busy_rx' }).length).toBe(1);
  });

  it("with captureRule 'anytime' (Meshtasticator's), the strong packet takes the receiver over after the preamble too", () => {
    const { sim, events } = traced({
      name: 'star',
      duration: '1m',
      firmware: QUIET_FIRMWARE,
      captureRule: 'anytime',
      pathLoss: { model: 'log-distance', sigmaDb: 0 },
      nodes: { txPowerDbm: 20, list: [{ name: 'r', x: 0, y: 0 }, { name: 't0', x: 200, y: -1 }, { name: 't1', x: -550, y: 1 }] },
    });
    sim.startTransmission(sim.nodes[2]!, packet(sim, 2, 2));
    sim.scheduler.schedule(200, () => sim.startTransmission(sim.nodes[1]!, packet(sim, 1, 1)));
    sim.run();
    const r = sim.nodes[0]!.num;
    expect(of(events, 'rx', { node: r }).map((e) => e.id)).toEqual([1]);
    expect(of(events, 'collision', { node: r, id: 2, reason: 'captured' }).length).toBe(1);
  });

  it('the stronger packet survives a weak interferer starting during it', () => {
    const { sim, events } = star([200, -550]);
    sim.startTransmission(sim.nodes[1]!, packet(sim, 1, 1));
    sim.scheduler.schedule(200, () => sim.startTransmission(sim.nodes[2]!, packet(sim, 2, 2)));
    sim.run();
    expect(of(events, 'rx', { node: sim.nodes[0]!.num }).map((e) => e.id)).toEqual([1]);
  });

  it('is half duplex: a node cannot hear while it transmits', () => {
    const { sim, events } = star([500]);
    sim.startTransmission(sim.nodes[0]!, packet(sim, 0, 1, 200));
    sim.scheduler.schedule(100, () => sim.startTransmission(sim.nodes[1]!, packet(sim, 1, 2)));
    sim.run();
    expect(of(events, 'drop', { node: sim.nodes[0]!.num, id: 2, reason: 'half_duplex' }).length).toBe(1);
  });

  it('defers a queued packet while channel activity detection finds the channel busy', () => {
    const { sim, events } = traced(clusterScenario(2));
    sim.startTransmission(sim.nodes[1]!, packet(sim, 1, 1, 250));
    sim.scheduler.schedule(300, () => sim.sendFromApp(sim.nodes[0]!.num, { portnum: 1, payload: new Uint8Array(5) }));
    sim.run();
    const firstEnd = of(events, 'tx_end', { id: 1 })[0]!.t as number;
    const own = of(events, 'tx_start', { node: sim.nodes[0]!.num });
    expect(own.length).toBe(1);
    expect(own[0]!.t as number).toBeGreaterThanOrEqual(firstEnd);
  });
});
