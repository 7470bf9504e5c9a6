import { ByteReader, ByteWriter, crc32 } from '../bytes.js';
import { OtaError } from '../errors.js';
import type { Flash } from '../storage/flash.js';

// The boot record says which slot boots and in what state. It lives in two sectors written alternately ("ping-pong"):
// a new record goes to the sector not holding the newest one, with a higher sequence number and a CRC. A power cut
// during the write leaves that sector torn (bad CRC) and the other one intact, so reading always finds either the
// old record or the new one: switching slots is atomic.

export type SlotIndex = 0 | 1;

/**
 * confirmed: the active slot is the device's image.
 * pending:   a new image was written to `active`; the next boot tries it.
 * testing:   the new image booted once and must confirm itself; booting again without that reverts to `previous`.
 */
export type BootState = 'confirmed' | 'pending' | 'testing';
const STATES: readonly BootState[] = ['confirmed', 'pending', 'testing'];

export interface BootRecord {
  seq: number;
  active: SlotIndex;
  state: BootState;
  /** Slot to return to when a pending or testing image fails; null when there is none. */
  previous: SlotIndex | null;
  /** Lowest security counter this device accepts (the counter of the last confirmed image). */
  securityFloor: number;
}

const MAGIC = 0x31524243; // "CBR1"
const RECORD_BYTES = 4 + 4 + 1 + 1 + 1 + 1 + 4 + 4;

function encode(r: BootRecord): Uint8Array {
  const w = new ByteWriter(RECORD_BYTES);
  w.u32(MAGIC).u32(r.seq).u8(r.active).u8(STATES.indexOf(r.state)).u8(r.previous ?? 0xff).u8(0).u32(r.securityFloor);
  const body = w.finish();
  return new ByteWriter(RECORD_BYTES).bytes(body).u32(crc32(body)).finish();
}

function decode(b: Uint8Array): BootRecord | null {
  const r = new ByteReader(b, 'boot record');
  if (r.u32() !== MAGIC) return null;
  const seq = r.u32();
  const active = r.u8();
  const state = STATES[r.u8()];
  const previous = r.u8();
  r.u8();
  const securityFloor = r.u32();
  const crc = r.u32();
  if (crc !== crc32(b.subarray(0, RECORD_BYTES - 4))) return null;
  if ((active !== 0 && active !== 1) || !state || (previous !== 0 && previous !== 1 && previous !== 0xff)) return null;
  return { seq, active, state, previous: previous === 0xff ? null : (previous as SlotIndex), securityFloor };
}

/** Reads and writes boot records in a region of exactly two sectors. */
export class BootRecordStore {
  constructor(private readonly region: Flash) {
    if (region.length !== 2 * region.sectorSize) throw new OtaError('INVALID_ARGUMENT', 'the boot record region must be exactly two sectors');
  }

  private readSector(i: number): BootRecord | null {
    return decode(this.region.read(i * this.region.sectorSize, RECORD_BYTES));
  }

  /** The newest valid record, or null on a blank device. */
  read(): BootRecord | null {
    const a = this.readSector(0);
    const b = this.readSector(1);
    if (a && b) return a.seq >= b.seq ? a : b;
    return a ?? b;
  }

  /** Writes `next` (its seq is assigned) over the older of the two sectors. */
  write(next: Omit<BootRecord, 'seq'>): BootRecord {
    const a = this.readSector(0);
    const b = this.readSector(1);
    const newest = a && b ? (a.seq >= b.seq ? 0 : 1) : a ? 0 : b ? 1 : 1;
    const target = 1 - newest;
    const prevSeq = Math.max(a?.seq ?? 0, b?.seq ?? 0);
    const record: BootRecord = { ...next, seq: prevSeq + 1 };
    this.region.erase(target);
    this.region.program(target * this.region.sectorSize, encode(record));
    return record;
  }
}
