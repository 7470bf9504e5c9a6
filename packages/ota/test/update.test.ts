import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kernel } from '@compotastic/kernel';
import { buildBundle, type Release } from '../src/bundle.js';
import { OtaError } from '../src/errors.js';
import { TrustStore, generateSigningKey } from '../src/signing.js';
import { FaultyFlash, MemoryFlash, PowerCutError, type Flash } from '../src/storage/flash.js';
import { FileFlash } from '../src/storage/file-flash.js';
import { FlashProgressStore } from '../src/storage/progress.js';
import { BootRecordStore } from '../src/update/boot-record.js';
import { Updater, partitionFlash } from '../src/update/updater.js';
import { kernel, releases } from './helpers.js';

let k: Kernel;
let v1: Release;
let v2: Release;
let v1Bundle: Uint8Array;
beforeAll(async () => {
  k = await kernel();
  ({ v1, v2 } = releases());
  v1Bundle = buildBundle(k, v1, { key }).bytes;
});

const key = generateSigningKey(new Uint8Array(32).fill(7));
const trust = new TrustStore([key.publicKey]);
const device = { deviceClass: 'esp32-s3', wasmFeatures: 0 };
const FLASH_BYTES = 256 * 1024;

function provisioned(flash: Flash = new MemoryFlash(FLASH_BYTES, 4096)): Flash {
  Updater.provision(partitionFlash(flash), 0, v1Bundle, trust, k);
  return flash;
}

function updater(flash: Flash): Updater {
  return new Updater({ layout: partitionFlash(flash), trust, device, kernel: k });
}

