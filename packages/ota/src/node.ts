// Node-only storage (never imported by the browser path).
export { FileFlash } from './storage/file-flash.js';
export { measureApplyMemory, type ApplyMemoryResult } from './experiments/apply-memory.js';
