import { describe, expect, it } from 'vitest';
import { BUILTIN_SCENARIOS, SimError, nearestName, resolveScenario, validateScenario, type ScenarioConfig } from '../src/index.js';

const base = (): ScenarioConfig => ({ name: 'v', duration: '10m', nodes: { count: 3 } });

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SimError);
    return (e as Error).message;
  }
  throw new Error('expected a SimError');
}

describe('scenario validation (shared by every command)', () => {
  it('accepts every built-in scenario', () => {
    for (const s of Object.values(BUILTIN_SCENARIOS)) expect(() => resolveScenario(s)).not.toThrow();
  });

  it('refuses a misspelled key, naming the nearest valid one', () => {
    expect(refusal(() => resolveScenario({ ...base(), nodes: { cuont: 5 } } as never))).toBe('unknown key nodes.cuont; did you mean nodes.count?');
    expect(refusal(() => resolveScenario({ ...base(), duraton: '1h' } as never))).toBe('unknown key duraton; did you mean duration?');
    expect(refusal(() => resolveScenario({ ...base(), traffic: [{ kind: 'broadcast', periodS: 60, wantack: true }] } as never))).toBe('unknown key traffic[0].wantack; did you mean traffic[0].wantAck?');
    expect(refusal(() => resolveScenario({ ...base(), events: [{ atS: 1, kind: 'node_down', nod: 0 }] } as never))).toBe('unknown key events[0].nod; did you mean events[0].node?');
    // Nothing near: the valid keys are listed instead.
    expect(refusal(() => resolveScenario({ ...base(), area: { zzzzzz: 1 } } as never))).toBe('unknown key area.zzzzzz (area has widthM, heightM)');
    // The application's own data is not the simulator's to check.
    expect(() => resolveScenario({ ...base(), app: { anything: 1 } })).not.toThrow();
  });

  it('refuses unknown --set paths and values of the wrong type', () => {
    expect(refusal(() => validateScenario(base(), { 'nodes.cuont': 5 }))).toBe('unknown key nodes.cuont; did you mean nodes.count?');
    expect(refusal(() => validateScenario(base(), { 'bogus.path': 1 }))).toMatch(/^unknown key bogus \(a scenario has name, description, /);
    expect(refusal(() => validateScenario(base(), { 'nodes.count': 'abc' }))).toBe('nodes.count: expected a number, got "abc"');
    expect(validateScenario(base(), { 'nodes.count': '7' }).nodes.count).toBe(7);
  });

  it('requires duration, as the README says', () => {
    expect(refusal(() => resolveScenario({ name: 'v', nodes: { count: 3 } } as never))).toMatch(/^duration: is required/);
    expect(refusal(() => resolveScenario({ ...base(), duration: '400d' }))).toMatch(/^duration: must be at most 366 days/);
  });

  it('refuses a list, or anything but an object, as a scenario or as one of its objects', () => {
    expect(refusal(() => validateScenario([]))).toBe('scenario: expected an object, got a list');
    expect(refusal(() => resolveScenario([] as never))).toBe('scenario: expected an object, got a list');
    expect(refusal(() => validateScenario(42))).toBe('scenario: expected an object, got 42');
    expect(refusal(() => resolveScenario({ ...base(), nodes: [] } as never))).toBe('nodes: expected an object, got []');
    expect(refusal(() => resolveScenario({ ...base(), traffic: {} } as never))).toBe('traffic: expected a list of traffic streams');
  });

  it('bounds every count, with the allowed range in the message', () => {
    expect(refusal(() => validateScenario(base(), { 'nodes.placement.clusters': 2147483648 }))).toBe('nodes.placement.clusters: must be between 1 and 100000, got 2147483648');
    expect(refusal(() => validateScenario(base(), { 'nodes.count': 1e9 }))).toBe('nodes.count: must be between 0 and 100000, got 1000000000');
    expect(refusal(() => validateScenario(base(), { 'firmware.txQueueLength': 5000 }))).toBe('firmware.txQueueLength: must be between 1 and 1024, got 5000');
    // The firmware's periodic broadcasts: 0 is off, otherwise at least the firmware's own floor.
    expect(refusal(() => validateScenario(base(), { 'firmware.nodeInfoBroadcastS': 10 }))).toMatch(/^firmware\.nodeInfoBroadcastS: must be between 60 and /);
    expect(refusal(() => validateScenario(base(), { 'firmware.positionBroadcastS': 5 }))).toMatch(/^firmware\.positionBroadcastS: must be between 30 and /);
    expect(refusal(() => validateScenario(base(), { 'firmware.telemetryBroadcastS': -1 }))).toMatch(/^firmware\.telemetryBroadcastS: must be between 30 and /);
    expect(refusal(() => resolveScenario({ ...base(), firmware: { positionBroadcast: 900 } } as never))).toBe('unknown key firmware.positionBroadcast; did you mean firmware.positionBroadcastS?');
    expect(validateScenario(base(), { 'firmware.positionBroadcastS': 0 }).firmware?.positionBroadcastS).toBe(0);
    expect(refusal(() => resolveScenario({ ...base(), nodes: { list: [{ name: 'a', x: 0, y: 0, rebroadcastMode: 'LOCAL' }] } } as never))).toMatch(/^nodes\.list\[0\]\.rebroadcastMode: /);
  });

  it('suggests only names close enough to be a misspelling', () => {
    expect(nearestName('cuont', ['count', 'list'])).toBe('count');
    expect(nearestName('preest', ['preset', 'region'])).toBe('preset');
    expect(nearestName('x', ['count', 'list'])).toBeUndefined();
  });
});
