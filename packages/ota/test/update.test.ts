import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kernel } from '@compotastic/kernel';
import { buildBundle, openBundle, type Release } from '../src/bundle.js';
import { OtaError } from '../src/errors.js';
import { TrustStore, generateSigningKey } from '../src/signing.js';
import { FaultyFlash, MemoryFlash, PowerCutError, type Flash } from '../src/storage/flash.js';
import { FileFlash } from '../src/storage/file-flash.js';
import { FlashProgressStore } from '../src/storage/progress.js';
import { BootRecordStore } from '../src/update/boot-record.js';
import { SLOT_HEADER_BYTES } from '../src/update/slot-image.js';
import { Updater, partitionFlash } from '../src/update/updater.js';
import { FUZZ, expectBytes, kernel, releases } from './helpers.js';

let k: Kernel;
let v1: Release;
let v2: Release;
let v1Bundle: Uint8Array;
beforeAll(async () => {
  k = await kernel();
  // The updater's logic does not depend on image size: tiny releases (still several pages and sectors a part) keep
  // each update cheap, so the fault-injection test below can cut the power at every single write.
  ({ v1, v2 } = releases('tiny'));
  v1Bundle = buildBundle(k, v1, { key }).bytes;
});

const key = generateSigningKey(new Uint8Array(32).fill(7));
const trust = new TrustStore([key.publicKey]);
const device = { deviceClass: 'esp32-s3', wasmFeatures: 0 };
const FLASH_BYTES = 256 * 1024;

