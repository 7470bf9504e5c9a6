// What a device has in flash: an A/B image holding the kernel build it runs and,
// once installed, an int8 model's weights and config. Releases are built from the
// real kernel builds and int8 model parts; a bundle for a device is tailored to
// what it runs (kernel build, installed version). Browser-safe: the flash may be
// in memory (simulated devices) or a file (ota's FileFlash, a real node's state).

import type { Kernel, KernelBuild } from '@compotastic/kernel';
import { type Int8ModelParts, decodeInt8Model } from '@compotastic/model';
import {
  type BootResult, type BuiltBundle, type Flash, type InstalledImage, type OtaErrorCode, type Release, type SigningKey, type TrustStore, OtaError, Updater,
  buildBundle, isOtaError, partitionFlash,
} from '@compotastic/ota';

/** Version 0: the kernel alone, as microcontrollers leave the factory (no model installed). */
export const FACTORY_VERSION = 0;

/** The Wasm features each kernel build needs (the kernel's FEATURE_* bits: SIMD128 = 1, relaxed SIMD = 2). */
export const FEATURES: Record<KernelBuild, number> = { scalar: 0, simd: 1, relaxed: 3 };

const encoder = new TextEncoder();

export interface FirmwareSet {
  key: SigningKey;
  trust: TrustStore;
  /** Name of the model in releases (the bundle manifest's modelId). */
  modelName: string;
  /** The kernel builds' bytes, by build (those the devices run). */
  kernels: Partial<Record<KernelBuild, Uint8Array>>;
  /** int8 model parts by model version. */
  models: Map<number, Int8ModelParts>;
}

/** A release of the model for devices running `build`; the factory version carries no model. */
export function release(fw: FirmwareSet, version: number, build: KernelBuild): Release {
  const kernel = fw.kernels[build];
  if (!kernel) throw new OtaError('INVALID_ARGUMENT', `no ${build} kernel build in this firmware set`);
  const parts: Release['parts'] = [{ name: 'kernel.wasm', kind: 'wasm', data: kernel }];
  const model = fw.models.get(version);
  if (model) {
    parts.push({ name: 'weights', kind: 'weights', data: model.weights }, { name: 'config', kind: 'config', data: model.config });
  } else if (version !== FACTORY_VERSION) {
    throw new OtaError('INVALID_ARGUMENT', `no model parts for version ${version}`);
  } else {
    parts.push({ name: 'config', kind: 'config', data: encoder.encode('{"model":null}') });
  }
  return { modelId: fw.modelName, version, securityCounter: version, deviceClass: '*', requiredFeatures: FEATURES[build], parts };
}

/** The smallest signed bundle taking a device from `from` to `to` (full, tensor delta or binary patch per part). */
export function tailoredBundle(kernel: Kernel, fw: FirmwareSet, to: number, from: number, build: KernelBuild): BuiltBundle {
  return buildBundle(kernel, release(fw, to, build), { key: fw.key, base: release(fw, from, build) });
}

/** A full signed image of `version` for devices running `build`: what a device is provisioned with. */
export function factoryBundle(kernel: Kernel, fw: FirmwareSet, version: number, build: KernelBuild): Uint8Array {
  return buildBundle(kernel, release(fw, version, build), { key: fw.key }).bytes;
}

/** The int8 model parts of an image, or null when it carries no model. */
export function modelPartsOf(image: InstalledImage): Int8ModelParts | null {
  const weights = image.part('weights');
  const config = image.part('config');
  if (!weights || !config) return null;
  return { weights: weights.read(0, weights.length), config: config.read(0, config.length) };
}

/** Self-test for a new image: the model it carries decodes and passes `check` (e.g. a canary input's output). */
export function modelSelfTest(check: (parts: Int8ModelParts) => boolean): (image: InstalledImage) => boolean {
  return (image) => {
    const parts = modelPartsOf(image);
    if (!parts) return false;
    decodeInt8Model(parts); // throws on a malformed model: the self-test fails
    return check(parts);
  };
}

export type InstallOutcome =
  | { ok: true; version: number; slot: 0 | 1; action: string }
  | { ok: false; code: OtaErrorCode; message: string };

export interface DeviceFirmwareOptions {
  flash: Flash;
  kernel: Kernel;
  trust: TrustStore;
  build: KernelBuild;
  /** The factory image (a full bundle signed by a trusted key), written only when the flash holds no valid image. */
  factory: () => Uint8Array;
  /** Runs on an image found on trial at boot (the device was reset after installing it, before confirming). */
  selfTest?: (image: InstalledImage) => boolean;
}

/** One device's flash, with the updater a bootloader would run: boots it, installs bundles on trial, confirms. */
export class DeviceFirmware {
  readonly updater: Updater;
  /** What the first boot did ('booted', 'first boot', 'rolled back: ...', 'provisioned'). */
  readonly bootAction: string;
  private slotValue: 0 | 1 = 0;

  constructor(readonly options: DeviceFirmwareOptions) {
    const layout = partitionFlash(options.flash);
    this.updater = new Updater({ layout, trust: options.trust, device: { deviceClass: '*', wasmFeatures: FEATURES[options.build] }, kernel: options.kernel });
    let action: string;
    try {
      action = this.boot().action;
    } catch (e) {
      if (!isOtaError(e) || e.code !== 'NO_VALID_IMAGE') throw e;
      Updater.provision(layout, 0, options.factory(), options.trust, options.kernel);
      this.boot();
      action = 'provisioned';
    }
    if (this.updater.state === 'testing') {
      const passed = options.selfTest ? this.updater.selfTest(options.selfTest) : (this.updater.confirm(), true);
      if (!passed) this.boot();
      action += passed ? ', confirmed' : ', self-test failed, rolled back';
    }
    this.bootAction = action;
  }

  private boot(): BootResult {
    const r = this.updater.boot();
    this.slotValue = r.slot;
    return r;
  }

  /** The slot the running image is in. */
  get slot(): 0 | 1 {
    return this.slotValue;
  }

  get build(): KernelBuild {
    return this.options.build;
  }

  get version(): number {
    return this.updater.installed.manifest.version;
  }

  get modelName(): string {
    return this.updater.installed.manifest.modelId;
  }

  /** True while a new image runs on trial (a reset before the self-test finished leaves it so). */
  get onTrial(): boolean {
    return this.updater.state === 'testing';
  }

  /** The int8 model parts of the running image, or null without a model. */
  modelParts(): Int8ModelParts | null {
    return modelPartsOf(this.updater.installed);
  }

  /**
   * Installs a bundle into the inactive slot, boots it on trial and confirms it if `selfTest` passes; otherwise the
   * previous image runs again. Never throws for a bad bundle: the outcome says why.
   */
  install(bundle: Uint8Array, selfTest: (image: InstalledImage) => boolean): InstallOutcome {
    try {
      this.updater.install(bundle);
      const boot = this.boot(); // the device resets onto the new image, on trial
      if (boot.state !== 'testing' || !this.updater.selfTest(selfTest)) {
        this.boot(); // back on the previous image
        return { ok: false, code: 'SELF_TEST_FAILED', message: 'self-test failed, rolled back' };
      }
      return { ok: true, version: this.version, slot: boot.slot, action: boot.action };
    } catch (e) {
      if (!isOtaError(e)) throw e;
      // A failed install leaves the running image as it was; make sure the updater has it booted.
      try {
        void this.updater.installed;
      } catch {
        this.boot();
      }
      return { ok: false, code: e.code, message: e.message };
    }
  }
}
