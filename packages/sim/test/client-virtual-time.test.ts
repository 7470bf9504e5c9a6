import { MeshDevice, Protobuf } from '@meshtastic/core';
import { describe, expect, it } from 'vitest';
import { InProcessTransport, VirtualTime } from '../src/client.js';
import { JsonlTrace, Simulation, type ScenarioConfig } from '../src/index.js';

const scenario: ScenarioConfig = {
  name: 'pair',
  duration: '10m',
  preset: 'SHORT_FAST',
  pathLoss: { model: 'log-distance', sigmaDb: 0 },
  nodes: { list: [{ x: 0, y: 0, name: 'a' }, { x: 300, y: 0, name: 'b' }, { x: 600, y: 0, name: 'c' }] },
};

function quiet(device: MeshDevice): MeshDevice {
  (device.log.settings as { minLevel: number }).minLevel = 7;
  return device;
}

async function exchange(seed: number) {
  const trace = new JsonlTrace();
  const sim = new Simulation(scenario, { seed, trace: trace.sink });
  const vt = new VirtualTime(sim);
  const [a, b, c] = sim.nodes;
  const got: Array<{ from: number; data: number[] }> = [];
  const ids = await vt.run(async () => {
    const da = quiet(new MeshDevice(new InProcessTransport(sim, a!.num)));
    const db = quiet(new MeshDevice(new InProcessTransport(sim, b!.num)));
    const dc = quiet(new MeshDevice(new InProcessTransport(sim, c!.num)));
    const configured = (d: MeshDevice) => new Promise<void>((resolve) => d.events.onDeviceStatus.subscribe((s: number) => s === 7 && resolve()));
    const ready = Promise.all([configured(da), configured(db), configured(dc)]);
    void da.configure();
    void db.configure();
    void dc.configure();
    await ready;
    dc.events.onPrivatePacket.subscribe((p: { from: number; data: Uint8Array }) => got.push({ from: p.from, data: Array.from(p.data) }));
    const payload = new Uint8Array(200).map((_, i) => (i % 2 ? 0xc3 : 0x94));
    // want_response off, as the official clients send app data: a port no module serves answers NO_RESPONSE.
    const id1 = await da.sendPacket(payload, Protobuf.Portnums.PortNum.PRIVATE_APP, c!.num, 0, true, false);
    const id2 = await db.sendPacket(new Uint8Array([1, 2, 3]), Protobuf.Portnums.PortNum.PRIVATE_APP, 'broadcast', 0, true, false);
    return [id1, id2, sim.now];
  });
  return { ids, got, trace: trace.text(), sim };
}

describe('MeshDevice in virtual time', () => {
  it('configures and round-trips acknowledged packets in simulated time', async () => {
    const { ids, got, sim } = await exchange(7);
    expect(ids[0]).toBeGreaterThan(0);
    expect(ids[1]).toBeGreaterThan(0);
    expect(got.map((g) => g.from)).toEqual([sim.nodes[0]!.num, sim.nodes[1]!.num]);
    expect(got[0]!.data.length).toBe(200);
    // configure() alone waits for 200 ms queue pacing and the packets need several seconds of airtime and ACKs.
    expect(sim.now).toBeGreaterThan(1000);
  });

  it('rejects with MAX_RETRANSMIT after the originator\'s three transmissions when nobody answers', async () => {
    const sim = new Simulation(scenario, { seed: 3 });
    const vt = new VirtualTime(sim);
    const [a, , c] = sim.nodes;
    sim.setNodeUp(sim.nodes[1]!, false, 'test');
    sim.setNodeUp(c!, false, 'test');
    const error = console.error;
    console.error = () => {}; // MeshDevice's queue logs the NAK
    const outcome = await vt.run(async () => {
      const da = quiet(new MeshDevice(new InProcessTransport(sim, a!.num)));
      await new Promise<void>((resolve) => {
        da.events.onDeviceStatus.subscribe((s: number) => s === 7 && resolve());
        void da.configure();
      });
      try {
        await da.sendPacket(new Uint8Array([9]), Protobuf.Portnums.PortNum.PRIVATE_APP, c!.num, 0, true, false);
        return 'resolved';
      } catch (e) {
        return (e as { error: number }).error;
      }
    }).finally(() => {
      console.error = error;
    });
    expect(outcome).toBe(5); // Routing_Error.MAX_RETRANSMIT
    expect(a!.stats.txPackets).toBe(3);
    // Three waits of the retransmission delay (each at least PROCESSING_TIME_MSEC = 4.5 s) pass in simulated time.
    expect(sim.now).toBeGreaterThan(3 * 4500);
  });

  it('a client waiting on a sim.clock timer resumes on time while the radios keep busy with periodic broadcasts', async () => {
    // Position every 30 s, checked every 5 s: the radios always have an event due, so the loop must settle the
    // clients after the clock timer itself, not only after client traffic.
    const sim = new Simulation({ ...scenario, duration: '30m', firmware: { positionBroadcastS: 30 } }, { seed: 4 });
    const vt = new VirtualTime(sim);
    const at = await vt.run(async () => {
      await new Promise<void>((resolve) => sim.clock.setTimer(50_000, resolve));
      const first = sim.now;
      const device = quiet(new MeshDevice(new InProcessTransport(sim, sim.nodes[0]!.num), 1));
      const configured = new Promise<void>((resolve) => device.events.onDeviceStatus.subscribe((st: number) => st === 7 && resolve()));
      void device.configure().catch(() => undefined);
      await configured;
      const second = sim.now;
      device.disconnect();
      return { first, second };
    });
    expect(at.first).toBe(50_000);
    expect(at.second).toBeGreaterThanOrEqual(50_000);
    expect(at.second).toBeLessThan(60_000);
  });

  it('is deterministic: same seed, same trace', async () => {
    const r1 = await exchange(11);
    const r2 = await exchange(11);
    expect(r1.trace.length).toBeGreaterThan(0);
    expect(r2.trace).toBe(r1.trace);
    expect(r2.ids).toEqual(r1.ids);
  });
});

