import { AuthError } from '../errors.js';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from './keys.js';

/** A swarm certificate on an introduction: expiry u32 + the operator's signature (see certificate.ts). */
const CERT_BYTES = 4 + SIGNATURE_BYTES;

/**
 * The authentication trailer every packet of the profile ends with, read from the end:
 *   [certificate, 68 bytes, flag CERT] [intro public key, 32 bytes, flag INTRO] counter u32 LE,
 *   tag (MAC 8 bytes or Ed25519 signature 64), flags u8.
 * Unicasts carry a MAC under the pair key; broadcasts, which have no pair key, an Ed25519 signature.
 */
export const TRAILER_MAGIC = 0xa0;
const FLAG_SIGNED = 0x01;
const FLAG_INTRO = 0x02;
const FLAG_CERT = 0x04;
const FLAG_BITS = FLAG_SIGNED | FLAG_INTRO | FLAG_CERT;
export const MAC_BYTES = 8;
const COUNTER_BYTES = 4;

export interface Trailer {
  signed: boolean;
  intro: Uint8Array | null;
  /** Only with an intro. */
  cert: Uint8Array | null;
  counter: number;
  tag: Uint8Array;
}

/** Bytes a trailer adds. */
export function trailerBytes(signed: boolean, intro: boolean, cert = false): number {
  return (cert ? CERT_BYTES : 0) + (intro ? PUBLIC_KEY_BYTES : 0) + COUNTER_BYTES + (signed ? SIGNATURE_BYTES : MAC_BYTES) + 1;
}

/** The payload and the certificate, intro key, counter and flags of its trailer: everything the tag covers. */
export function signedPart(payload: Uint8Array, signed: boolean, intro: Uint8Array | null, counter: number, cert: Uint8Array | null = null): Uint8Array {
  const out = new Uint8Array(payload.length + (cert ? CERT_BYTES : 0) + (intro ? PUBLIC_KEY_BYTES : 0) + COUNTER_BYTES + 1);
  out.set(payload, 0);
  let pos = payload.length;
  if (cert) {
    out.set(cert, pos);
    pos += CERT_BYTES;
  }
  if (intro) {
    out.set(intro, pos);
    pos += PUBLIC_KEY_BYTES;
  }
  new DataView(out.buffer).setUint32(pos, counter >>> 0, true);
  out[pos + 4] = flagsByte(signed, intro !== null, cert !== null);
  return out;
}

function flagsByte(signed: boolean, intro: boolean, cert: boolean): number {
  return TRAILER_MAGIC | (signed ? FLAG_SIGNED : 0) | (intro ? FLAG_INTRO : 0) | (cert ? FLAG_CERT : 0);
}

export function appendTrailer(payload: Uint8Array, t: Trailer): Uint8Array {
  const expected = t.signed ? SIGNATURE_BYTES : MAC_BYTES;
  if (t.tag.length !== expected) throw new AuthError('BAD_TRAILER', `a ${t.signed ? 'signature' : 'MAC'} is ${expected} bytes, got ${t.tag.length}`);
  if (t.cert && !t.intro) throw new AuthError('BAD_TRAILER', 'a certificate travels with an introduction only');
  const out = new Uint8Array(payload.length + trailerBytes(t.signed, t.intro !== null, t.cert !== null));
  out.set(payload, 0);
  let pos = payload.length;
  if (t.cert) {
    out.set(t.cert, pos);
    pos += CERT_BYTES;
  }
  if (t.intro) {
    out.set(t.intro, pos);
    pos += PUBLIC_KEY_BYTES;
  }
  new DataView(out.buffer).setUint32(pos, t.counter >>> 0, true);
  pos += COUNTER_BYTES;
  out.set(t.tag, pos);
  out[pos + t.tag.length] = flagsByte(t.signed, t.intro !== null, t.cert !== null);
  return out;
}

/** Split a packet into its payload and trailer. Throws AuthError BAD_TRAILER for anything malformed. */
export function splitTrailer(packet: Uint8Array): { payload: Uint8Array; trailer: Trailer } {
  if (packet.length < 1) throw new AuthError('BAD_TRAILER', 'empty packet');
  const flags = packet[packet.length - 1] as number;
  if ((flags & 0xf0) !== TRAILER_MAGIC || flags & 0x0f & ~FLAG_BITS) throw new AuthError('BAD_TRAILER', `no authentication trailer (last byte 0x${flags.toString(16)})`);
  const signed = (flags & FLAG_SIGNED) !== 0;
  const hasIntro = (flags & FLAG_INTRO) !== 0;
  const hasCert = (flags & FLAG_CERT) !== 0;
  if (hasCert && !hasIntro) throw new AuthError('BAD_TRAILER', 'a certificate without an introduction');
  const size = trailerBytes(signed, hasIntro, hasCert);
  // At least the two header bytes of a profile message precede the trailer.
  if (packet.length < size + 2) throw new AuthError('BAD_TRAILER', `packet of ${packet.length} bytes is too short for its ${size}-byte trailer`);
  let pos = packet.length - size;
  const payload = packet.subarray(0, pos);
  let cert: Uint8Array | null = null;
  if (hasCert) {
    cert = packet.slice(pos, pos + CERT_BYTES);
    pos += CERT_BYTES;
  }
  let intro: Uint8Array | null = null;
  if (hasIntro) {
    intro = packet.slice(pos, pos + PUBLIC_KEY_BYTES);
    pos += PUBLIC_KEY_BYTES;
  }
  const counter = new DataView(packet.buffer, packet.byteOffset + pos, COUNTER_BYTES).getUint32(0, true);
  pos += COUNTER_BYTES;
  const tag = packet.slice(pos, pos + (signed ? SIGNATURE_BYTES : MAC_BYTES));
  return { payload, trailer: { signed, intro, cert, counter, tag } };
}
