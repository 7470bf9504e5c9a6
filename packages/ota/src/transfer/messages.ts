import { maxPayloadFor } from '@compotastic/mesh';
import { ByteReader, ByteWriter } from '../bytes.js';
import { OtaError, type OtaErrorCode } from '../errors.js';
import { SHA256_BYTES } from '../hash.js';

// Transfer messages. Each fits one Meshtastic Data payload on a private port (231 bytes). Byte 0 is
// (protocol version << 4) | message type; all integers little-endian.
//
//   OFFER  (1)  session u16 | seed u32 | length u32 | symbol size u8 | max block symbols u16 | bundle SHA-256 (32) |
//               model hash u32 | version u32 | base version u32 (0xffffffff: full) | security counter u32      (62 B)
//   DATA   (2)  session u16 | block u8 | ESI u16 | symbol                                       (6 B + symbol)
//   POLL   (3)  session u16 | round u16 | reply window ms u32 | count u8 | node u32 x count: nodes already done
//   STATUS (4)  session u16 | round u16 | state u8 | reason u8 | received u32 | first block u8 | first ESI u16 |
//               count u8 | (block u8, need u16) x count
//   END    (5)  session u16 | reason u8

export const PROTOCOL_VERSION = 1;
export const MAX_MESSAGE_BYTES = maxPayloadFor();
export const DATA_HEADER_BYTES = 6;
/** Largest symbol that still fits a DATA message in one packet. */
export const MAX_SYMBOL_BYTES = MAX_MESSAGE_BYTES - DATA_HEADER_BYTES;
export const NO_BASE = 0xffffffff;

export const MessageType = { OFFER: 1, DATA: 2, POLL: 3, STATUS: 4, END: 5 } as const;

export interface OfferMessage {
  type: 'offer';
  session: number;
  seed: number;
  length: number;
  symbolSize: number;
  maxBlockSymbols: number;
  bundleSha256: Uint8Array;
  modelHash: number;
  version: number;
  /** null for a bundle of full parts. */
  baseVersion: number | null;
  securityCounter: number;
}

export interface DataMessage {
  type: 'data';
  session: number;
  block: number;
  esi: number;
  symbol: Uint8Array;
}

export interface PollMessage {
  type: 'poll';
  session: number;
  round: number;
  windowMs: number;
  /** Receivers the sender already counts as done: they need not reply. */
  done: number[];
}

/** receiving: still collecting; complete: installed (or verified, ready); rejected: refused with a reason; declined: not for this node. */
export type ReceiverState = 'receiving' | 'complete' | 'rejected' | 'declined';
export const RECEIVER_STATES: readonly ReceiverState[] = ['receiving', 'complete', 'rejected', 'declined'];

/** Reason codes carried in STATUS (index into this list; 0 = none). */
export const REASON_CODES: readonly (OtaErrorCode | 'NONE')[] = [
  'NONE', 'MALFORMED', 'CORRUPT', 'BAD_SIGNATURE', 'UNKNOWN_KEY', 'MANIFEST_MISMATCH', 'DOWNGRADE', 'INCOMPATIBLE',
  'BASE_MISMATCH', 'BAD_FRAGMENT', 'TOO_LARGE', 'INVALID_ARGUMENT', 'INVALID_STATE', 'NO_VALID_IMAGE',
  'SELF_TEST_FAILED', 'STORAGE',
];

export interface StatusMessage {
  type: 'status';
  session: number;
  round: number;
  state: ReceiverState;
  reason: OtaErrorCode | 'NONE';
  /** Distinct symbols received so far. */
  received: number;
  /** The first symbol this receiver got (block, ESI), so the sender can tell how many were sent since; null if none. */
  first: { block: number; esi: number } | null;
  /** Independent symbols still needed, per block (only blocks that need some; as many as fit). */
  needs: { block: number; need: number }[];
}

export interface EndMessage {
  type: 'end';
  session: number;
  /** 0 finished, 1 gave up. */
  reason: number;
}

export type TransferMessage = OfferMessage | DataMessage | PollMessage | StatusMessage | EndMessage;

const MAX_POLL_DONE = Math.floor((MAX_MESSAGE_BYTES - 10) / 4);
const MAX_STATUS_NEEDS = Math.floor((MAX_MESSAGE_BYTES - 19) / 3);

function head(type: number): number {
  return (PROTOCOL_VERSION << 4) | type;
}

