import type { Kernel } from '@compotastic/kernel';
import { EncodingBitCoder } from '../codec/bit-coder.js';
import { DEFAULT_DIFF_MODEL_SIZE, DiffByteModel, MAX_MODEL_BITS, MIN_MODEL_BITS, type DiffModelSize } from '../codec/diff-model.js';
import { IntModel, SignedIntModel } from '../codec/int-model.js';
import { concatBytes } from '../bytes.js';
import { deflateBlocks } from '../codec/block-deflate.js';
import { OtaError } from '../errors.js';
import { sha256 } from '../hash.js';
import { DEFAULT_EXTRA_BLOCK_BYTES, MAX_EXTRA_BLOCK_BYTES, MAX_IMAGE_BYTES, MIN_EXTRA_BLOCK_BYTES, encodePatchHeader } from './header.js';

export interface CreatePatchOptions {
  /** Candidates the matcher tries per position (default 64): more finds longer matches, slower. */
  maxChain?: number;
  /** Context-model table sizes; larger compresses better but needs more RAM to apply (default ~38 KiB). */
  model?: DiffModelSize;
  /** Literal bytes are deflated in independent blocks of this size (default 8 KiB), bounding the applier's buffers. */
  extraBlockBytes?: number;
}

/** What createPatch measured, for choosing between encodings and for reports. */
export interface PatchStats {
  ops: number;
  diffBytes: number;
  extraBytes: number;
  mainStreamBytes: number;
  extraStreamBytes: number;
}

/** The three ops streams of a diff turned into the coded main stream (ctrl and difference bytes interleaved). */
class MainStreamEncoder {
  private readonly coder = new EncodingBitCoder();
  private readonly addModel = new IntModel();
  private readonly extraModel = new IntModel();
  private readonly seekModel = new SignedIntModel();
  private readonly diffModel: DiffByteModel;

  constructor(model: DiffModelSize) {
    this.diffModel = new DiffByteModel(model);
  }

  op(add: number, extra: number, seek: number, oldBytes: Uint8Array, diff: Uint8Array): void {
    this.addModel.code(this.coder, add);
    this.extraModel.code(this.coder, extra);
    this.seekModel.code(this.coder, seek);
    const m = this.diffModel;
    for (let i = 0; i < add; i++) {
      const n = m.groupLength(i, add);
      if (n > 0) {
        const any = diff.subarray(i, i + n).some((b) => b !== 0) ? 1 : 0;
        if (!m.codeGroup(this.coder, oldBytes, i, n, any)) {
          i += n - 1;
          continue;
        }
      }
      m.code(this.coder, oldBytes[i]!, diff[i]!);
    }
  }

  finish(): Uint8Array {
    return this.coder.finish();
  }
}

function checkModel(m: DiffModelSize): void {
  for (const b of [m.zeroBits, m.valueBits, m.predBits]) {
    if (!Number.isInteger(b) || b < MIN_MODEL_BITS || b > MAX_MODEL_BITS) {
      throw new OtaError('INVALID_ARGUMENT', `model table bits must be integers ${MIN_MODEL_BITS}..${MAX_MODEL_BITS}`);
    }
  }
}

/**
 * Builds a binary patch that turns `old` into `next` (format in README, "Patch format"). Matching runs in the kernel
 * (hash-chain diff); the difference bytes are coded with a context model that sees the old image, the literal bytes
 * with DEFLATE. Returns the patch and what went into it.
 */
export function createPatch(kernel: Kernel, old: Uint8Array, next: Uint8Array, options: CreatePatchOptions = {}): { patch: Uint8Array; stats: PatchStats } {
  if (!(old instanceof Uint8Array) || !(next instanceof Uint8Array)) throw new OtaError('INVALID_ARGUMENT', 'createPatch takes Uint8Arrays');
  if (old.length > MAX_IMAGE_BYTES || next.length > MAX_IMAGE_BYTES) throw new OtaError('TOO_LARGE', 'images must be below 2 GiB');
  const model = options.model ?? DEFAULT_DIFF_MODEL_SIZE;
  checkModel(model);
  const blockBytes = options.extraBlockBytes ?? DEFAULT_EXTRA_BLOCK_BYTES;
  if (!Number.isInteger(blockBytes) || blockBytes < MIN_EXTRA_BLOCK_BYTES || blockBytes > MAX_EXTRA_BLOCK_BYTES) {
    throw new OtaError('INVALID_ARGUMENT', `extraBlockBytes must be ${MIN_EXTRA_BLOCK_BYTES}..${MAX_EXTRA_BLOCK_BYTES}`);
  }
  const ops = kernel.diff(old, next, { maxChain: options.maxChain ?? 64 });
  const streams = kernel.buildPatch(old, next, ops);
  const main = new MainStreamEncoder(model);
  let oldPos = 0;
  let diffPos = 0;
  for (let i = 0; i < ops.length; i += 3) {
    const add = ops[i]!;
    const extra = ops[i + 1]!;
    const seek = ops[i + 2]!;
    main.op(add, extra, seek, old.subarray(oldPos, oldPos + add), streams.diff.subarray(diffPos, diffPos + add));
    diffPos += add;
    oldPos += add + seek;
  }
  const mainStream = main.finish();
  const extraArea = deflateBlocks(streams.extra, blockBytes);
  const header = encodePatchHeader({
    model,
    oldLength: old.length,
    newLength: next.length,
    oldSha256: sha256(old),
    newSha256: sha256(next),
    opCount: ops.length / 3,
    extraLength: streams.extra.length,
    extraBlockBytes: blockBytes,
    mainLength: mainStream.length,
  });
  return {
    patch: concatBytes([header, mainStream, extraArea]),
    stats: {
      ops: ops.length / 3,
      diffBytes: streams.diff.length,
      extraBytes: streams.extra.length,
      mainStreamBytes: mainStream.length,
      extraStreamBytes: extraArea.length,
    },
  };
}
