// The real suites: their declarations are consistent with each other and with
// gates.json, and on small cases every contender computes the same result
// (so every ratio compares the same work).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type DiscoveredSuite, discoverSuites } from '../src/harness/discover.js';
import { checkDeclared, loadGates, parseRatioKey } from '../src/harness/gates.js';
import { Progress } from '../src/harness/progress.js';
import { Hosts } from '../src/harness/run.js';
import { caseRatios } from '../src/harness/suite.js';
import { INT16_SATURATION, saturatingGemm } from '../src/suites/kernels.js';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const GATES = fileURLToPath(new URL('../gates.json', import.meta.url));

async function suites(): Promise<DiscoveredSuite[]> {
  if (!existsSync(join(DIST, 'suites'))) throw new Error('build the package first (pnpm build)');
  return discoverSuites(join(DIST, 'suites'));
}

// The real cache, so suites that need downloaded fixtures find them when they are there.
const CACHE = fileURLToPath(new URL('../.cache/', import.meta.url));
const env = (short: boolean) => ({ short, cacheDir: CACHE, log: () => undefined });

describe('suite declarations', () => {
  it('have unique ids, and every ratio and gate names existing cases and contenders', async () => {
    const found = await suites();
    expect(found.map((f) => f.suite.name)).toContain('kernels');
    const gates = loadGates(GATES);
    expect(() => checkDeclared(gates, found.map((f) => f.suite))).not.toThrow();
    for (const { suite } of found) {
      for (const short of [false, true]) {
        const cases = await suite.cases(env(short));
        const ids = cases.map((c) => c.id);
        expect(new Set(ids).size, `${suite.name} case ids`).toBe(ids.length);
        for (const c of cases) {
          const contenders = c.contenders.map((x) => x.id);
          expect(new Set(contenders).size, `${c.id} contender ids`).toBe(contenders.length);
          for (const id of contenders) expect(id, 'contender ids cannot contain / (ratio keys use it)').not.toContain('/');
          for (const r of caseRatios(c)) expect(contenders, `${c.id} ratio ${r.ours}/${r.peer}`).toEqual(expect.arrayContaining([r.ours, r.peer]));
        }
        const keys = [...(suite.gates ?? []), ...Object.keys(gates.suites[suite.name] ?? {}).map(parseRatioKey)];
        for (const g of keys) {
          const c = cases.find((x) => x.id === g.case);
          expect(c, `gate case '${g.case}'`).toBeDefined();
          expect(caseRatios(c!).some((r) => r.ours === g.ours && r.peer === g.peer), `gate ${g.case}: ${g.ours}/${g.peer} is a reported ratio`).toBe(true);
        }
      }
    }
  });

  it('run relaxed-SIMD contenders in a child with the flag Node 20 needs', async () => {
    const kernels = (await suites()).find((f) => f.suite.name === 'kernels')!.suite;
    for (const c of await kernels.cases(env(false))) {
      for (const x of c.contenders) {
        if (x.id.startsWith('relaxed')) expect(x.nodeFlags).toEqual(['--experimental-wasm-relaxed-simd']);
        else expect(x.nodeFlags ?? []).toEqual([]);
      }
    }
  });
});

/** Whether this CPU has an int8 dot-product instruction x86 kernels use (AVX-VNNI or AVX-512 VNNI); true off Linux. */
function cpuHasVnni(): boolean {
  try {
    return /\b(avx_vnni|avx512_vnni)\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return true;
  }
}

describe('the int16-saturating product onnxruntime computes without AVX-VNNI', () => {
  it('saturates each adjacent-k pair of products, and equals the exact product when no pair overflows', () => {
    // (255 * 127) * 2 = 64770 saturates to 32767; exact: (255 - 128) * 127 * 2 = 32258.
    expect([...saturatingGemm(Uint8Array.of(255, 255), Int8Array.of(127, 127), 1, 2, 1, 128)]).toEqual([32767 - 128 * 254]);
    expect([...saturatingGemm(Uint8Array.of(3, 4, 5), Int8Array.of(-2, 7, 1), 1, 3, 1, 1)]).toEqual([(3 - 1) * -2 + (4 - 1) * 7 + (5 - 1) * 1]);
    expect([...saturatingGemm(Uint8Array.of(200, 200), Int8Array.of(-128, -128), 1, 2, 1, 0)]).toEqual([-32768]);
  });
});

describe('kernel suite contenders agree', () => {
  const hosts = new Hosts(join(DIST, 'worker.js'), new Progress({ write: () => undefined }, false));
  afterAll(() => hosts.close());

  it.each(['matmul 1x1x1', 'QuantizeLinear 1', 'gemv 1x256x256', 'gemm 64x256x256', 'QuantizeLinear 4K', 'DynamicQuantizeLinear 4K', 'DequantizeLinear 4K'])('%s', async (caseId) => {
    const found = (await suites()).find((f) => f.suite.name === 'kernels')!;
    const e = env(false);
    const c = (await hosts.local.casesOf(found.file, e)).find((x) => x.id === caseId)!;
    expect(c).toBeDefined();
    // Every contender runs here, onnxruntime-node included (a devDependency of this package, so a missing native
    // peer fails this test instead of skipping its comparison).
    expect(c.contenders.map((x) => x.id)).toContain('ort-node');
    for (const contender of c.contenders) {
      const host = hosts.for(contender);
      const reply = await host.setup({ suiteFile: found.file, caseId, contenderId: contender.id, short: false, cacheDir: e.cacheDir });
      expect(reply, `${caseId} ${contender.id}`).toMatchObject({ status: 'ready' });
      if (reply.status !== 'ready') throw new Error('unreachable: checked above');
      // onnxruntime-node's MLAS kernel saturates on CPUs without AVX-VNNI (as on the AMD EPYC this project's CI ran on):
      // tolerated only there, and only when its output is exactly that arithmetic.
      if (contender.id === 'ort-node' && reply.wrong !== undefined && !cpuHasVnni()) expect(reply.wrong.startsWith(INT16_SATURATION)).toBe(true);
      else expect(reply.wrong, `${caseId} ${contender.id}`).toBeUndefined();
      await host.dispose(reply.handle);
    }
  });
});
