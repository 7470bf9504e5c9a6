import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { FlashProgressStore, MemoryFlash, OtaError, measureReceiveMemory, receiverWorkspaceBytes } from '../src/index.js';
import { FileFlash } from '../src/node.js';

// Live typed-array stores after a full collection (twice: the first one's freed stores are released concurrently):
// what the receiver really holds, not a formula. V8 keeps typed arrays of 64 bytes or less, and Maps, on its heap,
// where compiled code and the test runner move by hundreds of KiB, so those are not in the figure.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const liveBytes = (): number => {
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
};

const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ota-rx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MB = 1_000_000;
const BLOCK = 512 * 225;
const CAP = 64 * 1024 + BLOCK;
const params = { dataLength: MB, symbolSize: 225, maxBlockSymbols: 512, seed: 0 };

describe('receive memory', () => {
  it('takes a 1 MB bundle at 10% loss holding at most 64 KiB plus one block in RAM', () => {
    const workspace = new FileFlash(join(dir, 'workspace'), receiverWorkspaceBytes(params, 4096));
    const progress = new FileFlash(join(dir, 'progress'), 2 * 1024 * 1024);
    try {
      const r = measureReceiveMemory({ bundleBytes: MB, loss: 0.1, seed: 5, workspace, store: new FlashProgressStore(progress), liveBytes, capBytes: CAP });
      expect(r.delivered).toBe(true);
      expect(r.samples).toBeGreaterThan(50);
      expect(r.peakBytes).toBeLessThanOrEqual(CAP);
    } finally {
      workspace.close();
      progress.close();
    }
  }, 300_000);

  it('sees a workspace in RAM: the cap throws', () => {
    let err: unknown;
    try {
      measureReceiveMemory({ bundleBytes: MB, loss: 0.1, seed: 5, store: new FlashProgressStore(new MemoryFlash(2 * 1024 * 1024)), liveBytes, capBytes: CAP });
    } catch (e) {
      err = e;
    }
    expect((err as OtaError).code).toBe('TOO_LARGE');
  }, 300_000);
});
