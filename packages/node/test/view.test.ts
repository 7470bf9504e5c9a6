import { describe, expect, it } from 'vitest';
import type { NodeStatus } from '../src/core/index.js';
import { bar, formatEvent, renderStatus } from '../src/index.js';

const status = (extra: Partial<NodeStatus> = {}): NodeStatus => ({
  num: 0x11, id: '!00000011', publicKey: 'ab'.repeat(32), stateDir: '/var/lib/node', kernelBuild: 'simd',
  image: { model: 'vibration-mlp', version: 1, slot: 1, state: 'confirmed', bootAction: 'booted' },
  model: { id: 2, version: 1 },
  radio: { preset: 'LONG_FAST', region: 'EU_868', dutyCyclePct: 10, channelUtilPct: 12.5, txUtilPct: 1.25, hopLimit: 3, portBlocked: false },
  peers: [
    { num: 0x22, id: '!00000022', name: 'Rescue Jetson', deviceClass: 'jetson', hops: 0, snr: 7.5, battery: null, model: '2@1', acceptsJobs: true, lastHeardS: 12 },
    { num: 0x33, id: '!00000033', name: null, deviceClass: 'microcontroller', hops: 2, snr: null, battery: 64, model: null, acceptsJobs: false, lastHeardS: 4000 },
  ],
  jobs: [{ id: 5, tag: 'vib-1', status: 'running', reason: null, plan: 'remote', shards: 2, done: 1 }],
  ota: { receiving: { state: 'receiving', session: 9, useful: 30, resumed: 10, needed: 60, percent: 40, reason: 'NONE' }, publishing: null, lastPublish: null },
  ...extra,
} as NodeStatus);

describe('the live view', () => {
  it('shows the node, a peers table with every column, its jobs and an OTA progress bar', () => {
    const text = renderStatus(status());
    expect(text).toMatch(/^node !00000011 {2}kernel simd {2}image vibration-mlp v1 \(slot 1, confirmed\)$/m);
    expect(text).toMatch(/^ID +NAME +CLASS +HOPS +SNR +BATTERY +MODEL +JOBS +LAST HEARD$/m);
    expect(text).toMatch(/^!00000022 +Rescue Jetson +jetson +0 +7\.5 +ext +2@1 +yes +12s ago$/m);
    expect(text).toMatch(/^!00000033 +microcontroller +2 +64% +- +no +1h ago$/m);
    expect(text).toMatch(/vib-1 +running +1\/2 shards {2}remote/);
    expect(text).toContain(`receiving  ${bar(40)}  receiving`);
  });

  it('says when the radio blocks the port, or when the node speaks on its fallback port instead', () => {
    const radio = status().radio;
    expect(renderStatus(status())).not.toMatch(/PORT BLOCKED|speaking on port/);
    expect(renderStatus(status({ radio: { ...radio, portBlocked: true } }))).toMatch(/PORT BLOCKED by this radio's rebroadcast mode/);
    expect(renderStatus(status({ radio: { ...radio, fallbackPortnum: 287 } }))).toMatch(/speaking on port 287 \(this radio's rebroadcast mode drops the main port\)/);
  });

  it('says so when no peer was heard and nothing is being received', () => {
    const text = renderStatus(status({ peers: [], ota: { receiving: { state: 'idle', session: null, useful: 0, resumed: 0, needed: 0, percent: 0, reason: 'NONE' }, publishing: null, lastPublish: null } }));
    expect(text).toMatch(/peers \(0\)\n.*\n {2}\(none heard yet/);
    expect(text).toMatch(/receiving {2}idle/);
  });

  it('draws bars proportionally and clamps out-of-range values', () => {
    expect(bar(0, 10)).toBe('[..........]   0%');
    expect(bar(50, 10)).toBe('[#####.....]  50%');
    expect(bar(250, 10)).toBe('[##########] 100%');
    expect(bar(-5, 10)).toBe('[..........]   0%');
  });

  it('writes events as JSON lines with --json and as text otherwise', () => {
    expect(JSON.parse(formatEvent({ type: 'ota_installed', version: 2 }, true, 1000))).toEqual({ t: 1000, type: 'ota_installed', version: 2 });
    expect(formatEvent({ type: 'job_done', tag: 'x', workers: [1] }, false, 0)).toBe('1970-01-01T00:00:00.000Z job_done tag=x workers=[1]\n');
  });
});
