import { mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isTempName } from './atomic-file.js';
import { DeviceImage } from './device-image.js';
import { ioError, type StateError, type StateWarningHandler } from './errors.js';
import type { FlashGeometry } from './flash-file.js';
import { openIdentity, type NodeIdentity } from './identity.js';
import { FileJobStore, JOBS_DIR } from './job-store.js';
import { DirLock, pidAlive } from './lock.js';
import { openOtaProgress, type OtaProgress } from './ota-progress.js';
import { checkNodeNum } from './paths.js';

/** 4 MiB in 4 KiB sectors: a common ESP32 OTA layout, two slots of just under 2 MiB. */
export const DEFAULT_DEVICE_GEOMETRY: FlashGeometry = { length: 4 * 1024 * 1024, sectorSize: 4096 };
/** Room for a bundle filling a whole slot plus fountain-code surplus and the log's per-symbol overhead. */
export const DEFAULT_PROGRESS_GEOMETRY: FlashGeometry = { length: 2560 * 1024, sectorSize: 4096 };

export interface OpenStateOptions {
  /** The state directory (--state DIR); see defaultStateDir. Created when missing. */
  dir: string;
  /** This node's number; a directory made for another node is refused (NODE_MISMATCH). */
  nodeNum: number;
  /** Geometry of the device flash file; must match what the directory was made with. */
  device?: FlashGeometry;
  /** Geometry of the OTA progress region (default DEFAULT_PROGRESS_GEOMETRY). */
  progress?: FlashGeometry;
  /** First job id of a brand-new counter (default random, as the coordinator picks). */
  firstJobId?: number;
  /** Called once for each damaged file set aside; they are also listed in `warnings`. */
  onWarning?: StateWarningHandler;
}

/**
 * A node's persistent state directory, held exclusively while open: identity and keys, the job store, OTA progress,
 * and the device image with its models manifest.
 */
export class NodeState {
  private open_ = true;

  private constructor(
    readonly dir: string,
    readonly identity: NodeIdentity,
    readonly jobs: FileJobStore,
    readonly ota: OtaProgress,
    readonly device: DeviceImage,
    readonly warnings: readonly StateError[],
    private readonly lock: DirLock,
  ) {}

  static open(options: OpenStateOptions): NodeState {
    checkNodeNum(options.nodeNum);
    const { dir } = options;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw ioError('cannot create', dir, e);
    }
    const lock = DirLock.acquire(dir);
    const warnings: StateError[] = [];
    const report: StateWarningHandler = (w) => {
      warnings.push(w);
      options.onWarning?.(w);
    };
    const opened: Array<{ close(): void }> = [];
    try {
      removeStrayTemps(dir);
      removeStrayTemps(join(dir, JOBS_DIR));
      const identity = openIdentity(dir, options.nodeNum, report);
      const jobs = FileJobStore.open(dir, { firstJobId: options.firstJobId, onWarning: report });
      opened.push(jobs);
      const ota = openOtaProgress(dir, options.progress ?? DEFAULT_PROGRESS_GEOMETRY, report);
      opened.push(ota.flash);
      const device = DeviceImage.open(dir, options.device, DEFAULT_DEVICE_GEOMETRY, report);
      return new NodeState(dir, identity, jobs, ota, device, warnings, lock);
    } catch (e) {
      for (const o of opened) o.close();
      lock.release();
      throw e;
    }
  }

  get isOpen(): boolean {
    return this.open_;
  }

  /** Closes the files and releases the directory. Every write has already been made durable. */
  close(): void {
    if (!this.open_) return;
    this.open_ = false;
    this.jobs.close();
    this.ota.flash.close();
    this.device.close();
    this.lock.release();
  }
}

const TEMP_PID = /\.tmp-(\d+)-\d+$/;

/** Removes temp files a crashed writer left behind (never those of a live process, e.g. one waiting on the lock). */
function removeStrayTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw ioError('cannot list', dir, e);
  }
  for (const name of names) {
    if (!isTempName(name)) continue;
    const pid = Number(TEMP_PID.exec(name)?.[1] ?? 0);
    if (pid > 0 && pid !== process.pid && pidAlive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('cannot remove', join(dir, name), e);
    }
  }
}
