// @compotastic/node: a complete Compotastic node for real radios. So far: its persistent state.
export { CORRUPTION_CODES, StateError, isStateError, type StateErrorCode, type StateWarningHandler } from './errors.js';
export { fsyncDir, readFileOrNull, removeFileDurable, writeFileAtomic } from './atomic-file.js';
export { decodeJsonFile, decodeStateFile, encodeJsonFile, encodeStateFile, type FileKind } from './state-format.js';
export { loadOrQuarantine, setAside } from './quarantine.js';
export { DirLock, LOCK_NAME, parseLock, pidAlive, type LockOwner } from './lock.js';
export { IDENTITY_FILE, decodeIdentity, encodeIdentity, generateIdentity, openIdentity, signWithIdentity, type NodeIdentity } from './identity.js';
export {
  FileJobStore, JOBS_DIR, JOB_IDS_FILE, MAX_JOB_ID, MAX_RESERVATION, decodeJob, decodeJobIds, encodeJob, encodeJobIds,
  type DurableJobStore, type FileJobStoreOptions, type StoredJob,
} from './job-store.js';
export { checkFlashGeometry, type FlashGeometry } from './flash-file.js';
export { PROGRESS_FILE, openOtaProgress, type OtaProgress } from './ota-progress.js';
export { MODELS_FILE, decodeModelsManifest, encodeModelsManifest, type InstalledModel, type ModelsManifest } from './models-manifest.js';
export { DEVICE_FLASH_FILE, DeviceImage } from './device-image.js';
export { defaultStateDir } from './paths.js';
export { DEFAULT_DEVICE_GEOMETRY, DEFAULT_PROGRESS_GEOMETRY, NodeState, type OpenStateOptions } from './state.js';
