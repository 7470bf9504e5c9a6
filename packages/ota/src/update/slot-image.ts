import { ByteReader, ByteWriter, bytesEqual } from '../bytes.js';
import { OtaError } from '../errors.js';
import { sha256Stream } from '../hash.js';
import { decodeManifest, type Manifest } from '../manifest.js';
import { KEY_ID_BYTES, SIGNATURE_BYTES, verifyManifestSignature, type TrustStore } from '../signing.js';
import { MAX_MANIFEST_BYTES } from '../bundle.js';
import type { Flash } from '../storage/flash.js';
import { checkRange, type RandomAccessSource } from '../storage/io.js';

// An installed image in a slot: a header area (magic, key id, signed manifest, signature) followed by the decoded
// parts back to back from SLOT_HEADER_BYTES on. The header is programmed last, so a slot whose write was interrupted
// has no valid header and is never booted. Verifying a slot re-checks the signature and every part's SHA-256 from
// flash.

export const SLOT_MAGIC = 0x31495343; // "CSI1"
/** Room for the header: the largest manifest plus signature, rounded to 8 KiB. */
export const SLOT_HEADER_BYTES = 8192;

export interface SlotImage {
  manifest: Manifest;
  manifestBytes: Uint8Array;
  signature: Uint8Array;
  keyId: Uint8Array;
  /** Offset of each part inside the slot. */
  offsets: number[];
}

export function encodeSlotHeader(manifestBytes: Uint8Array, signature: Uint8Array, keyId: Uint8Array): Uint8Array {
  return new ByteWriter(manifestBytes.length + 96).u32(SLOT_MAGIC).bytes(keyId).varint(manifestBytes.length).bytes(manifestBytes).bytes(signature).finish();
}

/** Part offsets for a manifest's parts laid out after the header. */
export function partOffsets(manifest: Manifest): number[] {
  const out: number[] = [];
  let at = SLOT_HEADER_BYTES;
  for (const p of manifest.parts) {
    out.push(at);
    at += p.size;
  }
  return out;
}

export function slotBytesNeeded(manifest: Manifest): number {
  return SLOT_HEADER_BYTES + manifest.parts.reduce((n, p) => n + p.size, 0);
}

/**
 * Reads and fully verifies the image in a slot: header, signature by a trusted key, and every part hash. Returns
 * null (with the reason in `why`) for an empty, torn or tampered slot.
 */
export function verifySlot(slot: Flash, trust: TrustStore, why?: (reason: string) => void): SlotImage | null {
  try {
    const r = new ByteReader(slot.read(0, Math.min(SLOT_HEADER_BYTES, slot.length)), 'slot header');
    if (r.u32() !== SLOT_MAGIC) throw new OtaError('MALFORMED', 'slot holds no image');
    const keyId = r.bytes(KEY_ID_BYTES, 'key id');
    const manifestBytes = r.blob('manifest', MAX_MANIFEST_BYTES);
    const signature = r.bytes(SIGNATURE_BYTES, 'signature');
    verifyManifestSignature(manifestBytes, signature, keyId, trust);
    const manifest = decodeManifest(manifestBytes);
    if (slotBytesNeeded(manifest) > slot.length) throw new OtaError('MALFORMED', 'slot image is larger than the slot');
    const offsets = partOffsets(manifest);
    manifest.parts.forEach((p, i) => {
      const h = sha256Stream();
      const start = offsets[i]!;
      for (let o = 0; o < p.size; o += 4096) h.update(slot.read(start + o, Math.min(4096, p.size - o)));
      if (!bytesEqual(h.digest(), p.sha256)) throw new OtaError('CORRUPT', `part "${p.name}" in the slot does not match its hash`);
    });
    return { manifest, manifestBytes, signature, keyId, offsets };
  } catch (e) {
    why?.(e instanceof Error ? e.message : String(e));
    return null;
  }
}

/** Read access to one part of a verified slot image. */
export function slotPartSource(slot: Flash, image: SlotImage, name: string): RandomAccessSource | null {
  const i = image.manifest.parts.findIndex((p) => p.name === name);
  if (i < 0) return null;
  const start = image.offsets[i]!;
  const length = image.manifest.parts[i]!.size;
  return {
    length,
    read(offset, n) {
      checkRange(offset, n, length, `slot part ${name}`);
      return slot.read(start + offset, n);
    },
  };
}
