// The OTA suite: binary patches of real consecutive releases against bsdiff and `zstd --patch-from` (size and
// speed, same run), applying them against bspatch and zstd (speed) with the applier's measured peak memory, the
// device's DEFLATE decoder against fflate on the patch's literal blocks, the fountain code's overhead at 0/10/30%
// loss, and the airtime of delivering a 64 KiB bundle to 30 nodes on LONG_FAST at 20% loss by broadcast against
// per-node unicast with want_ack, both in the same simulated scenario.
// Sizes, memory and airtime are not timings: they are logged while the suite runs and stored with its result.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng } from '@compotastic/mesh';
import {
  FountainDecoder, FountainEncoder, OtaError, RawInflater, applyPatch, bufferSource, compareRolloutAirtime, createPatch, measureFecOverhead, readPatchHeader,
  type ByteInput,
} from '@compotastic/ota';
import { measureApplyMemory } from '@compotastic/ota/node';
import { inflateSync } from 'fflate';
import { Simulation } from '@compotastic/sim';
import { type BinaryPair, type BinaryPairSpec, BINARY_PAIRS, fetchBinaryPair } from '../fixtures/npm-binaries.js';
import { type BenchCase, type Contender, type SetupContext, SkipContender, defineSuite } from '../harness/suite.js';
import { kernelFor } from '../peers/ours.js';

const SHORT_PAIR_BYTES = 2 * 2 ** 20;
/** The applier's budget on a device: its measured peak must stay within it. */
const APPLY_MEMORY_BYTES = 64 * 1024;
type Peer = 'bsdiff' | 'zstd';
const sizes: Record<string, { ours: number; bsdiff: number | null; zstd: number | null; newBytes: number }> = {};

function hasCommand(command: string, args: string[] = []): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch (e) {
    // bsdiff without arguments prints usage and exits 1; only a missing binary is ENOENT.
    return (e as { code?: string }).code !== 'ENOENT';
  }
}

/** A peer that runs a Debian tool on the pair; skipped with the install command when the tool is missing. */
function toolPeer(
  id: string, label: string, [command, pkg, probeArgs]: [string, string, string[]?], load: (ctx: SetupContext) => Promise<BinaryPair>,
  prepare: (ctx: SetupContext, p: BinaryPair) => () => Uint8Array,
): Contender {
  return {
    id,
    role: 'peer',
    label,
    async setup(ctx) {
      if (!hasCommand(command, probeArgs)) throw new SkipContender(`${command} is not installed (apt-get install ${pkg})`);
      const p = await load(ctx);
      return { work: { bytes: p.next.length }, run: prepare(ctx, p) };
    },
  };
}

