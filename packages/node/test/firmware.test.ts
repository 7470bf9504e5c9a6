import type { Kernel } from '@compotastic/kernel';
import { decodeInt8Model } from '@compotastic/model';
import { type Flash, MemoryFlash, buildBundle, generateSigningKey } from '@compotastic/ota';
import { FileFlash } from '@compotastic/ota/node';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeviceFirmware, FACTORY_VERSION, type FirmwareSet, factoryBundle, modelSelfTest, release, tailoredBundle } from '../src/core/index.js';
import { parts, scalarFirmware } from './firmware-fixture.js';
import { tempDir } from './helpers.js';

let kernel: Kernel;
let fw: FirmwareSet;
beforeAll(async () => {
  ({ kernel, fw } = await scalarFirmware(3));
});

const device = (flash: Flash = new MemoryFlash(256 * 1024, 4096), selfTest?: () => boolean) =>
  new DeviceFirmware({ flash, kernel, trust: fw.trust, build: 'scalar', factory: () => factoryBundle(kernel, fw, FACTORY_VERSION, 'scalar'), ...(selfTest ? { selfTest } : {}) });

describe('the device firmware', () => {
  it('provisions a blank flash with the factory image, and boots it without a model', () => {
    const d = device();
    expect(d.bootAction).toBe('provisioned');
    expect(d.version).toBe(FACTORY_VERSION);
    expect(d.modelParts()).toBeNull();
    expect(d.updater.state).toBe('confirmed');
  });

  it('installs a tailored delta bundle on trial, confirms it after the self-test and carries the model', () => {
    const d = device();
    const bundle = tailoredBundle(kernel, fw, 1, FACTORY_VERSION, 'scalar');
    // The kernel part is the same in both releases: it does not travel.
    expect(bundle.choices.find((c) => c.name === 'kernel.wasm')!.encoding).not.toBe('full');
    expect(bundle.bytes.length).toBeLessThan(parts.weights.length + parts.config.length);
    const out = d.install(bundle.bytes, modelSelfTest((p) => decodeInt8Model(p).ops.length > 0));
    expect(out).toMatchObject({ ok: true, version: 1, slot: 1 });
    expect(d.slot).toBe(1);
    expect(d.updater.state).toBe('confirmed');
    expect(d.modelParts()!.weights).toEqual(parts.weights);
  });

  it('rolls back when the self-test fails, and refuses a bundle signed by an unknown key, keeping the running image', () => {
    const d = device();
    const failed = d.install(tailoredBundle(kernel, fw, 1, FACTORY_VERSION, 'scalar').bytes, () => false);
    expect(failed).toMatchObject({ ok: false, code: 'SELF_TEST_FAILED' });
    expect(d.version).toBe(FACTORY_VERSION);
    const stranger = generateSigningKey(new Uint8Array(32).fill(9));
    const forged = buildBundle(kernel, release(fw, 1, 'scalar'), { key: stranger }).bytes;
    const refused = d.install(forged, () => true);
    expect(refused.ok).toBe(false);
    expect(d.version).toBe(FACTORY_VERSION);
    const truncated = d.install(tailoredBundle(kernel, fw, 1, FACTORY_VERSION, 'scalar').bytes.subarray(0, 300), () => true);
    expect(truncated.ok).toBe(false);
    expect(d.version).toBe(FACTORY_VERSION);
  });

  it('keeps its image in a file across restarts, and confirms an image found on trial after a reset', () => {
    const path = join(tempDir(), 'device.flash');
    const first = device(new FileFlash(path, 256 * 1024, 4096));
    // A reset between install and boot: the image is pending, the next start boots it on trial and self-tests it.
    first.updater.install(tailoredBundle(kernel, fw, 1, FACTORY_VERSION, 'scalar').bytes);
    (first.options.flash as FileFlash).close();
    let tested = 0;
    const second = device(new FileFlash(path, 256 * 1024, 4096), () => (tested++, true));
    expect(tested).toBe(1);
    expect(second.bootAction).toBe('trying new image, confirmed');
    expect(second.version).toBe(1);
    (second.options.flash as FileFlash).close();
    const third = device(new FileFlash(path, 256 * 1024, 4096));
    expect(third.bootAction).toBe('booted');
    expect(third.version).toBe(1);
    (third.options.flash as FileFlash).close();
  });
});
