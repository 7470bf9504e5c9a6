import { fromBinary } from '@bufbuild/protobuf';
import { maxPayloadFor } from '@compotastic/mesh';
import { Simulation, type ScenarioConfig, type SimNode, type TraceEvent } from '@compotastic/sim';
import { InProcessTransport, VirtualRadio, VirtualTime } from '@compotastic/sim/client';
import { Protobuf } from '@meshtastic/core';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { type DeviceTransport, MeshDeviceLink } from '../src/meshtastic/meshdevice-link.js';
import { ReconnectingMeshLink } from '../src/meshtastic/reconnecting-link.js';

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

describe("the radio's node database names", () => {
  it('names the nodes in the radio\'s node database by their long names, and has none for a node it never heard', async () => {
    // Names come from NodeInfo announcements, as on real radios (the firmware's default interval).
    const sim = new Simulation({ ...scenario, firmware: { nodeInfoBroadcastS: 10_800 } }, { seed: 4 });
    const vt = new VirtualTime(sim);
    const [a, b] = sim.nodes as [SimNode, SimNode];
    const names = await vt.run(async () => {
      const radio = new VirtualRadio(sim, a.num);
      const first = await MeshDeviceLink.connect(new InProcessTransport(sim, radio), { seed: 4 });
      const before = first.userName(b.num); // nothing heard from b yet: not in the node database
      await first.disconnect();
      // b announces its NodeInfo 30 s after boot; a client connecting later gets b's name in the node database.
      await new Promise<void>((resolve) => sim.clock.setTimer(5 * 60_000, resolve));
      const link = await ReconnectingMeshLink.connect(async () => new InProcessTransport(sim, radio), { seed: 5 });
      const got = { before, b: link.userName(b.num), stranger: link.userName(0x7777) };
      await link.close();
      return got;
    });
    expect(names).toEqual({ before: null, b: 'Sim b', stranger: null });
  });
});

