import { ByteReader, ByteWriter, crc32 } from '../bytes.js';
import { OtaError } from '../errors.js';
import type { Flash } from './flash.js';

// Where a receiver keeps a transfer in progress, so a reboot resumes it instead of starting over: the offer, every
// useful symbol received, and the outcome once there is one.

export type StoredState = 'receiving' | 'complete' | 'rejected';
const STATES: readonly StoredState[] = ['receiving', 'complete', 'rejected'];

export interface StoredSymbol {
  block: number;
  esi: number;
  data: Uint8Array;
}

export interface StoredTransfer {
  offer: Uint8Array;
  state: StoredState;
  /** Reason index (transfer REASON_CODES) for a rejected transfer. */
  reason: number;
  symbols: StoredSymbol[];
}

/** A stored transfer whose symbols are read one at a time (a resume never holds them all in RAM). */
export interface StoredTransferCursor {
  offer: Uint8Array;
  state: StoredState;
  reason: number;
  symbols(): Iterable<StoredSymbol>;
}

export interface ProgressStore {
  load(): StoredTransfer | null;
  /** The same as load(), with the symbols read lazily. */
  open(): StoredTransferCursor | null;
  /** Starts a new transfer, discarding any other. */
  begin(offer: Uint8Array): void;
  append(symbol: StoredSymbol): void;
  finish(state: StoredState, reason: number): void;
  clear(): void;
}

/** Progress in RAM: survives nothing, for hosts without persistent storage and for tests. */
export class MemoryProgressStore implements ProgressStore {
  private t: StoredTransfer | null = null;

  load(): StoredTransfer | null {
    return this.t ? { ...this.t, symbols: this.t.symbols.slice() } : null;
  }
  open(): StoredTransferCursor | null {
    const t = this.load();
    return t ? { offer: t.offer, state: t.state, reason: t.reason, symbols: () => t.symbols } : null;
  }
  begin(offer: Uint8Array): void {
    this.t = { offer: offer.slice(), state: 'receiving', reason: 0, symbols: [] };
  }
  append(s: StoredSymbol): void {
    if (!this.t) throw new OtaError('INVALID_STATE', 'no transfer begun');
    this.t.symbols.push({ block: s.block, esi: s.esi, data: s.data.slice() });
  }
  finish(state: StoredState, reason: number): void {
    if (!this.t) throw new OtaError('INVALID_STATE', 'no transfer begun');
    this.t.state = state;
    this.t.reason = reason;
  }
  clear(): void {
    this.t = null;
  }
}

const REC_BEGIN = 1;
const REC_SYMBOL = 2;
const REC_FINISH = 3;
const ERASED = 0xff;

/**
 * Progress as an append-only log in a flash region (RAM, file or partition through the Flash interface). Records are
 * type u8 | length u16 | payload | CRC-32; a torn record from a power cut ends the log, and the next load rewrites
 * the intact prefix so appending can continue on erased flash.
 */
export class FlashProgressStore implements ProgressStore {
  private end = 0;

  constructor(private readonly region: Flash) {
    this.end = this.scan().end;
  }

  /** Walks the intact records from the start; the result says where the log ends and whether a torn record ends it. */
  private *records(): Generator<{ type: number; payload: Uint8Array }, { end: number; torn: boolean }> {
    let at = 0;
    while (at + 3 <= this.region.length) {
      const head = this.region.read(at, 3);
      if (head[0] === ERASED && head[1] === ERASED && head[2] === ERASED) return { end: at, torn: false };
      const type = head[0]!;
      const len = head[1]! | (head[2]! << 8);
      if (at + 3 + len + 4 > this.region.length || type < REC_BEGIN || type > REC_FINISH) return { end: at, torn: true };
      const body = this.region.read(at, 3 + len);
      const crc = new ByteReader(this.region.read(at + 3 + len, 4)).u32();
      if (crc !== crc32(body)) return { end: at, torn: true };
      yield { type, payload: body.subarray(3) };
      at += 3 + len + 4;
    }
    return { end: at, torn: false };
  }

  private scan(): { end: number; torn: boolean } {
    const it = this.records();
    for (;;) {
      const r = it.next();
      if (r.done) return r.value;
    }
  }

  /**
   * After a torn record, erases from its sector on so appending lands on erased flash; the intact part of that
   * sector (at most one sector in RAM) is programmed back first.
   */
  private repair(end: number): void {
    const sector = this.region.sectorSize;
    const first = Math.floor(end / sector);
    const keep = this.region.read(first * sector, end - first * sector).slice();
    for (let s = first; s < this.region.length / sector; s++) this.region.erase(s);
    if (keep.length > 0) this.region.program(first * sector, keep);
    this.end = end;
  }

  private eraseAll(): void {
    for (let s = 0; s < this.region.length / this.region.sectorSize; s++) this.region.erase(s);
    this.end = 0;
  }

  private write(type: number, payload: Uint8Array): void {
    const body = new ByteWriter(payload.length + 8).u8(type).u16(payload.length).bytes(payload).finish();
    const rec = new ByteWriter(body.length + 4).bytes(body).u32(crc32(body)).finish();
    if (this.end + rec.length > this.region.length) throw new OtaError('STORAGE', 'progress region is full');
    this.region.program(this.end, rec);
    this.end += rec.length;
  }

  load(): StoredTransfer | null {
    const c = this.open();
    return c ? { offer: c.offer, state: c.state, reason: c.reason, symbols: [...c.symbols()] } : null;
  }

  open(): StoredTransferCursor | null {
    const { end, torn } = this.scan();
    if (torn) this.repair(end);
    // The last BEGIN starts the transfer; its outcome, if any, follows its symbols.
    let begin = -1;
    let t: StoredTransferCursor | null = null;
    let index = 0;
    for (const r of this.records()) {
      if (r.type === REC_BEGIN) {
        begin = index;
        t = { offer: r.payload.slice(), state: 'receiving', reason: 0, symbols: () => [] };
      } else if (t && r.type === REC_FINISH) {
        const rd = new ByteReader(r.payload, 'progress outcome');
        t.state = STATES[rd.u8()] ?? 'receiving';
        t.reason = rd.u8();
      }
      index++;
    }
    if (!t) return null;
    const records = () => this.records();
    t.symbols = function* () {
      let i = 0;
      for (const r of records()) {
        if (i++ > begin && r.type === REC_SYMBOL) {
          const rd = new ByteReader(r.payload, 'progress symbol');
          yield { block: rd.u8(), esi: rd.u16(), data: rd.rest() };
        }
      }
    };
    return t;
  }

  begin(offer: Uint8Array): void {
    this.eraseAll();
    this.write(REC_BEGIN, offer);
  }

  append(s: StoredSymbol): void {
    this.write(REC_SYMBOL, new ByteWriter(s.data.length + 3).u8(s.block).u16(s.esi).bytes(s.data).finish());
  }

  finish(state: StoredState, reason: number): void {
    this.write(REC_FINISH, Uint8Array.of(STATES.indexOf(state), reason));
  }

  clear(): void {
    this.eraseAll();
  }
}
