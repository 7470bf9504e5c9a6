import type { Executor, JobSpec } from '@compotastic/orchestrator';
import { describe, expect, it } from 'vitest';
import { nodeExecutor } from '../src/core/index.js';

// The executor chain every node's orchestrator runs on (real nodes and the simulated swarm): the installed model
// first, then the node's other executors in order. (The model output is 9 bytes: 'installed'.)

const spec: JobSpec = { kind: 'model', modelId: 7, modelVersion: 2, layerStart: 0, layerEnd: 1, batch: 1, inputBytes: 4, outputBytes: 9 };

const fallback = (name: string, takesModels: boolean): Executor => ({
  name, supports: (s) => s.kind !== 'model' || takesModels, run: () => Promise.resolve(new TextEncoder().encode(name)),
});

const runner = (installed: boolean) => ({
  has: (id: number, version: number) => installed && id === 7 && version === 2,
  runLayers: () => Promise.resolve(new TextEncoder().encode('installed')),
});

const ran = async (e: Executor) => new TextDecoder().decode(await e.run(spec, new Uint8Array(4)));

describe('a node executor', () => {
  it('runs model layers on the installed model before any other executor', async () => {
    expect(await ran(nodeExecutor(runner(true), [fallback('other', true)]))).toBe('installed');
  });

  it('falls through to the next executors when the model is not installed', async () => {
    const e = nodeExecutor(runner(false), [fallback('gemm', false), fallback('other', true)]);
    expect(await ran(e)).toBe('other');
  });

  it('is the one executor itself when there is nothing else', () => {
    const only = fallback('only', true);
    expect(nodeExecutor(null, [only])).toBe(only);
    expect(nodeExecutor(undefined, []).supports(spec)).toBe(false);
  });
});
