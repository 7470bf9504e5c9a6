import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeviceStatus, MeshError, Prng, encodeFrame, type DeviceOutput } from '../src/index.js';
import { SERIAL_WAKE_PREAMBLE, SerialTransport, serialOpenError } from '../src/node.js';

/** Cleanup for whatever a test opened, run even when it fails. */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    // Bounded, so a port that never closes cannot keep a socat alive after a failed test.
    await Promise.race([Promise.resolve().then(c).catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
  }
});

beforeAll(() => {
  const probe = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  if (probe.error) throw new Error("these tests need socat to make pseudo-terminals: install Debian's socat (sudo apt-get install socat)");
});

interface PtyPair {
  /** The end the transport opens. */
  host: string;
  /** The end the device stand-in opens. */
  device: string;
  socat: ChildProcess;
}

/** Two pseudo-terminals joined back to back by socat: a serial cable with nothing on it. */
async function ptyPair(): Promise<PtyPair> {
  const dir = await mkdtemp(join(tmpdir(), 'serial-test-'));
  const host = join(dir, 'host');
  const device = join(dir, 'device');
  const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${host}`, `pty,raw,echo=0,link=${device}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  cleanups.push(async () => {
    if (socat.exitCode === null && socat.signalCode === null) socat.kill();
    await rm(dir, { recursive: true, force: true });
  });
  // socat logs this once both ptys (and their links) exist.
  await new Promise<void>((resolve, reject) => {
    let log = '';
    socat.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('starting data transfer loop')) resolve();
    });
    socat.once('exit', (code) => reject(new Error(`socat exited (${code}) before the ptys were ready: ${log}`)));
  });
  await lstat(host);
  await lstat(device);
  return { host, device, socat };
}

/** The radio's side of the cable. */
async function openDevice(path: string): Promise<{ port: SerialPort; received: () => Uint8Array; waitFor: (n: number) => Promise<Uint8Array> }> {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  cleanups.push(() => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())));
  const chunks: Buffer[] = [];
  let waiter: { n: number; resolve: () => void } | null = null;
  port.on('data', (d: Buffer) => {
    chunks.push(d);
    if (waiter && Buffer.concat(chunks).length >= waiter.n) waiter.resolve();
  });
  const received = (): Uint8Array => new Uint8Array(Buffer.concat(chunks));
  return {
    port,
    received,
    waitFor: (n) =>
      received().length >= n ? Promise.resolve(received()) : new Promise((resolve) => (waiter = { n, resolve: () => resolve(received()) })),
  };
}

function write(port: SerialPort, bytes: Uint8Array | string): Promise<void> {
  return new Promise((resolve, reject) => port.write(bytes, (err) => (err ? reject(err) : resolve())));
}

async function connect(path: string): Promise<SerialTransport> {
  const t = await SerialTransport.connect({ path, wakeDelayMs: 0 });
  cleanups.push(() => t.disconnect());
  return t;
}

