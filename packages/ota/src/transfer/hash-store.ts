import { OtaError } from '../errors.js';
import type { SourceBlock } from '../fec/fountain.js';
import { eraseRange, type Flash } from '../storage/flash.js';
import { SYMBOL_HASH_BYTES } from './messages.js';

// The signed hashes of a transfer's symbols, kept on flash: a source symbol's hash goes to its slot (one bit in RAM
// says it is there), a repair symbol's stays in RAM until its block decodes (repair is sent only for losses).

export function symbolHashBytes(blocks: readonly SourceBlock[], sectorSize: number): number {
  const total = blocks.reduce((n, b) => n + b.symbols, 0);
  return Math.ceil((total * SYMBOL_HASH_BYTES) / sectorSize) * sectorSize;
}

export class SymbolHashStore {
  private readonly known: Uint8Array;
  private readonly repairs = new Map<number, Uint8Array>();

  /** Erases the part of `flash` the hashes need (at least symbolHashBytes). */
  constructor(
    private readonly flash: Flash,
    private readonly blocks: readonly SourceBlock[],
  ) {
    const bytes = symbolHashBytes(blocks, flash.sectorSize);
    if (flash.length < bytes) throw new OtaError('TOO_LARGE', `the symbol hashes need ${bytes} bytes of flash, ${flash.length} are available`);
    eraseRange(flash, 0, bytes);
    this.known = new Uint8Array((blocks.reduce((n, b) => n + b.symbols, 0) + 7) >> 3);
  }

  /** Index of a source symbol in the whole transfer, or -1 for a repair symbol. */
  private source(block: number, esi: number): number {
    const b = this.blocks[block]!;
    return esi < b.symbols ? b.firstSymbol + esi : -1;
  }

  get(block: number, esi: number): Uint8Array | undefined {
    const i = this.source(block, esi);
    if (i < 0) return this.repairs.get(block * 0x10000 + esi);
    if (!(this.known[i >> 3]! & (1 << (i & 7)))) return undefined;
    return this.flash.read(i * SYMBOL_HASH_BYTES, SYMBOL_HASH_BYTES);
  }

  /** Keeps a verified hash; a symbol's first verified hash stays (flash is written once). */
  set(block: number, esi: number, hash: Uint8Array): void {
    const i = this.source(block, esi);
    if (i < 0) {
      if (!this.repairs.has(block * 0x10000 + esi)) this.repairs.set(block * 0x10000 + esi, hash.slice());
      return;
    }
    if (this.known[i >> 3]! & (1 << (i & 7))) return;
    this.flash.program(i * SYMBOL_HASH_BYTES, hash);
    this.known[i >> 3]! |= 1 << (i & 7);
  }

  /** Drops what RAM holds for a decoded block. */
  forget(block: number): void {
    for (const key of [...this.repairs.keys()]) if (Math.floor(key / 0x10000) === block) this.repairs.delete(key);
  }
}
