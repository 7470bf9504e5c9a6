import { FlashProgressStore } from '@compotastic/ota';
import type { FileFlash } from '@compotastic/ota/node';
import { join } from 'node:path';
import type { StateWarningHandler } from './errors.js';
import { checkFlashGeometry, fileSize, openFlashFile, sizeError, type FlashGeometry } from './flash-file.js';
import { quarantine } from './quarantine.js';

// A transfer in progress lives in ota's FlashProgressStore (an append-only, CRC-checked log that already survives
// torn writes) over a file-backed flash region, so a receiver restarted mid-transfer resumes where it stopped.

export const PROGRESS_FILE = 'ota-progress.flash';

export interface OtaProgress {
  readonly store: FlashProgressStore;
  readonly flash: FileFlash;
  readonly path: string;
}

/**
 * Opens the progress region. A file of the wrong size (truncated, or written with another geometry) is set aside
 * and the transfer starts over: progress is only ever a shortcut, the sender can always resend.
 */
export function openOtaProgress(dir: string, geometry: FlashGeometry, report: StateWarningHandler): OtaProgress {
  checkFlashGeometry(geometry, 'OTA progress region');
  const path = join(dir, PROGRESS_FILE);
  const size = fileSize(path);
  if (size !== null && size !== geometry.length) quarantine(path, sizeError(path, size, geometry), report);
  const flash = openFlashFile(path, geometry);
  return { store: new FlashProgressStore(flash), flash, path };
}
