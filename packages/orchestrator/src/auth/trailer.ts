import { AuthError } from '../errors.js';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from './keys.js';

/**
 * The authentication trailer every packet of the profile ends with, read from the end:
 *   [intro public key, 32 bytes, when flag INTRO] counter u32 LE, tag (MAC 8 bytes or Ed25519 signature 64), flags u8.
 * Unicasts carry a MAC under the pair key; broadcasts, which have no pair key, an Ed25519 signature.
 */
export const TRAILER_MAGIC = 0xa0;
const FLAG_SIGNED = 0x01;
const FLAG_INTRO = 0x02;
const FLAG_BITS = FLAG_SIGNED | FLAG_INTRO;
export const MAC_BYTES = 8;
const COUNTER_BYTES = 4;

export interface Trailer {
  signed: boolean;
  intro: Uint8Array | null;
  counter: number;
  tag: Uint8Array;
}

/** Bytes a trailer adds. */
export function trailerBytes(signed: boolean, intro: boolean): number {
  return (intro ? PUBLIC_KEY_BYTES : 0) + COUNTER_BYTES + (signed ? SIGNATURE_BYTES : MAC_BYTES) + 1;
}

/** The payload and the intro key, counter and flags of its trailer: everything the tag covers. */
export function signedPart(payload: Uint8Array, signed: boolean, intro: Uint8Array | null, counter: number): Uint8Array {
  const out = new Uint8Array(payload.length + (intro ? PUBLIC_KEY_BYTES : 0) + COUNTER_BYTES + 1);
  out.set(payload, 0);
  let pos = payload.length;
  if (intro) {
    out.set(intro, pos);
    pos += PUBLIC_KEY_BYTES;
  }
  new DataView(out.buffer).setUint32(pos, counter >>> 0, true);
  out[pos + 4] = flagsByte(signed, intro !== null);
  return out;
}

function flagsByte(signed: boolean, intro: boolean): number {
  return TRAILER_MAGIC | (signed ? FLAG_SIGNED : 0) | (intro ? FLAG_INTRO : 0);
}

export function appendTrailer(payload: Uint8Array, t: Trailer): Uint8Array {
  const expected = t.signed ? SIGNATURE_BYTES : MAC_BYTES;
  if (t.tag.length !== expected) throw new AuthError('BAD_TRAILER', `a ${t.signed ? 'signature' : 'MAC'} is ${expected} bytes, got ${t.tag.length}`);
  const out = new Uint8Array(payload.length + trailerBytes(t.signed, t.intro !== null));
  out.set(payload, 0);
  let pos = payload.length;
  if (t.intro) {
    out.set(t.intro, pos);
    pos += PUBLIC_KEY_BYTES;
  }
  new DataView(out.buffer).setUint32(pos, t.counter >>> 0, true);
  pos += COUNTER_BYTES;
  out.set(t.tag, pos);
  out[pos + t.tag.length] = flagsByte(t.signed, t.intro !== null);
  return out;
}

/** Split a packet into its payload and trailer. Throws AuthError BAD_TRAILER for anything malformed. */
export function splitTrailer(packet: Uint8Array): { payload: Uint8Array; trailer: Trailer } {
  if (packet.length < 1) throw new AuthError('BAD_TRAILER', 'empty packet');
  const flags = packet[packet.length - 1] as number;
  if ((flags & 0xf0) !== TRAILER_MAGIC || flags & 0x0f & ~FLAG_BITS) throw new AuthError('BAD_TRAILER', `no authentication trailer (last byte 0x${flags.toString(16)})`);
  const signed = (flags & FLAG_SIGNED) !== 0;
  const hasIntro = (flags & FLAG_INTRO) !== 0;
  const size = trailerBytes(signed, hasIntro);
  // At least the two header bytes of a profile message precede the trailer.
  if (packet.length < size + 2) throw new AuthError('BAD_TRAILER', `packet of ${packet.length} bytes is too short for its ${size}-byte trailer`);
  let pos = packet.length - size;
  const payload = packet.subarray(0, pos);
  let intro: Uint8Array | null = null;
  if (hasIntro) {
    intro = packet.slice(pos, pos + PUBLIC_KEY_BYTES);
    pos += PUBLIC_KEY_BYTES;
  }
  const counter = new DataView(packet.buffer, packet.byteOffset + pos, COUNTER_BYTES).getUint32(0, true);
  pos += COUNTER_BYTES;
  const tag = packet.slice(pos, pos + (signed ? SIGNATURE_BYTES : MAC_BYTES));
  return { payload, trailer: { signed, intro, counter, tag } };
}
