import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { OtaError } from '../errors.js';

// The real peak of a streaming apply: a fresh Node process reads the patch and the old image, takes its baseline of
// live typed-array bytes, and only then loads the device's applier (@compotastic/ota/device), so module tables
// (the stretch table, the inflater's codes, a decompressor's static tables if one were loaded) count with the
// buffers and models the apply allocates. The sink probes every `sampleEvery` writes of the 1 KiB output buffer,
// after two full collections. V8 keeps typed arrays of 64 bytes or less on its heap, out of this figure.

export interface ApplyMemoryResult {
  /** Highest rise of live typed-array bytes over the baseline, module tables included. */
  peakBytes: number;
  /** What patchWorkingBytes says the same patch needs. */
  formulaBytes: number;
  newLength: number;
  samples: number;
}

/** Measures applying the patch in `patchPath` to the image in `oldPath` in a child process. */
export function measureApplyMemory(patchPath: string, oldPath: string, sampleEvery = 16): ApplyMemoryResult {
  const child = fileURLToPath(new URL('./apply-memory-child.js', import.meta.url));
  const out = execFileSync(process.execPath, ['--expose-gc', child, patchPath, oldPath, String(sampleEvery)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const r = JSON.parse(out) as ApplyMemoryResult & { error?: string };
  if (r.error) throw new OtaError('INVALID_STATE', `apply failed in the measuring process: ${r.error}`);
  return r;
}
