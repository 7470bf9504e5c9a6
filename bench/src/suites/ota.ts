// The OTA suite: binary patches of real consecutive releases against bsdiff (size and speed, same run), the
// fountain code's overhead at 0/10/30% loss, and the airtime of delivering a 64 KiB bundle to 30 nodes on LONG_FAST
// at 20% loss by broadcast against per-node unicast with want_ack, both in the same simulated scenario.
// Sizes and airtime are not timings: they are logged while the suite runs and stored with its result (describe()).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng } from '@compotastic/mesh';
import { FountainDecoder, FountainEncoder, applyPatch, compareRolloutAirtime, createPatch, measureFecOverhead } from '@compotastic/ota';
import { Simulation } from '@compotastic/sim';
import { type BinaryPair, type BinaryPairSpec, BINARY_PAIRS, fetchBinaryPair } from '../fixtures/npm-binaries.js';
import { type BenchCase, type SetupContext, SkipContender, defineSuite } from '../harness/suite.js';
import { kernelFor } from '../peers/ours.js';

const SHORT_PAIR_BYTES = 2 * 2 ** 20;
const sizes: Record<string, { ours: number; bsdiff: number | null; newBytes: number }> = {};

function hasBsdiff(): boolean {
  try {
    execFileSync('bsdiff', [], { stdio: 'ignore' });
    return true;
  } catch (e) {
    // bsdiff without arguments prints usage and exits 1; only a missing binary is ENOENT.
    return (e as { code?: string }).code !== 'ENOENT';
  }
}

