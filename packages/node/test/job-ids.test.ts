import { Prng } from '@compotastic/mesh';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileJobStore, JOB_IDS_FILE, MAX_JOB_ID } from '../src/index.js';
import { tempDir } from './helpers.js';

describe('job ids', () => {
  it('never repeat across many restarts, clean or crashed between reserve and use', () => {
    const dir = tempDir();
    const r = new Prng(41);
    const seen = new Set<number>();
    let store = FileJobStore.open(dir);
    for (let life = 0; life < 60; life++) {
      // A few reservations of random sizes; some ids are used for jobs, the rest are simply lost in the crash.
      for (let k = r.int(1, 4); k > 0; k--) {
        const n = r.int(1, 9);
        const first = store.reserveJobIds(n);
        for (let id = first; id < first + n; id++) {
          expect(seen.has(id)).toBe(false);
          seen.add(id);
        }
        if (r.bool(0.5)) store.saveJob(first, Uint8Array.of(life));
        if (r.bool(0.3)) store.removeJob(first);
      }
      // Half the lives end cleanly; the others "crash": the store is reopened without being closed.
      if (r.bool(0.5)) store.close();
      store = FileJobStore.open(dir);
    }
    expect(seen.size).toBeGreaterThan(100);
  });

  it('start a new counter at the chosen id, or at a random one in 1..2^30 as the coordinator does', () => {
    expect(FileJobStore.open(tempDir(), { firstJobId: 5 }).reserveJobIds(1)).toBe(5);
    const id = FileJobStore.open(tempDir()).reserveJobIds(1);
    expect(id).toBeGreaterThanOrEqual(1);
    expect(id).toBeLessThanOrEqual(2 ** 30);
  });

  it('restart above every stored job when the counter file is lost', () => {
    const dir = tempDir();
    const a = FileJobStore.open(dir, { firstJobId: 1000 });
    const first = a.reserveJobIds(10);
    a.saveJob(first + 7, Uint8Array.of(1));
    rmSync(join(dir, JOB_IDS_FILE));
    const b = FileJobStore.open(dir, { firstJobId: 1 });
    expect(b.reserveJobIds(1)).toBe(first + 8);
  });

  it('move past an id saved without being reserved', () => {
    const s = FileJobStore.open(tempDir(), { firstJobId: 10 });
    s.saveJob(50, Uint8Array.of(1));
    expect(s.reserveJobIds(1)).toBe(51);
  });

  it('wrap to 1 at the end of the u32 space, as the coordinator counter does, keeping a block contiguous', () => {
    const dir = tempDir();
    const s = FileJobStore.open(dir, { firstJobId: MAX_JOB_ID - 2 });
    expect(s.reserveJobIds(2)).toBe(MAX_JOB_ID - 2);
    expect(s.reserveJobIds(2)).toBe(1);
    expect(FileJobStore.open(dir).reserveJobIds(1)).toBe(3);
    const t = FileJobStore.open(tempDir(), { firstJobId: MAX_JOB_ID });
    expect(t.reserveJobIds(1)).toBe(MAX_JOB_ID);
    expect(t.reserveJobIds(1)).toBe(1);
  });
});
