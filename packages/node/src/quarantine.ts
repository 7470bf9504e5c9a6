import { existsSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsyncDir, readFileOrNull } from './atomic-file.js';
import { CORRUPTION_CODES, ioError, isStateError, type StateError, type StateWarningHandler } from './errors.js';

// A damaged state file must not stop the node from starting (a crash loop on a solar relay nobody can reach), nor be
// lost: it is renamed to <name>.corrupt-<timestamp> for inspection, reported once, and that part starts fresh.

/** Renames a damaged file out of the way; returns the new path. */
export function setAside(path: string, now = Date.now()): string {
  let target = `${path}.corrupt-${now}`;
  for (let n = 1; existsSync(target); n++) target = `${path}.corrupt-${now}-${n}`;
  try {
    renameSync(path, target);
  } catch (e) {
    throw ioError('cannot set aside', path, e);
  }
  fsyncDir(dirname(path));
  return target;
}

/** Sets `path` aside and reports `error` (with where the file went). */
export function quarantine(path: string, error: StateError, report: StateWarningHandler): void {
  error.quarantinedAs = setAside(path);
  report(error);
}

/**
 * Reads and decodes `path`. Missing: null. Damaged (a corruption StateError from `decode`): the file is set aside,
 * the error reported, and null returned so the caller starts fresh. Anything else (I/O) propagates.
 */
export function loadOrQuarantine<T>(path: string, decode: (bytes: Uint8Array) => T, report: StateWarningHandler): T | null {
  const bytes = readFileOrNull(path);
  if (bytes === null) return null;
  try {
    return decode(bytes);
  } catch (e) {
    if (!isStateError(e) || !CORRUPTION_CODES.includes(e.code)) throw e;
    quarantine(path, e, report);
    return null;
  }
}
