import { request } from 'node:http';
import { join } from 'node:path';
import { JobSpecError } from '@compotastic/orchestrator';
import { afterEach, describe, expect, it } from 'vitest';
import { type CompotasticNode, NodeError, controlRequest, serveControl } from '../src/index.js';
import { tempDir } from './helpers.js';

// The control socket in front of a stand-in node: what reaches the node, and what a bad request gets back.
const calls: unknown[][] = [];
const fakeNode = {
  status: () => ({ num: 7, id: '!00000007' }),
  submit: async (spec: { m?: number }, input: Uint8Array, options: unknown) => {
    calls.push(['submit', spec, input, options]);
    if (spec.m === 99) throw new JobSpecError('BAD_SHAPE', 'm is 99');
    if (spec.m === 98) throw new Error('a bug');
    return { id: 1, tag: 't', status: 'done', reason: null, output: Uint8Array.of(1, 2, 3), latencyMs: 5, workers: [2], plan: 'remote' };
  },
  publish: async (bundle: Uint8Array, options: unknown) => {
    calls.push(['publish', bundle, options]);
    return { complete: true };
  },
} as unknown as CompotasticNode;

let close: (() => Promise<void>) | null = null;
afterEach(async () => {
  await close?.();
  close = null;
  calls.length = 0;
});

const gemm = (m: number) => ({ kind: 'gemm', m, k: 1, n: 1, aType: 'uint8', bType: 'int8', aZeroPoint: 0, bZeroPoint: 0, weights: 'inline' });

function raw(path: string, method: string, urlPath: string, body: string): Promise<{ status: number; body: { error?: { code: string } } }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: path, method, path: urlPath }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the control socket', () => {
  it('hands status, jobs and bundles to the node and returns what it answers', async () => {
    const dir = tempDir();
    const served = await serveControl(fakeNode, dir);
    close = served.close;
    expect(served.path).toBe(join(dir, 'control.sock'));
    expect(await controlRequest(served.path, 'GET', '/status')).toEqual({ num: 7, id: '!00000007' });
    const done = await controlRequest(served.path, 'POST', '/jobs', { spec: gemm(2), input: Buffer.from([5, 6, 7, 8]).toString('base64'), tag: 'x', deadlineS: 30 });
    expect(done).toMatchObject({ status: 'done', output: Buffer.from([1, 2, 3]).toString('base64') });
    expect(calls[0]).toEqual(['submit', gemm(2), Uint8Array.of(5, 6, 7, 8), { tag: 'x', deadlineS: 30 }]);
    await controlRequest(served.path, 'POST', '/publish', { bundle: 'AQI=', targets: [12, 13] });
    expect(calls[1]).toEqual(['publish', Uint8Array.of(1, 2), { targets: [12, 13] }]);
  });

  it('answers bad requests with 400 and a typed code, a bug with 500, and never reaches the node with bad input', async () => {
    const served = await serveControl(fakeNode, tempDir());
    close = served.close;
    const cases: Array<[string, string, string, number, string]> = [
      ['POST', '/jobs', 'not json', 400, 'BAD_REQUEST'],
      ['POST', '/jobs', '[1]', 400, 'BAD_REQUEST'],
      ['POST', '/jobs', JSON.stringify({ spec: gemm(0), input: '' }), 400, 'BAD_SHAPE'],
      ['POST', '/jobs', JSON.stringify({ spec: gemm(1), input: '%%%' }), 400, 'BAD_REQUEST'],
      ['POST', '/jobs', JSON.stringify({ spec: gemm(1), input: '', deadlineS: -1 }), 400, 'BAD_REQUEST'],
      ['POST', '/publish', JSON.stringify({ bundle: 'AA==', targets: [0] }), 400, 'BAD_REQUEST'],
      ['POST', '/publish-model', JSON.stringify({ config: 'AA==', weights: 'AA==', version: 'x' }), 400, 'BAD_REQUEST'],
      ['GET', '/nowhere', '', 400, 'NOT_FOUND'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await raw(served.path, method, path, body);
      expect([path, body, r.status, r.body.error?.code]).toEqual([path, body, status, code]);
    }
    expect(calls).toEqual([]);
    const typed = await raw(served.path, 'POST', '/jobs', JSON.stringify({ spec: gemm(99), input: '' }));
    expect([typed.status, typed.body.error?.code]).toEqual([400, 'BAD_SHAPE']);
    const bug = await raw(served.path, 'POST', '/jobs', JSON.stringify({ spec: gemm(98), input: '' }));
    expect([bug.status, bug.body.error?.code]).toEqual([500, 'INTERNAL']);
    await expect(controlRequest(served.path, 'POST', '/jobs', { spec: gemm(99), input: '' })).rejects.toThrow(NodeError);
  });
});
