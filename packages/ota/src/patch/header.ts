import { ByteReader, ByteWriter } from '../bytes.js';
import { DEFAULT_DIFF_MODEL_SIZE, MAX_MODEL_BITS, MIN_MODEL_BITS, type DiffModelSize } from '../codec/diff-model.js';
import { OtaError } from '../errors.js';
import { SHA256_BYTES } from '../hash.js';

/** "CDP1": Compotastic delta patch. */
export const PATCH_MAGIC = Uint8Array.of(0x43, 0x44, 0x50, 0x31);
/**
 * Version 3: group flags also near differences (for the rest of a group) and an equals-pred flag before a value's
 * bits; version 2 had group flags only far from differences, version 1 none and per-flag mixer training.
 */
export const PATCH_VERSION = 3;
export const DEFAULT_EXTRA_BLOCK_BYTES = 8192;
export const MIN_EXTRA_BLOCK_BYTES = 256;
export const MAX_EXTRA_BLOCK_BYTES = 65536;
/** Images up to 2^31 - 1 bytes (the diff kernel addresses with int32). */
export const MAX_IMAGE_BYTES = 0x7fffffff;

export interface PatchHeader {
  model: DiffModelSize;
  oldLength: number;
  newLength: number;
  oldSha256: Uint8Array;
  newSha256: Uint8Array;
  opCount: number;
  extraLength: number;
  extraBlockBytes: number;
  mainLength: number;
  /** Offset of the range-coded main stream from the start of the patch. */
  mainOffset: number;
  /** Offset of the extra area: blocks, each a varint compressed length and raw DEFLATE data. */
  extraOffset: number;
}

export function encodePatchHeader(h: Omit<PatchHeader, 'mainOffset' | 'extraOffset'>): Uint8Array {
  const w = new ByteWriter(128);
  w.bytes(PATCH_MAGIC).u8(PATCH_VERSION);
  w.u8(h.model.zeroBits).u8(h.model.valueBits).u8(h.model.predBits);
  w.varint(h.oldLength).varint(h.newLength).bytes(h.oldSha256).bytes(h.newSha256);
  w.varint(h.opCount).varint(h.extraLength).varint(h.extraBlockBytes).varint(h.mainLength);
  return w.finish();
}

function checkModelBits(b: number): void {
  if (b < MIN_MODEL_BITS || b > MAX_MODEL_BITS) throw new OtaError('MALFORMED', `patch model table of 2^${b} entries is outside 2^${MIN_MODEL_BITS}..2^${MAX_MODEL_BITS}`);
}

/** Parses and validates a patch header from the first bytes of a patch of `patchLength` bytes. */
export function decodePatchHeader(prefix: Uint8Array, patchLength: number): PatchHeader {
  const r = new ByteReader(prefix, 'patch header');
  const magic = r.view(4, 'magic');
  if (!magic.every((b, i) => b === PATCH_MAGIC[i])) throw new OtaError('MALFORMED', 'not a patch: bad magic');
  const version = r.u8();
  if (version !== PATCH_VERSION) {
    throw new OtaError('UNSUPPORTED_VERSION', `patch version ${version} is not supported (this applier reads version ${PATCH_VERSION}; rebuild the patch)`);
  }
  const model = { zeroBits: r.u8(), valueBits: r.u8(), predBits: r.u8() };
  checkModelBits(model.zeroBits);
  checkModelBits(model.valueBits);
  checkModelBits(model.predBits);
  const oldLength = r.varint('old length', MAX_IMAGE_BYTES);
  const newLength = r.varint('new length', MAX_IMAGE_BYTES);
  const oldSha256 = r.bytes(SHA256_BYTES, 'old hash');
  const newSha256 = r.bytes(SHA256_BYTES, 'new hash');
  const opCount = r.varint('op count', MAX_IMAGE_BYTES);
  const extraLength = r.varint('extra length', newLength);
  const extraBlockBytes = r.varint('extra block size', MAX_EXTRA_BLOCK_BYTES);
  if (extraBlockBytes < MIN_EXTRA_BLOCK_BYTES) throw new OtaError('MALFORMED', `extra block size ${extraBlockBytes} is below ${MIN_EXTRA_BLOCK_BYTES}`);
  const mainLength = r.varint('main length', MAX_IMAGE_BYTES);
  const mainOffset = r.offset;
  const extraOffset = mainOffset + mainLength;
  if (extraOffset > patchLength) {
    throw new OtaError('MALFORMED', `patch is ${patchLength} bytes but its main stream ends at ${extraOffset}`);
  }
  if (extraLength === 0 && extraOffset !== patchLength) {
    throw new OtaError('MALFORMED', `patch has ${patchLength - extraOffset} trailing bytes`);
  }
  return { model, oldLength, newLength, oldSha256, newSha256, opCount, extraLength, extraBlockBytes, mainLength, mainOffset, extraOffset };
}

/** Longest possible header: reading this many bytes (or the whole patch if shorter) always covers it. */
export const PATCH_HEADER_MAX_BYTES = 4 + 1 + 3 + 5 + 5 + 64 + 5 + 5 + 3 + 5;

export { DEFAULT_DIFF_MODEL_SIZE };
