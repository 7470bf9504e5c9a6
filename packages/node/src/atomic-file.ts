import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ioError } from './errors.js';

// Crash-safe replacement of small files: the new bytes go to a temp file in the same directory (so the rename stays
// on one file system and is atomic), are synced, renamed over the target, and the directory is synced so the rename
// itself survives a power cut. A reader therefore sees the old file or the new one, never a mix.

const TEMP_MARK = '.tmp-';
let tempCounter = 0;

/** True for names writeFileAtomic uses for its temp files (left behind only by a crash mid-write). */
export function isTempName(name: string): boolean {
  return name.startsWith('.') && name.includes(TEMP_MARK);
}

/** Syncs a directory's entries. Some platforms cannot open a directory for sync; they get no stronger guarantee. */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (e) {
    if (isUnsupported(e)) return;
    throw ioError('cannot open directory', dir, e);
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    if (!isUnsupported(e)) throw ioError('cannot sync directory', dir, e);
  } finally {
    closeSync(fd);
  }
}

function isUnsupported(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'EISDIR' || code === 'EPERM' || code === 'EINVAL';
}

/** Writes `data` to a synced temp file beside `path` (mode `mode`), never touching `path`; returns the temp name. */
export function writeTempFile(path: string, data: Uint8Array, mode = 0o644): string {
  const temp = join(dirname(path), `.${basename(path)}${TEMP_MARK}${process.pid}-${tempCounter++}`);
  let fd = -1;
  try {
    fd = openSync(temp, 'wx', mode);
    let done = 0;
    while (done < data.length) done += writeSync(fd, data, done, data.length - done);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    return temp;
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    removeQuietly(temp);
    throw ioError('cannot write', temp, e);
  }
}

/** Replaces `path` with `data` atomically and durably. */
export function writeFileAtomic(path: string, data: Uint8Array, mode = 0o644): void {
  const temp = writeTempFile(path, data, mode);
  try {
    renameSync(temp, path);
  } catch (e) {
    removeQuietly(temp);
    throw ioError('cannot replace', path, e);
  }
  fsyncDir(dirname(path));
}

/** The file's bytes, or null when it does not exist. */
export function readFileOrNull(path: string): Uint8Array | null {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError('cannot read', path, e);
  }
}

/** Deletes `path` durably; a missing file is already deleted. */
export function removeFileDurable(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw ioError('cannot delete', path, e);
  }
  fsyncDir(dirname(path));
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Best effort: the temp name is recognisable and removed on the next open.
  }
}
