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
  FlashProgressStore, FountainDecoder, FountainEncoder, MAX_SYMBOL_BYTES, OtaError, RawInflater, applyPatch, bufferSource, compareRolloutAirtime, createPatch,
  measureFecOverhead, measureReceiveMemory, readPatchHeader, receiverWorkspaceBytes, type ByteInput,
} from '@compotastic/ota';
import { FileFlash, measureApplyMemory } from '@compotastic/ota/node';
import { inflateSync } from 'fflate';
import { Simulation } from '@compotastic/sim';
import { type BinaryPair, type BinaryPairSpec, BINARY_PAIRS, fetchBinaryPair } from '../fixtures/npm-binaries.js';
import { type BenchCase, type Contender, type Runner, type SetupContext, SkipContender, defineSuite } from '../harness/suite.js';
import { kernelFor } from '../peers/ours.js';

const SHORT_PAIR_BYTES = 2 * 2 ** 20;
/** The applier's budget on a device: its measured peak must stay within it. */
const APPLY_MEMORY_BYTES = 64 * 1024;
/** Applies per contender in the CPU-time case: the median of nine holds against a few runs slowed by other work. */
const APPLY_CPU_RUNS = 9;
const APPLY_CPU_WARMUP_RUNS = 12;
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
  prepare: (ctx: SetupContext, p: BinaryPair) => Runner | Promise<Runner>,
): Contender {
  return {
    id,
    role: 'peer',
    label,
    async setup(ctx) {
      if (!hasCommand(command, probeArgs)) throw new SkipContender(`${command} is not installed (apt-get install ${pkg})`);
      const p = await load(ctx);
      return { work: { bytes: p.next.length }, ...(await prepare(ctx, p)) };
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
 * One bspatch run and its CPU time (user + system) as the shell's `time` reads it from the child's rusage: its own
 * work, process start included, without the bench writing its inputs and reading its output.
 */
function bspatchCpu(old: Uint8Array, patch: Uint8Array): { output: Uint8Array; cpuMs: number } {
  let cpuMs = NaN;
  const output = inScratch({ old, patch }, 'new', (f) => {
    const times = execFileSync('bash', ['-c', 'TIMEFORMAT="%3U %3S"; { time bspatch "$0" "$1" "$2"; } 2>&1', f('old'), f('new'), f('patch')], { encoding: 'utf8' });
    const [user, system] = times.trim().split(/\s+/).slice(-2).map(Number);
    cpuMs = (user! + system!) * 1000;
  });
  if (!Number.isFinite(cpuMs)) throw new Error('bspatch: no CPU time in the shell\'s output');
  return { output, cpuMs };
}

/** This process's CPU time (user + system) in ms while `fn` runs. */
function cpuMsOf(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

function median(samples: readonly number[]): number {
  const xs = [...samples].sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)]!;
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

/** A fixed peer of a figure case: the budget a measured quantity must stay within. */
function budget(bytes: number, label: string): Contender {
  return { id: 'budget', role: 'peer', label, setup: () => ({ run: () => bytes, figure: bytes }) };
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
  // Each patch is made once per process: the size case reports them, the timed cases apply them.
  const made = new Map<'ours' | Peer, Promise<Uint8Array>>();
  const patchOf = (ctx: SetupContext, who: 'ours' | Peer): Promise<Uint8Array> => {
    let p = made.get(who);
    if (!p) {
      p = load(ctx).then(async (pair) => (who === 'ours' ? createPatch(await kernelFor('simd'), pair.old, pair.next).patch
        : who === 'bsdiff' ? bsdiff(pair.old, pair.next) : zstdPatch(pair.old, pair.next)));
      made.set(who, p);
    }
    return p;
  };
  const withPatch = async (ctx: SetupContext): Promise<{ p: BinaryPair; patch: Uint8Array }> => ({ p: await load(ctx), patch: await patchOf(ctx, 'ours') });
  /** A contender of the size case: the bytes of its patch, logged and stored with the result. */
  const sized = (ctx: SetupContext, p: BinaryPair, who: 'ours' | Peer, patch: Uint8Array): Runner => {
    const s = (sizes[label] ??= { ours: 0, bsdiff: null, zstd: null, newBytes: p.next.length });
    s[who] = patch.length;
    ctx.log(`patch ${label}: ${who} ${patch.length} bytes (${((100 * patch.length) / p.next.length).toFixed(2)}% of the new file)`);
    return { run: () => patch, figure: patch.length };
  };
  const size: BenchCase = {
    id: `patch size ${label}`,
    group: 'OTA size and memory',
    figure: 'B',
    note: 'patch bytes; the ratios are bsdiff / ours and zstd / ours (above 1, ours is smaller)',
    contenders: [
      { id: 'ours', role: 'ours', label: 'kernel diff + context-modelled patch', setup: async (ctx) => sized(ctx, await load(ctx), 'ours', await patchOf(ctx, 'ours')) },
      toolPeer('bsdiff', 'bsdiff 4 (Debian)', ['bsdiff', 'bsdiff'], load, async (ctx, p) => sized(ctx, p, 'bsdiff', await patchOf(ctx, 'bsdiff'))),
      toolPeer('zstd', 'zstd -19 --patch-from (Debian)', ['zstd', 'zstd', ['--version']], load, async (ctx, p) => sized(ctx, p, 'zstd', await patchOf(ctx, 'zstd'))),
    ],
    async verify(contender, output) {
      if (contender !== 'ours') return undefined;
      const p = await pair!;
      return sameBytes(applyPatch(output as Uint8Array, p.old), p.next) ? undefined : 'patch does not rebuild the new release';
    },
  };
  const memory: BenchCase = {
    id: `apply memory ${label}`,
    group: 'OTA size and memory',
    figure: 'B',
    note: `peak live typed arrays and module tables of a streaming apply in a fresh process; the ratio is the ${APPLY_MEMORY_BYTES} B budget / the peak (1 or more: within it)`,
    contenders: [
      {
        id: 'ours',
        role: 'ours',
        label: 'streaming apply (device decoder)',
        async setup(ctx) {
          const { p, patch } = await withPatch(ctx);
          const dir = mkdtempSync(join(tmpdir(), 'ota-apply-'));
          try {
            // The old image as this run has it (short mode takes a prefix of the release).
            writeFileSync(join(dir, 'patch'), patch);
            writeFileSync(join(dir, 'old'), p.old);
            const m = measureApplyMemory(join(dir, 'patch'), join(dir, 'old'));
            ctx.log(`apply ${label}: peak ${m.peakBytes} B of live typed arrays and tables (patchWorkingBytes says ${m.formulaBytes} B), budget ${APPLY_MEMORY_BYTES} B`);
            return { run: () => m.peakBytes, figure: m.peakBytes };
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      },
      budget(APPLY_MEMORY_BYTES, 'budget (64 KiB)'),
    ],
  };
  // Ours and bspatch are timed in alternation, in one loop, so a stretch of the run slowed by other work on the
  // machine (a busy sibling core, a contended cache) slows both, not the one that happened to run then. The ours
  // contender runs the loop; the bspatch contender, set up next, takes its half.
  let pairedCpu: { ours: number; bspatch: number | null; bspatchOutput: Uint8Array | null } | undefined;
  const applyCpu: BenchCase = {
    id: `apply CPU ${label}`,
    group: 'OTA size and memory',
    figure: 'ms CPU',
    note: `median CPU time of ${APPLY_CPU_RUNS} applies, ours and bspatch alternating (user + system: the process's own for ours, bspatch's rusage as a child for bspatch, so its start and file I/O count against it but the bench's do not); the ratio is bspatch / ours, and the goal is within 3x (1/3 or more)`,
    contenders: [
      {
        id: 'ours',
        role: 'ours',
        label: 'streaming apply (64 KiB), kernel decoder (simd)',
        async setup(ctx) {
          const { p, patch } = await withPatch(ctx);
          const kernel = await kernelFor('simd');
          const peerPatch = hasCommand('bspatch') ? await patchOf(ctx, 'bsdiff') : null;
          // Untimed applies first, so the timed ones run optimized code (the JS around the decoder takes V8 six to
          // eight applies to settle, at about 0.6x its final speed before), as a device runs AOT code.
          let back = applyPatch(patch, p.old, { kernel });
          for (let i = 1; i < APPLY_CPU_WARMUP_RUNS; i++) back = applyPatch(patch, p.old, { kernel });
          const ours: number[] = [];
          const peer: number[] = [];
          let peerOutput: Uint8Array | null = null;
          for (let i = 0; i < APPLY_CPU_RUNS; i++) {
            ours.push(cpuMsOf(() => { back = applyPatch(patch, p.old, { kernel }); }));
            if (peerPatch) {
              const run = bspatchCpu(p.old, peerPatch);
              peer.push(run.cpuMs);
              peerOutput = run.output;
            }
          }
          pairedCpu = { ours: median(ours), bspatch: peerPatch ? median(peer) : null, bspatchOutput: peerOutput };
          ctx.log(`apply CPU ${label}: ours ${pairedCpu.ours.toFixed(1)} ms`);
          return { run: () => back, figure: pairedCpu.ours };
        },
      },
      toolPeer('bspatch', 'bspatch (Debian)', ['bspatch', 'bsdiff'], load, async (ctx, p) => {
        const paired = pairedCpu;
        pairedCpu = undefined;
        let back: Uint8Array = new Uint8Array(0);
        let ms: number;
        if (paired?.bspatch != null && paired.bspatchOutput) {
          ms = paired.bspatch;
          back = paired.bspatchOutput;
        } else {
          // Ours was not set up in this run (a filter chose bspatch alone): time bspatch by itself.
          const patch = await patchOf(ctx, 'bsdiff');
          ms = median(Array.from({ length: APPLY_CPU_RUNS }, () => {
            const run = bspatchCpu(p.old, patch);
            back = run.output;
            return run.cpuMs;
          }));
        }
        ctx.log(`apply CPU ${label}: bspatch ${ms.toFixed(1)} ms`);
        return { run: () => back, figure: ms };
      }),
    ],
    async verify(_contender, output) {
      const p = await pair!;
      return sameBytes(output as Uint8Array, p.next) ? undefined : 'apply does not rebuild the new release';
    },
  };
  const create: BenchCase = {
    id: `patch ${label}`,
    group: 'OTA patch',
    minIterations: 2,
    note: 'patch creation (the sizes are the size case\'s)',
    contenders: [
      {
        id: 'ours',
        role: 'ours',
        label: 'kernel diff + context-modelled patch',
        async setup(ctx) {
          const p = await load(ctx);
          const kernel = await kernelFor('simd');
          return { work: { bytes: p.next.length }, run: () => createPatch(kernel, p.old, p.next).patch };
        },
      },
      toolPeer('bsdiff', 'bsdiff 4 (Debian)', ['bsdiff', 'bsdiff'], load, (_ctx, p) => ({ run: () => bsdiff(p.old, p.next) })),
      toolPeer('zstd', 'zstd -19 --patch-from (Debian)', ['zstd', 'zstd', ['--version']], load, (_ctx, p) => ({ run: () => zstdPatch(p.old, p.next) })),
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
    note: 'streaming apply (hashing the old image and the result, which bspatch does not); its peak memory is the memory case\'s',
    contenders: [
      {
        id: 'ours',
        role: 'ours',
        label: 'streaming apply (64 KiB), kernel decoder (simd)',
        async setup(ctx) {
          const p = await load(ctx);
          const kernel = await kernelFor('simd');
          const patch = await patchOf(ctx, 'ours');
          return { work: { bytes: p.next.length }, run: () => applyPatch(patch, p.old, { kernel }) };
        },
      },
      {
        id: 'ts',
        role: 'ours',
        label: 'streaming apply, TypeScript decoder',
        async setup(ctx) {
          const { p, patch } = await withPatch(ctx);
          return { work: { bytes: p.next.length }, run: () => applyPatch(patch, p.old) };
        },
      },
      toolPeer('bspatch', 'bspatch (Debian)', ['bspatch', 'bsdiff'], load, async (ctx, p) => {
        const patch = await patchOf(ctx, 'bsdiff');
        return { run: () => bspatch(p.old, patch) };
      }),
      toolPeer('zstd', 'zstd -d --patch-from (Debian)', ['zstd', 'zstd', ['--version']], load, async (ctx, p) => {
        const patch = await patchOf(ctx, 'zstd');
        return { run: () => zstdApply(p.old, patch) };
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
    (literals ??= patchOf(ctx, 'ours').then((patch) => {
      const h = readPatchHeader(bufferSource(patch));
      return literalBlocks(patch, h.extraOffset, h.extraLength, h.extraBlockBytes);
    }));
  return [size, memory, applyCpu, create, apply, inflate];
}

/** What a receiver may hold in RAM while it takes a bundle: 64 KiB plus one source block (512 symbols of 225 bytes). */
const RECEIVE_BLOCK_BYTES = 512 * MAX_SYMBOL_BYTES;
const RECEIVE_MEMORY_BYTES = 64 * 1024 + RECEIVE_BLOCK_BYTES;

function receiveMemoryCase(short: boolean): BenchCase {
  const bundleBytes = short ? 256 * 1024 : 1024 * 1024;
  return {
    // One id in both modes, so one gate covers both: the bundle is 256 KiB in short mode, 1 MiB in full runs.
    id: 'receive memory at 10% loss',
    group: 'OTA size and memory',
    figure: 'B',
    note: `peak live typed arrays of a receiver taking a signed ${short ? '256 KiB' : '1 MiB'} session (workspace in a file), probed after full collections in a process started with --expose-gc; the ratio is the ${RECEIVE_MEMORY_BYTES} B budget (64 KiB + one block) / the peak`,
    contenders: [
      {
        id: 'ours',
        role: 'ours',
        label: 'TransferReceiver (workspace in a file)',
        nodeFlags: ['--expose-gc'],
        setup(ctx) {
          const gc = (globalThis as { gc?: () => void }).gc;
          if (!gc) throw new Error('needs --expose-gc');
          const liveBytes = (): number => {
            gc();
            gc();
            return process.memoryUsage().arrayBuffers;
          };
          const dir = mkdtempSync(join(tmpdir(), 'ota-rx-'));
          const workspace = new FileFlash(join(dir, 'workspace'), receiverWorkspaceBytes({ dataLength: bundleBytes, symbolSize: MAX_SYMBOL_BYTES, maxBlockSymbols: 512, seed: 0 }, 4096));
          const progress = new FileFlash(join(dir, 'progress'), 2 * 1024 * 1024);
          try {
            const r = measureReceiveMemory({ bundleBytes, loss: 0.1, seed: 5, workspace, store: new FlashProgressStore(progress), liveBytes });
            if (!r.delivered) throw new Error('the receiver did not deliver the bundle');
            ctx.log(`receive ${bundleBytes} B at 10% loss: peak ${r.peakBytes} B of live typed arrays over ${r.samples} probes, budget ${RECEIVE_MEMORY_BYTES} B`);
            return { run: () => r.peakBytes, figure: r.peakBytes };
          } finally {
            workspace.close();
            progress.close();
            rmSync(dir, { recursive: true, force: true });
          }
        },
      },
      budget(RECEIVE_MEMORY_BYTES, 'budget (64 KiB + one block)'),
    ],
  };
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
    return [...BINARY_PAIRS.flatMap((spec) => patchCases(spec, env.cacheDir, env.short)), receiveMemoryCase(env.short), fountainCase()];
  },
  gates: [
    ...BINARY_PAIRS.flatMap((spec) => {
      const label = `${spec.id} ${spec.from}->${spec.to}`;
      return [
        { case: `patch size ${label}`, ours: 'ours', peer: 'bsdiff' },
        { case: `patch size ${label}`, ours: 'ours', peer: 'zstd' },
        { case: `apply memory ${label}`, ours: 'ours', peer: 'budget' },
        { case: `apply CPU ${label}`, ours: 'ours', peer: 'bspatch' },
      ];
    }),
    { case: receiveMemoryCase(true).id, ours: 'ours', peer: 'budget' },
  ],
  describe(env) {
    // The FEC and airtime figures take about 12 s of CPU: short mode (the CI gate) leaves them to full runs.
    if (env.short) return { patchSizes: sizes };
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
