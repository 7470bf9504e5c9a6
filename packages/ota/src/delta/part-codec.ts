import type { Kernel } from '@compotastic/kernel';
import { ByteReader, ByteWriter, concatBytes } from '../bytes.js';
import { deflateBlocks } from '../codec/block-deflate.js';
import { BlockInflater, blockInflaterBytes } from '../codec/blocks.js';
import { OtaError } from '../errors.js';
import type { PartEncoding } from '../manifest.js';
import { createPatch, type CreatePatchOptions } from '../patch/encode.js';
import { DEFAULT_APPLY_MEMORY_BYTES, applyPatchStream, type ApplyPatchOptions } from '../patch/apply.js';
import { bufferSource, type ByteSink, type RandomAccessSource } from '../storage/io.js';

// The encodings a part can travel in, and how each is rebuilt as a stream. Every decoder reads the encoded bytes
// and the installed part from storage and writes the new part sequentially, in bounded memory.
//
//   full:        varint blockBytes, then DEFLATE blocks of the part
//   tensor-sub:  varint blockBytes, then DEFLATE blocks of (new - old) mod 256, bytewise (same length as old)
//   tensor-xor:  the same with new XOR old
//   bindiff:     a binary patch (patch/ format)

export const DEFAULT_BLOCK_BYTES = 8192;

export interface EncodedPart {
  encoding: PartEncoding;
  bytes: Uint8Array;
}

export interface EncodePartOptions {
  /** Which encodings to consider (default: every one that applies). */
  encodings?: readonly PartEncoding[];
  blockBytes?: number;
  patch?: CreatePatchOptions;
}

function blocked(data: Uint8Array, blockBytes: number): Uint8Array {
  return concatBytes([new ByteWriter(4).varint(blockBytes).finish(), deflateBlocks(data, blockBytes)]);
}

/** Every applicable encoding of `next` (given the installed `base`, if any), smallest first. */
export function encodePartCandidates(kernel: Kernel, next: Uint8Array, base: Uint8Array | null, options: EncodePartOptions = {}): EncodedPart[] {
  const allowed = new Set(options.encodings ?? ['full', 'tensor-sub', 'tensor-xor', 'bindiff']);
  const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  const out: EncodedPart[] = [];
  if (allowed.has('full')) out.push({ encoding: 'full', bytes: blocked(next, blockBytes) });
  if (base) {
    if (base.length === next.length) {
      if (allowed.has('tensor-sub')) out.push({ encoding: 'tensor-sub', bytes: blocked(kernel.deltaEncode(base, next, 'sub'), blockBytes) });
      if (allowed.has('tensor-xor')) out.push({ encoding: 'tensor-xor', bytes: blocked(kernel.deltaEncode(base, next, 'xor'), blockBytes) });
    }
    if (allowed.has('bindiff')) out.push({ encoding: 'bindiff', bytes: createPatch(kernel, base, next, options.patch).patch });
  }
  if (out.length === 0) throw new OtaError('INVALID_ARGUMENT', 'no allowed encoding applies to this part');
  return out.sort((a, b) => a.bytes.length - b.bytes.length);
}

/** The smallest encoding of `next`. */
export function encodePart(kernel: Kernel, next: Uint8Array, base: Uint8Array | null, options: EncodePartOptions = {}): EncodedPart {
  return encodePartCandidates(kernel, next, base, options)[0]!;
}

/** Working memory a part's blocks need to decode: the inflater, and for a tensor delta the base block and the result. */
export function blockWorkingBytes(blockBytes: number, encoding: Exclude<PartEncoding, 'bindiff'> = 'full'): number {
  return blockInflaterBytes(blockBytes) + (encoding === 'full' ? 0 : 2 * blockBytes);
}

function readBlockBytes(src: RandomAccessSource, encoding: Exclude<PartEncoding, 'bindiff'>, memoryBudget: number): { blockBytes: number; offset: number } {
  const r = new ByteReader(src.read(0, Math.min(8, src.length)), 'encoded part');
  const blockBytes = r.varint('block size', 1 << 20);
  if (blockBytes < 256) throw new OtaError('MALFORMED', `encoded part block size ${blockBytes} is too small`);
  // Refused on the claim, before a byte of it is allocated.
  const need = blockWorkingBytes(blockBytes, encoding);
  if (need > memoryBudget) {
    throw new OtaError('TOO_LARGE', `encoded part blocks of ${blockBytes} bytes need ${need} bytes of working memory, the budget is ${memoryBudget}`);
  }
  return { blockBytes, offset: r.offset };
}

export interface DecodePartOptions {
  /** Size the part decodes to (from the manifest). */
  size: number;
  kernel: Kernel;
  /** Patch options; their memoryBudget (default 64 KiB) also bounds the blocks of full and tensor parts. */
  patch?: ApplyPatchOptions;
}

/**
 * Rebuilds a part from its encoding, reading the installed part (`base`) where the encoding needs one and writing
 * the result to `out` in order. Throws OtaError MALFORMED for encodings that do not decode to `size` bytes; the
 * caller checks the part's hash.
 */
export function decodePartStream(
  encoding: PartEncoding, encoded: RandomAccessSource, base: RandomAccessSource | null, out: ByteSink, options: DecodePartOptions,
): void {
  if (encoding === 'bindiff') {
    if (!base) throw new OtaError('BASE_MISMATCH', 'a binary patch needs the installed part');
    const r = applyPatchStream(encoded, base, out, options.patch);
    if (r.newLength !== options.size) throw new OtaError('MANIFEST_MISMATCH', `patched part has ${r.newLength} bytes, the manifest says ${options.size}`);
    return;
  }
  const { blockBytes, offset } = readBlockBytes(encoded, encoding, options.patch?.memoryBudget ?? DEFAULT_APPLY_MEMORY_BYTES);
  const blocks = new BlockInflater(encoded, offset, encoded.length, options.size, blockBytes, `${encoding} part`);
  if (encoding === 'full') {
    while (!blocks.done) out.write(blocks.next());
  } else {
    if (!base) throw new OtaError('BASE_MISMATCH', 'a tensor delta needs the installed part');
    if (base.length !== options.size) throw new OtaError('BASE_MISMATCH', `tensor delta needs a ${options.size}-byte base, the installed part has ${base.length}`);
    const mode = encoding === 'tensor-sub' ? 'sub' : 'xor';
    let at = 0;
    while (!blocks.done) {
      const delta = blocks.next();
      out.write(options.kernel.deltaDecode(base.read(at, delta.length).slice(), delta, mode));
      at += delta.length;
    }
  }
  blocks.finish();
}

/** In-memory convenience over decodePartStream. */
export function decodePart(encoding: PartEncoding, encoded: Uint8Array, base: Uint8Array | null, options: DecodePartOptions): Uint8Array {
  const chunks: Uint8Array[] = [];
  decodePartStream(encoding, bufferSource(encoded), base ? bufferSource(base) : null, { write: (c) => chunks.push(c.slice()) }, options);
  return concatBytes(chunks);
}
