// @compotastic/ota/device: what a device links to apply a patch, and nothing of the publisher's side (no patch
// encoder, no fflate): importing it loads only the tables the applier really uses, so its memory can be measured.
export { OtaError, type OtaErrorCode } from './errors.js';
export { DEFAULT_APPLY_MEMORY_BYTES, applyPatchStream, patchWorkingBytes, readPatchHeader, type ApplyPatchOptions, type ApplyPatchResult } from './patch/apply.js';
export { bufferSource, type ByteSink, type RandomAccessSource } from './storage/io.js';
