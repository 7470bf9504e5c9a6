import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Kernel, loadBuildBytes, loadKernel } from '@compotastic/kernel';
import { TrustStore, generateSigningKey } from '@compotastic/ota';
import type { FirmwareSet } from '../src/core/index.js';

const require = createRequire(import.meta.url);
const file = (name: string) => new Uint8Array(readFileSync(require.resolve(`@compotastic/model/build/${name}`)));
/** The vibration model's int8 build, as v1. */
export const parts = { config: file('vibration-mlp.int8.json'), weights: file('vibration-mlp.int8.bin') };

/** The scalar kernel and a firmware set of v1 signed by a key made from `keyByte`. */
export async function scalarFirmware(keyByte: number): Promise<{ kernel: Kernel; fw: FirmwareSet }> {
  const kernel = await loadKernel({ build: 'scalar' });
  const key = generateSigningKey(new Uint8Array(32).fill(keyByte));
  const fw: FirmwareSet = {
    key, trust: new TrustStore([key.publicKey]), modelName: 'vibration-mlp', kernels: { scalar: await loadBuildBytes('scalar') }, models: new Map([[1, parts]]),
  };
  return { kernel, fw };
}
