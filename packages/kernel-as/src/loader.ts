// Finds the best build the host supports and instantiates it. Browser-safe: the
// Node file-system fallback is reached only for file: URLs, through
// process.getBuiltinModule, so bundlers never see a Node import.

import { ABI_VERSION, type KernelExports } from './abi.js';
import { KernelError, UnsupportedBuildError } from './errors.js';
import { Kernel } from './kernel.js';

export type KernelBuild = 'scalar' | 'simd' | 'relaxed';
export const KERNEL_BUILDS: readonly KernelBuild[] = ['scalar', 'simd', 'relaxed'];

/** Where the Wasm bytes come from: bytes, a compiled module, or a URL/path to fetch. */
export type WasmSource = BufferSource | WebAssembly.Module | URL | string;

export interface LoadKernelOptions {
  /** Which build to load; 'auto' (default) picks the fastest the host validates. */
  build?: KernelBuild | 'auto';
  /** Overrides where the chosen build is loaded from (defaults to the package's build/ folder). */
  wasm?: WasmSource | ((build: KernelBuild) => WasmSource);
}

// Smallest modules using one SIMD128 instruction and one relaxed-SIMD instruction.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 17, 11,
]);
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 0, 253, 17, 65, 0, 253,
  17, 253, 146, 2, 11,
]);

export interface HostFeatures {
  simd: boolean;
  relaxedSimd: boolean;
}

/** What the current engine can run (WebAssembly.validate on probe modules). */
export function detectFeatures(): HostFeatures {
  return { simd: WebAssembly.validate(SIMD_PROBE), relaxedSimd: WebAssembly.validate(RELAXED_PROBE) };
}

/** The builds this host can run, fastest first. */
export function supportedBuilds(features: HostFeatures = detectFeatures()): KernelBuild[] {
  const builds: KernelBuild[] = [];
  if (features.relaxedSimd && features.simd) builds.push('relaxed');
  if (features.simd) builds.push('simd');
  builds.push('scalar');
  return builds;
}

/** URL of a build inside this package. */
export function buildUrl(build: KernelBuild): URL {
  return new URL(`../build/kernel-${build}.wasm`, import.meta.url);
}

interface NodeFs {
  readFile(path: string | URL): Promise<Uint8Array<ArrayBuffer>>;
}

async function readSource(source: URL | string): Promise<BufferSource> {
  const url = typeof source === 'string' ? new URL(source, globalThis.location?.href ?? 'file:///') : source;
  if (url.protocol === 'file:') {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const fs = proc?.getBuiltinModule?.('node:fs/promises') as NodeFs | undefined;
    if (!fs) throw new KernelError('LOAD', `cannot read ${url.href}: no file system on this host; pass the bytes instead`);
    return fs.readFile(url);
  }
  const res = await fetch(url);
  if (!res.ok) throw new KernelError('LOAD', `cannot fetch ${url.href}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

/**
 * The bytes of one of this package's builds (for shipping a build to another
 * device, e.g. inside an over-the-air bundle).
 */
export async function loadBuildBytes(build: KernelBuild): Promise<Uint8Array> {
  if (!KERNEL_BUILDS.includes(build)) throw new KernelError('ARGUMENT', `unknown build '${String(build)}'`);
  const bytes = await readSource(buildUrl(build));
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes as ArrayBuffer);
}

async function compile(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  const bytes = source instanceof URL || typeof source === 'string' ? await readSource(source) : source;
  return WebAssembly.compile(bytes);
}

/** Instantiates an already compiled kernel module and checks its ABI. */
export function instantiateKernel(module: WebAssembly.Module, build: KernelBuild): Kernel {
  const imports = WebAssembly.Module.imports(module);
  if (imports.length > 0) {
    throw new KernelError('LOAD', `kernel module must be import-free, found ${imports.map((i) => `${i.module}.${i.name}`).join(', ')}`);
  }
  const instance = new WebAssembly.Instance(module, {});
  const exports = instance.exports as unknown as KernelExports;
  const abi = exports.abi_version();
  if (abi !== ABI_VERSION) throw new KernelError('ABI', `kernel ABI ${abi} does not match the host's ${ABI_VERSION}`);
  return new Kernel(exports, build);
}

/**
 * Loads a kernel build. With build 'auto' the fastest build the engine validates is
 * chosen (relaxed, then simd, then scalar). Asking for a build the engine cannot run
 * throws UnsupportedBuildError (Node 20 runs relaxed only with
 * --experimental-wasm-relaxed-simd).
 */
export async function loadKernel(options: LoadKernelOptions = {}): Promise<Kernel> {
  const requested = options.build ?? 'auto';
  const available = supportedBuilds();
  let build: KernelBuild;
  if (requested === 'auto') {
    build = available[0] ?? 'scalar';
  } else if (!KERNEL_BUILDS.includes(requested)) {
    throw new KernelError('ARGUMENT', `unknown build '${String(requested)}'; expected auto, ${KERNEL_BUILDS.join(', ')}`);
  } else if (!available.includes(requested)) {
    throw new UnsupportedBuildError(
      requested === 'relaxed'
        ? 'this engine does not support relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)'
        : `this engine does not support the ${requested} build`,
    );
  } else {
    build = requested;
  }
  const source = typeof options.wasm === 'function' ? options.wasm(build) : options.wasm ?? buildUrl(build);
  return instantiateKernel(await compile(source), build);
}
