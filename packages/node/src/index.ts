// @compotastic/node: a complete Compotastic node for real radios (Node.js): the assembly of orchestrator, OTA, model
// store and device image on its persistent state, the control socket and the compotastic command. The browser-safe
// parts are in @compotastic/node/core.
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
export { PersistentJobStore, decodePersistedJob, encodePersistedJob, type PersistentJobStoreOptions } from './persistent-jobs.js';
export { nodeStorage } from './node-storage.js';
export { CONTROL_SOCKET, controlRequest, findControlSocket, serveControl, type PublishRequest, type SubmitRequest } from './control.js';
export { NodeError, type NodeErrorCode } from './node-error.js';
export { bar, formatEvent, renderStatus } from './view.js';
export * from './core/index.js';
export { randomGemmJob } from './gemm-job.js';
