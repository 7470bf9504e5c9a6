import { ByteReader, ByteWriter, bytesEqual } from './bytes.js';
import { OtaError } from './errors.js';
import { SHA256_BYTES, sha256 } from './hash.js';

// The manifest: what a bundle is, whom it is for, and the exact bytes of every part. It is the signed object: the
// signature covers this canonical encoding, and the hashes in it cover everything else.

export const MANIFEST_FORMAT_VERSION = 1;
export const BUNDLE_ID_BYTES = 16;
export const MAX_PARTS = 16;
export const MAX_NAME_BYTES = 64;

/** What a part holds. */
export type PartKind = 'wasm' | 'weights' | 'config' | 'firmware' | 'data';
export const PART_KINDS: readonly PartKind[] = ['wasm', 'weights', 'config', 'firmware', 'data'];

/**
 * How a part travels: the whole part DEFLATE-compressed, a bytewise delta against the installed part (subtractive or
 * XOR) then compressed, or a binary patch against the installed part.
 */
export type PartEncoding = 'full' | 'tensor-sub' | 'tensor-xor' | 'bindiff';
export const PART_ENCODINGS: readonly PartEncoding[] = ['full', 'tensor-sub', 'tensor-xor', 'bindiff'];

export interface PartEntry {
  /** Unique within the bundle; a delta part applies to the installed part of the same name. */
  name: string;
  kind: PartKind;
  /** Decoded size and SHA-256. */
  size: number;
  sha256: Uint8Array;
  encoding: PartEncoding;
  /** Size and SHA-256 of the bytes carried in the bundle. */
  encodedSize: number;
  encodedSha256: Uint8Array;
  /** SHA-256 of the installed part a delta needs; null for 'full'. */
  baseSha256: Uint8Array | null;
}

export interface Manifest {
  formatVersion: number;
  bundleId: Uint8Array;
  /** Device class the bundle targets (e.g. "esp32-s3"); "*" for any. */
  deviceClass: string;
  /** Wasm features the kernel part needs: bit 0 SIMD128, bit 1 relaxed SIMD (the kernel's FEATURE_* bits). */
  requiredFeatures: number;
  modelId: string;
  /** Release number of the model or firmware, increasing. */
  version: number;
  /** Anti-rollback counter: a device never installs a lower one than it has confirmed. */
  securityCounter: number;
  /** The installed version a delta bundle applies to, or null when every part is full. */
  baseVersion: number | null;
  parts: PartEntry[];
}

function writeHash(w: ByteWriter, h: Uint8Array): void {
  if (h.length !== SHA256_BYTES) throw new OtaError('INVALID_ARGUMENT', 'hashes must be 32 bytes');
  w.bytes(h);
}

function checkName(s: string, what: string): void {
  const n = new TextEncoder().encode(s).length;
  if (n === 0 || n > MAX_NAME_BYTES) throw new OtaError('INVALID_ARGUMENT', `${what} must be 1..${MAX_NAME_BYTES} bytes of UTF-8`);
}

