import { readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEVICE_FLASH_FILE, IDENTITY_FILE, JOBS_DIR, JOB_IDS_FILE, MODELS_FILE, PROGRESS_FILE, StateError, encodeStateFile, type StateErrorCode,
} from '../src/index.js';
import { DEVICE, PROGRESS, namesStarting, openState, tempDir } from './helpers.js';

const utf8 = new TextEncoder();

/** Ways to damage a state file, each with the code it must be reported with. */
const DAMAGE: Array<{ name: string; code: StateErrorCode; damage: (file: Uint8Array, kind: string) => Uint8Array }> = [
  { name: 'cut short', code: 'TRUNCATED', damage: (f) => f.subarray(0, Math.floor(f.length * 0.6)) },
  { name: 'emptied', code: 'TRUNCATED', damage: () => new Uint8Array(0) },
  { name: 'with bytes appended', code: 'BAD_LENGTH', damage: (f) => new Uint8Array([...f, 0x20]) },
  {
    name: 'with a flipped body bit',
    code: 'BAD_CHECKSUM',
    damage: (f) => {
      const g = f.slice();
      g[g.length - 3]! ^= 0x04;
      return g;
    },
  },
  { name: 'as another format version', code: 'WRONG_VERSION', damage: (f, kind) => utf8.encode(new TextDecoder().decode(f).replace(`${kind} v1 `, `${kind} v2 `)) },
  { name: 'as something else entirely', code: 'BAD_MAGIC', damage: () => utf8.encode('{"hello": "world"}\n') },
  { name: 'holding a body that is not JSON', code: 'BAD_JSON', damage: (_f, kind) => encodeStateFile({ kind, version: 1 }, utf8.encode('{"next": 1')) },
  { name: 'holding JSON of the wrong shape', code: 'BAD_CONTENT', damage: (_f, kind) => encodeStateFile({ kind, version: 1 }, utf8.encode('[1, 2, 3]')) },
];

function damageFile(path: string, kind: string, d: (typeof DAMAGE)[number]): Uint8Array {
  const bad = d.damage(new Uint8Array(readFileSync(path)), kind);
  writeFileSync(path, bad);
  return bad;
}

/** Checks the one warning: its code, its file, and that the damaged bytes were kept aside. */
function expectSetAside(warnings: readonly StateError[], dir: string, name: string, code: StateErrorCode, bad: Uint8Array): void {
  expect(warnings.map((w) => [w.code, w.file])).toEqual([[code, join(dir, name)]]);
  expect(warnings[0]).toBeInstanceOf(StateError);
  const aside = namesStarting(dir, `${name}.corrupt-`);
  expect(aside).toHaveLength(1);
  expect(warnings[0]!.quarantinedAs).toBe(join(dir, aside[0]!));
  expect(new Uint8Array(readFileSync(join(dir, aside[0]!)))).toEqual(bad);
}