describe('client connection and node power', () => {
  it('drops the client when its node powers off', async () => {
    const sim = new Simulation(scenario, { seed: 2 });
    const vt = new VirtualTime(sim);
    const a = sim.nodes[0]!;
    const statuses = await vt.run(async () => {
      const device = quiet(new MeshDevice(new InProcessTransport(sim, a.num)));
      const seen: number[] = [];
      device.events.onDeviceStatus.subscribe((s: number) => seen.push(s));
      await new Promise<void>((resolve) => {
        device.events.onDeviceStatus.subscribe((s: number) => s === 7 && resolve());
        void device.configure();
      });
      sim.scheduler.schedule(1000, () => sim.setNodeUp(a, false, 'test'));
      await new Promise<void>((resolve) => device.events.onDeviceStatus.subscribe((s: number) => s === 2 && resolve()));
      return seen;
    });
    expect(statuses).toContain(7);
    expect(statuses[statuses.length - 1]).toBe(2);
  });

  it('rejects a send after a power cut at once (ECONNRESET), instead of MeshDevice retrying the write forever', async () => {
    const sim = new Simulation(scenario, { seed: 2 });
    const vt = new VirtualTime(sim);
    const a = sim.nodes[0]!;
    const logged: unknown[] = [];
    const error = console.error;
    console.error = (...args: unknown[]) => logged.push(args[0]);
    const outcome = await vt
      .run(async () => {
        const device = quiet(new MeshDevice(new InProcessTransport(sim, a.num)));
        await new Promise<void>((resolve) => {
          device.events.onDeviceStatus.subscribe((s: number) => s === 7 && resolve());
          void device.configure();
        });
        sim.setNodeUp(a, false, 'power cut');
        const cutAt = sim.now;
        try {
          await device.sendPacket(new Uint8Array([1]), Protobuf.Portnums.PortNum.PRIVATE_APP, 'broadcast', 0, false);
          return { code: 'resolved', waitedMs: sim.now - cutAt };
        } catch (e) {
          return { code: (e as { code?: string }).code, waitedMs: sim.now - cutAt };
        }
      }, { untilMs: sim.now + 120_000 })
      .finally(() => {
        console.error = error;
      });
    expect(outcome.code).toBe('ECONNRESET');
    // One 200 ms queue pacing step, not a 60 s timeout or an endless retry.
    expect(outcome.waitedMs).toBeLessThan(1000);
    expect(logged.filter((m) => String(m).startsWith('Error sending packet'))).toEqual([]);
  });

  it("delivers the node's own DeviceMetrics to MeshDevice's telemetry events", async () => {
    const sim = new Simulation({ ...scenario, traffic: [{ kind: 'broadcast', periodS: 15, payloadBytes: 120 }] }, { seed: 8 });
    const vt = new VirtualTime(sim);
    const a = sim.nodes[0]!;
    const seen = await vt.run(
      async () => {
        const device = quiet(new MeshDevice(new InProcessTransport(sim, a.num)));
        const got: Array<{ from: number; metrics: { channelUtilization: number; airUtilTx: number; uptimeSeconds: number }; radioUtil: number }> = [];
        device.events.onTelemetryPacket.subscribe((t: { from: number; data: { variant: { case: string; value: never } } }) => {
          // What the node's radio reports at the moment the metrics arrive (its one-minute channel utilization).
          if (t.data.variant.case === 'deviceMetrics') got.push({ from: t.from, metrics: t.data.variant.value, radioUtil: sim.radioStats(a.num).channelUtilizationPct });
        });
        void device.configure();
        await new Promise<void>((resolve) => sim.clock.setTimer(4 * 60_000, resolve));
        return got;
      },
      { untilMs: 5 * 60_000 },
    );
    // The neighbours' DeviceMetrics broadcasts (the firmware's, at their first run) arrive over the air as well.
    const own = seen.filter((s) => s.from === a.num);
    expect(seen.filter((s) => s.from !== a.num).length).toBeGreaterThan(0);
    expect(own.length).toBe(4); // 45 s, 105 s, 165 s, 225 s
    expect(own.map((s) => s.metrics.uptimeSeconds)).toEqual([45, 105, 165, 225]);
    expect(own.at(-1)!.metrics.channelUtilization).toBeGreaterThan(0);
    // The reported figure is the radio's own, carried as a protobuf float (about 7 significant digits).
    for (const s of own) expect(s.metrics.channelUtilization).toBeCloseTo(s.radioUtil, 4);
  });
});
