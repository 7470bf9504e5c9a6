import { fromHex, toHex } from '@compotastic/mesh';
import {
  type AdmissionCheck, type RevocationList, SwarmAdmission, issueCertificate, keyPairFromSecret, signRevocationList, isValidPublicKey, CERTIFICATE_BYTES,
} from '@compotastic/orchestrator';
import { ed25519 } from '@noble/curves/ed25519.js';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readFileOrNull, writeFileAtomic } from './atomic-file.js';
import { StateError } from './errors.js';
import { NodeError } from './node-error.js';
import { asObject, badContent, decodeJsonFile, encodeJsonFile, intField, type FileKind } from './state-format.js';

// A swarm directory, kept by its operator: the operator key pair (operator.json, secret), the public half nodes need
// (swarm.json), one certificate per admitted node (certs/<node number>.json) and the signed revocation list
// (revoked.json). A node started with the directory (or a copy without operator.json) admits only peers whose key
// introduction carries a valid, unexpired, unrevoked certificate.

const OPERATOR: FileKind = { kind: 'swarm-operator', version: 1 };
const SWARM: FileKind = { kind: 'swarm', version: 1 };
const CERT: FileKind = { kind: 'swarm-cert', version: 1 };
const REVOKED: FileKind = { kind: 'swarm-revoked', version: 1 };

function hexField(k: FileKind, o: Record<string, unknown>, name: string, bytes: number, file: string): Uint8Array {
  const v = o[name];
  if (typeof v !== 'string' || !new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(v)) throw badContent(k, `${name} must be ${bytes * 2} hex digits`, file);
  return fromHex(v);
}

function readKind(k: FileKind, path: string): Record<string, unknown> {
  const bytes = readFileOrNull(path);
  if (bytes === null) throw new NodeError('BAD_FILE', `${path} does not exist (compotastic swarm create makes a swarm directory)`);
  return asObject(k, decodeJsonFile(k, bytes, path), path);
}

export function certPath(dir: string, num: number): string {
  return join(dir, 'certs', `${num >>> 0}.json`);
}

/** Make a new swarm: an operator key pair. Refuses a directory that already has one. */
export function createSwarm(dir: string): { publicKey: Uint8Array } {
  const opPath = join(dir, 'operator.json');
  if (existsSync(opPath)) throw new NodeError('BAD_FILE', `${opPath} already exists: a swarm has one operator key`);
  mkdirSync(join(dir, 'certs'), { recursive: true, mode: 0o700 });
  const { secretKey, publicKey } = ed25519.keygen();
  writeFileAtomic(opPath, encodeJsonFile(OPERATOR, { publicKey: toHex(publicKey), secretKey: toHex(secretKey) }), 0o600);
  writeFileAtomic(join(dir, 'swarm.json'), encodeJsonFile(SWARM, { operatorKey: toHex(publicKey) }));
  writeRevocations(dir, secretKey, []);
  return { publicKey };
}

function operatorSecret(dir: string): Uint8Array {
  const path = join(dir, 'operator.json');
  const o = readKind(OPERATOR, path);
  const secretKey = hexField(OPERATOR, o, 'secretKey', 32, path);
  if (toHex(keyPairFromSecret(secretKey).publicKey) !== toHex(hexField(OPERATOR, o, 'publicKey', 32, path))) throw badContent(OPERATOR, 'publicKey does not belong to secretKey', path);
  return secretKey;
}

export function operatorKey(dir: string): Uint8Array {
  const path = join(dir, 'swarm.json');
  return hexField(SWARM, readKind(SWARM, path), 'operatorKey', 32, path);
}

