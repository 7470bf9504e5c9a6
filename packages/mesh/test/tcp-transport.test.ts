import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceStatus, FrameDecoder, MeshError, Prng, encodeFrame, type DeviceOutput } from '../src/index.js';
import { TcpTransport } from '../src/node.js';

let server: Server | undefined;
/** The device side of every connection, so a test can cut one as a power loss would. */
const deviceSockets: Socket[] = [];
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A device stand-in that echoes every frame it receives, with console noise in between. */
function startEchoServer(): Promise<number> {
  return new Promise((resolve) => {
    server = createServer((socket) => {
      deviceSockets.push(socket);
      const decoder = new FrameDecoder();
      socket.on('data', (chunk) => {
        for (const item of decoder.push(new Uint8Array(chunk))) {
          if (item.type !== 'frame') continue;
          socket.write(new TextEncoder().encode('DEBUG | ok\n'));
          const framed = encodeFrame(item.payload);
          // Split writes to exercise reassembly.
          socket.write(framed.subarray(0, 3));
          socket.write(framed.subarray(3));
        }
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const addr = server!.address();
      resolve(typeof addr === 'object' && addr ? addr.port : 0);
    });
  });
}

describe('TcpTransport', () => {
  it('round-trips payloads full of frame magic without loss', async () => {
    const port = await startEchoServer();
    const transport = await TcpTransport.connect({ host: '127.0.0.1', port });
    const rng = new Prng(3);
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 50; i++) {
      const body = rng.bytes(1 + rng.intBelow(231));
      for (let k = 0; k + 1 < body.length; k += 3) {
        body[k] = 0x94;
        body[k + 1] = 0xc3;
      }
      sent.push(body);
    }
    const writer = transport.toDevice.getWriter();
    for (const s of sent) await writer.write(s);
    writer.releaseLock();
    const reader = transport.fromDevice.getReader();
    const packets: Uint8Array[] = [];
    const statuses: number[] = [];
    let debug = 0;
    while (packets.length < sent.length) {
      const { value, done } = await reader.read();
      if (done) break;
      const v = value as DeviceOutput;
      if (v.type === 'packet') packets.push(v.data);
      else if (v.type === 'status') statuses.push(v.data.status);
      else debug++;
    }
    expect(statuses[0]).toBe(DeviceStatus.DeviceConnected);
    expect(debug).toBeGreaterThan(0);
    expect(packets).toEqual(sent);
    reader.releaseLock();
    await transport.disconnect();
  });

  it('rejects writes after the link broke with code ECONNRESET, which MeshDevice treats as a disconnect', async () => {
    const port = await startEchoServer();
    const transport = await TcpTransport.connect({ host: '127.0.0.1', port });
    const reader = transport.fromDevice.getReader();
    for (const s of deviceSockets.splice(0)) s.destroy();
    // The readable side reports the disconnect...
    const seen: DeviceOutput[] = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen.push(value as DeviceOutput);
    }
    expect(seen.at(-1)).toMatchObject({ type: 'status', data: { status: DeviceStatus.DeviceDisconnected } });
    // ...and a write now fails the way MeshDevice's queue recognises.
    const writer = transport.toDevice.getWriter();
    await expect(writer.write(Uint8Array.of(1, 2, 3))).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('fails to connect with a typed error', async () => {
    const port = await startEchoServer();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    await expect(TcpTransport.connect({ host: '127.0.0.1', port })).rejects.toBeInstanceOf(MeshError);
  });
});