function provisioned(flash: Flash = new MemoryFlash(FLASH_BYTES, 4096), bundle = v1Bundle): Flash {
  Updater.provision(partitionFlash(flash), 0, bundle, trust, k);
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
    expectBytes(part(u2, 'weights'), v2.parts[1]!.data, 'weights');
    expectBytes(part(u2, 'kernel.wasm'), v2.parts[0]!.data, 'kernel.wasm');
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
      expectBytes(part(u3, 'weights'), v1.parts[1]!.data, 'weights');
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
    expectBytes(flash.read(0, flash.length), before, 'flash');
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

  it('another model installs only with a security counter above the floor, in either direction', () => {
    const flash = provisioned();
    let u = updater(flash);
    u.boot();
    // v2 of this model, counter 2, confirmed: the floor is 2.
    u.install(buildBundle(k, { ...v2, securityCounter: 2 }, { key }).bytes);
    u = updater(flash);
    u.boot();
    u.confirm();
    u = updater(flash);
    u.boot();
    const before = flash.read(0, flash.length);
    const other = { ...v1, modelId: 'other-model' };
    // Version 1 of another model, signed, at the floor or below it: refused (it would roll the device back).
    expectCode(() => u.install(buildBundle(k, { ...other, securityCounter: 2 }, { key }).bytes), 'DOWNGRADE');
    expectCode(() => u.install(buildBundle(k, { ...other, securityCounter: 1 }, { key }).bytes), 'DOWNGRADE');
    expectBytes(flash.read(0, flash.length), before, 'flash');
    // Above the floor: installs, and once confirmed the original model needs a counter above the new floor too.
    u.install(buildBundle(k, { ...other, securityCounter: 3 }, { key }).bytes);
    u = updater(flash);
    expect(u.boot().manifest.modelId).toBe('other-model');
    u.confirm();
    u = updater(flash);
    u.boot();
    expect(u.securityFloor).toBe(3);
    expectCode(() => u.install(buildBundle(k, { ...v2, version: 7, securityCounter: 3 }, { key }).bytes), 'DOWNGRADE');
    u.install(buildBundle(k, { ...v2, version: 7, securityCounter: 4 }, { key }).bytes);
    u = updater(flash);
    expect(u.boot().manifest).toMatchObject({ modelId: v2.modelId, version: 7 });
  });

  it('a power cut at any flash write leaves a bootable, verified image; the update then completes', () => {
    const bundle = buildBundle(k, v2, { key, base: v1 }).bytes;
    // A delta bundle, so the cut also lands while the new image is rebuilt from the running one.
    expect(openBundle(bundle, trust).manifest.parts.map((p) => p.encoding).slice(0, 2)).toEqual(['bindiff', 'tensor-sub']);
    expect(powerCutSweep(v1Bundle, bundle, v1, v2)).toBe(expectedWrites(bundle, v2));
  });

  // `pnpm fuzz`: the same sweep over a full-size update (about 200 cuts, several seconds).
  it.runIf(FUZZ)('fuzz: a power cut at any flash write of a full-size update', () => {
    const full = releases('full');
    const base = buildBundle(k, full.v1, { key }).bytes;
    const bundle = buildBundle(k, full.v2, { key, base: full.v1 }).bytes;
    expect(powerCutSweep(base, bundle, full.v1, full.v2)).toBe(expectedWrites(bundle, full.v2));
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

/**
 * The erases and programs an update should make, from the layout alone (so a sweep that missed writes fails): erase
 * the slot's sectors, program each part and then the header in 256-byte pages, and write three boot records
 * (pending, testing, confirmed) of one erase and one program each.
 */
function expectedWrites(bundle: Uint8Array, to: Release): number {
  const opened = openBundle(bundle, trust);
  const header = 4 + 8 + 2 + opened.manifestBytes.length + 64; // magic, key id, varint length (2 bytes here), manifest, signature
  const partBytes = to.parts.reduce((n, p) => n + p.data.length, 0);
  const pages = to.parts.reduce((n, p) => n + Math.ceil(p.data.length / 256), 0) + Math.ceil(header / 256);
  return Math.ceil((SLOT_HEADER_BYTES + partBytes) / 4096) + pages + 3 * 2;
}

/**
 * Cuts the power at each mutating flash operation of install + reboot + confirm in turn and checks that the device
 * then boots a verified image (the old or the new one, with its exact parts) and can finish the update from there.
 * Returns the number of operations swept.
 */
function powerCutSweep(baseBundle: Uint8Array, bundle: Uint8Array, from: Release, to: Release): number {
  // Provision once and start every run from a copy of that flash.
  const factory = provisioned(new MemoryFlash(FLASH_BYTES, 4096), baseBundle) as MemoryFlash;
  const fresh = (): MemoryFlash => {
    const f = new MemoryFlash(FLASH_BYTES, 4096);
    f.data.set(factory.data);
    return f;
  };
  // Count the writes of a full run first.
  const probe = new FaultyFlash(fresh(), -1);
  let u = updater(probe);
  u.boot();
  u.install(bundle);
  u = updater(probe);
  u.boot();
  u.confirm();
  const total = probe.operations;
  const outcomes = new Set<string>();
  for (let cut = 0; cut < total; cut++) {
    const inner = fresh();
    const faulty = new FaultyFlash(inner, cut);
    let stage = 'install';
    // Every run must stop at its cut: the cut is within the run that counted `total`.
    expect(() => {
      let uu = updater(faulty);
      uu.boot();
      uu.install(bundle);
      stage = 'boot';
      uu = updater(faulty);
      uu.boot();
      stage = 'confirm';
      uu.confirm();
    }, `cut ${cut}`).toThrow(PowerCutError);
    // Power back: something verified must boot.
    const after = updater(inner);
    const b = after.boot();
    expect([from.version, to.version], `cut ${cut}`).toContain(b.manifest.version);
    const expected = b.manifest.version === from.version ? from : to;
    for (const p of expected.parts) expectBytes(part(after, p.name), p.data, `cut ${cut}: ${p.name}`);
    outcomes.add(`${stage}->v${b.manifest.version}/${b.state}`);
    // Finish the update from wherever it stopped.
    let fin = after;
    if (b.state === 'testing') fin.confirm();
    else if (b.manifest.version === from.version) {
      fin.install(bundle);
      fin = updater(inner);
      fin.boot();
      fin.confirm();
    }
    const last = updater(inner).boot();
    expect(last, `cut ${cut}`).toMatchObject({ state: 'confirmed' });
    expect(last.manifest.version, `cut ${cut}`).toBe(to.version);
  }
  // The sweep reached every stage: cuts during install keep the old image; a cut while the pending record is
  // written may land either way; a cut at confirm leaves the new image on trial (a reboot then rolls back to v1 as
  // 'confirmed', or boots it as 'testing' when the record write got through).
  // Each stage's cuts end one way, as the ping-pong boot record promises: a cut anywhere in install (the pending
  // record included: a torn record fails its CRC) keeps v1; a cut at the first boot's 'testing' record leaves it
  // pending, so the next boot tries v2; a cut at confirm leaves it on trial, so the next boot rolls back to v1.
  expect([...outcomes].sort()).toEqual(['boot->v2/testing', 'confirm->v1/confirmed', 'install->v1/confirmed']);
  return total;
}

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