describe('extra ports on the radio link (openPort)', () => {
  const OTA = 290;
  const pair = (): ScenarioConfig => ({ ...scenario, traffic: [] });

  it('sends on the opened port through the same path and hands each port its own packets', async () => {
    const events: TraceEvent[] = [];
    const sim = new Simulation(pair(), { seed: 4, trace: (e) => events.push(e) });
    const vt = new VirtualTime(sim);
    const [a, b] = sim.nodes as [SimNode, SimNode];
    const got = await vt.run(async () => {
      const la = await MeshDeviceLink.connect(new InProcessTransport(sim, a.num), { seed: 4 });
      const lb = await MeshDeviceLink.connect(new InProcessTransport(sim, b.num), { seed: 5 });
      const pa = la.openPort(OTA);
      const pb = lb.openPort(OTA);
      const onMain: number[] = [];
      const onPort: number[] = [];
      lb.onPacket((p) => onMain.push(p.payload[0]!));
      const off = pb.onPacket((p) => onPort.push(p.payload[0]!));
      const results = [
        await pa.send('broadcast', Uint8Array.of(1), { wantAck: false, hopLimit: 0 }),
        await la.send('broadcast', Uint8Array.of(2), { wantAck: false }),
        // A unicast with want_ack on the extra port is settled by the destination's routing reply.
        await pa.send(b.num, Uint8Array.of(3), { wantAck: true }),
        await pa.send('broadcast', new Uint8Array(pa.maxPayload + 1), { wantAck: false }),
      ];
      await new Promise<void>((resolve) => sim.clock.setTimer(30_000, resolve));
      off();
      await pa.send('broadcast', Uint8Array.of(4), { wantAck: false });
      await new Promise<void>((resolve) => sim.clock.setTimer(30_000, resolve));
      await la.disconnect();
      await lb.disconnect();
      return { results, onMain, onPort, maxPayload: pa.maxPayload, kind: pa.kind };
    });
    expect(got.kind).toBe('lora');
    expect(got.maxPayload).toBe(maxPayloadFor({ portnum: OTA }));
    expect(got.results).toEqual([{ ok: true }, { ok: true }, { ok: true }, { ok: false, error: 'TOO_LARGE' }]);
    expect(got.onPort).toEqual([1, 3]);
    expect(got.onMain).toEqual([2]);
    // The node's own firmware broadcasts (NodeInfo on port 4, device telemetry on port 67) aside.
    const sent = events.filter((e) => e.ev === 'tx_start' && e.node === a.num && e.port !== 4 && e.port !== 67);
    expect(sent.map((e) => [e.port, e.hopLimit])).toEqual([[OTA, 0], [256, 3], [OTA, 3], [OTA, 3]]);
  });

  it('refuses ports outside 256..511 and the link\'s own', async () => {
    const sim = new Simulation(pair(), { seed: 6 });
    const vt = new VirtualTime(sim);
    const errors = await vt.run(async () => {
      const link = await MeshDeviceLink.connect(new InProcessTransport(sim, sim.nodes[0]!.num), { seed: 6, portnum: 300 });
      const tried = [255, 512, 300, 290.5, 1, 287].map((p) => {
        try {
          link.openPort(p);
          return null;
        } catch (e) {
          return e;
        }
      });
      const ok = link.openPort(256).maxPayload;
      await link.disconnect();
      return { tried, ok };
    });
    for (const e of errors.tried) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).code).toBe('BAD_OPTION');
    }
    expect(errors.ok).toBe(maxPayloadFor({ portnum: 256 }));
  });

  it('a router whose radio drops port 256 speaks on the fallback port, and its peer answers it there', async () => {
    const routerPair = (policy: '2.6-blacklist' | '2.7-whitelist'): ScenarioConfig => ({ ...scenario, traffic: [], firmware: { corePortnumsPolicy: policy }, nodes: { list: [{ name: 'a', x: 0, y: 0, role: 'ROUTER' }, { name: 'b', x: 300, y: 0 }] } });
    const run = async (fallbackPortnum: number | null | undefined, policy: '2.6-blacklist' | '2.7-whitelist' = '2.6-blacklist') => {
      const events: TraceEvent[] = [];
      const sim = new Simulation(routerPair(policy), { seed: 10, trace: (e) => events.push(e) });
      const vt = new VirtualTime(sim);
      const [a, b] = sim.nodes as [SimNode, SimNode];
      return vt.run(async () => {
        const la = await MeshDeviceLink.connect(new InProcessTransport(sim, a.num), { seed: 10, fallbackPortnum });
        const lb = await MeshDeviceLink.connect(new InProcessTransport(sim, b.num), { seed: 11 });
        const heardByA: number[] = [];
        const heardByB: number[] = [];
        la.onPacket((p) => heardByA.push(p.payload[0]!));
        lb.onPacket((p) => heardByB.push(p.payload[0]!));
        const sentByA = await la.send(b.num, Uint8Array.of(1), { wantAck: true });
        await new Promise<void>((resolve) => sim.clock.setTimer(10_000, resolve));
        const sentByB = await lb.send(a.num, Uint8Array.of(2), { wantAck: true });
        await new Promise<void>((resolve) => sim.clock.setTimer(10_000, resolve));
        const facts = { portBlocked: la.facts().portBlocked, ownPortDropped: la.ownPortDropped, usesFallback: la.usesFallback };
        await la.disconnect();
        await lb.disconnect();
        const app = events.filter((e) => e.ev === 'tx_start' && e.node === e.from && (e.port === 256 || e.port === 287));
        return { facts, sentByA, sentByB, heardByA, heardByB, ports: app.map((e) => [e.node === a.num ? 'a' : 'b', e.port]) };
      });
    };
    const withFallback = await run(undefined);
    expect(withFallback.facts).toEqual({ portBlocked: false, ownPortDropped: true, usesFallback: true });
    expect(withFallback.ports).toEqual([['a', 287], ['b', 287]]);
    expect(withFallback.heardByB).toEqual([1]);
    expect(withFallback.heardByA).toEqual([2]);
    expect([withFallback.sentByA, withFallback.sentByB]).toEqual([{ ok: true }, { ok: true }]);
    // Without a fallback the router's radio drops the answer on 256 (after acknowledging it): it can send but never
    // receive.
    const without = await run(null);
    expect(without.facts).toEqual({ portBlocked: true, ownPortDropped: true, usesFallback: false });
    expect(without.heardByB).toEqual([1]);
    expect(without.heardByA).toEqual([]);
    // Firmware 2.7.4+ (the radio reports its version) drops every private port there: no fallback helps.
    const on27 = await run(undefined, '2.7-whitelist');
    expect(on27.facts).toEqual({ portBlocked: true, ownPortDropped: true, usesFallback: false });
    expect(on27.heardByA).toEqual([]);
  });

  it('a port opened on a ReconnectingMeshLink keeps receiving and sending after the radio reboots', async () => {
    const sim = new Simulation(pair(), { seed: 7 });
    const vt = new VirtualTime(sim);
    const [a, b] = sim.nodes as [SimNode, SimNode];
    const radio = new VirtualRadio(sim, a.num);
    const got = await vt.run(async () => {
      const la = await ReconnectingMeshLink.connect(async () => new InProcessTransport(sim, radio), { seed: 8, retryMs: 1000 });
      const lb = await MeshDeviceLink.connect(new InProcessTransport(sim, b.num), { seed: 9 });
      const pa = la.openPort(OTA);
      const pb = lb.openPort(OTA);
      const heard: number[] = [];
      const heardByB: number[] = [];
      pa.onPacket((p) => heard.push(p.payload[0]!));
      pb.onPacket((p) => heardByB.push(p.payload[0]!));
      await pb.send('broadcast', Uint8Array.of(1), { wantAck: false });
      await new Promise<void>((resolve) => sim.clock.setTimer(20_000, resolve));
      sim.setNodeUp(a, false, 'power cut');
      const whileDown = await pa.send('broadcast', Uint8Array.of(9), { wantAck: false });
      sim.clock.setTimer(10_000, () => sim.setNodeUp(a, true, 'power back'));
      // Reconnection backs off from 1 s; a minute is plenty.
      await new Promise<void>((resolve) => sim.clock.setTimer(70_000, resolve));
      const connected = la.connected;
      await pb.send('broadcast', Uint8Array.of(2), { wantAck: false });
      const afterReboot = await pa.send('broadcast', Uint8Array.of(3), { wantAck: false });
      await new Promise<void>((resolve) => sim.clock.setTimer(20_000, resolve));
      await la.close();
      await lb.disconnect();
      return { heard, heardByB, whileDown, connected, afterReboot };
    });
    expect(got.whileDown).toEqual({ ok: false, error: 'DISCONNECTED' });
    expect(got.connected).toBe(true);
    expect(got.afterReboot).toEqual({ ok: true });
    expect(got.heard).toEqual([1, 2]);
    expect(got.heardByB).toEqual([3]);
  });
});
