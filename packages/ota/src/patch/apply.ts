import type { Kernel } from '@compotastic/kernel';
import { bytesEqual } from '../bytes.js';
import { BlockInflater, blockInflaterBytes } from '../codec/blocks.js';
import { STRETCH_TABLE_BYTES } from '../codec/context-mixing.js';
import { DecodingBitCoder, type BitCoder } from '../codec/bit-coder.js';
import { DiffByteModel, GROUP_BYTES, diffModelBytes } from '../codec/diff-model.js';
import { KernelDiffDecoder } from '../codec/kernel-diff-decoder.js';
import { IntModel, SignedIntModel } from '../codec/int-model.js';
import { OtaError } from '../errors.js';
import { sha256Source, sha256Stream } from '../hash.js';
import { BufferSink, ChunkedReader, bufferSource, type ByteSink, type RandomAccessSource } from '../storage/io.js';
import { PATCH_HEADER_MAX_BYTES, decodePatchHeader, type PatchHeader } from './header.js';

/** RAM the applier may use by default: the patch format is sized so a patch applies on a 64 KiB device. */
export const DEFAULT_APPLY_MEMORY_BYTES = 64 * 1024;
const OLD_WINDOW_BYTES = 1024;
const OUT_BUFFER_BYTES = 1024;
const MAIN_READ_BYTES = 512;
/** Reads of the old image while it is hashed, before anything else is allocated (each read costs a hash update). */
const HASH_READ_BYTES = 4096;
/** Hash states, decoder state, header: a generous fixed allowance. */
const FIXED_OVERHEAD_BYTES = 1024;

export interface ApplyPatchOptions {
  /** Working-memory limit in bytes (default 64 KiB); a patch needing more is refused before anything is written. */
  memoryBudget?: number;
  /**
   * Decode the difference bytes in this kernel (its context-mixing decoder, bit-identical, several times faster);
   * default the TypeScript decoder.
   */
  kernel?: Kernel;
  /** Hash the old image first and refuse a patch built for another (default true). */
  verifyOld?: boolean;
}

export interface ApplyPatchResult {
  newLength: number;
  newSha256: Uint8Array;
  /** Bytes of buffers and model state the applier held, the figure compared with the memory budget. */
  workingBytes: number;
}

/**
 * Working memory a patch with this header needs to apply: the model, the literal inflater (one block, its input
 * window and code tables), the buffers, and the shared stretch table the model's mixers read.
 */
export function patchWorkingBytes(h: Pick<PatchHeader, 'model' | 'extraBlockBytes'>): number {
  return diffModelBytes(h.model) + blockInflaterBytes(h.extraBlockBytes) + OLD_WINDOW_BYTES + OUT_BUFFER_BYTES +
    MAIN_READ_BYTES + PATCH_HEADER_MAX_BYTES + FIXED_OVERHEAD_BYTES + STRETCH_TABLE_BYTES + GROUP_BYTES;
}

/** Reads a patch's header without applying it. */
export function readPatchHeader(patch: RandomAccessSource): PatchHeader {
  return decodePatchHeader(patch.read(0, Math.min(patch.length, PATCH_HEADER_MAX_BYTES)).slice(), patch.length);
}

class OldWindow {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  constructor(private readonly src: RandomAccessSource) {}
  at(pos: number): number {
    const rel = pos - this.start;
    if (rel >= 0 && rel < this.buf.length) return this.buf[rel]!;
    const n = Math.min(OLD_WINDOW_BYTES, this.src.length - pos);
    this.buf = this.src.read(pos, n).slice();
    this.start = pos;
    return this.buf[0]!;
  }
}

class ExtraReader {
  private block: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private readonly blocks: BlockInflater;

  constructor(patch: RandomAccessSource, h: PatchHeader) {
    this.blocks = new BlockInflater(patch, h.extraOffset, patch.length, h.extraLength, h.extraBlockBytes, 'patch literal bytes');
  }

  /** Copies `n` literal bytes to `emit`, in pieces. */
  take(n: number, emit: (b: Uint8Array) => void): void {
    let left = n;
    while (left > 0) {
      if (this.pos >= this.block.length) {
        this.block = this.blocks.next();
        this.pos = 0;
      }
      const k = Math.min(left, this.block.length - this.pos);
      emit(this.block.subarray(this.pos, this.pos + k));
      this.pos += k;
      left -= k;
    }
  }

  finish(): void {
    this.blocks.finish();
  }
}

class OutputStage {
  private readonly buf = new Uint8Array(OUT_BUFFER_BYTES);
  private fill = 0;
  private readonly hash = sha256Stream();
  written = 0;

  constructor(private readonly sink: ByteSink) {}

  byte(b: number): void {
    this.buf[this.fill++] = b;
    if (this.fill === OUT_BUFFER_BYTES) this.flush();
  }

