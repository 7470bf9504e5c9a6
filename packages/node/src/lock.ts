import { linkSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fsyncDir, writeTempFile } from './atomic-file.js';
import { StateError, ioError } from './errors.js';

// One process per state directory: two nodes sharing a key pair and a job-id counter would hand out the same ids.
// The lock file holds the owner's pid and host. It is created complete (a synced temp file hard-linked into place,
// which fails if a lock exists), so it is never seen half-written. A lock whose pid is dead on this host is stale
// (its owner crashed) and is taken over; a live one, or one from another host (its pid cannot be checked), refuses.

export const LOCK_NAME = 'lock';

export interface LockOwner {
  pid: number;
  host: string;
}

/** The owner recorded in a lock file, or null when the content is not one (then the lock counts as stale). */
export function parseLock(text: string): LockOwner | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const { pid, host } = v as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0 || typeof host !== 'string') return null;
  return { pid, host };
}

/** Whether a process with this pid exists on this host (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError('cannot read lock', path, e);
  }
}

export class DirLock {
  private held = true;

  private constructor(
    readonly path: string,
    private readonly content: string,
  ) {}

  /** Takes the lock on `dir`, taking over a stale one; throws StateError LOCKED when a live process holds it. */
  static acquire(dir: string): DirLock {
    const path = join(dir, LOCK_NAME);
    const content = JSON.stringify({ pid: process.pid, host: hostname() } satisfies LockOwner);
    const temp = writeTempFile(path, new TextEncoder().encode(content));
    try {
      // A few rounds: each lost race either finds a live owner (LOCKED) or a lock that has just gone away.
      for (let round = 0; round < 5; round++) {
        try {
          linkSync(temp, path);
          fsyncDir(dir);
          return new DirLock(path, content);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('cannot create lock', path, e);
        }
        const text = readLock(path);
        if (text === null) continue;
        const owner = parseLock(text);
        if (owner && (owner.host !== hostname() || pidAlive(owner.pid))) {
          const who = owner.host === hostname() ? `process ${owner.pid}` : `process ${owner.pid} on ${owner.host}`;
          throw new StateError('LOCKED', `state directory ${dir} is in use by ${who}`, { file: path });
        }
        takeOverStale(path, text);
      }
      throw new StateError('LOCKED', `state directory ${dir}: the lock keeps changing hands`, { file: path });
    } finally {
      try {
        unlinkSync(temp);
      } catch {
        // The temp name is recognisable and removed on the next open.
      }
    }
  }

  /** Releases the lock if this process still holds it. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    if (readLock(this.path) !== this.content) return;
    unlinkSync(this.path);
    fsyncDir(dirname(this.path));
  }
}

/**
 * Removes a stale lock. It is first renamed to a private name, so of two processes taking over at once only one gets
 * it; if what was renamed is no longer the stale content (a new owner took it meanwhile), it is put back.
 */
function takeOverStale(path: string, staleText: string): void {
  const grabbed = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, grabbed);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw ioError('cannot take over lock', path, e);
  }
  try {
    if (readLock(grabbed) !== staleText) {
      try {
        linkSync(grabbed, path);
      } catch {
        // Someone locked again meanwhile; the next round sees their lock.
      }
    }
  } finally {
    unlinkSync(grabbed);
  }
}
