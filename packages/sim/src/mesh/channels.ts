import { toHex } from '@compotastic/mesh';

/**
 * Channels as the firmware's Channels.cpp sees them: a channel encrypts with its expanded PSK, and a packet carries on
 * air only the 8-bit hash of name and key. A receiver decodes a packet when one of its channels has that hash and the
 * same key (perhapsDecode tries each channel whose hash matches); with a matching hash but another key the decryption
 * yields garbage and the packet stays undecoded. The simulator does not encrypt: it gives each packet the identity of
 * the channel it was encrypted with (name and key), and a receiver decodes it when it holds that identity.
 */

/** The firmware's default channel key (`defaultpsk`, PSK index 1): the public key of the default channel. */
const DEFAULT_PSK = Uint8Array.of(0xd4, 0xf1, 0xbb, 0x3a, 0x20, 0x29, 0x07, 0x59, 0xf0, 0xbc, 0xff, 0xab, 0xcf, 0x4e, 0x69, 0x01);

/** A channel as stored by admin (ChannelSettings name and psk, Channel.role: 0 DISABLED, 1 PRIMARY, 2 SECONDARY). */
export interface ChannelSpec {
  role: number;
  name?: string;
  psk?: Uint8Array;
}

const ROLE_DISABLED = 0;
const ROLE_SECONDARY = 2;

/** Channels::getKey: the key a channel encrypts with (empty: no encryption), or null for a disabled channel. */
export function channelKey(ch: ChannelSpec, primary: ChannelSpec | null): Uint8Array | null {
  if (ch.role === ROLE_DISABLED) return null;
  const psk = ch.psk ?? new Uint8Array(0);
  if (psk.length === 0) return ch.role === ROLE_SECONDARY && primary ? channelKey(primary, null) : new Uint8Array(0);
  if (psk.length === 1) {
    if (psk[0] === 0) return new Uint8Array(0);
    const k = DEFAULT_PSK.slice();
    k[15] = (k[15]! + psk[0]! - 1) & 0xff; // index 1 is the default key itself
    return k;
  }
  // A short key is padded with zeros to AES128 or AES256.
  const length = psk.length <= 16 ? 16 : 32;
  const k = new Uint8Array(length);
  k.set(psk.subarray(0, length));
  return k;
}

/** Channels::getName: an empty name is the modem preset's display name (e.g. "LongFast"). */
export function channelName(ch: ChannelSpec, presetDisplayName: string): string {
  return ch.name ? ch.name : presetDisplayName;
}

function xorHash(bytes: Uint8Array): number {
  let h = 0;
  for (const b of bytes) h ^= b;
  return h;
}

/** Channels::generateHash: the byte a packet carries on air to name its channel. */
export function channelHash(name: string, key: Uint8Array): number {
  return xorHash(new TextEncoder().encode(name)) ^ xorHash(key);
}

/**
 * The identity of each channel slot (index 0..7): its on-air hash, name and key as one string, or null when the slot
 * is disabled. Equal identities decode each other's packets.
 */
export function channelIdentities(channels: ChannelSpec[], presetDisplayName: string): (string | null)[] {
  const primary = channels.find((c) => c.role === 1) ?? null;
  return channels.map((ch) => {
    const key = channelKey(ch, primary);
    if (!key) return null;
    const name = channelName(ch, presetDisplayName);
    return `${channelHash(name, key)}:${name}:${toHex(key)}`;
  });
}

const defaults = new Map<string, (string | null)[]>();

/** The factory channel set (a PRIMARY with an empty name and PSK index 1, the rest disabled), per preset. */
export function defaultChannelIdentities(presetDisplayName: string): (string | null)[] {
  let ids = defaults.get(presetDisplayName);
  if (!ids) {
    ids = channelIdentities([{ role: 1, name: '', psk: Uint8Array.of(1) }], presetDisplayName);
    defaults.set(presetDisplayName, ids);
  }
  return ids;
}
