import { Prng, SplitMix32 } from '@compotastic/mesh';
import { OtaError } from '../errors.js';
import { gfInv, gfMul, gfMulAdd, gfScale } from './gf256.js';

// A systematic random linear fountain code over GF(256). The bundle is cut into symbols of `symbolSize` bytes
// (the last one zero-padded) and the symbols into source blocks of at most `maxBlockSymbols`. Within a block of M
// symbols, encoding symbol id (ESI) e < M is source symbol e itself; e >= M is a repair symbol: the GF(256) sum of
// c_j * source_j with coefficients c_0..c_{M-1} drawn from the project's pinned PRNG, so sender and receivers derive
// the same ones from (session seed, block, ESI) alone. A receiver decodes a block from any M symbols whose
// coefficient vectors are independent: with random GF(256) coefficients, M received symbols fail to decode with
// probability about 1/255, M + 1 with about 1/65000, so the overhead beyond what loss forces is close to zero.

export interface FountainParams {
  /** Bytes of data the code carries. */
  dataLength: number;
  symbolSize: number;
  maxBlockSymbols: number;
  /** Seed of the session: coefficients depend on it, the block and the ESI. */
  seed: number;
}

export interface SourceBlock {
  index: number;
  /** First symbol of the block in the whole data. */
  firstSymbol: number;
  symbols: number;
}

export const MAX_BLOCKS = 256;
export const MAX_ESI = 0xffff;

export function checkFountainParams(p: FountainParams): void {
  if (!Number.isInteger(p.dataLength) || p.dataLength < 1) throw new OtaError('INVALID_ARGUMENT', 'fountain data must be at least one byte');
  if (!Number.isInteger(p.symbolSize) || p.symbolSize < 1 || p.symbolSize > 1024) throw new OtaError('INVALID_ARGUMENT', 'symbol size must be 1..1024');
  if (!Number.isInteger(p.maxBlockSymbols) || p.maxBlockSymbols < 1 || p.maxBlockSymbols > 4096) {
    throw new OtaError('INVALID_ARGUMENT', 'maxBlockSymbols must be 1..4096');
  }
  if (!Number.isInteger(p.seed) || p.seed < 0 || p.seed > 0xffffffff) throw new OtaError('INVALID_ARGUMENT', 'seed must be a uint32');
  if (partitionBlocks(p).length > MAX_BLOCKS) throw new OtaError('TOO_LARGE', `data needs more than ${MAX_BLOCKS} source blocks`);
}

/** Splits the symbols into as few blocks as the limit allows, sizes differing by at most one. */
export function partitionBlocks(p: Pick<FountainParams, 'dataLength' | 'symbolSize' | 'maxBlockSymbols'>): SourceBlock[] {
  const total = Math.ceil(p.dataLength / p.symbolSize);
  const count = Math.ceil(total / p.maxBlockSymbols);
  const small = Math.floor(total / count);
  const large = total % count;
  const blocks: SourceBlock[] = [];
  let first = 0;
  for (let i = 0; i < count; i++) {
    const symbols = small + (i < large ? 1 : 0);
    blocks.push({ index: i, firstSymbol: first, symbols });
    first += symbols;
  }
  return blocks;
}

/** Coefficients of repair symbol `esi` of a block of `m` symbols (never all zero). */
export function repairCoefficients(seed: number, block: number, esi: number, m: number): Uint8Array {
  const mixed = new SplitMix32((seed ^ Math.imul(block + 1, 0x9e3779b1) ^ Math.imul(esi + 1, 0x85ebca6b)) >>> 0).next();
  const c = new Prng(mixed).bytes(m);
  if (c.every((x) => x === 0)) c[esi % m] = 1;
  return c;
}

export class FountainEncoder {
  readonly blocks: SourceBlock[];
  private readonly padded: Uint8Array;

  constructor(
    data: Uint8Array,
    readonly params: Omit<FountainParams, 'dataLength'>,
  ) {
    const p = { ...params, dataLength: data.length };
    checkFountainParams(p);
    this.blocks = partitionBlocks(p);
    const total = this.blocks.reduce((n, b) => n + b.symbols, 0);
    this.padded = new Uint8Array(total * params.symbolSize);
    this.padded.set(data);
  }

  private source(block: SourceBlock, j: number): Uint8Array {
    const k = this.params.symbolSize;
    const at = (block.firstSymbol + j) * k;
    return this.padded.subarray(at, at + k);
  }

  /** Encoding symbol `esi` of block `blockIndex`. */
  symbol(blockIndex: number, esi: number): Uint8Array {
    const block = this.blocks[blockIndex];
    if (!block) throw new OtaError('INVALID_ARGUMENT', `no block ${blockIndex}`);
    if (!Number.isInteger(esi) || esi < 0 || esi > MAX_ESI) throw new OtaError('INVALID_ARGUMENT', `ESI ${esi} is outside 0..${MAX_ESI}`);
    if (esi < block.symbols) return this.source(block, esi).slice();
    const c = repairCoefficients(this.params.seed, blockIndex, esi, block.symbols);
    const out = new Uint8Array(this.params.symbolSize);
    for (let j = 0; j < block.symbols; j++) gfMulAdd(out, this.source(block, j), c[j]!);
    return out;
  }
}

interface Row {
  /** Coefficients, or null for a unit row (a source symbol at its pivot column, zeros elsewhere). */
  coef: Uint8Array | null;
  data: Uint8Array;
}