function part(u: Updater, name: string): Uint8Array {
  const src = u.installed.part(name)!;
  return src.read(0, src.length);
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OtaError);
    expect((e as OtaError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('A/B update', () => {
  it('installs a delta bundle, tries it, confirms it', () => {
    const flash = provisioned();
    const u = updater(flash);
    expect(u.boot().manifest.version).toBe(1);
    const res = u.install(buildBundle(k, v2, { key, base: v1 }).bytes);
    expect(res.slot).toBe(1);
    expect(u.state).toBe('pending');
    // Reset: the new image runs on trial.
    const u2 = updater(flash);
    const b = u2.boot();
    expect(b).toMatchObject({ slot: 1, state: 'testing', action: 'trying new image' });
    expect(part(u2, 'weights')).toEqual(v2.parts[1]!.data);
    expect(part(u2, 'kernel.wasm')).toEqual(v2.parts[0]!.data);
    expect(u2.selfTest(() => true)).toBe(true);
    const u3 = updater(flash);
    expect(u3.boot()).toMatchObject({ slot: 1, state: 'confirmed', action: 'booted' });
    expect(u3.securityFloor).toBe(1);
  });

  it('rolls back when the self-test fails, and when the trial image reboots unconfirmed', () => {
    for (const how of ['self-test', 'reboot'] as const) {
      const flash = provisioned();
      const u = updater(flash);
      u.boot();
      u.install(buildBundle(k, v2, { key, base: v1 }).bytes);
      const u2 = updater(flash);
      u2.boot();
      if (how === 'self-test') expect(u2.selfTest(() => false)).toBe(false);
      const u3 = updater(flash);
      const b = u3.boot();
      expect(b.manifest.version).toBe(1);
      expect(b.state).toBe('confirmed');
      expect(b.action).toMatch(how === 'reboot' ? /not confirmed/ : /booted/);
      expect(part(u3, 'weights')).toEqual(v1.parts[1]!.data);
    }
  });

  it('refuses downgrades, incompatible bundles and deltas for another base, leaving the image intact', () => {
    const flash = provisioned();
    const u = updater(flash);
    u.boot();
    const before = flash.read(0, flash.length);
    expectCode(() => u.install(buildBundle(k, v1, { key }).bytes), 'DOWNGRADE');
    expectCode(() => u.install(buildBundle(k, { ...v2, securityCounter: 0 }, { key }).bytes), 'DOWNGRADE');
    expectCode(() => u.install(buildBundle(k, { ...v2, deviceClass: 'rp2040' }, { key }).bytes), 'INCOMPATIBLE');
    expectCode(() => u.install(buildBundle(k, { ...v2, requiredFeatures: 1 }, { key }).bytes), 'INCOMPATIBLE');
    const v3 = { ...v2, version: 3 };
    expectCode(() => u.install(buildBundle(k, v3, { key, base: v2 }).bytes), 'BASE_MISMATCH');
    const forged = buildBundle(k, v2, { key: generateSigningKey(new Uint8Array(32).fill(9)) }).bytes;
    expectCode(() => u.install(forged), 'UNKNOWN_KEY');
    expect(flash.read(0, flash.length)).toEqual(before);
    expect(updater(flash).boot().manifest.version).toBe(1);
  });

  it('after confirming a higher security counter, an older counter is refused', () => {
    const flash = provisioned();
    let u = updater(flash);
    u.boot();
    u.install(buildBundle(k, { ...v2, securityCounter: 5 }, { key }).bytes);
    u = updater(flash);
    u.boot();
    u.confirm();
    u = updater(flash);
    u.boot();
    expect(u.securityFloor).toBe(5);
    expectCode(() => u.install(buildBundle(k, { ...v2, version: 9, securityCounter: 4 }, { key }).bytes), 'DOWNGRADE');
  });

  it('a power cut at any flash write leaves a bootable, verified image; the update then completes', () => {
    const bundle = buildBundle(k, v2, { key, base: v1 }).bytes;
    // Count the writes of a full run first.
    const probe = new FaultyFlash(provisioned(), -1);
    let u = updater(probe);
    u.boot();
    u.install(bundle);
    u = updater(probe);
    u.boot();
    u.confirm();
    const total = probe.operations;
    expect(total).toBeGreaterThan(50);
    for (let cut = 0; cut < total; cut++) {
      const inner = provisioned();
      const faulty = new FaultyFlash(inner, cut);
      try {
        let uu = updater(faulty);
        uu.boot();
        uu.install(bundle);
        uu = updater(faulty);
        uu.boot();
        uu.confirm();
      } catch (e) {
        expect(e).toBeInstanceOf(PowerCutError);
      }
      // Power back: something verified must boot.
      const after = updater(inner);
      const b = after.boot();
      expect([1, 2]).toContain(b.manifest.version);
      const expected = b.manifest.version === 1 ? v1 : v2;
      expect(part(after, 'weights')).toEqual(expected.parts[1]!.data);
      // Finish the update from wherever it stopped.
      let fin = after;
      if (b.state === 'testing') fin.confirm();
      else if (b.manifest.version === 1) {
        fin.install(bundle);
        fin = updater(inner);
        fin.boot();
        fin.confirm();
      }
      const last = updater(inner).boot();
      expect(last).toMatchObject({ state: 'confirmed' });
      expect(last.manifest.version).toBe(2);
    }
  });

  it('boot record writes are atomic across torn writes', () => {
    const flash = new MemoryFlash(8192, 4096);
    const store = new BootRecordStore(flash);
    expect(store.read()).toBeNull();
    store.write({ active: 0, state: 'confirmed', previous: null, securityFloor: 3 });
    for (let cut = 0; cut < 2; cut++) {
      const f = new FaultyFlash(flash, cut);
      expect(() => new BootRecordStore(f).write({ active: 1, state: 'pending', previous: 0, securityFloor: 3 })).toThrow(PowerCutError);
      expect(store.read()).toMatchObject({ active: 0, state: 'confirmed', securityFloor: 3 });
    }
    store.write({ active: 1, state: 'pending', previous: 0, securityFloor: 3 });
    expect(store.read()).toMatchObject({ active: 1, state: 'pending', previous: 0 });
  });

  it('refuses to boot when no slot verifies, and reports a tampered slot', () => {
    const flash = provisioned();
    const u = updater(flash);
    u.boot();
    // Flip a bit inside slot 0's weights (programming 1 -> 0 is what flash can do).
    // Slot 0 starts after the two boot-record sectors; its parts after the 8 KiB header.
    const at = 2 * 4096 + 8192 + v1.parts[0]!.data.length + 10;
    (flash as MemoryFlash).data[at]! ^= 0x01;
    expectCode(() => updater(flash).boot(), 'NO_VALID_IMAGE');
  });
});

describe('storage backends', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ota-flash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('file flash persists across reopen and enforces erase-before-program', () => {
    const path = join(dir, 'flash.bin');
    const f = new FileFlash(path, 16384, 4096);
    f.program(100, Uint8Array.of(1, 2, 3));
    expectCode(() => f.program(100, Uint8Array.of(9)), 'STORAGE');
    f.close();
    const g = new FileFlash(path, 16384, 4096);
    expect(g.read(100, 3)).toEqual(Uint8Array.of(1, 2, 3));
    g.erase(0);
    expect(g.read(100, 1)[0]).toBe(0xff);
    g.close();
    expectCode(() => new FileFlash(path, 8192, 4096), 'STORAGE');
  });

  it('a full update runs on file-backed flash', () => {
    const f = new FileFlash(join(dir, 'dev.bin'), FLASH_BYTES, 4096);
    provisioned(f);
    const u = updater(f);
    u.boot();
    u.install(buildBundle(k, v2, { key, base: v1 }).bytes);
    f.close();
    const f2 = new FileFlash(join(dir, 'dev.bin'), FLASH_BYTES, 4096);
    const u2 = updater(f2);
    expect(u2.boot()).toMatchObject({ state: 'testing' });
    expect(u2.installed.manifest.version).toBe(2);
    f2.close();
  });

  it('the progress log survives a torn record and keeps appending', () => {
    const flash = new MemoryFlash(16384, 4096);
    const store = new FlashProgressStore(flash);
    store.begin(Uint8Array.of(1, 2, 3));
    store.append({ block: 0, esi: 1, data: Uint8Array.of(9, 9) });
    const torn = new FaultyFlash(flash, 0);
    expect(() => new FlashProgressStore(torn).append({ block: 0, esi: 2, data: new Uint8Array(50).fill(7) })).toThrow(PowerCutError);
    const again = new FlashProgressStore(flash);
    const t = again.load()!;
    expect(t.offer).toEqual(Uint8Array.of(1, 2, 3));
    expect(t.symbols.map((s) => s.esi)).toEqual([1]);
    again.append({ block: 0, esi: 3, data: Uint8Array.of(4) });
    again.finish('complete', 0);
    const final = new FlashProgressStore(flash).load()!;
    expect(final.symbols.map((s) => s.esi)).toEqual([1, 3]);
    expect(final.state).toBe('complete');
  });
});