  bytes(b: Uint8Array): void {
    for (let i = 0; i < b.length; ) {
      const k = Math.min(b.length - i, OUT_BUFFER_BYTES - this.fill);
      this.buf.set(b.subarray(i, i + k), this.fill);
      this.fill += k;
      i += k;
      if (this.fill === OUT_BUFFER_BYTES) this.flush();
    }
  }

  flush(): void {
    if (this.fill === 0) return;
    const chunk = this.buf.subarray(0, this.fill);
    this.hash.update(chunk);
    this.sink.write(chunk);
    this.written += this.fill;
    this.fill = 0;
  }

  digest(): Uint8Array {
    this.flush();
    return this.hash.digest();
  }
}

/**
 * Applies a patch as a stream: the old image is read from storage through a 1 KiB window, the new image is written
 * to `out` sequentially, and working memory stays within the budget (64 KiB by default). Everything is validated as
 * it is decoded; a malformed patch throws OtaError MALFORMED, an output that does not hash to the patch's target
 * throws CORRUPT, and the caller discards what was written (it went to an inactive slot).
 */
export function applyPatchStream(
  patch: RandomAccessSource, old: RandomAccessSource, out: ByteSink, options: ApplyPatchOptions = {},
): ApplyPatchResult {
  const h = readPatchHeader(patch);
  const budget = options.memoryBudget ?? DEFAULT_APPLY_MEMORY_BYTES;
  const workingBytes = patchWorkingBytes(h);
  if (workingBytes > budget) {
    throw new OtaError('TOO_LARGE', `patch needs ${workingBytes} bytes of working memory, the budget is ${budget}`);
  }
  if (old.length !== h.oldLength) {
    throw new OtaError('BASE_MISMATCH', `patch was built for a ${h.oldLength}-byte image, the installed one has ${old.length}`);
  }
  if ((options.verifyOld ?? true) && !bytesEqual(sha256Source(old, HASH_READ_BYTES), h.oldSha256)) {
    throw new OtaError('BASE_MISMATCH', 'patch was built for a different old image (SHA-256 differs)');
  }
  const output = new OutputStage(out);
  let oldPos = 0;
  let newPos = 0;
  const decoder = options.kernel ? new KernelDiffDecoder(options.kernel, h.model, patch, h.mainOffset, h.extraOffset) : null;
  try {
    const coder: BitCoder = decoder ?? new DecodingBitCoder(new ChunkedReader(patch, h.mainOffset, h.extraOffset, MAIN_READ_BYTES));
    const diffModel = decoder ? null : new DiffByteModel(h.model);
    const addModel = new IntModel();
    const extraModel = new IntModel();
    const seekModel = new SignedIntModel();
    const window = new OldWindow(old);
    const extras = new ExtraReader(patch, h);
    const emit = (b: Uint8Array): void => output.bytes(b);
    const group = new Uint8Array(GROUP_BYTES);
    for (let op = 0; op < h.opCount; op++) {
      decoder?.beginOp();
      const add = addModel.code(coder, 0);
      const extra = extraModel.code(coder, 0);
      const seek = seekModel.code(coder, 0);
      if (add < 0 || extra < 0) throw new OtaError('MALFORMED', `patch op ${op} has an invalid length`);
      if (oldPos < 0 || oldPos + add > h.oldLength) throw new OtaError('MALFORMED', `patch op ${op} reads outside the old image`);
      if (newPos + add + extra > h.newLength) throw new OtaError('MALFORMED', `patch op ${op} writes past the new image`);
      if (decoder) {
        for (let at = 0; at < add; at += decoder.runBytes) decoder.run(old.read(oldPos + at, Math.min(decoder.runBytes, add - at)), emit);
      } else {
        const m = diffModel!;
        for (let i = 0; i < add; i++) {
          const n = m.groupLength(i, add);
          if (n > 0) {
            for (let q = 0; q < n; q++) group[q] = window.at(oldPos + i + q);
            if (!m.codeGroup(coder, group, 0, n, 0)) {
              for (let q = 0; q < n; q++) output.byte(group[q]!);
              i += n - 1;
              continue;
            }
          }
          const o = window.at(oldPos + i);
          output.byte((o + m.code(coder, o, 0)) & 0xff);
        }
      }
      extras.take(extra, emit);
      newPos += add + extra;
      oldPos += add + seek;
    }
    if (newPos !== h.newLength) throw new OtaError('MALFORMED', `patch ops cover ${newPos} of ${h.newLength} bytes`);
    extras.finish();
  } finally {
    decoder?.dispose();
  }
  const digest = output.digest();
  if (!bytesEqual(digest, h.newSha256)) throw new OtaError('CORRUPT', 'patched image does not match the SHA-256 in the patch');
  return { newLength: output.written, newSha256: digest, workingBytes };
}

/** In-memory convenience over applyPatchStream. */
export function applyPatch(patch: Uint8Array, old: Uint8Array, options: ApplyPatchOptions = {}): Uint8Array {
  const sink = new BufferSink(readPatchHeader(bufferSource(patch)).newLength);
  applyPatchStream(bufferSource(patch), bufferSource(old), sink, options);
  return sink.bytes();
}