/** Runs a file-based tool in a scratch directory holding `files`, and returns the bytes it wrote to `result`. */
function inScratch(files: Record<string, Uint8Array>, result: string, run: (path: (name: string) => string) => void): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'ota-peer-'));
  const path = (name: string): string => join(dir, name);
  try {
    for (const [name, bytes] of Object.entries(files)) writeFileSync(path(name), bytes);
    run(path);
    return new Uint8Array(readFileSync(path(result)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function bsdiff(old: Uint8Array, next: Uint8Array): Uint8Array {
  return inScratch({ old, new: next }, 'patch', (f) => execFileSync('bsdiff', [f('old'), f('new'), f('patch')]));
}

function bspatch(old: Uint8Array, patch: Uint8Array): Uint8Array {
  return inScratch({ old, patch }, 'new', (f) => execFileSync('bspatch', [f('old'), f('new'), f('patch')]));
}

/**
 * zstd's own delta mode: the old file as a dictionary (zstd sizes the window to cover it), level 19, single-threaded
 * as zstd itself advises for --patch-from (its advice goes to stderr, which is kept out of the bench's output).
 */
function zstdPatch(old: Uint8Array, next: Uint8Array): Uint8Array {
  return inScratch({ old, new: next }, 'patch', (f) =>
    execFileSync('zstd', ['-q', '-f', '-19', '--single-thread', `--patch-from=${f('old')}`, f('new'), '-o', f('patch')], { stdio: 'pipe' }));
}

function zstdApply(old: Uint8Array, patch: Uint8Array): Uint8Array {
  return inScratch({ old, patch }, 'new', (f) => execFileSync('zstd', ['-q', '-f', '-d', `--patch-from=${f('old')}`, f('patch'), '-o', f('new')], { stdio: 'pipe' }));
}

function byteInput(data: Uint8Array): ByteInput {
  let at = 0;
  return {
    next: () => {
      if (at >= data.length) throw new OtaError('MALFORMED', 'literal block is truncated');
      return data[at++]!;
    },
  };
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** The literal blocks of a patch (varint length + raw DEFLATE each), with the bytes each inflates to. */
function literalBlocks(patch: Uint8Array, extraOffset: number, extraLength: number, blockBytes: number): { data: Uint8Array; bytes: number }[] {
  const out: { data: Uint8Array; bytes: number }[] = [];
  let at = extraOffset;
  for (let left = extraLength; left > 0; left -= blockBytes) {
    let len = 0;
    for (let shift = 0; ; shift += 7) {
      const b = patch[at++]!;
      len |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    out.push({ data: patch.subarray(at, at + len), bytes: Math.min(blockBytes, left) });
    at += len;
  }
  return out;
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
  const record = (ctx: SetupContext, p: BinaryPair, who: 'ours' | Peer, n: number): void => {
    const s = (sizes[label] ??= { ours: 0, bsdiff: null, zstd: null, newBytes: p.next.length });
    s[who] = n;
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
      toolPeer('bsdiff', 'bsdiff 4 (Debian)', ['bsdiff', 'bsdiff'], load, (ctx, p) => {
        record(ctx, p, 'bsdiff', bsdiff(p.old, p.next).length);
        return () => bsdiff(p.old, p.next);
      }),
      toolPeer('zstd', 'zstd -19 --patch-from (Debian)', ['zstd', 'zstd', ['--version']], load, (ctx, p) => {
        record(ctx, p, 'zstd', zstdPatch(p.old, p.next).length);
        return () => zstdPatch(p.old, p.next);
      }),
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
    note: 'streaming apply (hashing the old image and the result, which bspatch does not); its peak memory (live typed arrays and module tables, in a fresh process) is logged and must stay within 64 KiB',
    contenders: [
      {
        id: 'ours',
        role: 'ours',
        label: 'streaming apply (64 KiB), kernel decoder (simd)',
        async setup(ctx) {
          const p = await load(ctx);
          const kernel = await kernelFor('simd');
          const patch = createPatch(kernel, p.old, p.next).patch;
          const dir = mkdtempSync(join(tmpdir(), 'ota-apply-'));
          try {
            writeFileSync(join(dir, 'patch'), patch);
            const m = measureApplyMemory(join(dir, 'patch'), p.oldPath);
            ctx.log(`apply ${label}: peak ${m.peakBytes} B of live typed arrays and tables (patchWorkingBytes says ${m.formulaBytes} B), budget ${APPLY_MEMORY_BYTES} B`);
            if (m.peakBytes > APPLY_MEMORY_BYTES) throw new Error(`apply peaked at ${m.peakBytes} B, over the ${APPLY_MEMORY_BYTES} B budget`);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
          return { work: { bytes: p.next.length }, run: () => applyPatch(patch, p.old, { kernel }) };
        },
      },
      {
        id: 'ts',
        role: 'ours',
        label: 'streaming apply, TypeScript decoder',
        async setup(ctx) {
          const p = await load(ctx);
          const patch = createPatch(await kernelFor('simd'), p.old, p.next).patch;
          return { work: { bytes: p.next.length }, run: () => applyPatch(patch, p.old) };
        },
      },
      toolPeer('bspatch', 'bspatch (Debian)', ['bspatch', 'bsdiff'], load, (_ctx, p) => {
        const patch = bsdiff(p.old, p.next);
        return () => bspatch(p.old, patch);
      }),
      toolPeer('zstd', 'zstd -d --patch-from (Debian)', ['zstd', 'zstd', ['--version']], load, (_ctx, p) => {
        const patch = zstdPatch(p.old, p.next);
        return () => zstdApply(p.old, patch);
      }),
    ],
    async verify(_contender, output) {
      const p = await pair!;
      return sameBytes(output as Uint8Array, p.next) ? undefined : 'apply does not rebuild the new release';
    },
  };
  const inflate: BenchCase = {
    id: `inflate literals ${label}`,
    group: 'OTA patch',
    note: "the patch's 8 KiB literal blocks: the device's table-light decoder against fflate's table-driven one",
    contenders: [
      {
        id: 'ours',
        role: 'ours',
        label: 'RawInflater (about 1.1 KB of tables)',
        async setup(ctx) {
          const blocks = await patchLiterals(ctx);
          const inflater = new RawInflater();
          const out = new Uint8Array(blocks.reduce((m, b) => Math.max(m, b.bytes), 0));
          return {
            work: { bytes: blocks.reduce((n, b) => n + b.bytes, 0) },
            run: () => blocks.map((b) => inflater.inflate(byteInput(b.data), out.subarray(0, b.bytes))),
          };
        },
      },
      {
        id: 'fflate',
        role: 'peer',
        label: 'fflate inflateSync',
        async setup(ctx) {
          const blocks = await patchLiterals(ctx);
          return {
            work: { bytes: blocks.reduce((n, b) => n + b.bytes, 0) },
            run: () => blocks.map((b) => inflateSync(b.data, { out: new Uint8Array(b.bytes) }).length),
          };
        },
      },
    ],
    verify: async (_c, out) => {
      const blocks = await literals!;
      return (out as number[]).every((n, i) => n === blocks[i]!.bytes) ? undefined : 'a block inflated to the wrong length';
    },
  };
  let literals: Promise<{ data: Uint8Array; bytes: number }[]> | undefined;
  const patchLiterals = (ctx: SetupContext): Promise<{ data: Uint8Array; bytes: number }[]> =>
    (literals ??= load(ctx).then(async (p) => {
      const patch = createPatch(await kernelFor('simd'), p.old, p.next).patch;
      const h = readPatchHeader(bufferSource(patch));
      return literalBlocks(patch, h.extraOffset, h.extraLength, h.extraBlockBytes);
    }));
  return [create, apply, inflate];
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
