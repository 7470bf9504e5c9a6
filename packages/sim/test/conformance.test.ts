import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { SerialTransport, TcpTransport } from '@compotastic/mesh/node';
import { MeshDevice, Protobuf } from '@meshtastic/core';
import { afterEach, describe, expect, it } from 'vitest';
import { runRealtime } from '../src/client.js';
import { Simulation, type ScenarioConfig } from '../src/index.js';
import { startSerialServers, startTcpServers, type SerialServers } from '../src/node.js';
import { lineScenario } from './helpers.js';
import { tcpHarness } from './tcp-harness.js';

/*
 * Conformance: @meshtastic/core's MeshDevice drives simulated nodes over TCP and over pseudo-terminals (the serial
 * port a radio's USB gives), and each step checks what the firmware (2.6.11) answers. The same steps run on both links.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const P = Protobuf as any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = any;

const scenario: ScenarioConfig = {
  name: 'conformance',
  duration: '2h',
  preset: 'SHORT_TURBO',
  startEpochS: 1_750_000_000,
  pathLoss: { model: 'log-distance', sigmaDb: 0 },
  nodes: { list: [{ name: 'a', x: 0, y: 0 }, { name: 'b', x: 100, y: 0 }, { name: 'c', x: 200, y: 0 }] },
};

/** How a client reaches a served node: TCP (one port per node) or a pseudo-terminal per node. */
interface Link {
  name: string;
  serve(sim: Simulation): Promise<void>;
  /** Open the node's client API; retried while it is not back yet (a rebooted node, a pty being recreated). */
  open(num: number): Promise<TcpTransport | SerialTransport>;
}

const h = tcpHarness();
let serial: SerialServers | undefined;
let dir = '';
afterEach(async () => {
  await serial?.close();
  serial = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = '';
});

