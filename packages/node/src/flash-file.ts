import { checkGeometry, isOtaError } from '@compotastic/ota';
import { FileFlash } from '@compotastic/ota/node';
import { statSync } from 'node:fs';
import { StateError, ioError } from './errors.js';

// The state's flash files (device image, OTA progress) are ota's FileFlash, so the updater and the progress log run
// over the same Flash interface as on a device; this module only checks geometry and sizes first, to give typed errors.

export interface FlashGeometry {
  /** Bytes; a positive multiple of the sector size. */
  length: number;
  /** Erase unit in bytes; a power of two >= 64. */
  sectorSize: number;
}

export function checkFlashGeometry(g: FlashGeometry, what: string): void {
  try {
    checkGeometry(g.length, g.sectorSize);
  } catch (e) {
    if (isOtaError(e)) throw new StateError('INVALID_ARGUMENT', `${what}: ${e.message}`);
    throw e;
  }
}

export function sameGeometry(a: FlashGeometry, b: FlashGeometry): boolean {
  return a.length === b.length && a.sectorSize === b.sectorSize;
}

/** The file's size, or null when it does not exist. */
export function fileSize(path: string): number | null {
  try {
    return statSync(path).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError('cannot stat', path, e);
  }
}

/** A StateError for a flash file whose size is not the geometry's. */
export function sizeError(path: string, size: number, g: FlashGeometry): StateError {
  const code = size < g.length ? 'TRUNCATED' : 'BAD_LENGTH';
  return new StateError(code, `${path} is ${size} bytes, expected ${g.length}`, { file: path });
}

/** Opens (creating erased when missing) a flash file of the given geometry; its size must already be checked. */
export function openFlashFile(path: string, g: FlashGeometry): FileFlash {
  try {
    return new FileFlash(path, g.length, g.sectorSize);
  } catch (e) {
    throw ioError('cannot open flash file', path, e);
  }
}
