import { type Prng, toHex } from '@compotastic/mesh';
import { Authenticator } from '../auth/authenticator.js';
import { type NodeKeyPair, keyPairFromPrng } from '../auth/keys.js';
import { MemoryAuthStore } from '../auth/store.js';
import { splitTrailer } from '../auth/trailer.js';
import { OrchestratorError } from '../errors.js';
import { type Message, decodeMessage, encodeMessage } from '../wire/messages.js';
import type { AttackWorld } from './world.js';

/**
 * A malicious node: a radio that sends whatever it likes with any `from`, overhears everything on the port, and
 * holds a key of its own (it may be a member of the mesh like any other). It learns honest nodes' keys from their
 * adverts, as anyone can.
 */
export class Adversary {
  readonly keys: NodeKeyPair;
  readonly auth: Authenticator;
  readonly peerKeys = new Map<number, Uint8Array>();
  private readonly certificate: Uint8Array | undefined;

  /** `certify`: a swarm certificate for the adversary's own number and key (an insider), when the swarm has one. */
  constructor(readonly world: AttackWorld, readonly num: number, rng: Prng, private readonly onInject: (bytes: Uint8Array) => void, certify?: (num: number, key: Uint8Array) => Uint8Array) {
    this.keys = keyPairFromPrng(rng);
    this.certificate = certify?.(num, this.keys.publicKey);
    this.auth = new Authenticator({ num, keys: this.keys, store: new MemoryAuthStore(), certificate: this.certificate });
    world.link(num).onPacket((p) => {
      const r = this.auth.open(p.from, p.to, p.payload);
      if (r.ok && r.introduced) this.peerKeys.set(p.from, this.auth.peerKey(p.from) as Uint8Array);
    });
  }

  /** Send a message as itself, authenticated with its own key (what any member can do). */
  sendOwn(to: number | 'broadcast', msg: Message, introduce = true): void {
    const bytes = this.auth.seal(to, encodeMessage(msg, { maxPayload: Infinity }), introduce);
    this.world.inject(this.num, this.num, to, bytes);
  }

  /** Send raw bytes claiming to be `from`; the harness counts them as tried. */
  spoof(from: number, to: number | 'broadcast', bytes: Uint8Array): void {
    this.onInject(bytes);
    this.world.inject(this.num, from, to, bytes);
  }

  /**
   * A packet claiming `from`, authenticated as well as the adversary can: `impostor` signs or MACs under the
   * adversary's own key bound to the victim's number and introduces that key, with the adversary's own certificate
   * in a swarm (refused as KEY_CONFLICT once the victim is pinned, NOT_ADMITTED in a swarm); otherwise the tag is
   * random bytes (refused as BAD_MAC / BAD_SIGNATURE).
   */
  forge(from: number, to: number | 'broadcast', msg: Message, impostor: boolean, rng: Prng): Uint8Array {
    const payload = encodeMessage(msg, { maxPayload: Infinity });
    if (impostor) {
      const as = new Authenticator({ num: from, keys: this.keys, store: new MemoryAuthStore(), certificate: this.certificate });
      const peerKey = to === 'broadcast' ? undefined : this.peerKeys.get(to);
      if (to === 'broadcast' || peerKey) return as.seal(to, payload, true, peerKey);
    }
    const honestShape = to === 'broadcast' ? this.auth.seal('broadcast', payload, false) : this.auth.seal(to, payload, false, this.keys.publicKey);
    const out = honestShape.slice();
    // Keep the trailer's layout, replace its tag with noise.
    const { trailer } = splitTrailer(honestShape);
    out.set(rng.bytes(trailer.tag.length), out.length - 1 - trailer.tag.length);
    return out;
  }
}

/** The message inside an overheard packet, or null when it is not one of ours or does not decode. */
export function overheardMessage(payload: Uint8Array): Message | null {
  try {
    return decodeMessage(splitTrailer(payload).payload);
  } catch (e) {
    if (e instanceof OrchestratorError) return null;
    throw e;
  }
}

/** Tracks injected packets and which honest node let one through its authentication. */
export class InjectionLedger {
  private readonly tried = new Map<string, 'forgery' | 'replay'>();
  private readonly accepted = new Set<string>();

  add(bytes: Uint8Array, kind: 'forgery' | 'replay'): void {
    this.tried.set(toHex(bytes), kind);
  }

  /** An honest node's authentication accepted these bytes. */
  passed(bytes: Uint8Array): void {
    const k = toHex(bytes);
    if (this.tried.has(k)) this.accepted.add(k);
  }

  counts(): { tried: number; rejected: number; forgeries: number; replays: number } {
    let forgeries = 0;
    let replays = 0;
    for (const k of this.accepted) {
      if (this.tried.get(k) === 'replay') replays++;
      else forgeries++;
    }
    return { tried: this.tried.size, rejected: this.tried.size - this.accepted.size, forgeries, replays };
  }
}
