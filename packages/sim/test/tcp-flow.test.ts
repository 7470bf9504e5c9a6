import { connect as netConnect, type Socket } from 'node:net';
import { create, toBinary } from '@bufbuild/protobuf';
import { encodeFrame, PortNum } from '@compotastic/mesh';
import { TcpTransport } from '@compotastic/mesh/node';
import { Protobuf } from '@meshtastic/core';
import { afterEach, describe, expect, it } from 'vitest';
import { runRealtime, type RealtimeRun } from '../src/client.js';
import { Simulation, type SimPacket } from '../src/index.js';
import { startTcpServers, type TcpServers } from '../src/node.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const P = Protobuf as any;

let servers: TcpServers | undefined;
let run: RealtimeRun | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  run?.stop();
  await servers?.close();
  servers = undefined;
  run = undefined;
});

function twoNodes(clientMs = 5): Simulation {
  return new Simulation({
    name: 'tcp-flow',
    duration: '2h',
    preset: 'SHORT_TURBO',
    startEpochS: 1_750_000_000,
    latency: { clientMs },
    pathLoss: { model: 'log-distance', sigmaDb: 0 },
    nodes: { list: [{ name: 'a', x: 0, y: 0 }, { name: 'b', x: 100, y: 0 }] },
  });
}

function textToRadio(to: number, text: string, id: number): Uint8Array {
  const packet = { to, id, wantAck: false, hopLimit: 3, payloadVariant: { case: 'decoded', value: { portnum: PortNum.TEXT_MESSAGE_APP, payload: new TextEncoder().encode(text) } } };
  return toBinary(P.Mesh.ToRadioSchema, create(P.Mesh.ToRadioSchema, { payloadVariant: { case: 'packet', value: packet } }));
}

function wantConfig(nonce: number): Uint8Array {
  return toBinary(P.Mesh.ToRadioSchema, create(P.Mesh.ToRadioSchema, { payloadVariant: { case: 'wantConfigId', value: nonce } }));
}

/** Resolves with the first packet node `num` receives over the air. */
function heardBy(sim: Simulation, num: number): Promise<SimPacket> {
  return new Promise((resolve) => {
    sim.addListener(num, { onPacket: (p, _snr, _rssi, viaRadio) => viaRadio && resolve(p) });
  });
}

function rawClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
    sockets.push(s);
  });
}

describe('one-shot writes', () => {
  it('a raw TCP client that writes a text and closes at once gets it on air', async () => {
    const sim = twoNodes();
    servers = await startTcpServers(sim, { basePort: 0 });
    run = runRealtime(sim, { speed: 5 });
    const [a, b] = sim.nodes;
    const heard = heardBy(sim, b!.num);
    const s = await rawClient(servers.ports.get(a!.num)!);
    s.end(encodeFrame(textToRadio(b!.num, 'hello', 0x1234)));
    const p = await heard;
    expect(p.from).toBe(a!.num);
    expect(p.id).toBe(0x1234);
    expect(new TextDecoder().decode(p.payload!)).toBe('hello');
  });

  it('a TcpTransport client that writes then disconnects gets it on air', async () => {
    const sim = twoNodes();
    servers = await startTcpServers(sim, { basePort: 0 });
    run = runRealtime(sim, { speed: 5 });
    const [a, b] = sim.nodes;
    const heard = heardBy(sim, b!.num);
    const transport = await TcpTransport.connect({ host: '127.0.0.1', port: servers.ports.get(a!.num)! });
    const writer = transport.toDevice.getWriter();
    await writer.write(textToRadio(0xffffffff, 'one shot', 0x4321));
    writer.releaseLock();
    await transport.disconnect();
    const p = await heard;
    expect(p.id).toBe(0x4321);
    expect(new TextDecoder().decode(p.payload!)).toBe('one shot');
  });
});

describe('per-connection backpressure', () => {
  it('a client that floods config requests and never reads holds bounded queues, and another node still configures', async () => {
    // A long client latency makes requests wait in the node, where an unbounded session would pile them all up.
    const sim = twoNodes(2000);
    servers = await startTcpServers(sim, { basePort: 0 });
    run = runRealtime(sim, { speed: 50 });
    const [a, b] = sim.nodes;
    const flooder = await rawClient(servers.ports.get(a!.num)!);
    flooder.pause(); // never reads
    const requests = 20_000;
    const frame = encodeFrame(wantConfig(7));
    const burst = new Uint8Array(frame.length * requests);
    for (let i = 0; i < requests; i++) burst.set(frame, i * frame.length);
    flooder.write(burst);

    // Another node's client does the whole handshake meanwhile.
    const other = await rawClient(servers.ports.get(b!.num)!);
    const configured = new Promise<void>((resolve) => {
      let seen = Buffer.alloc(0);
      other.on('data', (d: Buffer) => {
        seen = Buffer.concat([seen, d]);
        // config_complete_id 99 is the last FromRadio of the handshake: field 7 varint 99.
        if (seen.includes(Buffer.from([0x38, 99]))) resolve();
      });
    });
    other.write(encodeFrame(wantConfig(99)));

    const samples: ReturnType<TcpServers['stats']>[] = [];
    const sampler = setInterval(() => samples.push(servers!.stats(a!.num)), 5);
    await configured;
    // Keep sampling while the flooder's requests are being worked through.
    await new Promise((r) => setTimeout(r, 300));
    clearInterval(sampler);
    expect(samples.length).toBeGreaterThan(0);
    expect(Math.max(...samples.map((s) => s.pendingRequests))).toBeGreaterThan(0);
    for (const s of samples) {
      expect(s.pendingRequests).toBeLessThanOrEqual(8);
      // At most one socket read waits outside the node.
      expect(s.waitingBytes).toBeLessThanOrEqual(64 * 1024);
    }
  });
});
