import type { FileFlash } from '@compotastic/ota/node';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { StateError, type StateWarningHandler } from './errors.js';
import { checkFlashGeometry, fileSize, openFlashFile, sameGeometry, sizeError, type FlashGeometry } from './flash-file.js';
import { MODELS_FILE, checkModelId, decodeModelsManifest, encodeModelsManifest, type InstalledModel } from './models-manifest.js';
import { quarantine, loadOrQuarantine } from './quarantine.js';

// The device image: one flash file the updater partitions (ota's partitionFlash: boot record and A/B slots) and the
// models manifest beside it.

export const DEVICE_FLASH_FILE = 'device.flash';

export class DeviceImage {
  private list: InstalledModel[];

  private constructor(
    private readonly dir: string,
    readonly flash: FileFlash,
    readonly geometry: FlashGeometry,
    models: InstalledModel[],
  ) {
    this.list = models;
  }

  /**
   * Opens the device flash and its manifest. `requested` geometry must match the one recorded (GEOMETRY_MISMATCH
   * otherwise); without a record it is used, and without either the default. A flash file of the wrong size is set
   * aside only when the manifest vouches for the geometry; otherwise it may be a configuration mistake, and erasing
   * the installed image on a guess would be worse than refusing.
   */
  static open(dir: string, requested: FlashGeometry | undefined, fallback: FlashGeometry, report: StateWarningHandler): DeviceImage {
    const manifestPath = join(dir, MODELS_FILE);
    const flashPath = join(dir, DEVICE_FLASH_FILE);
    const stored = loadOrQuarantine(manifestPath, (b) => decodeModelsManifest(b, manifestPath), report);
    if (stored && requested && !sameGeometry(stored.flash, requested)) {
      throw new StateError('GEOMETRY_MISMATCH', `${flashPath} was made ${describe(stored.flash)}, asked for ${describe(requested)}`, { file: flashPath });
    }
    const geometry = stored?.flash ?? requested ?? fallback;
    checkFlashGeometry(geometry, 'device flash');
    const size = fileSize(flashPath);
    if (size !== null && size !== geometry.length) {
      if (!stored) {
        throw new StateError('GEOMETRY_MISMATCH', `${flashPath} is ${size} bytes and no valid ${MODELS_FILE} records its geometry; asked for ${describe(geometry)}`, { file: flashPath });
      }
      quarantine(flashPath, sizeError(flashPath, size, geometry), report);
    }
    const flash = openFlashFile(flashPath, geometry);
    const image = new DeviceImage(dir, flash, geometry, stored?.models ?? []);
    if (!stored) image.persist();
    return image;
  }

  get path(): string {
    return this.flash.path;
  }

  models(): InstalledModel[] {
    return this.list.map((m) => ({ ...m }));
  }

  model(modelId: string): InstalledModel | null {
    const m = this.list.find((x) => x.modelId === modelId);
    return m ? { ...m } : null;
  }

  /** Records (or replaces) an installed model, durably. */
  recordModel(m: InstalledModel): void {
    if (!checkModelId(m.modelId)) throw new StateError('INVALID_ARGUMENT', 'modelId must be a string of 1..64 characters');
    if (!Number.isInteger(m.version) || m.version < 0 || m.version > 0xffffffff) throw new StateError('INVALID_ARGUMENT', 'version must be a u32');
    if (m.slot !== 0 && m.slot !== 1 && m.slot !== null) throw new StateError('INVALID_ARGUMENT', 'slot must be 0, 1 or null');
    if (!Number.isInteger(m.installedMs) || m.installedMs < 0) throw new StateError('INVALID_ARGUMENT', 'installedMs must be a non-negative integer');
    const next = this.list.filter((x) => x.modelId !== m.modelId);
    next.push({ modelId: m.modelId, version: m.version, slot: m.slot, installedMs: m.installedMs });
    this.write(next);
  }

  removeModel(modelId: string): void {
    this.write(this.list.filter((x) => x.modelId !== modelId));
  }

  close(): void {
    this.flash.close();
  }

  private write(models: InstalledModel[]): void {
    writeFileAtomic(join(this.dir, MODELS_FILE), encodeModelsManifest({ flash: this.geometry, models }));
    this.list = models;
  }

  private persist(): void {
    this.write(this.list);
  }
}

function describe(g: FlashGeometry): string {
  return `${g.length} bytes in ${g.sectorSize}-byte sectors`;
}
