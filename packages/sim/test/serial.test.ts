import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng } from '@compotastic/mesh';
import { SerialTransport } from '@compotastic/mesh/node';
import { MeshDevice, Protobuf } from '@meshtastic/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main, parseSerialSpec } from '../src/cli.js';
import { runRealtime, type RealtimeRun } from '../src/client.js';
import { Simulation, type ScenarioConfig } from '../src/index.js';
import { requireSocat, startSerialServers, type SerialServers } from '../src/node.js';

let serial: SerialServers | undefined;
let run: RealtimeRun | undefined;
let dir = '';
const devices: MeshDevice[] = [];

beforeAll(() => {
  const probe = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  if (probe.error) throw new Error("these tests need socat to make pseudo-terminals: install Debian's socat (sudo apt-get install socat)");
});

afterEach(async () => {
  for (const d of devices.splice(0)) {
    d.complete();
    await d.transport.disconnect().catch(() => {});
  }
  run?.stop();
  await serial?.close();
  serial = undefined;
  run = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = '';
});

const pair: ScenarioConfig = {
  name: 'serial',
  duration: '2h',
  preset: 'SHORT_TURBO',
  pathLoss: { model: 'log-distance', sigmaDb: 0 },
  nodes: { list: [{ name: 'a', x: 0, y: 0 }, { name: 'b', x: 100, y: 0 }] },
};

interface Configured {
  device: MeshDevice;
  myNodeNum: number;
  ownLongName: string;
  nodeNums: number[];
}

/** Open the pty as a radio's serial port and run MeshDevice's want_config handshake to DeviceConfigured. */
async function configure(path: string, transport?: SerialTransport): Promise<Configured> {
  const device = new MeshDevice(transport ?? (await SerialTransport.connect({ path })));
  (device.log.settings as { minLevel: number }).minLevel = 7;
  devices.push(device);
  let myNodeNum = 0;
  const users = new Map<number, string>();
  device.events.onMyNodeInfo.subscribe((m: { myNodeNum: number }) => (myNodeNum = m.myNodeNum));
  device.events.onNodeInfoPacket.subscribe((n: { num: number; user?: { longName: string } }) => users.set(n.num, n.user?.longName ?? ''));
  await new Promise<void>((resolve) => {
    device.events.onDeviceStatus.subscribe((s: number) => s === 7 && resolve());
    void device.configure();
  });
  return { device, myNodeNum, ownLongName: users.get(myNodeNum) ?? '', nodeNums: [...users.keys()] };
}

/** Open a port that is being recreated, as ReconnectingMeshLink would: retry while it is missing (bounded). */
async function openWhenBack(path: string): Promise<SerialTransport> {
  let last: unknown;
  for (let i = 0; i < 100; i++) {
    try {
      return await SerialTransport.connect({ path });
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw last;
}

describe('client API over a pseudo-terminal (--serve-serial)', () => {
  it('a MeshDevice on SerialTransport configures against a served node and gets its myInfo and nodeInfo', async () => {
    const sim = new Simulation(pair, { seed: 1 });
    dir = await mkdtemp(join(tmpdir(), 'sim-serial-'));
    const [a, b] = sim.nodes;
    serial = await startSerialServers(sim, { nodes: parseSerialSpec(sim, `a,1=${join(dir, 'ttyB')}`, dir) });
    run = runRealtime(sim, { speed: 5 });
    expect([...serial.paths.entries()]).toEqual([
      [a!.num, join(dir, 'tty-a')],
      [b!.num, join(dir, 'ttyB')],
    ]);
    const ca = await configure(join(dir, 'tty-a'));
    expect(ca.myNodeNum).toBe(a!.num);
    expect(ca.ownLongName).toBe('Sim a');
    expect(ca.nodeNums).toContain(a!.num);
    // A packet over both serial links, full of frame magic: the same deframer as TCP.
    const cb = await configure(join(dir, 'ttyB'));
    expect(cb.myNodeNum).toBe(b!.num);
    const atB: Uint8Array[] = [];
    cb.device.events.onPrivatePacket.subscribe((p: { data: Uint8Array }) => atB.push(p.data));
    const payload = new Prng(9).bytes(200).map((x, i) => (i % 2 ? 0xc3 : i % 4 ? x : 0x94));
    await ca.device.sendPacket(payload, Protobuf.Portnums.PortNum.PRIVATE_APP, b!.num, 0, true, false);
    while (atB.length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(atB).toEqual([payload]);
  });

  it('after the client closes the port, the node is served again on the same path', async () => {
    const sim = new Simulation(pair, { seed: 2 });
    dir = await mkdtemp(join(tmpdir(), 'sim-serial-'));
    serial = await startSerialServers(sim, { nodes: new Map([[sim.nodes[0]!.num, join(dir, 'tty0')]]) });
    run = runRealtime(sim, { speed: 5 });
    const first = await configure(join(dir, 'tty0'));
    first.device.complete();
    await first.device.transport.disconnect();
    devices.splice(devices.indexOf(first.device), 1);
    // socat exits when the client closes the pty and is started again on the same path: the port is back shortly.
    const reopened = await openWhenBack(join(dir, 'tty0'));
    const second = await configure(join(dir, 'tty0'), reopened);
    expect(second.myNodeNum).toBe(sim.nodes[0]!.num);
  });

  it('the CLI serves a scenario on the printed path until the run ends, then removes it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-serial-'));
    const scenario = join(dir, 'pair.json');
    // 200 simulated seconds at 20x: 10 s of wall time in which to attach, far more than a busy machine needs.
    await writeFile(scenario, JSON.stringify({ ...pair, duration: '200s' }));
    let err = '';
    let out = '';
    const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t), isTty: false };
    const done = main(['--scenario', scenario, '--serve-serial', `b=${join(dir, 'radio')}`, '--speed', '20', '--quiet'], io);
    const c = await openWhenBack(join(dir, 'radio')).then((t) => configure(join(dir, 'radio'), t));
    expect(c.ownLongName).toBe('Sim b');
    expect(await done).toBe(0);
    expect(err).toContain(`serial: b (!${c.myNodeNum.toString(16)}) -> ${join(dir, 'radio')}`);
    expect(out).toMatch(/^scenario +serial/);
    await expect(SerialTransport.connect({ path: join(dir, 'radio') })).rejects.toMatchObject({ code: 'PORT_NOT_FOUND' });
  });

  it('refuses to replace a file that is not a link, and names nodes it does not know', async () => {
    const sim = new Simulation(pair, { seed: 3 });
    dir = await mkdtemp(join(tmpdir(), 'sim-serial-'));
    await writeFile(join(dir, 'precious'), 'keep me');
    await expect(startSerialServers(sim, { nodes: new Map([[sim.nodes[0]!.num, join(dir, 'precious')]]) })).rejects.toMatchObject({ code: 'PATH_EXISTS' });
    expect(() => parseSerialSpec(sim, 'zz')).toThrow(/no node named "zz"/);
    expect(() => parseSerialSpec(sim, 'a,a')).toThrow(/twice/);
    expect([...parseSerialSpec(sim, `all`, dir).values()]).toEqual([join(dir, 'tty-a'), join(dir, 'tty-b')]);
    expect([...parseSerialSpec(sim, `!${sim.nodes[1]!.num.toString(16)}=${join(dir, 'x')}`).entries()]).toEqual([[sim.nodes[1]!.num, join(dir, 'x')]]);
  });

  it('without socat, says which package to install', () => {
    expect(() => requireSocat(join(tmpdir(), 'no-such-socat'))).toThrow(/install Debian's socat: sudo apt-get install socat/);
  });
});
