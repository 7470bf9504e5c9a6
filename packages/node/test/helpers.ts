import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { NodeState, type OpenStateOptions } from '../src/index.js';

export const NODE = 0x1a2b3c4d;
/** Small flash files keep every test's disk work tiny. */
export const DEVICE = { length: 64 * 1024, sectorSize: 4096 };
export const PROGRESS = { length: 16 * 1024, sectorSize: 4096 };

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory, removed after the test. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'node-state-'));
  made.push(d);
  return d;
}

export function openState(dir: string, extra: Partial<OpenStateOptions> = {}): NodeState {
  return NodeState.open({ dir, nodeNum: NODE, device: DEVICE, progress: PROGRESS, ...extra });
}

/** Names in `dir` that start with `prefix`. */
export function namesStarting(dir: string, prefix: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith(prefix));
}