async function retried<T>(open: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 200; i++) {
    try {
      return await open();
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw last;
}

const tcp: Link = {
  name: 'TCP',
  serve: async (sim) => {
    h.servers = await startTcpServers(sim, { basePort: 0 });
  },
  open: (num) => retried(() => TcpTransport.connect({ host: '127.0.0.1', port: h.servers!.ports.get(num)! })),
};

const pty: Link = {
  name: 'a pseudo-terminal (serial)',
  serve: async (sim) => {
    dir = await mkdtemp(join(tmpdir(), 'sim-conformance-'));
    serial = await startSerialServers(sim, { nodes: new Map(sim.nodes.map((n) => [n.num, join(dir, `tty-${n.name}`)])) });
  },
  open: (num) => retried(() => SerialTransport.connect({ path: serial!.paths.get(num)! })),
};

const hasSocat = !spawnSync('socat', ['-V'], { stdio: 'ignore' }).error;
if (!hasSocat) throw new Error("the serial conformance tests need socat to make pseudo-terminals: install Debian's socat (sudo apt-get install socat)");

interface Attached {
  device: MeshDevice;
  myNodeNum: number;
  nodes: Map<number, Msg>;
  configs: Msg[];
  channels: Msg[];
  status: number[];
}

async function attach(link: Link, num: number): Promise<Attached> {
  const transport = await link.open(num);
  const device = new MeshDevice(transport);
  (device.log.settings as { minLevel: number }).minLevel = 7;
  h.devices.push(device);
  const a: Attached = { device, myNodeNum: 0, nodes: new Map(), configs: [], channels: [], status: [] };
  device.events.onMyNodeInfo.subscribe((m: Msg) => (a.myNodeNum = m.myNodeNum));
  device.events.onNodeInfoPacket.subscribe((n: Msg) => a.nodes.set(n.num, n));
  device.events.onConfigPacket.subscribe((c: Msg) => a.configs.push(c));
  device.events.onChannelPacket.subscribe((c: Msg) => a.channels.push(c));
  device.events.onDeviceStatus.subscribe((s: number) => a.status.push(s));
  await new Promise<void>((resolve) => {
    device.events.onDeviceStatus.subscribe((s: number) => s === 7 && resolve());
    void device.configure();
  });
  return a;
}

function until<T>(probe: () => T | undefined): Promise<T> {
  return new Promise((resolve) => {
    const tick = () => {
      const v = probe();
      if (v !== undefined) resolve(v);
      else setTimeout(tick, 10);
    };
    tick();
  });
}

async function start(link: Link, config: ScenarioConfig = scenario): Promise<Simulation> {
  const sim = new Simulation(config);
  await link.serve(sim);
  h.run = runRealtime(sim, { speed: 10 });
  return sim;
}

describe.each([tcp, pty])('conformance with @meshtastic/core over $name', (link) => {
  it('configures: my_info, own node info, channels and configs', async () => {
    const sim = await start(link);
    const [a] = sim.nodes;
    const da = await attach(link, a!.num);
    expect(da.myNodeNum).toBe(a!.num);
    expect(da.nodes.get(a!.num)?.user?.longName).toBe('Sim a');
    const lora = da.configs.find((c) => c.payloadVariant.case === 'lora')?.payloadVariant.value;
    expect(P.Config.Config_LoRaConfig_RegionCode[lora.region]).toBe('US');
    expect(P.Config.Config_LoRaConfig_ModemPreset[lora.modemPreset]).toBe('SHORT_TURBO');
    expect(da.channels.filter((c) => c.role === P.Channel.Channel_Role.PRIMARY)).toHaveLength(1);
  });

  it('sends a text DM that is delivered and ACKed', async () => {
    const sim = await start(link);
    const [a, b] = sim.nodes;
    const [da, db] = await Promise.all([attach(link, a!.num), attach(link, b!.num)]);
    const got = new Promise<Msg>((resolve) => db.device.events.onMessagePacket.subscribe((m: Msg) => resolve(m)));
    // sendText resolves on the Routing ACK (a NAK would reject it).
    await da.device.sendText('hello b', b!.num, true);
    const m = await got;
    expect(m.data).toBe('hello b');
    expect(m.from).toBe(a!.num);
    expect(m.type).toBe('direct');
  });

  it('setConfig of region and hop limit reboots the node like the firmware; getConfig then reports them', async () => {
    const sim = await start(link);
    const [a] = sim.nodes;
    const first = await attach(link, a!.num);
    const lora = { ...first.configs.find((c) => c.payloadVariant.case === 'lora').payloadVariant.value };
    lora.region = P.Config.Config_LoRaConfig_RegionCode.EU_868;
    lora.hopLimit = 5;
    // MeshDevice opens an edit transaction; the commit triggers the reboot (DEFAULT_REBOOT_SECONDS later).
    await first.device.setConfig(create(P.Config.ConfigSchema, { payloadVariant: { case: 'lora', value: lora } }));
    expect(first.status).not.toContain(2);
    await first.device.commitEditSettings();
    // The client sees its connection drop, as when a real node reboots.
    await until(() => (first.status.includes(2) ? true : undefined));
    await until(() => (a!.up ? true : undefined));
    const again = await attach(link, a!.num);
    const n = again.configs.length;
    await again.device.getConfig(P.Admin.AdminMessage_ConfigType.LORA_CONFIG);
    const reported = await until(() => again.configs.slice(n).find((c) => c.payloadVariant.case === 'lora')?.payloadVariant.value);
    expect(P.Config.Config_LoRaConfig_RegionCode[reported.region]).toBe('EU_868');
    expect(reported.hopLimit).toBe(5);
    expect(a!.phy.region.name).toBe('EU_868');
    expect(a!.hopLimit).toBe(5);
  });

  it('setChannel stores a secondary channel that getChannel returns', async () => {
    const sim = await start(link);
    const [a] = sim.nodes;
    const da = await attach(link, a!.num);
    const channel = create(P.Channel.ChannelSchema, { index: 1, role: P.Channel.Channel_Role.SECONDARY, settings: { name: 'ops', psk: new Uint8Array(16).fill(7) } });
    await da.device.setChannel(channel);
    const n = da.channels.length;
    await da.device.getChannel(1);
    const ch = await until(() => da.channels.slice(n).find((c) => c.index === 1));
    expect(ch.role).toBe(P.Channel.Channel_Role.SECONDARY);
    expect(ch.settings.name).toBe('ops');
    // An index outside 0..7 is refused with BAD_REQUEST, as the firmware does.
    await expect(da.device.setChannel(create(P.Channel.ChannelSchema, { index: 9, role: P.Channel.Channel_Role.SECONDARY }))).rejects.toBeDefined();
  });

  it('a text written just before the client disconnects still goes on air', async () => {
    const sim = await start(link);
    const [a, b] = sim.nodes;
    const transport = await link.open(a!.num);
    // Let MeshDevice write through a stream that tells us when its packet has left.
    let written!: () => void;
    const wrote = new Promise<void>((r) => (written = r));
    const inner = transport.toDevice.getWriter();
    const tapped = new WritableStream<Uint8Array>({
      write: async (chunk) => {
        await inner.write(chunk);
        written();
      },
    });
    const device = new MeshDevice({ ...transport, toDevice: tapped, fromDevice: transport.fromDevice, disconnect: () => transport.disconnect() } as never);
    (device.log.settings as { minLevel: number }).minLevel = 7;
    const heard = new Promise<Msg>((resolve) => sim.addListener(b!.num, { onPacket: (p, _s, _r, viaRadio) => viaRadio && resolve(p) }));
    (device as Msg).myNodeInfo = { myNodeNum: a!.num };
    void device.sendText('bye', 'broadcast', false).catch(() => {});
    await wrote;
    inner.releaseLock();
    await transport.disconnect();
    device.complete();
    const p = await heard;
    expect(new TextDecoder().decode(p.payload)).toBe('bye');
  });

  describe('on a line a - b - c where only neighbours hear each other', () => {
    const line = lineScenario(3, { duration: '2h', startEpochS: 1_750_000_000, firmware: { nodeInfoBroadcastS: 10_800 } });

    it('lists the nodes whose NodeInfo it heard, with their names and public keys', async () => {
      const sim = await start(link, line);
      const [a, b, c] = sim.nodes;
      // Every node announces itself 30 s after boot; attach once they have.
      await until(() => (sim.now > 45_000 ? true : undefined));
      const da = await attach(link, a!.num);
      expect(da.nodes.get(b!.num)?.user?.longName).toBe('Sim n1');
      expect(da.nodes.get(b!.num)?.user?.publicKey).toHaveLength(32);
      expect(da.nodes.get(c!.num)?.user?.longName).toBe('Sim n2');
      expect(da.nodes.get(c!.num)?.hopsAway).toBe(1);
    });

    it('traces the route with the SNR of every hop', async () => {
      const sim = await start(link, line);
      const [a, b, c] = sim.nodes;
      const da = await attach(link, a!.num);
      const traced = new Promise<Msg>((resolve) => da.device.events.onTraceRoutePacket.subscribe((r: Msg) => resolve(r)));
      void da.device.traceRoute(c!.num).catch(() => {});
      const r = await traced;
      expect(r.from).toBe(c!.num);
      expect(r.data.route).toEqual([b!.num]);
      expect(r.data.routeBack).toEqual([b!.num]);
      expect(r.data.snrTowards).toHaveLength(2);
      expect(r.data.snrBack).toHaveLength(2);
    });

    it("answers a telemetry request with the remote node's device metrics", async () => {
      const sim = await start(link, line);
      const [a, b] = sim.nodes;
      const da = await attach(link, a!.num);
      const got = new Promise<Msg>((resolve) => da.device.events.onTelemetryPacket.subscribe((t: Msg) => t.from === b!.num && resolve(t)));
      const request = toBinary(P.Telemetry.TelemetrySchema, create(P.Telemetry.TelemetrySchema, { variant: { case: 'deviceMetrics', value: {} } }));
      void da.device.sendPacket(request, P.Portnums.PortNum.TELEMETRY_APP, b!.num, 0, true, true).catch(() => {});
      const t = await got;
      expect(t.data.variant.case).toBe('deviceMetrics');
      expect(t.data.variant.value.uptimeSeconds).toBeGreaterThan(0);
    });
  });
});
