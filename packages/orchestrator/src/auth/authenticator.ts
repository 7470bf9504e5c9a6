import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual, concatBytes as concat } from '@compotastic/mesh';
import { AuthError, type AuthErrorCode } from '../errors.js';
import { type NodeKeyPair, isValidPublicKey, pairKey, sign, verifySignature } from './keys.js';
import { ReplayWindow } from './replay-window.js';
import { SendCounter } from './send-counter.js';
import { type AuthState, type AuthStore, emptyAuthState } from './store.js';
import { MAC_BYTES, appendTrailer, signedPart, splitTrailer, trailerBytes } from './trailer.js';

const BROADCAST = 0xffffffff;
const MAC_DOMAIN = new TextEncoder().encode('cmp-mac1');
const SIG_DOMAIN = new TextEncoder().encode('cmp-sig1');

/**
 * Decides whether a peer with this key may join (swarm admission), given the certificate its introduction carried
 * (null when the packet carried none); null admits, a string says why not.
 */
export type AdmissionCheck = (num: number, publicKey: Uint8Array, certificate: Uint8Array | null) => string | null;

export interface AuthenticatorOptions {
  num: number;
  keys: NodeKeyPair;
  store: AuthStore;
  admit?: AdmissionCheck;
  /** This node's swarm certificate, carried with every introduction of its key. */
  certificate?: Uint8Array;
}

export type OpenResult =
  | { ok: true; payload: Uint8Array; introduced: boolean }
  | { ok: false; code: AuthErrorCode; message: string; presentedKey: Uint8Array | null };

export interface AuthStats {
  sealed: number;
  opened: number;
  rejected: Partial<Record<AuthErrorCode, number>>;
  pinned: number;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

/**
 * One node's side of packet authentication. Unicasts carry an 8-byte truncated HMAC-SHA256 under the pair key over
 * sender, receiver, counter and bytes; broadcasts an Ed25519 signature over sender, counter and bytes. A packet may
 * introduce its sender's public key: the key is pinned on the first valid introduction (trust on first use) and a
 * different key for the same node number is refused (KEY_CONFLICT). Counters are per sender, persisted, and each
 * receiver keeps a 64-entry window per peer, so a replayed packet is refused even after a restart.
 */
export class Authenticator {
  readonly num: number;
  readonly publicKey: Uint8Array;
  readonly stats: AuthStats = { sealed: 0, opened: 0, rejected: {}, pinned: 0 };
  private readonly state: AuthState;
  private readonly counter: SendCounter;
  private readonly pairKeys = new Map<number, Uint8Array>();
  private readonly windows = new Map<number, ReplayWindow>();
  /** Peers that sent us an authenticated unicast, so they hold our key: no introduction needed. */
  private readonly confirmed = new Set<number>();

  constructor(private readonly options: AuthenticatorOptions) {
    this.num = options.num >>> 0;
    this.publicKey = options.keys.publicKey;
    this.state = options.store.load() ?? emptyAuthState();
    this.counter = new SendCounter(this.state.counterReserved, (upTo) => {
      this.state.counterReserved = upTo;
      this.persist();
    });
  }

  private persist(): void {
    this.options.store.save(this.state);
  }

  /** The pinned key of a peer, or null. */
  peerKey(num: number): Uint8Array | null {
    return this.state.pins.get(num >>> 0) ?? null;
  }

  /** A peer counts as authenticated once its key is pinned (and, in a swarm, admitted). */
  isAuthenticated(num: number): boolean {
    const key = this.peerKey(num);
    return key !== null && (this.options.admit?.(num, key, null) ?? null) === null;
  }

  /** Unicasts to this peer should introduce our key (it has not shown that it knows it). */
  wantsIntro(to: number): boolean {
    return !this.confirmed.has(to >>> 0);
  }

  /** Bytes of a trailer on a packet to `to`. */
  overhead(to: number | 'broadcast', intro: boolean): number {
    return trailerBytes(to === 'broadcast', intro, intro && this.options.certificate !== undefined);
  }

  /** A peer refused us (AUTH_REJECT): introduce our key (and certificate) again on the next packets to it. */
  forgetConfirmation(peer: number): void {
    this.confirmed.delete(peer >>> 0);
  }

  private pairKeyFor(peer: number, key: Uint8Array): Uint8Array {
    const pinned = this.peerKey(peer);
    if (pinned && bytesEqual(pinned, key)) {
      let k = this.pairKeys.get(peer);
      if (!k) {
        k = pairKey(this.options.keys, this.num, key, peer);
        this.pairKeys.set(peer, k);
      }
      return k;
    }
    return pairKey(this.options.keys, this.num, key, peer);
  }

  private mac(key: Uint8Array, from: number, to: number, part: Uint8Array): Uint8Array {
    return hmac(sha256, key, concat([MAC_DOMAIN, u32(from), u32(to), part])).subarray(0, MAC_BYTES);
  }

