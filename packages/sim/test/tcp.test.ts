import { FrameDecoder, Prng, encodeFrame } from '@compotastic/mesh';
import { TcpTransport } from '@compotastic/mesh/node';
import { MeshDevice, Protobuf, Utils } from '@meshtastic/core';
import { describe, expect, it } from 'vitest';
import { runRealtime } from '../src/client.js';
import { Simulation } from '../src/index.js';
import { startTcpServers } from '../src/node.js';
import { tcpHarness } from './tcp-harness.js';

const h = tcpHarness();

function magicPayload(rng: Prng): Uint8Array {
  const p = rng.bytes(231);
  for (let i = 0; i + 1 < p.length; i += 2 + rng.intBelow(3)) {
    p[i] = 0x94;
    p[i + 1] = 0xc3;
  }
  return p;
}

async function connect(port: number): Promise<MeshDevice> {
  const transport = await TcpTransport.connect({ host: '127.0.0.1', port });
  const device = new MeshDevice(transport);
  (device.log.settings as { minLevel: number }).minLevel = 7;
  h.devices.push(device);
  await new Promise<void>((resolve) => {
    device.events.onDeviceStatus.subscribe((s: number) => s === 7 && resolve());
    void device.configure();
  });
  return device;
}

describe('TCP client API', () => {
  it('MeshDevice over TCP exchanges payloads full of 0x94 0xC3 with a simulated node, none lost', async () => {
    const sim = new Simulation({
      name: 'tcp',
      duration: '2h',
      preset: 'SHORT_TURBO',
      pathLoss: { model: 'log-distance', sigmaDb: 0 },
      nodes: { list: [{ name: 'a', x: 0, y: 0 }, { name: 'b', x: 100, y: 0 }] },
    });
    h.servers = await startTcpServers(sim, { basePort: 0 });
    h.run = runRealtime(sim, { speed: 5 });
    const [a, b] = sim.nodes;
    const [da, db] = await Promise.all([connect(h.servers.ports.get(a!.num)!), connect(h.servers.ports.get(b!.num)!)]);
    const rng = new Prng(2024);
    // Two each way: every payload is full of magic, so the stock deframer would lose each one or the one after it.
    // MeshDevice paces its queue in wall time (about 0.2 s a packet), so more packets only make the test slower.
    const toB = Array.from({ length: 2 }, () => magicPayload(rng));
    const toA = Array.from({ length: 2 }, () => magicPayload(rng));
    // Resolve once each side has as many packets as were sent to it: no wall-clock deadline, so a slow machine only
    // makes this take longer (the suite's timeout catches a hang).
    const collect = (device: MeshDevice, n: number) =>
      new Promise<Uint8Array[]>((resolve) => {
        const got: Uint8Array[] = [];
        device.events.onPrivatePacket.subscribe((p: { data: Uint8Array }) => {
          got.push(p.data);
          if (got.length === n) resolve(got);
        });
      });
    const atA = collect(da, toA.length);
    const atB = collect(db, toB.length);
    const send = async (from: MeshDevice, payloads: Uint8Array[], to: number) => {
      for (const p of payloads) await from.sendPacket(p, Protobuf.Portnums.PortNum.PRIVATE_APP, to, 0, true, false);
    };
    await Promise.all([send(da, toB, b!.num), send(db, toA, a!.num)]);
    expect(await atB).toEqual(toB);
    expect(await atA).toEqual(toA);
  });

  it('the stock @meshtastic/core deframer loses such frames; ours keeps them', async () => {
    const rng = new Prng(77);
    // Half of the bodies carry the frame magic somewhere inside, as ~0.3% of random 231-byte payloads do.
    const bodies = Array.from({ length: 200 }, (_, i) => {
      const b = rng.bytes(2 + rng.intBelow(300)).map((x) => (x === 0x94 ? 0 : x));
      if (i % 2 === 0) {
        const at = rng.intBelow(b.length - 1);
        b[at] = 0x94;
        b[at + 1] = 0xc3;
      }
      return b;
    });
    const stream = new Uint8Array(bodies.reduce((s, b) => s + b.length + 4, 0));
    let o = 0;
    for (const b of bodies) {
      stream.set(encodeFrame(b), o);
      o += b.length + 4;
    }
    const ours = new FrameDecoder().push(stream).filter((x) => x.type === 'frame');
    // Every body back, byte for byte (compared as hex: one cheap comparison instead of 200 typed-array diffs).
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    expect(ours.map((x) => hex((x as { payload: Uint8Array }).payload))).toEqual(bodies.map(hex));
    const warn = console.warn;
    console.warn = () => {};
    try {
      const stock: unknown[] = [];
      const readable = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(stream);
          c.close();
        },
      }).pipeThrough(Utils.fromDeviceStream());
      for await (const item of readable as unknown as AsyncIterable<{ type: string }>) if (item.type === 'packet') stock.push(item);
      expect(stock.length).toBeLessThan(bodies.length * 0.75);
    } finally {
      console.warn = warn;
    }
  });
});
