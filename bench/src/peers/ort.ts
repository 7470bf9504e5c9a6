// ONNX Runtime peers: onnxruntime-web (its Wasm backend, one thread) and
// onnxruntime-node (native, one thread) as the hardware ceiling. Sessions run
// with pre-built input tensors, so a call is session.run() and nothing else.

import { type Runner, SkipContender } from '../harness/suite.js';

type OrtModule = typeof import('onnxruntime-web');

export type OrtInput = { type: 'uint8' | 'int8' | 'float32'; data: Uint8Array | Int8Array | Float32Array; dims: number[] };

let web: Promise<OrtModule> | undefined;
let native: Promise<OrtModule> | undefined;

function loadWeb(): Promise<OrtModule> {
  web ??= import('onnxruntime-web').then((ort) => {
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'error';
    return ort;
  });
  return web;
}

function loadNative(): Promise<OrtModule> {
  // Optional dependency: its prebuilt binary may not install on every platform.
  native ??= (import('onnxruntime-node' as string) as Promise<OrtModule>).catch((err: unknown) => {
    throw new SkipContender(`onnxruntime-node is not installed here (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
  });
  return native;
}

/** The onnxruntime-web version in use, for the result file. */
export async function ortVersions(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  try {
    out['onnxruntime-web'] = (await loadWeb()).env.versions.web ?? 'unknown';
  } catch {
    out['onnxruntime-web'] = 'unavailable';
  }
  try {
    out['onnxruntime-node'] = (await loadNative()).env.versions.node ?? 'unknown';
  } catch {
    out['onnxruntime-node'] = 'unavailable';
  }
  return out;
}

/** A runner calling session.run() on `model` with `inputs` (its result is ONNX Runtime's output map). */
export async function ortRunner(backend: 'web' | 'node', model: Uint8Array, inputs: Record<string, OrtInput>): Promise<Runner> {
  const ort = backend === 'web' ? await loadWeb() : await loadNative();
  const options: import('onnxruntime-web').InferenceSession.SessionOptions = backend === 'web'
    ? { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }
    : { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
  const session = await ort.InferenceSession.create(model, options);
  const feeds: Record<string, import('onnxruntime-web').Tensor> = {};
  for (const [name, t] of Object.entries(inputs)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  return {
    async: true,
    run: () => session.run(feeds),
    dispose: () => session.release(),
  };
}
