import { AuthError, type AuthErrorCode } from '../errors.js';
import type { Destination, PacketLink, ReceivedPacket, SendOptions, SendResult } from '../transport/link.js';
import { looksLikeProfile } from '../wire/messages.js';
import type { Authenticator } from './authenticator.js';

export interface SealedSendOptions extends SendOptions {
  /** Carry this node's public key (first contact, capability adverts). */
  introduce?: boolean;
  /** Seal for this key instead of the pinned one (an auth reject to a device whose key we refuse). */
  peerKey?: Uint8Array;
}

export interface AuthRejection {
  from: number;
  to: number;
  code: AuthErrorCode;
  message: string;
  /** The key the sender proved it holds, when it was refused for its key (KEY_CONFLICT, NOT_ADMITTED). */
  presentedKey: Uint8Array | null;
  link: 'lora' | 'ble';
}

/**
 * A PacketLink whose packets are authenticated: every packet sent gets its trailer, every packet received is checked
 * and handed on without it, or dropped and reported. `maxPayload` is what a unicast leaves for the message; broadcasts
 * and introductions take more (`room`). Packets of other applications on the port pass through untouched.
 */
export class SealedLink implements PacketLink {
  readonly kind: 'lora' | 'ble';
  readonly maxPayload: number;

  constructor(readonly inner: PacketLink, private readonly auth: Authenticator, private readonly onReject: (r: AuthRejection) => void) {
    this.kind = inner.kind;
    this.maxPayload = inner.maxPayload - auth.overhead(0, false);
  }

  /** Message bytes one packet to `to` can carry. */
  room(to: Destination, introduce: boolean): number {
    return this.inner.maxPayload - this.auth.overhead(to === 'broadcast' ? 'broadcast' : to, introduce);
  }

  wantsIntro(to: number): boolean {
    return this.auth.wantsIntro(to);
  }

  canReach(to: Destination): boolean {
    return to === 'broadcast' || this.auth.peerKey(to) !== null;
  }

  send(to: Destination, payload: Uint8Array, options: SealedSendOptions): Promise<SendResult> {
    let sealed: Uint8Array;
    try {
      sealed = this.auth.seal(to, payload, options.introduce ?? false, options.peerKey);
    } catch (e) {
      if (e instanceof AuthError) return Promise.resolve({ ok: false, error: e.code });
      throw e;
    }
    return this.inner.send(to, sealed, { wantAck: options.wantAck, hopLimit: options.hopLimit });
  }

  onPacket(handler: (p: ReceivedPacket) => void): () => void {
    return this.inner.onPacket((p) => {
      if (!looksLikeProfile(p.payload)) {
        handler(p);
        return;
      }
      const r = this.auth.open(p.from, p.to, p.payload);
      if (r.ok) handler({ ...p, payload: r.payload });
      else this.onReject({ from: p.from, to: p.to, code: r.code, message: r.message, presentedKey: r.presentedKey, link: this.kind });
    });
  }
}