export function encodeMessage(m: TransferMessage): Uint8Array {
  const w = new ByteWriter(64);
  switch (m.type) {
    case 'offer':
      if (m.bundleSha256.length !== SHA256_BYTES) throw new OtaError('INVALID_ARGUMENT', 'offer hash must be 32 bytes');
      w.u8(head(MessageType.OFFER)).u16(m.session).u32(m.seed).u32(m.length).u8(m.symbolSize).u16(m.maxBlockSymbols)
        .bytes(m.bundleSha256).u32(m.modelHash).u32(m.version).u32(m.baseVersion ?? NO_BASE).u32(m.securityCounter);
      break;
    case 'data':
      w.u8(head(MessageType.DATA)).u16(m.session).u8(m.block).u16(m.esi).bytes(m.symbol);
      break;
    case 'poll': {
      const done = m.done.slice(0, MAX_POLL_DONE);
      w.u8(head(MessageType.POLL)).u16(m.session).u16(m.round).u32(m.windowMs).u8(done.length);
      for (const n of done) w.u32(n);
      break;
    }
    case 'status': {
      const needs = m.needs.slice(0, MAX_STATUS_NEEDS);
      w.u8(head(MessageType.STATUS)).u16(m.session).u16(m.round).u8(RECEIVER_STATES.indexOf(m.state)).u8(Math.max(0, REASON_CODES.indexOf(m.reason)))
        .u32(m.received).u8(m.first?.block ?? 0xff).u16(m.first?.esi ?? 0xffff).u8(needs.length);
      for (const n of needs) w.u8(n.block).u16(Math.min(n.need, 0xffff));
      break;
    }
    case 'end':
      w.u8(head(MessageType.END)).u16(m.session).u8(m.reason);
      break;
  }
  const out = w.finish();
  if (out.length > MAX_MESSAGE_BYTES) throw new OtaError('TOO_LARGE', `${m.type} message of ${out.length} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  return out;
}

/** Parses a transfer message; throws OtaError MALFORMED (or BAD_FRAGMENT for a DATA message that cannot be used). */
export function decodeMessage(payload: Uint8Array): TransferMessage {
  if (payload.length > MAX_MESSAGE_BYTES) throw new OtaError('MALFORMED', `message of ${payload.length} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  const r = new ByteReader(payload, 'transfer message');
  const h = r.u8();
  if (h >> 4 !== PROTOCOL_VERSION) throw new OtaError('MALFORMED', `unsupported protocol version ${h >> 4}`);
  const type = h & 0x0f;
  let m: TransferMessage;
  switch (type) {
    case MessageType.OFFER: {
      const session = r.u16();
      const seed = r.u32();
      const length = r.u32();
      const symbolSize = r.u8();
      const maxBlockSymbols = r.u16();
      const bundleSha256 = r.bytes(SHA256_BYTES, 'bundle hash');
      const modelHash = r.u32();
      const version = r.u32();
      const base = r.u32();
      const securityCounter = r.u32();
      if (length === 0 || symbolSize === 0 || symbolSize > MAX_SYMBOL_BYTES || maxBlockSymbols === 0) throw new OtaError('MALFORMED', 'offer has a zero or oversized field');
      m = { type: 'offer', session, seed, length, symbolSize, maxBlockSymbols, bundleSha256, modelHash, version, baseVersion: base === NO_BASE ? null : base, securityCounter };
      break;
    }
    case MessageType.DATA: {
      const session = r.u16();
      const block = r.u8();
      const esi = r.u16();
      if (r.remaining === 0) throw new OtaError('BAD_FRAGMENT', 'data message carries no symbol');
      m = { type: 'data', session, block, esi, symbol: r.rest() };
      break;
    }
    case MessageType.POLL: {
      const session = r.u16();
      const round = r.u16();
      const windowMs = r.u32();
      const count = r.u8();
      const done: number[] = [];
      for (let i = 0; i < count; i++) done.push(r.u32());
      m = { type: 'poll', session, round, windowMs, done };
      break;
    }
    case MessageType.STATUS: {
      const session = r.u16();
      const round = r.u16();
      const state = RECEIVER_STATES[r.u8()];
      const reason = REASON_CODES[r.u8()];
      if (!state || !reason) throw new OtaError('MALFORMED', 'status has an unknown state or reason');
      const received = r.u32();
      const firstBlock = r.u8();
      const firstEsi = r.u16();
      const first = firstBlock === 0xff && firstEsi === 0xffff ? null : { block: firstBlock, esi: firstEsi };
      const count = r.u8();
      const needs: { block: number; need: number }[] = [];
      for (let i = 0; i < count; i++) needs.push({ block: r.u8(), need: r.u16() });
      m = { type: 'status', session, round, state, reason, received, first, needs };
      break;
    }
    case MessageType.END:
      m = { type: 'end', session: r.u16(), reason: r.u8() };
      break;
    default:
      throw new OtaError('MALFORMED', `unknown message type ${type}`);
  }
  r.end();
  return m;
}