describe.each(DAMAGE)('a state file $name', (d) => {
  it('identity: reported once, set aside, and a new key pair made', () => {
    const dir = tempDir();
    const a = openState(dir);
    const oldKey = a.identity.publicKey;
    a.close();
    const bad = damageFile(join(dir, IDENTITY_FILE), 'identity', d);
    const seen: StateError[] = [];
    const b = openState(dir, { onWarning: (w) => seen.push(w) });
    expectSetAside(b.warnings, dir, IDENTITY_FILE, d.code, bad);
    expect(seen).toEqual(b.warnings);
    expect(b.identity.publicKey).not.toEqual(oldKey);
    b.close();
    // The fresh state is written: the next open is clean and keeps the new key.
    const c = openState(dir);
    expect(c.warnings).toEqual([]);
    expect(c.identity.publicKey).toEqual(b.identity.publicKey);
    c.close();
  });

  it('job-id counter: set aside, and the new counter starts above every stored job', () => {
    const dir = tempDir();
    const a = openState(dir, { firstJobId: 500 });
    const id = a.jobs.reserveJobIds(3);
    a.jobs.saveJob(id + 2, Uint8Array.of(7));
    a.close();
    const bad = damageFile(join(dir, JOB_IDS_FILE), 'job-ids', d);
    const b = openState(dir, { firstJobId: 1 });
    expectSetAside(b.warnings, dir, JOB_IDS_FILE, d.code, bad);
    expect(b.jobs.reserveJobIds(1)).toBe(id + 3);
    b.close();
  });

  it('models manifest: set aside, an empty manifest made, the device flash kept', () => {
    const dir = tempDir();
    const a = openState(dir);
    a.device.recordModel({ modelId: 'kws', version: 2, slot: 0, installedMs: 1 });
    a.device.flash.program(100, Uint8Array.of(1, 2, 3));
    a.close();
    const bad = damageFile(join(dir, MODELS_FILE), 'models', d);
    const b = openState(dir);
    expectSetAside(b.warnings, dir, MODELS_FILE, d.code, bad);
    expect(b.device.models()).toEqual([]);
    expect(b.device.flash.read(100, 3)).toEqual(Uint8Array.of(1, 2, 3));
    b.close();
  });
});

// Job records are opaque bytes, so only JSON damage does not apply to them.
describe.each(DAMAGE.filter((d) => d.code !== 'BAD_JSON'))('a job file $name', (d) => {
  it('is set aside, that job dropped, the others kept', () => {
    const dir = tempDir();
    const a = openState(dir, { firstJobId: 10 });
    a.jobs.saveJob(a.jobs.reserveJobIds(1), utf8.encode('job ten, running'));
    a.jobs.saveJob(a.jobs.reserveJobIds(1), utf8.encode('job eleven'));
    a.close();
    const jobsDir = join(dir, JOBS_DIR);
    const bad = damageFile(join(jobsDir, '10.job'), 'job', d);
    const b = openState(dir);
    expectSetAside(b.warnings, jobsDir, '10.job', d.code, bad);
    expect(b.jobs.loadJobs().map((j) => j.id)).toEqual([11]);
    expect(b.jobs.reserveJobIds(1)).toBe(12);
    b.close();
  });

});

describe('a flash file of the wrong size', () => {
  it('OTA progress: set aside as truncated, and the transfer starts over', () => {
    const dir = tempDir();
    const a = openState(dir);
    a.ota.store.begin(Uint8Array.of(1));
    a.close();
    truncateSync(join(dir, PROGRESS_FILE), 100);
    const b = openState(dir);
    expect(b.warnings.map((w) => w.code)).toEqual(['TRUNCATED']);
    expect(namesStarting(dir, `${PROGRESS_FILE}.corrupt-`)).toHaveLength(1);
    expect(b.ota.store.load()).toBeNull();
    b.close();
  });

  it('device flash: set aside when models.json vouches for its geometry', () => {
    const dir = tempDir();
    openState(dir).close();
    writeFileSync(join(dir, DEVICE_FLASH_FILE), new Uint8Array(DEVICE.length + PROGRESS.length));
    const b = openState(dir);
    expect(b.warnings.map((w) => w.code)).toEqual(['BAD_LENGTH']);
    expect(namesStarting(dir, `${DEVICE_FLASH_FILE}.corrupt-`)).toHaveLength(1);
    expect(b.device.flash.read(0, 4)).toEqual(new Uint8Array(4).fill(0xff));
    b.close();
  });

  it('device flash: refused, not erased, when nothing records its geometry', () => {
    const dir = tempDir();
    openState(dir).close();
    writeFileSync(join(dir, MODELS_FILE), 'garbage');
    truncateSync(join(dir, DEVICE_FLASH_FILE), 4096);
    expect(() => openState(dir)).toThrow(expect.objectContaining({ code: 'GEOMETRY_MISMATCH' }));
    expect(readdirSync(dir).filter((n) => n.startsWith(`${DEVICE_FLASH_FILE}.corrupt-`))).toEqual([]);
  });
});
