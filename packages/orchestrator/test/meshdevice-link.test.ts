import { fromBinary } from '@bufbuild/protobuf';
import { Simulation, type ScenarioConfig } from '@compotastic/sim';
import { InProcessTransport, VirtualTime } from '@compotastic/sim/client';
import { Protobuf } from '@meshtastic/core';
import { describe, expect, it } from 'vitest';
import { type DeviceTransport, MeshDeviceLink } from '../src/meshtastic/meshdevice-link.js';

const scenario: ScenarioConfig = {
  name: 'pair',
  duration: '30m',
  preset: 'SHORT_FAST',
  pathLoss: { model: 'log-distance', sigmaDb: 0 },
  nodes: { list: [{ name: 'a', x: 0, y: 0 }, { name: 'b', x: 300, y: 0 }] },
  traffic: [{ kind: 'broadcast', periodS: 15, payloadBytes: 120, senders: [1] }],
};

/** The simulator's transport with the disconnect status hidden: only a failing write can reveal the dead link. */
function silentOnDisconnect(t: InProcessTransport): DeviceTransport {
  const fromDevice = t.fromDevice.pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        if (chunk.type === 'status' && chunk.data.status === 2) return;
        controller.enqueue(chunk);
      },
    }),
  );
  return { toDevice: t.toDevice, fromDevice, disconnect: () => t.disconnect() };
}

/** The simulator's transport, recording the hop_limit and want_ack of every packet the client hands the radio. */
function recordingPackets(t: InProcessTransport, seen: { hopLimit: number; wantAck: boolean; portnum: number }[]): DeviceTransport {
  const writer = t.toDevice.getWriter();
  const toDevice = new WritableStream<Uint8Array>({
    async write(chunk) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const v = (fromBinary((Protobuf as any).Mesh.ToRadioSchema, chunk) as any).payloadVariant;
      if (v?.case === 'packet' && v.value.payloadVariant?.case === 'decoded') {
        seen.push({ hopLimit: v.value.hopLimit, wantAck: v.value.wantAck, portnum: v.value.payloadVariant.value.portnum });
      }
      await writer.write(chunk);
    },
  });
  return { toDevice, fromDevice: t.fromDevice, disconnect: () => t.disconnect() };
}

describe('MeshDeviceLink over a simulated radio', () => {
  it("sends with the radio's configured hop limit unless told otherwise (0 without want_ack means no relays)", async () => {
    const sim = new Simulation({ ...scenario, hopLimit: 5 }, { seed: 3 });
    const vt = new VirtualTime(sim);
    const seen: { hopLimit: number; wantAck: boolean; portnum: number }[] = [];
    await vt.run(async () => {
      const link = await MeshDeviceLink.connect(recordingPackets(new InProcessTransport(sim, sim.nodes[0]!.num), seen), { seed: 3 });
      expect(link.facts().hopLimit).toBe(5);
      await link.send('broadcast', Uint8Array.of(1), { wantAck: false });
      await link.send('broadcast', Uint8Array.of(2), { wantAck: false, hopLimit: 0 });
      await link.send(sim.nodes[1]!.num, Uint8Array.of(3), { wantAck: true, hopLimit: 2 });
      await link.disconnect();
    });
    expect(seen.filter((p) => p.portnum === 256)).toEqual([
      { hopLimit: 5, wantAck: false, portnum: 256 },
      { hopLimit: 0, wantAck: false, portnum: 256 },
      { hopLimit: 2, wantAck: true, portnum: 256 },
    ]);
  });

  it('counts a write that fails with ECONNRESET (the radio lost power) as a disconnect', async () => {
    const sim = new Simulation(scenario, { seed: 1 });
    const vt = new VirtualTime(sim);
    const a = sim.nodes[0]!;
    const result = await vt.run(async () => {
      const link = await MeshDeviceLink.connect(silentOnDisconnect(new InProcessTransport(sim, a.num)), { seed: 1 });
      const reasons: string[] = [];
      link.onDisconnect((r) => reasons.push(r));
      sim.setNodeUp(a, false, 'power cut');
      const cutAt = sim.now;
      const sent = await link.send('broadcast', Uint8Array.of(1, 2, 3), { wantAck: false });
      return { sent, reasons, waitedMs: sim.now - cutAt, connected: link.isConnected };
    });
    expect(result.sent).toEqual({ ok: false, error: 'DISCONNECTED' });
    expect(result.reasons).toHaveLength(1);
    expect(result.reasons[0]).toMatch(/^write failed/);
    expect(result.connected).toBe(false);
    expect(result.waitedMs).toBeLessThan(1000);
  });

  it("reads channel and TX utilization from the radio's own DeviceMetrics telemetry", async () => {
    const sim = new Simulation(scenario, { seed: 2 });
    const vt = new VirtualTime(sim);
    const a = sim.nodes[0]!;
    // What the radio measured when its last report before the check was due (45 s after boot, then every minute).
    let measured = { channelUtilPct: -1, txUtilPct: -1 };
    sim.scheduler.scheduleAt(165_000, () => {
      const s = sim.radioStats(a.num);
      measured = { channelUtilPct: s.channelUtilizationPct, txUtilPct: s.txUtilizationPct };
    });
    const facts = await vt.run(async () => {
      const link = await MeshDeviceLink.connect(new InProcessTransport(sim, a.num), { seed: 2 });
      const before = link.facts();
      await new Promise<void>((resolve) => sim.clock.setTimer(170_000 - sim.now, resolve));
      const after = link.facts();
      await link.disconnect();
      return { before, after };
    });
    expect(facts.before.channelUtilPct).toBe(0); // nothing reported yet: the first report comes 45 s after boot
    expect(measured.channelUtilPct).toBeGreaterThan(0.1);
    expect(facts.after.channelUtilPct).toBe(Math.fround(measured.channelUtilPct));
    expect(facts.after.txUtilPct).toBe(Math.fround(measured.txUtilPct));
  });
});
