import { ed25519 } from '@noble/curves/ed25519.js';
import { BootRecordStore, partitionFlash } from '@compotastic/ota';
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEVICE_GEOMETRY, IDENTITY_FILE, NodeState, defaultStateDir, isStateError, signWithIdentity } from '../src/index.js';
import { DEVICE, NODE, PROGRESS, openState, tempDir } from './helpers.js';

describe('defaultStateDir', () => {
  it('is ~/.compotastic/<node id as 8 hex digits>', () => {
    expect(defaultStateDir(0x1a2b3c4d)).toBe(join(homedir(), '.compotastic', '1a2b3c4d'));
    expect(defaultStateDir(7)).toBe(join(homedir(), '.compotastic', '00000007'));
    expect(() => defaultStateDir(-1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('identity', () => {
  it('makes an Ed25519 key pair on first open and returns the same one on every later open', () => {
    const dir = tempDir();
    const first = openState(dir);
    const { publicKey, secretKey } = first.identity;
    expect(publicKey.length).toBe(32);
    expect(ed25519.verify(signWithIdentity(first.identity, Uint8Array.of(1, 2, 3)), Uint8Array.of(1, 2, 3), publicKey)).toBe(true);
    first.close();
    for (let i = 0; i < 3; i++) {
      const again = openState(dir);
      expect(again.identity.publicKey).toEqual(publicKey);
      expect(again.identity.secretKey).toEqual(secretKey);
      expect(again.identity.nodeNum).toBe(NODE);
      again.close();
    }
    // The secret key is readable by its owner only.
    expect(statSync(join(dir, IDENTITY_FILE)).mode & 0o077).toBe(0);
  });

  it('refuses a directory made for another node', () => {
    const dir = tempDir();
    openState(dir).close();
    expect(() => openState(dir, { nodeNum: NODE + 1 })).toThrow(expect.objectContaining({ name: 'StateError', code: 'NODE_MISMATCH' }));
    // The refusal released the lock: the right node still opens.
    openState(dir).close();
  });
});

describe('job store', () => {
  it('keeps jobs in flight across a reopen, and forgets removed ones', () => {
    const dir = tempDir();
    const a = openState(dir, { firstJobId: 100 });
    const id1 = a.jobs.reserveJobIds(1);
    const id2 = a.jobs.reserveJobIds(1);
    expect([id1, id2]).toEqual([100, 101]);
    a.jobs.saveJob(id1, Uint8Array.of(1, 2, 3));
    a.jobs.saveJob(id2, new Uint8Array(0));
    a.jobs.saveJob(id1, Uint8Array.of(9)); // a later state of the same job replaces it
    a.close();
    const b = openState(dir);
    expect(b.jobs.loadJobs()).toEqual([{ id: 100, record: Uint8Array.of(9) }, { id: 101, record: new Uint8Array(0) }]);
    b.jobs.removeJob(id2);
    b.jobs.removeJob(12345); // unknown: nothing to do
    b.close();
    const c = openState(dir);
    expect(c.jobs.loadJobs()).toEqual([{ id: 100, record: Uint8Array.of(9) }]);
    expect(c.jobs.reserveJobIds(1)).toBe(102);
    c.close();
  });

  it('refuses bad arguments and use after close with typed errors', () => {
    const s = openState(tempDir());
    expect(() => s.jobs.reserveJobIds(0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => s.jobs.saveJob(0, new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => s.jobs.saveJob(2 ** 32, new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    s.close();
    expect(() => s.jobs.reserveJobIds(1)).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });
});

describe('OTA progress', () => {
  it('survives a reopen through FlashProgressStore, so a restarted receiver resumes', () => {
    const dir = tempDir();
    const a = openState(dir);
    expect(a.ota.store.load()).toBeNull();
    const offer = Uint8Array.of(0xaa, 0xbb, 0xcc);
    a.ota.store.begin(offer);
    a.ota.store.append({ block: 0, esi: 0, data: new Uint8Array(40).fill(1) });
    a.ota.store.append({ block: 1, esi: 7, data: new Uint8Array(40).fill(2) });
    a.close();
    const b = openState(dir);
    const t = b.ota.store.load();
    expect(t?.offer).toEqual(offer);
    expect(t?.state).toBe('receiving');
    expect(t?.symbols.map((s) => [s.block, s.esi, s.data[0]])).toEqual([[0, 0, 1], [1, 7, 2]]);
    // Resuming appends after what survived.
    b.ota.store.append({ block: 1, esi: 8, data: new Uint8Array(40).fill(3) });
    b.ota.store.finish('complete', 0);
    b.close();
    const c = openState(dir);
    const done = c.ota.store.load();
    expect(done?.state).toBe('complete');
    expect(done?.symbols).toHaveLength(3);
    c.close();
  });
});

describe('device image', () => {
  it('keeps the flash (boot record, slots) and the models manifest across a reopen', () => {
    const dir = tempDir();
    const a = openState(dir);
    expect(a.device.geometry).toEqual(DEVICE);
    const layout = partitionFlash(a.device.flash);
    new BootRecordStore(layout.bootRecord).write({ active: 1, state: 'confirmed', previous: null, securityFloor: 4 });
    a.device.recordModel({ modelId: 'kws-int8', version: 3, slot: 1, installedMs: 1000 });
    a.device.recordModel({ modelId: 'anomaly', version: 1, slot: null, installedMs: 2000 });
    a.device.recordModel({ modelId: 'kws-int8', version: 4, slot: 0, installedMs: 3000 });
    a.close();
    // Without a geometry the recorded one is used.
    const b = NodeState.open({ dir, nodeNum: NODE, progress: PROGRESS });
    expect(b.device.geometry).toEqual(DEVICE);
    expect(new BootRecordStore(partitionFlash(b.device.flash).bootRecord).read()).toMatchObject({ active: 1, state: 'confirmed', securityFloor: 4 });
    expect(b.device.models()).toEqual([
      { modelId: 'anomaly', version: 1, slot: null, installedMs: 2000 },
      { modelId: 'kws-int8', version: 4, slot: 0, installedMs: 3000 },
    ]);
    b.device.removeModel('anomaly');
    expect(b.device.model('anomaly')).toBeNull();
    b.close();
    const c = openState(dir);
    expect(c.device.models().map((m) => m.modelId)).toEqual(['kws-int8']);
    c.close();
  });

  it('refuses a geometry other than the recorded one, without touching the image', () => {
    const dir = tempDir();
    openState(dir).close();
    const other = { length: DEVICE.length * 2, sectorSize: DEVICE.sectorSize };
    expect(() => openState(dir, { device: other })).toThrow(expect.objectContaining({ code: 'GEOMETRY_MISMATCH' }));
    expect(statSync(join(dir, 'device.flash')).size).toBe(DEVICE.length);
    expect(() => openState(tempDir(), { device: { length: 1000, sectorSize: 4096 } })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('defaults to a 4 MiB device flash', () => {
    const dir = tempDir();
    const s = NodeState.open({ dir, nodeNum: NODE, progress: PROGRESS });
    expect(s.device.geometry).toEqual(DEFAULT_DEVICE_GEOMETRY);
    expect(existsSync(s.device.path)).toBe(true);
    s.close();
  });
});

describe('errors', () => {
  it('are StateErrors with a code', () => {
    try {
      openState(tempDir(), { nodeNum: 1.5 });
      expect.unreachable();
    } catch (e) {
      expect(isStateError(e, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});
