import type { MeshDevice } from '@meshtastic/core';
import { afterEach } from 'vitest';
import type { RealtimeRun } from '../src/client.js';
import type { TcpServers } from '../src/node.js';

/** What a TCP test starts: torn down after each test (devices first, then the clock, then the servers). */
export interface TcpHarness {
  servers: TcpServers | undefined;
  run: RealtimeRun | undefined;
  devices: MeshDevice[];
}

export function tcpHarness(): TcpHarness {
  const h: TcpHarness = { servers: undefined, run: undefined, devices: [] };
  afterEach(async () => {
    for (const d of h.devices.splice(0)) {
      d.complete();
      await d.transport.disconnect().catch(() => {});
    }
    h.run?.stop();
    await h.servers?.close();
    h.servers = undefined;
    h.run = undefined;
  });
  return h;
}
