import { maxPayloadFor } from '@compotastic/mesh';
import { ByteReader, ByteWriter } from '../bytes.js';
import { OtaError, type OtaErrorCode } from '../errors.js';
import { SHA256_BYTES } from '../hash.js';

// Transfer messages. Each fits one Meshtastic Data payload on a private port (231 bytes). Byte 0 is
// (protocol version << 4) | message type; all integers little-endian.
//
//   OFFER  (1)  session u16 | seed u32 | length u32 | symbol size u8 | max block symbols u16 | bundle SHA-256 (32) |
//               model hash u32 | version u32 | base version u32 (0xffffffff: full) | security counter u32 |
//               publisher key id (8) | Ed25519 signature (64) over everything before it                    (134 B)
//   DATA   (2)  session u16 | block u8 | ESI u16 | symbol                                       (6 B + symbol)
//   POLL   (3)  session u16 | round u16 | reply window ms u32 | count u8 | node u32 x count: nodes already done
//   STATUS (4)  session u16 | round u16 | state u8 | reason u8 | received u32 | first block u8 | first ESI u16 |
//               count u8 | (block u8, need u16) x count
//   END    (5)  session u16 | reason u8
//   HASHES (6)  session u16 | block u8 | first ESI u16 | count u8 | truncated symbol SHA-256 (8) x count |
//               Ed25519 signature (64) over the offer's digest and everything before it          (71 B + 8 x count)

export const PROTOCOL_VERSION = 2;
export const MAX_MESSAGE_BYTES = maxPayloadFor();
export const DATA_HEADER_BYTES = 6;
/** Largest symbol that still fits a DATA message in one packet. */
export const MAX_SYMBOL_BYTES = MAX_MESSAGE_BYTES - DATA_HEADER_BYTES;
export const NO_BASE = 0xffffffff;

export const MessageType = { OFFER: 1, DATA: 2, POLL: 3, STATUS: 4, END: 5, HASHES: 6 } as const;

export const KEY_ID_BYTES = 8;
export const SIGNATURE_BYTES = 64;
/** Bytes of a symbol's SHA-256 a HASHES message carries: a forger needs a 2^64 second preimage. */
export const SYMBOL_HASH_BYTES = 8;
const HASHES_FIXED_BYTES = 7 + SIGNATURE_BYTES;
/** Most symbol hashes one HASHES message carries (20). */
export const MAX_HASHES_PER_MESSAGE = Math.floor((MAX_MESSAGE_BYTES - HASHES_FIXED_BYTES) / SYMBOL_HASH_BYTES);

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
  /** Id of the publisher key that signed the offer (first 8 bytes of its SHA-256). */
  keyId: Uint8Array;
  /** Ed25519 signature of the publisher over the offer's other bytes (offerSignedBytes). */
  signature: Uint8Array;
}

/** Truncated hashes of a run of consecutive symbols of one block, signed by the offer's publisher. */
export interface HashesMessage {
  type: 'hashes';
  session: number;
  block: number;
  firstEsi: number;
  /** SYMBOL_HASH_BYTES each, for ESIs firstEsi, firstEsi + 1, ... */
  hashes: Uint8Array[];
  signature: Uint8Array;
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
  'SELF_TEST_FAILED', 'STORAGE', 'UNSUPPORTED_VERSION',
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

export type TransferMessage = OfferMessage | DataMessage | PollMessage | StatusMessage | EndMessage | HashesMessage;

const MAX_POLL_DONE = Math.floor((MAX_MESSAGE_BYTES - 10) / 4);
const MAX_STATUS_NEEDS = Math.floor((MAX_MESSAGE_BYTES - 19) / 3);

function head(type: number): number {
  return (PROTOCOL_VERSION << 4) | type;
}

function checkLength(what: string, bytes: Uint8Array, length: number): void {
  if (bytes.length !== length) throw new OtaError('INVALID_ARGUMENT', `${what} must be ${length} bytes`);
}

/** The bytes of an offer its publisher signs: the whole message up to and including the key id. */
export function offerSignedBytes(m: Omit<OfferMessage, 'signature'>): Uint8Array {
  checkLength('offer hash', m.bundleSha256, SHA256_BYTES);
  checkLength('offer key id', m.keyId, KEY_ID_BYTES);
  return new ByteWriter(72).u8(head(MessageType.OFFER)).u16(m.session).u32(m.seed).u32(m.length).u8(m.symbolSize).u16(m.maxBlockSymbols)
    .bytes(m.bundleSha256).u32(m.modelHash).u32(m.version).u32(m.baseVersion ?? NO_BASE).u32(m.securityCounter).bytes(m.keyId).finish();
}

/** The bytes of a HASHES message its publisher signs (after the offer's digest): everything before the signature. */
export function hashesSignedBytes(m: Omit<HashesMessage, 'signature'>): Uint8Array {
  if (m.hashes.length === 0 || m.hashes.length > MAX_HASHES_PER_MESSAGE) throw new OtaError('INVALID_ARGUMENT', `a hashes message carries 1..${MAX_HASHES_PER_MESSAGE} hashes`);
  const w = new ByteWriter(HASHES_FIXED_BYTES + m.hashes.length * SYMBOL_HASH_BYTES).u8(head(MessageType.HASHES)).u16(m.session).u8(m.block).u16(m.firstEsi).u8(m.hashes.length);
  for (const h of m.hashes) {
    checkLength('symbol hash', h, SYMBOL_HASH_BYTES);
    w.bytes(h);
  }
  return w.finish();
}

export function encodeMessage(m: TransferMessage): Uint8Array {
  const w = new ByteWriter(64);
  switch (m.type) {
    case 'offer':
      checkLength('offer signature', m.signature, SIGNATURE_BYTES);
      w.bytes(offerSignedBytes(m)).bytes(m.signature);
      break;
    case 'hashes':
      checkLength('hashes signature', m.signature, SIGNATURE_BYTES);
      w.bytes(hashesSignedBytes(m)).bytes(m.signature);
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
  if (h >> 4 !== PROTOCOL_VERSION) throw new OtaError('UNSUPPORTED_VERSION', `transfer protocol version ${h >> 4}, this node speaks ${PROTOCOL_VERSION}`);
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
      const keyId = r.bytes(KEY_ID_BYTES, 'publisher key id').slice();
      const signature = r.bytes(SIGNATURE_BYTES, 'offer signature').slice();
      if (length === 0 || symbolSize === 0 || symbolSize > MAX_SYMBOL_BYTES || maxBlockSymbols === 0) throw new OtaError('MALFORMED', 'offer has a zero or oversized field');
      m = {
        type: 'offer', session, seed, length, symbolSize, maxBlockSymbols, bundleSha256, modelHash, version, baseVersion: base === NO_BASE ? null : base,
        securityCounter, keyId, signature,
      };
      break;
    }
    case MessageType.HASHES: {
      const session = r.u16();
      const block = r.u8();
      const firstEsi = r.u16();
      const count = r.u8();
      if (count === 0 || count > MAX_HASHES_PER_MESSAGE) throw new OtaError('MALFORMED', `hashes message with ${count} hashes`);
      const hashes: Uint8Array[] = [];
      for (let i = 0; i < count; i++) hashes.push(r.bytes(SYMBOL_HASH_BYTES, 'symbol hash').slice());
      m = { type: 'hashes', session, block, firstEsi, hashes, signature: r.bytes(SIGNATURE_BYTES, 'hashes signature').slice() };
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
