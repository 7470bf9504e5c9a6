import type { Kernel } from '@compotastic/kernel';
import { ByteReader, ByteWriter, bytesEqual, concatBytes } from './bytes.js';
import { encodePartCandidates, type EncodePartOptions } from './delta/part-codec.js';
import { OtaError } from './errors.js';
import { sha256, sha256Stream } from './hash.js';
import {
  BUNDLE_ID_BYTES, MANIFEST_FORMAT_VERSION, decodeManifest, encodeManifest, type Manifest, type PartEncoding, type PartEntry, type PartKind,
} from './manifest.js';
import { KEY_ID_BYTES, SIGNATURE_BYTES, keyId, signManifest, verifyManifestSignature, type SigningKey, type TrustStore } from './signing.js';
import { bufferSource, checkRange, type RandomAccessSource } from './storage/io.js';

// Bundle container:
//   "CTB1" | u8 container version (1) | key id (8) | varint manifest length | manifest | Ed25519 signature (64) |
//   payload: the encoded parts, back to back in manifest order.

export const BUNDLE_MAGIC = Uint8Array.of(0x43, 0x54, 0x42, 0x31);
export const BUNDLE_VERSION = 1;
export const MAX_MANIFEST_BYTES = 4096;

export interface ReleasePart {
  name: string;
  kind: PartKind;
  data: Uint8Array;
}

/** One released version of a model or firmware: what a device ends up with after installing it. */
export interface Release {
  modelId: string;
  version: number;
  securityCounter: number;
  deviceClass: string;
  requiredFeatures: number;
  parts: ReleasePart[];
}

export interface BuildBundleOptions {
  key: SigningKey;
  /** The release the receiver has installed: parts are sent as deltas against it where that is smaller. */
  base?: Release | null;
  /** Fixed bundle id (16 bytes); default: derived from the content. */
  bundleId?: Uint8Array;
  encode?: EncodePartOptions;
}

export interface PartChoice {
  name: string;
  encoding: PartEncoding;
  encodedSize: number;
  /** Every encoding that was tried and its size. */
  candidates: { encoding: PartEncoding; size: number }[];
}

export interface BuiltBundle {
  bytes: Uint8Array;
  manifest: Manifest;
  choices: PartChoice[];
}

/**
 * Builds a signed bundle of `release`. With a base release, each part goes as the smallest of: full (compressed),
 * tensor delta (sub or XOR, same-size parts) and binary patch, against the base's part of the same name.
 */
export function buildBundle(kernel: Kernel, release: Release, options: BuildBundleOptions): BuiltBundle {
  const base = options.base ?? null;
  if (base && base.modelId !== release.modelId) throw new OtaError('INVALID_ARGUMENT', 'a delta base must be a release of the same model');
  const choices: PartChoice[] = [];
  const entries: PartEntry[] = [];
  const payloads: Uint8Array[] = [];
  let anyDelta = false;
  for (const part of release.parts) {
    const basePart = base?.parts.find((p) => p.name === part.name)?.data ?? null;
    const candidates = encodePartCandidates(kernel, part.data, basePart, options.encode);
    const best = candidates[0]!;
    const delta = best.encoding !== 'full';
    anyDelta ||= delta;
    entries.push({
      name: part.name,
      kind: part.kind,
      size: part.data.length,
      sha256: sha256(part.data),
      encoding: best.encoding,
      encodedSize: best.bytes.length,
      encodedSha256: sha256(best.bytes),
      baseSha256: delta && basePart ? sha256(basePart) : null,
    });
    payloads.push(best.bytes);
    choices.push({ name: part.name, encoding: best.encoding, encodedSize: best.bytes.length, candidates: candidates.map((c) => ({ encoding: c.encoding, size: c.bytes.length })) });
  }
  const baseVersion = anyDelta && base ? base.version : null;
  const idSource = new ByteWriter(64).string(release.modelId).u32(release.version).u32(baseVersion ?? 0xffffffff);
  for (const e of entries) idSource.bytes(e.encodedSha256);
  const manifest: Manifest = {
    formatVersion: MANIFEST_FORMAT_VERSION,
    bundleId: options.bundleId ?? sha256(idSource.finish()).slice(0, BUNDLE_ID_BYTES),
    deviceClass: release.deviceClass,
    requiredFeatures: release.requiredFeatures,
    modelId: release.modelId,
    version: release.version,
    securityCounter: release.securityCounter,
    baseVersion,
    parts: entries,
  };
  const manifestBytes = encodeManifest(manifest);
  if (manifestBytes.length > MAX_MANIFEST_BYTES) throw new OtaError('TOO_LARGE', 'manifest exceeds 4 KiB');
  const header = new ByteWriter(manifestBytes.length + 96)
    .bytes(BUNDLE_MAGIC).u8(BUNDLE_VERSION).bytes(keyId(options.key.publicKey)).varint(manifestBytes.length).bytes(manifestBytes)
    .bytes(signManifest(manifestBytes, options.key)).finish();
  return { bytes: concatBytes([header, ...payloads]), manifest, choices };
}