describe('SerialTransport over a pseudo-terminal pair', () => {
  it('delivers exactly the frames the device sent, and its console text as debug output', async () => {
    const pair = await ptyPair();
    const device = await openDevice(pair.device);
    const transport = await connect(pair.host);
    const rng = new Prng(11);
    const bodies = Array.from({ length: 12 }, (_, i) => {
      const b = rng.bytes(1 + rng.intBelow(300));
      // Frame magic inside bodies, and a near-maximal one: neither may be lost or split.
      if (i % 3 === 0 && b.length > 2) b.set([0x94, 0xc3], rng.intBelow(b.length - 1));
      return i === 5 ? rng.bytes(512) : b;
    });
    const noise = bodies.map((_, i) => `INFO  | ??:??:${String(i).padStart(2, '0')} [Router] Lora RX, ünïcode\n`);
    for (const [i, b] of bodies.entries()) {
      await write(device.port, noise[i] as string);
      const framed = encodeFrame(b);
      // Split mid-header to exercise reassembly across reads.
      await write(device.port, framed.subarray(0, 3));
      await write(device.port, framed.subarray(3));
    }
    const reader = transport.fromDevice.getReader();
    const packets: Uint8Array[] = [];
    const statuses: number[] = [];
    let debug = '';
    while (packets.length < bodies.length) {
      const { value, done } = await reader.read();
      if (done) break;
      const v = value as DeviceOutput;
      if (v.type === 'packet') packets.push(v.data);
      else if (v.type === 'status') statuses.push(v.data.status);
      else debug += v.data;
    }
    reader.releaseLock();
    expect(statuses).toEqual([DeviceStatus.DeviceConnected]);
    expect(packets).toEqual(bodies);
    // Every console line arrived before the frame that followed it, byte for byte.
    expect(debug).toBe(noise.join(''));
  });

  it('sends the wake-up preamble first, then each ToRadio framed', async () => {
    const pair = await ptyPair();
    const device = await openDevice(pair.device);
    const transport = await connect(pair.host);
    const payloads = [Uint8Array.of(0x18, 0x2a), new Prng(5).bytes(200), Uint8Array.of(0x94, 0xc3, 0x00, 0x01)];
    const writer = transport.toDevice.getWriter();
    for (const p of payloads) await writer.write(p);
    writer.releaseLock();
    const expected = Buffer.concat([SERIAL_WAKE_PREAMBLE, ...payloads.map((p) => encodeFrame(p))]);
    expect(SERIAL_WAKE_PREAMBLE).toEqual(new Uint8Array(32).fill(0xc3));
    expect(await device.waitFor(expected.length)).toEqual(new Uint8Array(expected));
  });

  it('reports an unplugged device as DeviceDisconnected and rejects later writes with ECONNRESET', async () => {
    const pair = await ptyPair();
    await openDevice(pair.device);
    const transport = await connect(pair.host);
    const reader = transport.fromDevice.getReader();
    // Pulling the cable: the pty goes away under the open port.
    pair.socat.kill();
    const seen: DeviceOutput[] = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen.push(value as DeviceOutput);
    }
    expect(seen[0]).toEqual({ type: 'status', data: { status: DeviceStatus.DeviceConnected } });
    expect(seen.at(-1)).toMatchObject({ type: 'status', data: { status: DeviceStatus.DeviceDisconnected, reason: expect.stringMatching(/disconnected/) } });
    expect(transport.isClosed).toBe(true);
    const writer = transport.toDevice.getWriter();
    await expect(writer.write(Uint8Array.of(1, 2, 3))).rejects.toMatchObject({ name: 'MeshError', code: 'ECONNRESET' });
  });

  it('notices an unplug while frames are streaming in (the binding alone would spin on zero-byte reads)', async () => {
    // Whether a read is in flight when the line hangs up is a race, so pull the cable mid-stream a few times.
    const burst = Buffer.concat(Array.from({ length: 16 }, (_, i) => encodeFrame(new Prng(i).bytes(200))));
    for (let round = 0; round < 6; round++) {
      const pair = await ptyPair();
      const device = await openDevice(pair.device);
      device.port.on('error', () => undefined);
      const transport = await connect(pair.host);
      const reader = transport.fromDevice.getReader();
      // The radio keeps talking; the cable goes after the first 20 frames, with more in flight.
      const sending = (async () => {
        for (let i = 0; i < 20 && device.port.isOpen; i++) await write(device.port, burst).catch(() => undefined);
      })();
      let packets = 0;
      let last: DeviceOutput | undefined;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        last = value as DeviceOutput;
        if (last.type === 'packet' && ++packets === 20) pair.socat.kill();
      }
      await sending;
      expect(packets).toBeGreaterThanOrEqual(20);
      expect(last).toMatchObject({ type: 'status', data: { status: DeviceStatus.DeviceDisconnected } });
      await expect(transport.toDevice.getWriter().write(Uint8Array.of(1))).rejects.toMatchObject({ code: 'ECONNRESET' });
    }
  });

  it('refuses a port that is already open with PORT_BUSY', async () => {
    const pair = await ptyPair();
    await openDevice(pair.device);
    await connect(pair.host);
    await expect(SerialTransport.connect({ path: pair.host, wakeDelayMs: 0 })).rejects.toMatchObject({ name: 'MeshError', code: 'PORT_BUSY' });
  });

  it('names a missing port with PORT_NOT_FOUND', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'serial-test-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const err = await SerialTransport.connect({ path: join(dir, 'ttyUSB9') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MeshError);
    expect(err).toMatchObject({ code: 'PORT_NOT_FOUND', message: expect.stringContaining('ttyUSB9') });
  });

  it('maps the binding\'s open failures to typed codes', () => {
    // Texts as @serialport/bindings-cpp formats them (errno only as strerror text) and Node fs errors.
    const cases: [Error & { code?: string }, string][] = [
      [new Error('Error: No such file or directory, cannot open /dev/ttyUSB0'), 'PORT_NOT_FOUND'],
      [Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }), 'PERMISSION_DENIED'],
      [new Error('Error: Permission denied, cannot open /dev/ttyUSB0'), 'PERMISSION_DENIED'],
      [new Error('Error Resource temporarily unavailable Cannot lock port'), 'PORT_BUSY'],
      [new Error('Error: Device or resource busy, cannot open /dev/ttyUSB0'), 'PORT_BUSY'],
      [new Error('Opening COM7: File not found'), 'PORT_NOT_FOUND'],
      [new Error('Error: Inappropriate ioctl for device setting custom baud rate of 115200'), 'PORT_OPEN_FAILED'],
    ];
    for (const [err, code] of cases) {
      const mapped = serialOpenError('/dev/ttyUSB0', err);
      expect(mapped, err.message).toBeInstanceOf(MeshError);
      expect(mapped.code, err.message).toBe(code);
      expect(mapped.cause).toBe(err);
    }
  });

  it('rejects a bad baud rate before touching the port', async () => {
    await expect(SerialTransport.connect({ path: '/dev/null', baudRate: 0 })).rejects.toMatchObject({ code: 'INVALID_BAUD_RATE' });
  });
});
