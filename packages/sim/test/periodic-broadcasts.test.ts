import { PortNum } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { settingsOf } from '../src/client/admin.js';
import { congestionScalingCoefficient, POSITION_START_DELAY_MS } from '../src/modules/firmware-modules.js';
import { TELEMETRY_FIRST_RUN_MS } from '../src/client/phone-telemetry.js';
import { resolveScenario } from '../src/index.js';
import { lineScenario, of, traced } from './helpers.js';

/* The firmware's periodic Position and device Telemetry broadcasts (2.6.11 PositionModule, DeviceTelemetryModule). */

/** NodeInfo off; position at the firmware's default (a node with a fixed position), telemetry at the scenario default. */
const defaults = { nodeInfoBroadcastS: 0, positionBroadcastS: 900, telemetryBroadcastS: undefined };

/** Each gap within the few seconds of the 5 s check and the random transmit delay. */
function expectGaps(times: number[], gap: number, count: number): void {
  const gaps = times.slice(1, count + 1).map((t, i) => t - times[i]!);
  expect(gaps).toHaveLength(count);
  for (const g of gaps) expect(Math.abs(g - gap), `gaps ${gaps.join(', ')} against ${gap}`).toBeLessThanOrEqual(6);
}

function sentTimes(events: ReturnType<typeof traced>['events'], node: number, port: number): number[] {
  return of(events, 'tx_start', { node, from: node, port }).map((e) => Math.round((e.t as number) / 1000));
}

describe('periodic broadcasts', () => {
  it('sends position and device metrics on the firmware defaults, scaled for a small mesh (0.6 at 10 nodes or fewer)', () => {
    const { sim, events } = traced(lineScenario(2, { duration: '40m', firmware: defaults }));
    const [a, b] = sim.nodes;
    sim.run();
    // Position: first 45 s after boot, then every 900 s x 0.6 = 540 s (the 5 s checks land on the interval).
    const pos = sentTimes(events, a!.num, PortNum.POSITION_APP);
    expect(pos[0]! * 1000).toBeGreaterThanOrEqual(POSITION_START_DELAY_MS);
    expect(pos[0]! * 1000).toBeLessThan(POSITION_START_DELAY_MS + 10_000);
    expect(pos).toHaveLength(5);
    expectGaps(pos, 540, 4);
    // Telemetry: at the first run, then every 3600 s x 0.6 = 2160 s.
    const tel = sentTimes(events, a!.num, PortNum.TELEMETRY_APP);
    expect(tel).toHaveLength(2);
    expect(tel[0]! * 1000).toBeGreaterThanOrEqual(TELEMETRY_FIRST_RUN_MS);
    expectGaps(tel, 2160, 1);
    // a (at the origin) learns b's position from b's broadcast.
    expect(a!.router.nodeDb.get(b!.num)?.position?.longitudeI).toBe(Math.round(sim.toLatLon(b!.x, b!.y).lon * 1e7));
  });

  it('a client sets the intervals (position.position_broadcast_secs, telemetry.device_update_interval)', () => {
    const { sim, events } = traced(lineScenario(2, { duration: '20m', firmware: defaults }));
    const [a] = sim.nodes;
    const s = settingsOf(sim, a!);
    expect(s.setConfig({ case: 'position', value: { positionBroadcastSecs: 100 } }).error).toBe(0);
    expect(s.setModuleConfig({ case: 'telemetry', value: { deviceUpdateInterval: 300 } }).error).toBe(0);
    sim.run();
    const pos = sentTimes(events, a!.num, PortNum.POSITION_APP);
    expectGaps(pos, 60, 3);
    const tel = sentTimes(events, a!.num, PortNum.TELEMETRY_APP);
    expectGaps(tel, 180, 2);
  });

  it('scales intervals with the nodes online as Default::congestionScalingCoefficient', () => {
    expect([5, 15, 25, 35, 40].map((n) => congestionScalingCoefficient(n, 'LONG_FAST'))).toEqual([0.6, 0.7, 0.8, 1, 1]);
    expect(congestionScalingCoefficient(60, 'LONG_FAST')).toBeCloseTo(2.5);
    expect(congestionScalingCoefficient(60, 'MEDIUM_FAST')).toBeCloseTo(1.4);
    expect(congestionScalingCoefficient(60, 'SHORT_TURBO')).toBe(1);
  });

  it('broadcasts device metrics by default, a position only where the scenario gives nodes one', () => {
    const fw = resolveScenario({ name: 'd', duration: '1m', nodes: { count: 2 } }).firmware;
    expect(fw.telemetryBroadcastS).toBe(3600);
    expect(fw.positionBroadcastS).toBe(0);
    expect(resolveScenario({ name: 'd', duration: '1m', nodes: { count: 2 }, firmware: { positionBroadcastS: 900 } }).firmware.positionBroadcastS).toBe(900);
  });

  it('is off with 0, and routers broadcast every 12 h', () => {
    const off = traced(lineScenario(2, { duration: '20m', firmware: { positionBroadcastS: 0, telemetryBroadcastS: 0 } }));
    off.sim.run();
    expect(of(off.events, 'tx_start', { port: PortNum.POSITION_APP })).toHaveLength(0);
    expect(of(off.events, 'tx_start', { port: PortNum.TELEMETRY_APP })).toHaveLength(0);
    const router = traced(lineScenario(2, { duration: '3h', firmware: defaults }, [{ role: 'ROUTER' }]));
    router.sim.run();
    expect(sentTimes(router.events, router.sim.nodes[0]!.num, PortNum.POSITION_APP)).toHaveLength(1);
  });

  it('takes a client-set tx power into the link budget (0 is the region limit, clamped to the scenario radios)', () => {
    const run = (txPower: number | null) => {
      // 600 m apart: b still hears a at 25 dBm.
      const { sim, events } = traced(lineScenario(2, { duration: '2m', firmware: defaults }, [{}, { x: 600 }]));
      const [a, b] = sim.nodes;
      if (txPower !== null) {
        const s = settingsOf(sim, a!);
        expect(s.setConfig({ case: 'lora', value: { ...s.configValue('lora'), txPower } }).error).toBe(0);
      }
      sim.run();
      return { rssi: of(events, 'rx', { node: b!.num, sender: a!.num })[0]?.rssi as number, power: a!.txPowerDbm };
    };
    const full = run(null);
    const low = run(25);
    expect(low.power).toBe(25);
    expect(full.power).toBe(30);
    expect(full.rssi - low.rssi).toBe(5);
    expect(run(0).power).toBe(30);
  });
});