/** A bundle whose signature, manifest and payload hashes have all been verified. */
export interface OpenedBundle {
  manifest: Manifest;
  manifestBytes: Uint8Array;
  signature: Uint8Array;
  keyId: Uint8Array;
  /** The encoded bytes of part i, read from the bundle's storage. */
  partSource(index: number): RandomAccessSource;
}

function subSource(src: RandomAccessSource, start: number, length: number): RandomAccessSource {
  return {
    length,
    read(offset, n) {
      checkRange(offset, n, length, 'bundle part');
      return src.read(start + offset, n);
    },
  };
}

/**
 * Parses and verifies a bundle: container, signature by a trusted key, canonical manifest, payload length and the
 * SHA-256 of every encoded part. Throws OtaError (MALFORMED, UNKNOWN_KEY, BAD_SIGNATURE, MANIFEST_MISMATCH, CORRUPT)
 * and never returns anything unverified.
 */
export function openBundle(bundle: RandomAccessSource | Uint8Array, trust: TrustStore): OpenedBundle {
  const src = bundle instanceof Uint8Array ? bufferSource(bundle) : bundle;
  const prefix = src.read(0, Math.min(src.length, 16 + MAX_MANIFEST_BYTES + SIGNATURE_BYTES)).slice();
  const r = new ByteReader(prefix, 'bundle');
  if (!bytesEqual(r.view(4, 'magic'), BUNDLE_MAGIC)) throw new OtaError('MALFORMED', 'not a bundle: bad magic');
  const version = r.u8();
  if (version !== BUNDLE_VERSION) throw new OtaError('MALFORMED', `unsupported bundle version ${version}`);
  const id = r.bytes(KEY_ID_BYTES, 'key id');
  const manifestBytes = r.blob('manifest', MAX_MANIFEST_BYTES);
  const signature = r.bytes(SIGNATURE_BYTES, 'signature');
  // Authenticate before interpreting: nothing in an unsigned manifest is trusted, not even its lengths.
  verifyManifestSignature(manifestBytes, signature, id, trust);
  const manifest = decodeManifest(manifestBytes);
  const payloadStart = r.offset;
  let payloadLength = 0;
  for (const p of manifest.parts) payloadLength += p.encodedSize;
  if (payloadStart + payloadLength !== src.length) {
    throw new OtaError('MANIFEST_MISMATCH', `bundle payload is ${src.length - payloadStart} bytes, the manifest describes ${payloadLength}`);
  }
  const starts: number[] = [];
  let at = payloadStart;
  for (const p of manifest.parts) {
    starts.push(at);
    const h = sha256Stream();
    for (let o = 0; o < p.encodedSize; o += 4096) h.update(src.read(at + o, Math.min(4096, p.encodedSize - o)));
    if (!bytesEqual(h.digest(), p.encodedSha256)) throw new OtaError('CORRUPT', `part "${p.name}" does not match its SHA-256 in the manifest`);
    at += p.encodedSize;
  }
  return {
    manifest,
    manifestBytes,
    signature,
    keyId: id,
    partSource(index) {
      const p = manifest.parts[index];
      if (!p) throw new OtaError('INVALID_ARGUMENT', `bundle has no part ${index}`);
      return subSource(src, starts[index]!, p.encodedSize);
    },
  };
}
