import type { SlotIndex } from '@compotastic/ota';
import { asObject, badContent, decodeJsonFile, encodeJsonFile, intField, type FileKind } from './state-format.js';
import type { FlashGeometry } from './flash-file.js';

// models.json: the geometry of the device flash file and the models installed in it. The flash itself (boot record,
// signed slot headers) stays the authority on what boots; this is the node's quick index of what it has, and the
// record that vouches for the flash file's size.

export const MODELS_FILE = 'models.json';
const KIND: FileKind = { kind: 'models', version: 1 };
const MAX_MODEL_ID_CHARS = 64;

export interface InstalledModel {
  /** The bundle manifest's modelId. */
  modelId: string;
  /** The bundle manifest's version. */
  version: number;
  /** The A/B slot holding it, or null when it is not in the device flash (e.g. kept elsewhere). */
  slot: SlotIndex | null;
  installedMs: number;
}

export interface ModelsManifest {
  flash: FlashGeometry;
  models: InstalledModel[];
}

export function checkModelId(modelId: unknown): modelId is string {
  return typeof modelId === 'string' && modelId.length > 0 && modelId.length <= MAX_MODEL_ID_CHARS;
}

export function encodeModelsManifest(m: ModelsManifest): Uint8Array {
  return encodeJsonFile(KIND, {
    flash: { length: m.flash.length, sectorSize: m.flash.sectorSize },
    models: m.models.map((x) => ({ modelId: x.modelId, version: x.version, slot: x.slot, installedMs: x.installedMs })),
  });
}

export function decodeModelsManifest(bytes: Uint8Array, file?: string): ModelsManifest {
  const o = asObject(KIND, decodeJsonFile(KIND, bytes, file), file);
  const f = asObject(KIND, o.flash, file);
  const flash = { length: intField(KIND, f, 'length', 1, Number.MAX_SAFE_INTEGER, file), sectorSize: intField(KIND, f, 'sectorSize', 1, 0x40000000, file) };
  if (!Array.isArray(o.models)) throw badContent(KIND, 'models must be an array', file);
  const seen = new Set<string>();
  const models = o.models.map((v): InstalledModel => {
    const e = asObject(KIND, v, file);
    if (!checkModelId(e.modelId)) throw badContent(KIND, `modelId must be a string of 1..${MAX_MODEL_ID_CHARS} characters`, file);
    if (seen.has(e.modelId)) throw badContent(KIND, `model ${e.modelId} is listed twice`, file);
    seen.add(e.modelId);
    if (e.slot !== 0 && e.slot !== 1 && e.slot !== null) throw badContent(KIND, 'slot must be 0, 1 or null', file);
    return {
      modelId: e.modelId,
      version: intField(KIND, e, 'version', 0, 0xffffffff, file),
      slot: e.slot,
      installedMs: intField(KIND, e, 'installedMs', 0, Number.MAX_SAFE_INTEGER, file),
    };
  });
  return { flash, models };
}
