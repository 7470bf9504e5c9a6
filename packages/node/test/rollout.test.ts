import type { Kernel } from '@compotastic/kernel';
import type { ModemPresetName } from '@compotastic/mesh';
import { ReconnectingMeshLink } from '@compotastic/orchestrator/meshtastic';
import { MemoryFlash, OTA_PORTNUM } from '@compotastic/ota';
import { type ScenarioConfig, Simulation } from '@compotastic/sim';
import { InProcessTransport, VirtualRadio, VirtualTime } from '@compotastic/sim/client';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DeviceFirmware, FACTORY_VERSION, type FirmwareSet, type RolloutOutcome, type RolloutTarget, factoryBundle, rollout, tailoredBundle,
} from '../src/core/index.js';
import { scalarFirmware } from './firmware-fixture.js';

// A rollout over the simulator's virtual radios: a publisher and three receivers a few hundred metres apart, every
// node through its own MeshDevice client (as the swarm runs them), the bundle on the OTA port.

const scenario = {
  name: 'rollout-test',
  seed: 5,
  duration: '20m',
  preset: 'LONG_FAST',
  region: 'US',
  pathLoss: { model: 'log-distance', sigmaDb: 0 },
  nodes: {
    list: [
      { name: 'pub', x: 0, y: 0, deviceClass: 'laptop' },
      { name: 'r1', x: 150, y: 0, deviceClass: 'microcontroller' },
      { name: 'r2', x: -150, y: 50, deviceClass: 'microcontroller' },
      { name: 'r3', x: 0, y: 150, deviceClass: 'microcontroller' },
    ],
  },
} as unknown as ScenarioConfig;

let kernel: Kernel;
let fw: FirmwareSet;
beforeAll(async () => {
  ({ kernel, fw } = await scalarFirmware(7));
});

interface Run {
  outcome: RolloutOutcome;
  events: Array<{ num: number; type: string; data: Record<string, unknown> }>;
  devices: Map<number, DeviceFirmware>;
  receivers: number[];
  confirmed: Map<number, number>;
}

/** Runs one rollout of v1 from the factory image to every receiver; `failing` receivers' self-tests fail. */
async function runRollout(failing: (index: number) => boolean = () => false): Promise<Run> {
  const sim = new Simulation(scenario, {});
  const vt = new VirtualTime(sim);
  const events: Run['events'] = [];
  const devices = new Map<number, DeviceFirmware>();
  const confirmed = new Map<number, number>();
  const [publisher, ...receivers] = sim.nodes.map((n) => n.num) as [number, ...number[]];
  const outcome = await vt.run(async () => {
    const links = new Map<number, ReconnectingMeshLink>();
    for (const num of [publisher, ...receivers]) {
      const radio = new VirtualRadio(sim, num);
      links.set(num, await ReconnectingMeshLink.connect(async () => new InProcessTransport(sim, radio), { seed: num }));
    }
    const targets: RolloutTarget[] = receivers.map((num, i) => {
      const device = new DeviceFirmware({
        flash: new MemoryFlash(256 * 1024, 4096), kernel, trust: fw.trust, build: 'scalar', factory: () => factoryBundle(kernel, fw, FACTORY_VERSION, 'scalar'),
      });
      devices.set(num, device);
      return { num, device, selfTest: () => !failing(i), onInstalled: (version) => confirmed.set(num, version) };
    });
    const bundle = tailoredBundle(kernel, fw, 1, FACTORY_VERSION, 'scalar');
    const result = await rollout({
      clock: sim.clock,
      preset: sim.scenario.preset as ModemPresetName,
      dutyCyclePercent: sim.region.dutyCyclePercent,
      port: (num) => links.get(num)!.openPort(OTA_PORTNUM),
      channelUtilization: () => links.get(publisher)!.facts().channelUtilPct,
      report: (num, type, data) => events.push({ num, type, data }),
      key: fw.key,
    }, publisher, 'v0-scalar->v1', bundle, targets, 11);
    for (const l of links.values()) await l.close();
    return result;
  });
  return { outcome, events, devices, receivers, confirmed };
}

describe('an over-the-air rollout', () => {
  it('brings three receivers from the factory image to v1 over their own radios, and reports it', async () => {
    const { outcome, events, devices, receivers, confirmed } = await runRollout();
    expect([...outcome.installed].sort()).toEqual([...receivers].sort());
    expect(outcome.failed).toEqual({});
    expect(outcome.unfinished).toEqual({});
    expect(outcome.sender?.complete).toBe(true);
    expect(outcome.packets).toBeGreaterThan(0);
    expect(outcome.airtimeMs).toBeGreaterThan(0);
    expect(outcome.installedAfterMs).toHaveLength(3);
    for (const num of receivers) {
      const d = devices.get(num)!;
      expect(d.version).toBe(1);
      expect(d.updater.state).toBe('confirmed');
      expect(confirmed.get(num)).toBe(1);
    }
    expect(events[0]).toMatchObject({ type: 'ota_started', data: { bundle: 'v0-scalar->v1', version: 1, targets: receivers } });
    expect(events.filter((e) => e.type === 'ota_applied').map((e) => e.num).sort()).toEqual([...receivers].sort());
    expect(events.at(-1)).toMatchObject({ type: 'ota_done', data: { installed: 3, targets: 3, packets: outcome.packets } });
  }, 60_000);

  it('rolls a receiver whose self-test fails back to its factory image and reports the failure', async () => {
    const { outcome, events, devices, receivers, confirmed } = await runRollout((i) => i === 1);
    const bad = receivers[1]!;
    expect([...outcome.installed].sort()).toEqual(receivers.filter((n) => n !== bad).sort());
    expect(outcome.failed[bad]).toBeDefined();
    expect(devices.get(bad)!.version).toBe(FACTORY_VERSION);
    expect(confirmed.has(bad)).toBe(false);
    expect(events.some((e) => e.type === 'ota_failed' && e.num === bad)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'ota_done', data: { installed: 2, targets: 3 } });
  }, 60_000);
});
