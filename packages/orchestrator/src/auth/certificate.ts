import { toHex } from '@compotastic/mesh';
import { AuthError } from '../errors.js';
import { type NodeKeyPair, PUBLIC_KEY_BYTES, SIGNATURE_BYTES, sign, verifySignature } from './keys.js';

/**
 * Swarm admission. An operator's Ed25519 key signs node certificates (node number, node key, expiry) and revocation
 * lists. A certificate travels with a node's key introduction (expiry u32 LE + signature: CERTIFICATE_BYTES), so a
 * node of the swarm pins only keys the operator admitted, and an impostor cannot win a pin by speaking first.
 */
export const CERTIFICATE_BYTES = 4 + SIGNATURE_BYTES;
const CERT_DOMAIN = new TextEncoder().encode('cmp-cert1');
const REVOCATION_DOMAIN = new TextEncoder().encode('cmp-revoked1');

function certBody(num: number, publicKey: Uint8Array, expiresS: number): Uint8Array {
  const out = new Uint8Array(CERT_DOMAIN.length + 4 + PUBLIC_KEY_BYTES + 4);
  out.set(CERT_DOMAIN, 0);
  const v = new DataView(out.buffer);
  v.setUint32(CERT_DOMAIN.length, num >>> 0, true);
  out.set(publicKey, CERT_DOMAIN.length + 4);
  v.setUint32(CERT_DOMAIN.length + 4 + PUBLIC_KEY_BYTES, expiresS >>> 0, true);
  return out;
}

/** The operator's certificate for a node's key: expiry (Unix seconds, u32) and the operator's signature. */
export function issueCertificate(operator: NodeKeyPair, num: number, publicKey: Uint8Array, expiresS: number): Uint8Array {
  if (publicKey.length !== PUBLIC_KEY_BYTES) throw new AuthError('BAD_KEY', 'a node key is 32 bytes');
  if (!Number.isInteger(expiresS) || expiresS < 1 || expiresS > 0xffffffff) throw new AuthError('BAD_STATE', `certificate expiry ${expiresS} is not a u32 of Unix seconds`);
  const out = new Uint8Array(CERTIFICATE_BYTES);
  new DataView(out.buffer).setUint32(0, expiresS, true);
  out.set(sign(operator, certBody(num, publicKey, expiresS)), 4);
  return out;
}

export function certificateExpiry(cert: Uint8Array): number {
  if (cert.length !== CERTIFICATE_BYTES) throw new AuthError('BAD_STATE', `a certificate is ${CERTIFICATE_BYTES} bytes, got ${cert.length}`);
  return new DataView(cert.buffer, cert.byteOffset, 4).getUint32(0, true);
}

/** A signed list of revoked node keys. */
export interface RevocationList {
  issuedS: number;
  revoked: Array<{ num: number; publicKey: Uint8Array }>;
  signature: Uint8Array;
}

function revocationBody(issuedS: number, revoked: RevocationList['revoked']): Uint8Array {
  const out = new Uint8Array(REVOCATION_DOMAIN.length + 4 + revoked.length * (4 + PUBLIC_KEY_BYTES));
  out.set(REVOCATION_DOMAIN, 0);
  const v = new DataView(out.buffer);
  let pos = REVOCATION_DOMAIN.length;
  v.setUint32(pos, issuedS >>> 0, true);
  pos += 4;
  for (const r of revoked) {
    v.setUint32(pos, r.num >>> 0, true);
    out.set(r.publicKey, pos + 4);
    pos += 4 + PUBLIC_KEY_BYTES;
  }
  return out;
}

export function signRevocationList(operator: NodeKeyPair, issuedS: number, revoked: RevocationList['revoked']): RevocationList {
  return { issuedS, revoked, signature: sign(operator, revocationBody(issuedS, revoked)) };
}

/**
 * Admits peers whose key carries a valid, unexpired certificate from the operator and is not on the (verified)
 * revocation list. Certificates checked once are remembered for the process, so later packets need not carry them.
 */
export class SwarmAdmission {
  private readonly revoked = new Set<string>();
  private readonly admitted = new Map<string, number>();

  constructor(private readonly operatorKey: Uint8Array, private readonly nowS: () => number, revocations: RevocationList | null = null) {
    if (revocations) {
      if (!verifySignature(operatorKey, revocationBody(revocations.issuedS, revocations.revoked), revocations.signature)) {
        throw new AuthError('BAD_SIGNATURE', 'the revocation list is not signed by the swarm operator');
      }
      for (const r of revocations.revoked) this.revoked.add(`${r.num >>> 0}:${toHex(r.publicKey)}`);
    }
  }

  /** null: admitted; otherwise why not. */
  check(num: number, publicKey: Uint8Array, certificate: Uint8Array | null): string | null {
    const id = `${num >>> 0}:${toHex(publicKey)}`;
    if (this.revoked.has(id)) return 'its key is revoked';
    let expires = this.admitted.get(id);
    if (expires === undefined) {
      if (!certificate) return 'no certificate presented';
      if (certificate.length !== CERTIFICATE_BYTES) return 'malformed certificate';
      const exp = certificateExpiry(certificate);
      if (!verifySignature(this.operatorKey, certBody(num, publicKey, exp), certificate.subarray(4))) return 'certificate not signed by the swarm operator';
      expires = exp;
      this.admitted.set(id, exp);
    }
    if (this.nowS() >= expires) return `certificate expired at ${new Date(expires * 1000).toISOString()}`;
    return null;
  }
}