  /**
   * Add the trailer to one packet. `peerKey` overrides the pinned key (to answer a peer whose key we refuse).
   * Throws AuthError NO_PEER_KEY for a unicast to a peer whose key is unknown.
   */
  seal(to: number | 'broadcast', payload: Uint8Array, intro: boolean, peerKey?: Uint8Array): Uint8Array {
    const counter = this.counter.take();
    const introKey = intro ? this.publicKey : null;
    const cert = intro ? (this.options.certificate ?? null) : null;
    this.stats.sealed++;
    if (to === 'broadcast') {
      const part = signedPart(payload, true, introKey, counter, cert);
      const tag = sign(this.options.keys, concat([SIG_DOMAIN, u32(this.num), part]));
      return appendTrailer(payload, { signed: true, intro: introKey, cert, counter, tag });
    }
    const key = peerKey ?? this.peerKey(to);
    if (!key) throw new AuthError('NO_PEER_KEY', `no key known for node ${to}: it has not introduced itself`);
    const part = signedPart(payload, false, introKey, counter, cert);
    const tag = this.mac(this.pairKeyFor(to >>> 0, key), this.num, to >>> 0, part);
    return appendTrailer(payload, { signed: false, intro: introKey, cert, counter, tag });
  }

  private reject(code: AuthErrorCode, message: string, presentedKey: Uint8Array | null = null): OpenResult {
    this.stats.rejected[code] = (this.stats.rejected[code] ?? 0) + 1;
    return { ok: false, code, message, presentedKey };
  }

  /** Check a received packet; returns the payload without its trailer, or why it was refused. */
  open(from: number, to: number, packet: Uint8Array): OpenResult {
    from >>>= 0;
    to >>>= 0;
    let parts;
    try {
      parts = splitTrailer(packet);
    } catch (e) {
      if (e instanceof AuthError) return this.reject(e.code as AuthErrorCode, e.message);
      throw e;
    }
    const { payload, trailer } = parts;
    const broadcast = to === BROADCAST;
    if (trailer.signed !== broadcast) return this.reject('BAD_TRAILER', broadcast ? 'a broadcast must be signed' : 'a unicast carries a MAC, not a signature');
    if (!broadcast && to !== this.num) return this.reject('BAD_TRAILER', `packet for node ${to} is not ours`);
    const pinned = this.peerKey(from);
    const key = trailer.intro ?? pinned;
    if (!key) return this.reject('UNKNOWN_PEER', `node ${from} has not introduced its key`);
    if (trailer.intro && !isValidPublicKey(trailer.intro)) return this.reject('BAD_KEY', `node ${from} introduced an invalid key`);
    const part = signedPart(payload, trailer.signed, trailer.intro, trailer.counter, trailer.cert);
    if (broadcast) {
      if (!verifySignature(key, concat([SIG_DOMAIN, u32(from), part]), trailer.tag)) return this.reject('BAD_SIGNATURE', `broadcast from ${from} fails its signature`);
    } else {
      let expected: Uint8Array;
      try {
        expected = this.mac(this.pairKeyFor(from, key), from, to, part);
      } catch (e) {
        if (e instanceof AuthError) return this.reject(e.code as AuthErrorCode, e.message);
        throw e;
      }
      if (!bytesEqual(expected, trailer.tag)) return this.reject('BAD_MAC', `packet from ${from} fails its MAC`);
    }
    // The sender proved it holds `key`; a different key than the pinned one is another device claiming the number.
    if (pinned && !bytesEqual(pinned, key)) return this.reject('KEY_CONFLICT', `node ${from} presented a key other than the one pinned for it`, key);
    const refused = this.options.admit?.(from, key, trailer.cert) ?? null;
    if (refused !== null) return this.reject('NOT_ADMITTED', `node ${from} is not admitted: ${refused}`, key);
    let window = this.windows.get(from);
    if (!window) {
      const hw = this.state.highWater.get(from);
      window = new ReplayWindow(hw ?? 0, hw !== undefined);
      this.windows.set(from, window);
    }
    if (!window.accept(trailer.counter)) return this.reject('REPLAY', `packet ${trailer.counter} from ${from} was seen before or is too old`);
    if (!pinned) {
      this.state.pins.set(from, key.slice());
      this.stats.pinned++;
    }
    this.state.highWater.set(from, window.highWater);
    this.persist();
    if (!broadcast) this.confirmed.add(from);
    this.stats.opened++;
    return { ok: true, payload, introduced: !pinned };
  }

  /** A value never handed out before by this node (the packet counter), e.g. to derive a job id from. */
  uniqueValue(): number {
    return this.counter.take();
  }

  /** Sign bytes with this node's key (for statements a third party checks, such as result bindings). */
  sign(message: Uint8Array): Uint8Array {
    return sign(this.options.keys, message);
  }

  /** Check a peer's signature against its pinned key. */
  verify(num: number, message: Uint8Array, signature: Uint8Array): boolean {
    const key = this.peerKey(num);
    return key !== null && verifySignature(key, message, signature);
  }

  /** The state shared with reputation and job ids (same store, same writes). */
  get durable(): { state: AuthState; persist: () => void } {
    return { state: this.state, persist: () => this.persist() };
  }
}