function bsdiff(old: Uint8Array, next: Uint8Array): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'ota-bsdiff-'));
  try {
    writeFileSync(join(dir, 'old'), old);
    writeFileSync(join(dir, 'new'), next);
    execFileSync('bsdiff', [join(dir, 'old'), join(dir, 'new'), join(dir, 'patch')]);
    return new Uint8Array(readFileSync(join(dir, 'patch')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function patchCases(spec: BinaryPairSpec, cacheDir: string, short: boolean): BenchCase[] {
  let pair: Promise<BinaryPair> | undefined;
  const load = (ctx: SetupContext): Promise<BinaryPair> => {
    pair ??= fetchBinaryPair(spec, { cacheDir, timeoutMs: short ? 60_000 : 300_000 }).then((p) =>
      short ? { ...p, old: p.old.subarray(0, SHORT_PAIR_BYTES), next: p.next.subarray(0, SHORT_PAIR_BYTES) } : p);
    return pair.catch((err: unknown) => {
      const why = `${spec.pkg} ${spec.from} -> ${spec.to} unavailable (${err instanceof Error ? err.message : String(err)})`;
      ctx.log(why);
      throw new SkipContender(why);
    });
  };
  const label = `${spec.id} ${spec.from}->${spec.to}`;
  const record = (ctx: SetupContext, p: BinaryPair, who: 'ours' | 'bsdiff', n: number): void => {
    const s = (sizes[label] ??= { ours: 0, bsdiff: null, newBytes: p.next.length });
    if (who === 'ours') s.ours = n;
    else s.bsdiff = n;
    ctx.log(`patch ${label}: ${who} ${n} bytes (${((100 * n) / p.next.length).toFixed(2)}% of the new file)`);
  };
  const create: BenchCase = {
    id: `patch ${label}`,
    group: 'OTA patch',
    minIterations: 2,
    note: 'patch creation; sizes are logged and stored with the result',
    contenders: [
      {
        id: 'ours',
        role: 'ours',
        label: 'kernel diff + context-modelled patch',
        async setup(ctx) {
          const p = await load(ctx);
          const kernel = await kernelFor('simd');
          record(ctx, p, 'ours', createPatch(kernel, p.old, p.next).patch.length);
          return { work: { bytes: p.next.length }, run: () => createPatch(kernel, p.old, p.next).patch };
        },
      },
      {
        id: 'bsdiff',
        role: 'peer',
        label: 'bsdiff 4 (Debian)',
        async setup(ctx) {
          if (!hasBsdiff()) throw new SkipContender('bsdiff is not installed (apt-get install bsdiff)');
          const p = await load(ctx);
          record(ctx, p, 'bsdiff', bsdiff(p.old, p.next).length);
          return { work: { bytes: p.next.length }, run: () => bsdiff(p.old, p.next) };
        },
      },
    ],
    async verify(contender, output) {
      if (contender !== 'ours') return undefined;
      const p = await pair!;
      const back = applyPatch(output as Uint8Array, p.old);
      return back.length === p.next.length && back.every((x, i) => x === p.next[i]) ? undefined : 'patch does not rebuild the new release';
    },
  };
  const apply: BenchCase = {
    id: `apply ${label}`,
    group: 'OTA patch',
    minIterations: 2,
    note: 'streaming apply within 64 KiB of working memory',
    contenders: [
      {
        id: 'ours',
        role: 'ours',
        label: 'streaming apply (64 KiB)',
        async setup(ctx) {
          const p = await load(ctx);
          const patch = createPatch(await kernelFor('simd'), p.old, p.next).patch;
          return { work: { bytes: p.next.length }, run: () => applyPatch(patch, p.old) };
        },
      },
    ],
  };
  return [create, apply];
}

function fountainCase(): BenchCase {
  const data = new Prng(1).bytes(65536);
  return {
    id: 'fountain decode 64 KiB at 30% loss',
    group: 'OTA fountain code',
    contenders: [
      {
        id: 'ours',
        role: 'ours',
        label: 'GF(256) fountain, 225-byte symbols',
        setup() {
          const enc = new FountainEncoder(data, { symbolSize: 225, maxBlockSymbols: 512, seed: 7 });
          const rng = new Prng(2);
          const symbols: [number, Uint8Array][] = [];
          const m = enc.blocks[0]!.symbols;
          for (let esi = 0; symbols.length < m + 2; esi++) if (!rng.bool(0.3)) symbols.push([esi, enc.symbol(0, esi)]);
          return {
            work: { bytes: data.length },
            run: () => {
              const dec = new FountainDecoder({ dataLength: data.length, symbolSize: 225, maxBlockSymbols: 512, seed: 7 });
              for (const [esi, s] of symbols) if (!dec.complete) dec.add(0, esi, s);
              return dec.data();
            },
          };
        },
      },
    ],
    verify: (_c, out) => ((out as Uint8Array).every((x, i) => x === data[i]) ? undefined : 'decoded data differs'),
  };
}

export default defineSuite({
  name: 'ota',
  description: 'OTA bundles: patch size and speed against bsdiff on real releases, fountain-code overhead, 30-node broadcast vs unicast airtime',
  cases(env) {
    return [...BINARY_PAIRS.flatMap((spec) => patchCases(spec, env.cacheDir, env.short)), fountainCase()];
  },
  describe() {
    const fec = [0, 0.1, 0.3].map((loss) => measureFecOverhead({ bytes: 65536, loss, trials: 50, seed: 1 }));
    const air = compareRolloutAirtime((sc) => new Simulation(sc as never), { receivers: 30, loss: 0.2, bundleBytes: 65536, seed: 42 });
    return {
      patchSizes: sizes,
      fecOverhead: fec.map((f) => ({ loss: f.loss, mean: Number(f.mean.toFixed(4)), p99: Number(f.p99.toFixed(4)), bound: Number(f.bound.toFixed(4)) })),
      rolloutAirtime: {
        scenario: '64 KiB bundle, 30 receivers, LONG_FAST, 20% link loss, hop limit 0, same scenario and seed',
        broadcastAirtimeS: Math.round(air.broadcast.airtimeMs / 1000),
        unicastAirtimeS: Math.round(air.unicast.airtimeMs / 1000),
        broadcastDelivered: air.broadcast.delivered,
        unicastDelivered: air.unicast.delivered,
        ratio: Number(air.ratio.toFixed(4)),
      },
    };
  },
});