/** Canonical binary encoding (the bytes that are signed). */
export function encodeManifest(m: Manifest): Uint8Array {
  if (m.formatVersion !== MANIFEST_FORMAT_VERSION) throw new OtaError('INVALID_ARGUMENT', `manifest format ${m.formatVersion} is not ${MANIFEST_FORMAT_VERSION}`);
  if (m.bundleId.length !== BUNDLE_ID_BYTES) throw new OtaError('INVALID_ARGUMENT', `bundle id must be ${BUNDLE_ID_BYTES} bytes`);
  checkName(m.deviceClass, 'device class');
  checkName(m.modelId, 'model id');
  if (m.parts.length === 0 || m.parts.length > MAX_PARTS) throw new OtaError('INVALID_ARGUMENT', `a bundle has 1..${MAX_PARTS} parts`);
  const names = new Set<string>();
  const w = new ByteWriter(256);
  w.u8(m.formatVersion).bytes(m.bundleId).string(m.deviceClass).u32(m.requiredFeatures).string(m.modelId);
  w.u32(m.version).u32(m.securityCounter);
  if (m.baseVersion === null) w.u8(0);
  else w.u8(1).u32(m.baseVersion);
  w.u8(m.parts.length);
  for (const p of m.parts) {
    checkName(p.name, 'part name');
    if (names.has(p.name)) throw new OtaError('INVALID_ARGUMENT', `duplicate part name "${p.name}"`);
    names.add(p.name);
    const kind = PART_KINDS.indexOf(p.kind);
    const enc = PART_ENCODINGS.indexOf(p.encoding);
    if (kind < 0) throw new OtaError('INVALID_ARGUMENT', `unknown part kind ${String(p.kind)}`);
    if (enc < 0) throw new OtaError('INVALID_ARGUMENT', `unknown part encoding ${String(p.encoding)}`);
    if ((p.encoding === 'full') !== (p.baseSha256 === null)) throw new OtaError('INVALID_ARGUMENT', `part "${p.name}": a base hash goes with delta encodings only`);
    if (p.encoding !== 'full' && m.baseVersion === null) throw new OtaError('INVALID_ARGUMENT', `part "${p.name}" is a delta but the bundle has no base version`);
    w.string(p.name).u8(kind).varint(p.size);
    writeHash(w, p.sha256);
    w.u8(enc).varint(p.encodedSize);
    writeHash(w, p.encodedSha256);
    if (p.baseSha256) writeHash(w, p.baseSha256);
  }
  return w.finish();
}

/** Parses a manifest, rejecting anything but the canonical encoding. */
export function decodeManifest(bytes: Uint8Array): Manifest {
  const r = new ByteReader(bytes, 'manifest');
  const formatVersion = r.u8();
  if (formatVersion !== MANIFEST_FORMAT_VERSION) throw new OtaError('MALFORMED', `unsupported manifest format ${formatVersion}`);
  const bundleId = r.bytes(BUNDLE_ID_BYTES, 'bundle id');
  const deviceClass = r.string('device class', MAX_NAME_BYTES);
  const requiredFeatures = r.u32();
  const modelId = r.string('model id', MAX_NAME_BYTES);
  const version = r.u32();
  const securityCounter = r.u32();
  const hasBase = r.u8();
  if (hasBase > 1) throw new OtaError('MALFORMED', 'manifest base flag is not 0 or 1');
  const baseVersion = hasBase ? r.u32() : null;
  const count = r.u8();
  const parts: PartEntry[] = [];
  for (let i = 0; i < count; i++) {
    const name = r.string('part name', MAX_NAME_BYTES);
    const kind = PART_KINDS[r.u8()];
    if (!kind) throw new OtaError('MALFORMED', `part ${i} has an unknown kind`);
    const size = r.varint('part size');
    const hash = r.bytes(SHA256_BYTES, 'part hash');
    const encoding = PART_ENCODINGS[r.u8()];
    if (!encoding) throw new OtaError('MALFORMED', `part ${i} has an unknown encoding`);
    const encodedSize = r.varint('encoded size');
    const encodedSha256 = r.bytes(SHA256_BYTES, 'encoded hash');
    const baseSha256 = encoding === 'full' ? null : r.bytes(SHA256_BYTES, 'base hash');
    parts.push({ name, kind, size, sha256: hash, encoding, encodedSize, encodedSha256, baseSha256 });
  }
  r.end();
  const m: Manifest = { formatVersion, bundleId, deviceClass, requiredFeatures, modelId, version, securityCounter, baseVersion, parts };
  let canonical: Uint8Array;
  try {
    canonical = encodeManifest(m);
  } catch (e) {
    throw new OtaError('MALFORMED', `manifest is inconsistent: ${(e as Error).message}`, { cause: e });
  }
  if (!bytesEqual(canonical, bytes)) throw new OtaError('MALFORMED', 'manifest is not in canonical form');
  return m;
}

/** Identity of an installed image: SHA-256 over the names, sizes and hashes of its parts, in order. */
export function imageDigest(parts: readonly Pick<PartEntry, 'name' | 'size' | 'sha256'>[]): Uint8Array {
  const w = new ByteWriter(64 * parts.length + 8);
  w.varint(parts.length);
  for (const p of parts) w.string(p.name).varint(p.size).bytes(p.sha256);
  return sha256(w.finish());
}
