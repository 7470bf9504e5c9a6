// What each simulated device has in flash: an A/B image holding the kernel
// build it runs, and (when installed) the int8 model's weights and config.
// Releases are built from the real kernel builds and the real int8 model parts,
// and a bundle for a device is tailored to what its capability record says it
// runs (kernel build, installed version).

import type { Kernel, KernelBuild } from '@compotastic/kernel';
import { type Int8ModelParts, decodeInt8Model } from '@compotastic/model';
import {
  type BuiltBundle, type InstalledImage, MemoryFlash, type Release, type SigningKey, TrustStore, Updater, buildBundle, partitionFlash,
} from '@compotastic/ota';
import { VIBRATION_MODEL_NAME } from './models.js';

/** Version 0: the kernel alone, as microcontrollers leave the factory (no model installed). */
export const FACTORY_VERSION = 0;

const FEATURES: Record<KernelBuild, number> = { scalar: 0, simd: 1, relaxed: 3 };
const encoder = new TextEncoder();

export interface FirmwareSet {
  key: SigningKey;
  trust: TrustStore;
  /** The kernel builds' bytes, by build. */
  kernels: Record<'scalar' | 'simd', Uint8Array>;
  /** int8 model parts by model version. */
  models: Map<number, Int8ModelParts>;
}

/** A release of the vibration model for devices running `build`; version 0 carries no model. */
export function release(fw: FirmwareSet, version: number, build: 'scalar' | 'simd'): Release {
  const parts: Release['parts'] = [{ name: 'kernel.wasm', kind: 'wasm', data: fw.kernels[build] }];
  const model = fw.models.get(version);
  if (model) {
    parts.push({ name: 'weights', kind: 'weights', data: model.weights }, { name: 'config', kind: 'config', data: model.config });
  } else if (version !== FACTORY_VERSION) {
    throw new Error(`no model parts for version ${version}`);
  } else {
    parts.push({ name: 'config', kind: 'config', data: encoder.encode('{"model":null}') });
  }
  return {
    modelId: VIBRATION_MODEL_NAME, version, securityCounter: version, deviceClass: '*', requiredFeatures: FEATURES[build], parts,
  };
}

/** The smallest signed bundle taking a device from `from` to `to` (full, tensor delta or binary patch per part). */
export function tailoredBundle(kernel: Kernel, fw: FirmwareSet, to: number, from: number, build: 'scalar' | 'simd'): BuiltBundle {
  return buildBundle(kernel, release(fw, to, build), { key: fw.key, base: release(fw, from, build) });
}

/** One device's flash, with the updater a bootloader would run. */
export class DeviceImage {
  readonly flash = new MemoryFlash(256 * 1024, 4096);
  readonly updater: Updater;

  constructor(kernel: Kernel, fw: FirmwareSet, readonly build: 'scalar' | 'simd', factoryVersion: number) {
    const layout = partitionFlash(this.flash);
    const factory = buildBundle(kernel, release(fw, factoryVersion, build), { key: fw.key });
    Updater.provision(layout, 0, factory.bytes, fw.trust, kernel);
    this.updater = new Updater({ layout, trust: fw.trust, device: { deviceClass: '*', wasmFeatures: FEATURES[build] }, kernel });
    this.updater.boot();
  }

  get version(): number {
    return this.updater.installed.manifest.version;
  }

  /** The int8 model parts of the running image, or null without a model. */
  modelParts(image: InstalledImage = this.updater.installed): Int8ModelParts | null {
    const weights = image.part('weights');
    const config = image.part('config');
    if (!weights || !config) return null;
    return { weights: weights.read(0, weights.length), config: config.read(0, config.length) };
  }
}

/** Self-test for a new image: the model it carries decodes and reproduces the reference output on a canary input. */
export function modelSelfTest(check: (parts: Int8ModelParts) => boolean): (image: InstalledImage) => boolean {
  return (image) => {
    const weights = image.part('weights');
    const config = image.part('config');
    if (!weights || !config) return false;
    const parts = { weights: weights.read(0, weights.length), config: config.read(0, config.length) };
    decodeInt8Model(parts); // throws on a malformed model: the self-test fails
    return check(parts);
  };
}

export { FEATURES };
