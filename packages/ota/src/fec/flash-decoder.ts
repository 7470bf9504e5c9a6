import { OtaError } from '../errors.js';
import { eraseRange, type Flash } from '../storage/flash.js';
import { checkRange, type RandomAccessSource } from '../storage/io.js';
import { MAX_ESI, checkFountainParams, partitionBlocks, repairCoefficients, type FountainParams, type SourceBlock } from './fountain.js';
import { gfInv, gfMulAdd, gfScale } from './gf256.js';

// The fountain decoder of a receiver, with its symbols on flash instead of RAM. A workspace holds the bundle area
// (every source symbol at its place, so the decoded bundle is read from there) and a row area (dense rows of the
// elimination: a repair symbol, or a source whose column a repair took first, reduced and normalised). RAM holds
// only per-symbol bits, the flash offset of each dense row and the one or two rows being combined, so it does not
// grow with the bundle beyond one bit per symbol. Same elimination as BlockDecoder, so the same symbols decode.

export interface FlashDecoderLayout {
  /** Bytes of the bundle area (every source symbol, padded), sector aligned. */
  bundleBytes: number;
  /** Bytes of the dense-row area, sector aligned: room for the worst case, every column of every block dense. */
  rowBytes: number;
  /** Total workspace bytes. */
  bytes: number;
}

function alignUp(n: number, sector: number): number {
  return Math.ceil(n / sector) * sector;
}

/**
 * Workspace a transfer needs. A dense row pivoting at column c of an m-symbol block stores m - c coefficients and
 * one symbol, and a block has at most one row per column, so its rows never exceed m(m+1)/2 + m * symbolSize bytes
 * (a receiver that heard only repair symbols); the row area is sized for that, so it cannot fill.
 */
export function flashDecoderLayout(p: FountainParams, sectorSize: number): FlashDecoderLayout {
  checkFountainParams(p);
  const blocks = partitionBlocks(p);
  const total = blocks.reduce((n, b) => n + b.symbols, 0);
  const rows = blocks.reduce((n, b) => n + (b.symbols * (b.symbols + 1)) / 2 + b.symbols * p.symbolSize, 0);
  const bundleBytes = alignUp(total * p.symbolSize, sectorSize);
  return { bundleBytes, rowBytes: alignUp(rows, sectorSize), bytes: bundleBytes + alignUp(rows, sectorSize) };
}

class FlashBlock {
  /** A source symbol sits at its place in the bundle area (a unit row), one bit per column. */
  readonly unit: Uint8Array;
  readonly sourcesSeen: Uint8Array;
  /** Repair ESIs seen (a few per block: they are sent only for losses). */
  readonly repairsSeen = new Set<number>();
  /** Column -> flash offset of its dense row (coefficients from the column on, then the data). */
  readonly dense = new Map<number, number>();
  rank = 0;
  solved = false;

  constructor(readonly info: SourceBlock) {
    this.unit = new Uint8Array((info.symbols + 7) >> 3);
    this.sourcesSeen = new Uint8Array((info.symbols + 7) >> 3);
  }

  get complete(): boolean {
    return this.rank === this.info.symbols;
  }

  get needed(): number {
    return this.info.symbols - this.rank;
  }

  isUnit(col: number): boolean {
    return (this.unit[col >> 3]! & (1 << (col & 7))) !== 0;
  }
}

export class FlashFountainDecoder {
  readonly blocks: SourceBlock[];
  readonly layout: FlashDecoderLayout;
  private readonly state: FlashBlock[];
  private rowEnd: number;

  /** Erases the part of `workspace` the transfer needs (it must be at least `layout.bytes`). */
  constructor(
    readonly params: FountainParams,
    private readonly workspace: Flash,
  ) {
    this.layout = flashDecoderLayout(params, workspace.sectorSize);
    if (workspace.length < this.layout.bytes) {
      throw new OtaError('TOO_LARGE', `the transfer needs ${this.layout.bytes} bytes of flash workspace, ${workspace.length} are available`);
    }
    this.blocks = partitionBlocks(params);
    this.state = this.blocks.map((b) => new FlashBlock(b));
    eraseRange(workspace, 0, this.layout.bytes);
    this.rowEnd = this.layout.bundleBytes;
  }

  private blockState(index: number): FlashBlock {
    const s = this.state[index];
    if (!s) throw new OtaError('BAD_FRAGMENT', `block ${index} does not exist (the transfer has ${this.state.length})`);
    return s;
  }