/**
 * Decodes one source block by online Gaussian elimination: each received symbol is reduced against the rows kept so
 * far (row echelon form) and either adds one to the rank or is dropped as redundant. Source symbols stay unit rows,
 * so in the usual case (most sources received) the work is one pass over the received sources per repair symbol.
 */
export class BlockDecoder {
  private readonly pivot: (Row | null)[];
  private rankCount = 0;
  private solved: Uint8Array[] | null = null;
  readonly received = new Set<number>();

  constructor(
    readonly block: SourceBlock,
    private readonly symbolSize: number,
    private readonly seed: number,
  ) {
    this.pivot = new Array<Row | null>(block.symbols).fill(null);
  }

  get rank(): number {
    return this.rankCount;
  }

  get complete(): boolean {
    return this.rankCount === this.block.symbols;
  }

  /** Independent symbols still needed. */
  get needed(): number {
    return this.block.symbols - this.rankCount;
  }

  /**
   * Adds encoding symbol `esi`. Returns 'duplicate' for an ESI seen before, 'redundant' when it adds nothing, and
   * 'useful' when the rank grew.
   */
  add(esi: number, data: Uint8Array): 'useful' | 'redundant' | 'duplicate' {
    if (data.length !== this.symbolSize) throw new OtaError('BAD_FRAGMENT', `symbol has ${data.length} bytes, expected ${this.symbolSize}`);
    if (!Number.isInteger(esi) || esi < 0 || esi > MAX_ESI) throw new OtaError('BAD_FRAGMENT', `ESI ${esi} is out of range`);
    if (this.received.has(esi)) return 'duplicate';
    this.received.add(esi);
    if (this.complete) return 'redundant';
    const m = this.block.symbols;
    const row: Row = { coef: null, data: data.slice() };
    let lead: number;
    if (esi < m) {
      lead = esi;
      const p = this.pivot[esi];
      if (!p) return this.place(esi, row);
      // Another row already pivots here: fall back to a dense row.
      row.coef = new Uint8Array(m);
      row.coef[esi] = 1;
    } else {
      row.coef = repairCoefficients(this.seed, this.block.index, esi, m);
      lead = 0;
    }
    const coef = row.coef;
    for (let col = lead; col < m; col++) {
      const c = coef[col]!;
      if (c === 0) continue;
      const p = this.pivot[col];
      if (!p) {
        // New pivot: normalise so the leading coefficient is 1.
        const inv = gfInv(c);
        gfScale(coef, inv);
        gfScale(row.data, inv);
        return this.place(col, row);
      }
      gfMulAdd(row.data, p.data, c);
      if (p.coef) gfMulAdd(coef, p.coef, c);
      else coef[col] = 0;
    }
    return 'redundant';
  }

  private place(col: number, row: Row): 'useful' {
    this.pivot[col] = row;
    this.rankCount++;
    return 'useful';
  }

  /** The block's source symbols, once complete (back substitution on first call). */
  sources(): Uint8Array[] {
    if (!this.complete) throw new OtaError('INVALID_STATE', `block ${this.block.index} needs ${this.needed} more symbols`);
    if (this.solved) return this.solved;
    const m = this.block.symbols;
    const out = new Array<Uint8Array>(m);
    for (let col = m - 1; col >= 0; col--) {
      const row = this.pivot[col]!;
      if (row.coef) {
        for (let j = col + 1; j < m; j++) {
          const c = row.coef[j]!;
          if (c !== 0) gfMulAdd(row.data, out[j]!, c);
        }
      }
      out[col] = row.data;
    }
    this.solved = out;
    // Rows are no longer needed once solved.
    this.pivot.fill(null);
    return out;
  }
}

/** Decoder for all blocks of one transfer. */
export class FountainDecoder {
  readonly blocks: SourceBlock[];
  private readonly decoders: BlockDecoder[];

  constructor(readonly params: FountainParams) {
    checkFountainParams(params);
    this.blocks = partitionBlocks(params);
    this.decoders = this.blocks.map((b) => new BlockDecoder(b, params.symbolSize, params.seed));
  }

  block(index: number): BlockDecoder {
    const d = this.decoders[index];
    if (!d) throw new OtaError('BAD_FRAGMENT', `block ${index} does not exist (the transfer has ${this.decoders.length})`);
    return d;
  }

  add(blockIndex: number, esi: number, data: Uint8Array): 'useful' | 'redundant' | 'duplicate' {
    return this.block(blockIndex).add(esi, data);
  }

  get complete(): boolean {
    return this.decoders.every((d) => d.complete);
  }

  /** Symbols still needed per block. */
  needs(): number[] {
    return this.decoders.map((d) => d.needed);
  }

  get needed(): number {
    return this.decoders.reduce((n, d) => n + d.needed, 0);
  }

  /** The decoded data (trimmed to dataLength). */
  data(): Uint8Array {
    const out = new Uint8Array(this.params.dataLength);
    const k = this.params.symbolSize;
    for (const d of this.decoders) {
      const src = d.sources();
      for (let j = 0; j < src.length; j++) {
        const at = (d.block.firstSymbol + j) * k;
        if (at >= out.length) break;
        out.set(src[j]!.subarray(0, Math.min(k, out.length - at)), at);
      }
    }
    return out;
  }
}

export { gfMul };
