import type { PersistedJob } from '@compotastic/orchestrator';
import { describe, expect, it } from 'vitest';
import { FileJobStore, PersistentJobStore, StateError, decodePersistedJob, encodePersistedJob } from '../src/index.js';
import { tempDir } from './helpers.js';

const job = (id: number, extra: Partial<PersistedJob> = {}): PersistedJob => ({
  id,
  spec: { kind: 'gemm', m: 2, k: 3, n: 2, aType: 'uint8', bType: 'int8', aZeroPoint: 128, bZeroPoint: 0, weights: 'inline' },
  input: Uint8Array.from({ length: 12 }, (_, i) => i * 7),
  submittedMs: 1000 + id,
  deadlineMs: 90_000,
  status: 'running',
  reason: null,
  tag: `t${id}`,
  slices: [{ axis: 'whole' }],
  outputs: [null],
  output: null,
  finishedMs: null,
  ...extra,
});

describe('the persistent job store', () => {
  it('round-trips every field of a job, bytes included', () => {
    const done = job(7, { status: 'done', outputs: [Uint8Array.of(1, 2, 255)], output: Uint8Array.of(1, 2, 255), finishedMs: 5000 });
    expect(decodePersistedJob(encodePersistedJob(done), 7)).toEqual(done);
  });

  it('refuses records that are not a job with a typed error', () => {
    const enc = new TextEncoder();
    const bad = [
      enc.encode('not json'),
      enc.encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(encodePersistedJob(job(3)))), id: 4 })),
      enc.encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(encodePersistedJob(job(3)))), spec: { kind: 'gemm', m: 0 } })),
      enc.encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(encodePersistedJob(job(3)))), input: '***' })),
      enc.encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(encodePersistedJob(job(3)))), status: 'weird' })),
      Uint8Array.of(0xff, 0xfe),
    ];
    for (const b of bad) expect(() => decodePersistedJob(b, 3)).toThrow(StateError);
  });

  it('keeps jobs across a reopen, and hands out ids that never repeat after one', () => {
    const dir = tempDir();
    const seen = new Set<number>();
    for (let run = 0; run < 4; run++) {
      const files = FileJobStore.open(dir, { firstJobId: 100 });
      const store = new PersistentJobStore(files);
      expect(store.load().map((j) => j.id)).toEqual([...seen].slice(0, run ? 1 : 0));
      for (let i = 0; i < 5; i++) {
        const id = store.allocateJobId();
        expect(seen.has(id)).toBe(false);
        seen.add(id);
        if (run === 0 && i === 0) store.save(job(id));
      }
      files.close();
    }
    expect(seen.size).toBe(20);
  });

  it('drops a stored job it cannot decode, reporting it, instead of failing to start', () => {
    const dir = tempDir();
    const files = FileJobStore.open(dir, { firstJobId: 10 });
    files.saveJob(10, new TextEncoder().encode('{"id":10}'));
    files.saveJob(11, encodePersistedJob(job(11)));
    const dropped: number[] = [];
    const store = new PersistentJobStore(files, { onCorrupt: (id) => dropped.push(id) });
    expect(store.load().map((j) => j.id)).toEqual([11]);
    expect(dropped).toEqual([10]);
    expect(files.loadJobs().map((j) => j.id)).toEqual([11]);
    files.close();
  });
});