  /** Progress of one block. */
  block(index: number): { complete: boolean; needed: number; rank: number } {
    const s = this.blockState(index);
    return { complete: s.complete, needed: s.needed, rank: s.rank };
  }

  private slot(b: FlashBlock, col: number): number {
    return (b.info.firstSymbol + col) * this.params.symbolSize;
  }

  add(blockIndex: number, esi: number, data: Uint8Array): 'useful' | 'redundant' | 'duplicate' {
    const b = this.blockState(blockIndex);
    const k = this.params.symbolSize;
    if (data.length !== k) throw new OtaError('BAD_FRAGMENT', `symbol has ${data.length} bytes, expected ${k}`);
    if (!Number.isInteger(esi) || esi < 0 || esi > MAX_ESI) throw new OtaError('BAD_FRAGMENT', `ESI ${esi} is out of range`);
    const m = b.info.symbols;
    if (esi < m) {
      const bit = 1 << (esi & 7);
      if (b.sourcesSeen[esi >> 3]! & bit) return 'duplicate';
      b.sourcesSeen[esi >> 3]! |= bit;
    } else {
      if (b.repairsSeen.has(esi)) return 'duplicate';
      b.repairsSeen.add(esi);
    }
    if (b.complete) return 'redundant';
    let coef: Uint8Array;
    let lead: number;
    if (esi < m) {
      if (!b.isUnit(esi) && !b.dense.has(esi)) {
        this.workspace.program(this.slot(b, esi), data);
        b.unit[esi >> 3]! |= 1 << (esi & 7);
        return this.grew(b);
      }
      // Another row already pivots here: fall back to a dense row.
      coef = new Uint8Array(m);
      coef[esi] = 1;
      lead = esi;
    } else {
      coef = repairCoefficients(this.params.seed, blockIndex, esi, m);
      lead = 0;
    }
    const row = data.slice();
    for (let col = lead; col < m; col++) {
      const c = coef[col]!;
      if (c === 0) continue;
      if (b.isUnit(col)) {
        gfMulAdd(row, this.workspace.read(this.slot(b, col), k), c);
        coef[col] = 0;
        continue;
      }
      const at = b.dense.get(col);
      if (at === undefined) {
        const inv = gfInv(c);
        gfScale(coef, inv);
        gfScale(row, inv);
        this.writeRow(b, col, coef, row);
        return this.grew(b);
      }
      const width = m - col;
      const stored = this.workspace.read(at, width + k);
      // The stored row's coefficients start at its pivot column.
      gfMulAdd(coef.subarray(col), stored, c, width);
      gfMulAdd(row, stored.subarray(width), c);
    }
    return 'redundant';
  }

  private writeRow(b: FlashBlock, col: number, coef: Uint8Array, row: Uint8Array): void {
    const width = b.info.symbols - col;
    const size = width + row.length;
    const rec = new Uint8Array(size);
    rec.set(coef.subarray(col), 0);
    rec.set(row, width);
    this.workspace.program(this.rowEnd, rec);
    b.dense.set(col, this.rowEnd);
    this.rowEnd += size;
  }

  private grew(b: FlashBlock): 'useful' {
    b.rank++;
    if (b.complete) this.solve(b);
    return 'useful';
  }

  /** Back substitution into the bundle area: each dense row's column gets its source symbol, last column first. */
  private solve(b: FlashBlock): void {
    const m = b.info.symbols;
    const k = this.params.symbolSize;
    for (let col = m - 1; col >= 0; col--) {
      const at = b.dense.get(col);
      if (at === undefined) continue;
      const width = m - col;
      const stored = this.workspace.read(at, width + k);
      const out = stored.slice(width);
      for (let j = 1; j < width; j++) {
        const c = stored[j]!;
        if (c !== 0) gfMulAdd(out, this.workspace.read(this.slot(b, col + j), k), c);
      }
      this.workspace.program(this.slot(b, col), out);
    }
    b.dense.clear();
    b.solved = true;
  }

  get complete(): boolean {
    return this.state.every((s) => s.complete);
  }

  needs(): number[] {
    return this.state.map((s) => s.needed);
  }

  get needed(): number {
    return this.state.reduce((n, s) => n + s.needed, 0);
  }

  /** The decoded data, read from the workspace (trimmed to dataLength). */
  data(): RandomAccessSource {
    if (!this.complete) throw new OtaError('INVALID_STATE', `the transfer needs ${this.needed} more symbols`);
    const ws = this.workspace;
    const length = this.params.dataLength;
    return {
      length,
      read(offset, n) {
        checkRange(offset, n, length, 'bundle read');
        return ws.read(offset, n);
      },
    };
  }
}
