import type { Kernel } from '@compotastic/kernel';
import { OtaError } from '../errors.js';
import type { RandomAccessSource } from '../storage/io.js';
import type { BitCoder } from './bit-coder.js';
import type { DiffModelSize } from './diff-model.js';

// The patch decoder's hot loop in the Wasm kernel (its cm_* exports): the range decoder and the difference-byte
// model run there, bit-identical with RangeDecoder and DiffByteModel. This class feeds the coded stream into the
// kernel's input window and old bytes into its run buffer, and serves the patch's integers bit by bit as a BitCoder.

interface ContextMixingExports {
  memory: WebAssembly.Memory;
  arena_alloc(size: number, align: number): number;
  arena_mark(): number;
  arena_release(mark: number): number;
  cm_input_bytes(): number;
  cm_run_bytes(): number;
  cm_state_size(zb: number, vb: number, pb: number): number;
  cm_input_offset(): number;
  cm_old_offset(): number;
  cm_new_offset(): number;
  cm_init(s: number, zb: number, vb: number, pb: number): number;
  cm_input_compact(s: number): number;
  cm_input_added(s: number, n: number, eof: number): number;
  cm_input_available(s: number): number;
  cm_start(s: number): number;
  cm_bit(s: number, p1: number): number;
  cm_direct(s: number, count: number): number;
  cm_diff(s: number, from: number, to: number): number;
}

const ERR_FORMAT = -6;
/** Coded bytes the window keeps ahead of the integers of one patch op (three of at most 22 coded bytes each). */
const OP_LOOKAHEAD_BYTES = 96;

/** True when the kernel build has the context-mixing decoder. */
export function kernelHasPatchDecoder(kernel: Kernel): boolean {
  return typeof (kernel.exports as unknown as Partial<ContextMixingExports>).cm_diff === 'function';
}

export class KernelDiffDecoder implements BitCoder {
  private readonly ex: ContextMixingExports;
  private readonly mark: number;
  private readonly state: number;
  private readonly inputCapacity: number;
  /** Longest run of old bytes one kernel call takes. */
  readonly runBytes: number;
  private pos: number;

  /** Takes the coded stream from `src` [start, end) and the model's table sizes from the patch header. */
  constructor(
    kernel: Kernel,
    model: DiffModelSize,
    private readonly src: RandomAccessSource,
    start: number,
    private readonly end: number,
  ) {
    if (!kernelHasPatchDecoder(kernel)) throw new OtaError('INVALID_ARGUMENT', 'this kernel build has no context-mixing decoder');
    this.ex = kernel.exports as unknown as ContextMixingExports;
    const ex = this.ex;
    const size = ex.cm_state_size(model.zeroBits, model.valueBits, model.predBits);
    if (size < 0) throw new OtaError('MALFORMED', 'patch model table sizes are out of range');
    this.mark = ex.arena_mark();
    this.state = ex.arena_alloc(size, 16);
    if (this.state === 0) throw new OtaError('TOO_LARGE', `the kernel cannot allocate ${size} bytes for the patch decoder`);
    this.check(ex.cm_init(this.state, model.zeroBits, model.valueBits, model.predBits));
    this.inputCapacity = ex.cm_input_bytes();
    this.runBytes = ex.cm_run_bytes();
    this.pos = start;
    this.refill();
    this.check(ex.cm_start(this.state));
  }

  /** Frees the decoder's kernel memory (and anything allocated after it). */
  dispose(): void {
    this.ex.arena_release(this.mark);
  }

  private check(code: number): number {
    if (code === ERR_FORMAT) throw new OtaError('MALFORMED', 'stream is truncated');
    if (code < 0) throw new OtaError('INVALID_STATE', `kernel patch decoder failed (code ${code})`);
    return code;
  }

  private bytesAt(offset: number, length: number): Uint8Array {
    return new Uint8Array(this.ex.memory.buffer, this.state + offset, length);
  }

  private refill(): void {
    const ex = this.ex;
    const kept = ex.cm_input_compact(this.state);
    const n = Math.min(this.inputCapacity - kept, this.end - this.pos);
    if (n > 0) this.bytesAt(ex.cm_input_offset() + kept, n).set(this.src.read(this.pos, n));
    this.pos += n;
    this.check(ex.cm_input_added(this.state, n, this.pos === this.end ? 1 : 0));
  }

  /** Call before decoding a patch op's integers: tops up the input window. */
  beginOp(): void {
    if (this.pos < this.end && this.ex.cm_input_available(this.state) < OP_LOOKAHEAD_BYTES) this.refill();
  }

  bit(p1: number): number {
    return this.check(this.ex.cm_bit(this.state, p1));
  }

  direct(_value: number, count: number): number {
    return this.check(this.ex.cm_direct(this.state, count));
  }

  /** Decodes one run of at most runBytes: new bytes for `old`, passed to `emit` (valid during the call). */
  run(old: Uint8Array, emit: (b: Uint8Array) => void): void {
    const ex = this.ex;
    if (old.length > this.runBytes) throw new OtaError('INVALID_ARGUMENT', `a run is at most ${this.runBytes} bytes`);
    this.bytesAt(ex.cm_old_offset(), old.length).set(old);
    let at = 0;
    while (at < old.length) {
      const reached = this.check(ex.cm_diff(this.state, at, old.length));
      if (reached === at) {
        if (this.pos >= this.end) throw new OtaError('MALFORMED', 'stream is truncated');
        this.refill();
      }
      at = reached;
    }
    emit(this.bytesAt(ex.cm_new_offset(), old.length));
  }
}