/** Admit a node: write its certificate (node number, key, expiry) signed by the operator. */
export function admitNode(dir: string, num: number, nodeKey: Uint8Array, expiresS: number): string {
  if (!isValidPublicKey(nodeKey)) throw new NodeError('BAD_OPTION', 'the node key is not a valid Ed25519 public key');
  const operator = keyPairFromSecret(operatorSecret(dir));
  const certificate = issueCertificate(operator, num, nodeKey, expiresS);
  const path = certPath(dir, num);
  mkdirSync(join(dir, 'certs'), { recursive: true, mode: 0o700 });
  writeFileAtomic(path, encodeJsonFile(CERT, { nodeNum: num >>> 0, publicKey: toHex(nodeKey), expiresS, certificate: toHex(certificate) }));
  return path;
}

export function readCertificate(dir: string, num: number): { publicKey: Uint8Array; expiresS: number; certificate: Uint8Array } {
  const path = certPath(dir, num);
  const o = readKind(CERT, path);
  if (intField(CERT, o, 'nodeNum', 0, 0xffffffff, path) !== num >>> 0) throw badContent(CERT, `certificate is not for node ${num}`, path);
  return { publicKey: hexField(CERT, o, 'publicKey', 32, path), expiresS: intField(CERT, o, 'expiresS', 1, 0xffffffff, path), certificate: hexField(CERT, o, 'certificate', CERTIFICATE_BYTES, path) };
}

function writeRevocations(dir: string, operatorSecretKey: Uint8Array, revoked: RevocationList['revoked']): void {
  const list = signRevocationList(keyPairFromSecret(operatorSecretKey), Math.floor(Date.now() / 1000), revoked);
  writeFileAtomic(join(dir, 'revoked.json'), encodeJsonFile(REVOKED, {
    issuedS: list.issuedS, revoked: list.revoked.map((r) => ({ nodeNum: r.num, publicKey: toHex(r.publicKey) })), signature: toHex(list.signature),
  }));
}

export function readRevocations(dir: string): RevocationList | null {
  const path = join(dir, 'revoked.json');
  if (!existsSync(path)) return null;
  const o = readKind(REVOKED, path);
  const entries = o.revoked;
  if (!Array.isArray(entries)) throw badContent(REVOKED, 'revoked must be a list', path);
  return {
    issuedS: intField(REVOKED, o, 'issuedS', 0, 0xffffffff, path),
    revoked: entries.map((e) => {
      const r = asObject(REVOKED, e, path);
      return { num: intField(REVOKED, r, 'nodeNum', 0, 0xffffffff, path), publicKey: hexField(REVOKED, r, 'publicKey', 32, path) };
    }),
    signature: hexField(REVOKED, o, 'signature', 64, path),
  };
}

/** Revoke a node's key (by default the one its certificate names) and re-sign the list. */
export function revokeNode(dir: string, num: number, nodeKey: Uint8Array | null): void {
  const secret = operatorSecret(dir);
  const key = nodeKey ?? readCertificate(dir, num).publicKey;
  const current = readRevocations(dir)?.revoked ?? [];
  if (!current.some((r) => r.num === num >>> 0 && toHex(r.publicKey) === toHex(key))) current.push({ num: num >>> 0, publicKey: key });
  writeRevocations(dir, secret, current);
}

/**
 * What a node started with `--swarm DIR` runs with: its own certificate (which must name its identity key) and the
 * admission check for peers.
 */
export function joinSwarm(dir: string, num: number, identityKey: Uint8Array, nowS: () => number): { certificate: Uint8Array; admit: AdmissionCheck } {
  const own = readCertificate(dir, num);
  if (toHex(own.publicKey) !== toHex(identityKey)) {
    throw new StateError('BAD_CONTENT', `${certPath(dir, num)} names another key than this node's (${toHex(identityKey)}): admit the node again`, { file: certPath(dir, num) });
  }
  const admission = new SwarmAdmission(operatorKey(dir), nowS, readRevocations(dir));
  const mine = admission.check(num, identityKey, own.certificate);
  if (mine !== null) throw new StateError('BAD_CONTENT', `this node's own certificate does not admit it: ${mine}`, { file: certPath(dir, num) });
  return { certificate: own.certificate, admit: (n, key, cert) => admission.check(n, key, cert) };
}
