// Our contenders: each kernel through the typed TS API (copy-in, call,
// copy-out: what users call, the headline figure) and through the raw export
// with its data already resident in Wasm memory (the kernel alone).

import { type Kernel, type KernelBuild, loadKernel } from '@compotastic/kernel';
import type { Contender, Runner } from '../harness/suite.js';

/** Node 20 validates relaxed SIMD only behind this flag, so relaxed contenders run in a child started with it. */
export const RELAXED_FLAGS = ['--experimental-wasm-relaxed-simd'];

const kernels = new Map<KernelBuild, Promise<Kernel>>();

/** One kernel instance per build and process, shared by its contenders. */
export function kernelFor(build: KernelBuild): Promise<Kernel> {
  let k = kernels.get(build);
  if (!k) {
    k = loadKernel({ build });
    kernels.set(build, k);
  }
  return k;
}

export const BUILDS: readonly KernelBuild[] = ['scalar', 'simd', 'relaxed'];

/** Contender ids: the build for the headline figure, '<build> raw' for the bare export. */
export function oursId(build: KernelBuild, raw = false): string {
  return raw ? `${build} raw` : build;
}

/** Builds an 'ours' contender for a build. */
export function ours(build: KernelBuild, raw: boolean, setup: (k: Kernel) => Runner | Promise<Runner>): Contender {
  const contender: Contender = {
    id: oursId(build, raw),
    role: 'ours',
    label: raw ? `${build} (raw export)` : build,
    setup: async () => setup(await kernelFor(build)),
  };
  if (build === 'relaxed') contender.nodeFlags = RELAXED_FLAGS;
  return contender;
}

/**
 * An 'ours' contender through the zero-copy API: its input and output are WasmTensors made once in setup, so a run
 * is the typed API's checks and the export, without the copies in and out.
 */
export function oursTensor(build: KernelBuild, setup: (k: Kernel) => Runner | Promise<Runner>): Contender {
  return { ...ours(build, false, setup), id: `${build} tensor`, label: `${build} (tensor API, zero copy)` };
}

/**
 * Space in the kernel's arena for raw-export runners, released on dispose.
 * Views are re-created on every access because memory growth detaches them.
 */
export class ArenaScratch {
  private readonly mark: number;

  constructor(private readonly kernel: Kernel) {
    this.mark = kernel.exports.arena_mark();
  }

  alloc(bytes: number): number {
    const ptr = this.kernel.exports.arena_alloc(Math.max(bytes, 1), 16) >>> 0;
    if (ptr === 0) throw new Error(`cannot allocate ${bytes} bytes in the kernel arena`);
    return ptr;
  }

  put(data: ArrayBufferView): number {
    const ptr = this.alloc(data.byteLength);
    new Uint8Array(this.kernel.exports.memory.buffer, ptr, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return ptr;
  }

  bytes(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.kernel.exports.memory.buffer, ptr, length);
  }

  release(): void {
    this.kernel.exports.arena_release(this.mark);
  }
}

/** Throws when a raw export returned an error status. */
export function status(op: string, code: number): number {
  if (code < 0) throw new Error(`${op} returned status ${code}`);
  return code;
}
