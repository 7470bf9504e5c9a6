import { Prng, WallClock } from '@compotastic/mesh';
import { TcpTransport } from '@compotastic/mesh/node';
import { loadKernel } from '@compotastic/kernel';
import { Simulation } from '@compotastic/sim';
import { runRealtime } from '@compotastic/sim/client';
import { startTcpServers } from '@compotastic/sim/node';
import { describe, expect, it } from 'vitest';
import type { NodeHost } from '../src/context.js';
import type { JobOutcome } from '../src/delegation/coordinator.js';
import { KernelExecutor, MapWeightStore } from '../src/jobs/executor.js';
import { type GemmSpec, inputBytes, residentWeightsId } from '../src/jobs/spec.js';
import { ReconnectingMeshLink } from '../src/meshtastic/reconnecting-link.js';
import { Orchestrator } from '../src/orchestrator.js';
import { gemmOracle } from './oracle.js';

describe('the same code path over TCP (a node\'s network API, meshtasticd, or the simulator\'s TCP server)', () => {
  it('two orchestrators attached over TCP with the project\'s deframer complete an offloaded job', async () => {
    const sim = new Simulation({
      name: 'tcp',
      duration: '2h',
      preset: 'SHORT_TURBO',
      pathLoss: { model: 'log-distance', sigmaDb: 0 },
      nodes: { list: [{ name: 'sensor', x: 0, y: 0 }, { name: 'phone', x: 150, y: 0, deviceClass: 'phone' }] },
    }, { seed: 1 });
    const realtime = runRealtime(sim, { speed: 5 });
    const servers = await startTcpServers(sim, { basePort: 0 });
    const kernel = await loadKernel({ build: 'scalar' });
    const weights = new MapWeightStore();
    const W = residentWeightsId(1, 0);
    weights.set(W, { bytes: new Prng(1).bytes(128 * 32), k: 128, n: 32, type: 'int8' });
    const clock = new WallClock();
    const links: ReconnectingMeshLink[] = [];
    const orchs: Orchestrator[] = [];
    try {
      for (const [i, node] of sim.nodes.entries()) {
        const port = servers.ports.get(node.num) as number;
        const link = await ReconnectingMeshLink.connect(() => TcpTransport.connect({ host: '127.0.0.1', port }), { seed: i + 1 });
        links.push(link);
        const host: NodeHost = { clock, batteryPct: () => null, freeRamKiB: () => (i === 0 ? 64 : 1 << 20) };
        orchs.push(
          new Orchestrator({
            host,
            mesh: link,
            executor: new KernelExecutor(kernel, i === 1 ? weights : undefined),
            seed: i + 1,
            config: { startJitterMs: 200, deltaMinIntervalMs: 1000, progressIntervalMs: 2000, stallMs: 1500, acceptTimeoutMs: 8000, leaseSilenceMs: 15_000 },
            capabilities: {
              deviceClass: i === 0 ? 'microcontroller' : 'phone',
              accelerators: [],
              precisions: ['int8'],
              onnxRuntime: false,
              kernelBuild: 'scalar',
              acceptsJobs: true,
              externalPower: true,
              portBlocked: false,
              links: { ble: false, wifi: false },
              modelFamilies: ['gemm'],
              freeRamKiB: host.freeRamKiB(),
              gops: i === 0 ? 0.05 : 100,
              firmwareVersion: link.firmware,
              modelId: i === 1 ? 1 : 0,
              modelVersion: i === 1 ? 1 : 0,
              computeDrainPctPerHour: 0,
            },
          }),
        );
      }
      expect(links[0]?.nodeNum).toBe(sim.nodes[0]?.num);
      for (const o of orchs) o.start();
      const owner = orchs[0] as Orchestrator;
      await new Promise<void>((resolve) => {
        const poll = (): void => (owner.registry.get(sim.nodes[1]!.num)?.state ? resolve() : void setTimeout(poll, 50));
        poll();
      });
      const spec: GemmSpec = { kind: 'gemm', m: 1, k: 128, n: 32, aType: 'uint8', bType: 'int8', aZeroPoint: 128, bZeroPoint: 0, weights: { resident: W } };
      // Inputs full of the frame start bytes: a stock deframer would lose these packets.
      const input = new Uint8Array(inputBytes(spec)).map((_, j) => (j % 2 ? 0xc3 : 0x94));
      const outcome = await new Promise<JobOutcome>((resolve) => {
        owner.onJobEnd(resolve);
        owner.submit(spec, input, { tag: 'tcp' });
      });
      expect(outcome.status).toBe('done');
      expect(outcome.workers).toEqual([sim.nodes[1]!.num]);
      expect(outcome.output).toEqual(gemmOracle(spec, input, weights.get(W)?.bytes));
    } finally {
      for (const o of orchs) o.close();
      for (const l of links) await l.close();
      await servers.close();
      realtime.stop();
    }
  });
});
