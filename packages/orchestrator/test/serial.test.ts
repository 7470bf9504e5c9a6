import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialTransport } from '@compotastic/mesh/node';
import { Simulation } from '@compotastic/sim';
import { runRealtime } from '@compotastic/sim/client';
import { startSerialServers, startTcpServers, type SerialServers } from '@compotastic/sim/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { ReconnectingMeshLink } from '../src/meshtastic/reconnecting-link.js';

beforeAll(() => {
  const probe = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  if (probe.error) throw new Error("these tests need socat to make pseudo-terminals: install Debian's socat (sudo apt-get install socat)");
});

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}

describe('the same code path over serial (a radio on USB, here a simulated node on a pseudo-terminal)', () => {
  it('ReconnectingMeshLink on SerialTransport survives the cable being pulled and plugged back in', async () => {
    const sim = new Simulation({
      name: 'serial',
      duration: '2h',
      preset: 'SHORT_TURBO',
      pathLoss: { model: 'log-distance', sigmaDb: 0 },
      nodes: { list: [{ name: 'radio', x: 0, y: 0 }, { name: 'peer', x: 100, y: 0 }] },
    }, { seed: 1 });
    const realtime = runRealtime(sim, { speed: 5 });
    const num = sim.nodes[0]!.num;
    // The node's TCP server outlives the pty, as a radio outlives its cable.
    const tcp = await startTcpServers(sim, { basePort: 0, nodes: [num] });
    const dir = await mkdtemp(join(tmpdir(), 'orch-serial-'));
    const path = join(dir, 'ttyUSB0');
    const nodes = new Map([[num, path]]);
    let serial: SerialServers | undefined = await startSerialServers(sim, { nodes, tcp });
    const events: string[] = [];
    let link: ReconnectingMeshLink | undefined;
    try {
      link = await ReconnectingMeshLink.connect(() => SerialTransport.connect({ path }), {
        seed: 1,
        retryMs: 50,
        maxRetryMs: 200,
        onStatus: (up, detail) => events.push(`${up ? 'up' : 'down'}: ${detail}`),
      });
      expect(link.nodeNum).toBe(num);
      expect(link.connected).toBe(true);
      // Pull the cable: the pty disappears under the open port.
      await serial.close();
      serial = undefined;
      await until(() => !link!.connected);
      expect(await link.send(sim.nodes[1]!.num, Uint8Array.of(1), { wantAck: false })).toEqual({ ok: false, error: 'DISCONNECTED' });
      // While it is gone, reopening fails with the transport's typed error and the link backs off and retries.
      await until(() => events.some((e) => e.includes('no serial port at')));
      serial = await startSerialServers(sim, { nodes, tcp });
      await until(() => link!.connected);
      expect(link.nodeNum).toBe(num);
      expect(events[0]).toMatch(/^down: /);
      expect(events.at(-1)).toBe('up: reconnected');
      expect(events.filter((e) => e.startsWith('up')).length).toBe(1);
    } finally {
      await link?.close();
      await serial?.close();
      await tcp.close();
      realtime.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
