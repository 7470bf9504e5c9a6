import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesEqual, fromHex, toHex } from '@compotastic/mesh';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { StateError, type StateWarningHandler } from './errors.js';
import { loadOrQuarantine } from './quarantine.js';
import { asObject, badContent, decodeJsonFile, encodeJsonFile, intField, type FileKind } from './state-format.js';

// The node's identity: its node number and an Ed25519 key pair made on first open and kept for good. The file holds
// the secret key, so it is readable by its owner only.

export const IDENTITY_FILE = 'identity.json';
const KIND: FileKind = { kind: 'identity', version: 1 };

export interface NodeIdentity {
  nodeNum: number;
  /** Ed25519 public key, 32 bytes. */
  publicKey: Uint8Array;
  /** Ed25519 secret key (seed), 32 bytes. */
  secretKey: Uint8Array;
  createdMs: number;
}

export function encodeIdentity(id: NodeIdentity): Uint8Array {
  return encodeJsonFile(KIND, { nodeNum: id.nodeNum, publicKey: toHex(id.publicKey), secretKey: toHex(id.secretKey), createdMs: id.createdMs });
}

function keyField(o: Record<string, unknown>, name: string, file?: string): Uint8Array {
  const v = o[name];
  if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v)) throw badContent(KIND, `${name} must be 64 hex digits`, file);
  return fromHex(v);
}

export function decodeIdentity(bytes: Uint8Array, file?: string): NodeIdentity {
  const o = asObject(KIND, decodeJsonFile(KIND, bytes, file), file);
  const nodeNum = intField(KIND, o, 'nodeNum', 0, 0xffffffff, file);
  const createdMs = intField(KIND, o, 'createdMs', 0, Number.MAX_SAFE_INTEGER, file);
  const publicKey = keyField(o, 'publicKey', file);
  const secretKey = keyField(o, 'secretKey', file);
  // A key pair whose halves disagree would sign with one key and announce another.
  if (!bytesEqual(ed25519.getPublicKey(secretKey), publicKey)) throw badContent(KIND, 'publicKey does not belong to secretKey', file);
  return { nodeNum, publicKey, secretKey, createdMs };
}

export function generateIdentity(nodeNum: number, now = Date.now()): NodeIdentity {
  const { secretKey, publicKey } = ed25519.keygen();
  return { nodeNum, publicKey, secretKey, createdMs: now };
}

/** Signs `message` with the node's key. */
export function signWithIdentity(id: NodeIdentity, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, id.secretKey);
}

/**
 * The identity stored in `dir`, created on first open. Throws NODE_MISMATCH when the directory belongs to another
 * node number; a damaged file is set aside and a new key pair made.
 */
export function openIdentity(dir: string, nodeNum: number, report: StateWarningHandler): NodeIdentity {
  const path = join(dir, IDENTITY_FILE);
  const stored = loadOrQuarantine(path, (b) => decodeIdentity(b, path), report);
  if (stored) {
    if (stored.nodeNum !== nodeNum) {
      throw new StateError('NODE_MISMATCH', `${path} belongs to node ${stored.nodeNum}, not ${nodeNum}`, { file: path });
    }
    return stored;
  }
  const fresh = generateIdentity(nodeNum);
  writeFileAtomic(path, encodeIdentity(fresh), 0o600);
  return fresh;
}
