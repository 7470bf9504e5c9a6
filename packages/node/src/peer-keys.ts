import { fromHex, toHex } from '@compotastic/mesh';
import { type AuthState, type AuthStore, AuthError, validateAuthState } from '@compotastic/orchestrator';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import type { StateWarningHandler } from './errors.js';
import { loadOrQuarantine } from './quarantine.js';
import { asObject, badContent, decodeJsonFile, encodeJsonFile, intField, type FileKind } from './state-format.js';

// The compute layer's authentication state in a node's state directory: pinned peer keys (trust on first use), the
// packet counter reserved ahead, the highest counter accepted from each peer, and the peers' reputations. Written
// atomically after every change that matters, so a crash never reuses a counter nor forgets a pin.

export const PEER_KEYS_FILE = 'peer-keys.json';
const KIND: FileKind = { kind: 'peer-keys', version: 1 };

export function encodePeerKeys(s: AuthState): Uint8Array {
  return encodeJsonFile(KIND, {
    counterReserved: s.counterReserved,
    pins: Object.fromEntries([...s.pins].map(([num, key]) => [String(num), toHex(key)])),
    highWater: Object.fromEntries([...s.highWater].map(([num, hw]) => [String(num), hw])),
    reputation: Object.fromEntries([...s.reputation].map(([num, r]) => [String(num), [r.votesWon, r.votesLost]])),
  });
}

function numKey(k: string, file?: string): number {
  const n = Number(k);
  if (!/^\d{1,10}$/.test(k) || n > 0xffffffff) throw badContent(KIND, `"${k}" is not a node number`, file);
  return n;
}

function section(o: Record<string, unknown>, name: string, file?: string): Array<[number, unknown]> {
  return Object.entries(asObject(KIND, o[name] ?? {}, file)).map(([k, v]) => [numKey(k, file), v]);
}

export function decodePeerKeys(bytes: Uint8Array, file?: string): AuthState {
  const o = asObject(KIND, decodeJsonFile(KIND, bytes, file), file);
  const state: AuthState = {
    counterReserved: intField(KIND, o, 'counterReserved', 1, 0xffffffff, file),
    pins: new Map(section(o, 'pins', file).map(([num, v]) => {
      if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v)) throw badContent(KIND, `pinned key of node ${num} must be 64 hex digits`, file);
      return [num, fromHex(v)];
    })),
    highWater: new Map(section(o, 'highWater', file).map(([num, v]) => [num, v as number])),
    reputation: new Map(section(o, 'reputation', file).map(([num, v]) => {
      if (!Array.isArray(v) || v.length !== 2) throw badContent(KIND, `reputation of node ${num} must be [votesWon, votesLost]`, file);
      return [num, { votesWon: v[0] as number, votesLost: v[1] as number }];
    })),
  };
  try {
    return validateAuthState(state);
  } catch (e) {
    if (e instanceof AuthError) throw badContent(KIND, e.message, file);
    throw e;
  }
}

/**
 * peer-keys.json as the orchestrator's AuthStore. A damaged file is set aside (and reported) like any other state
 * file: the node then pins afresh, and its peers refuse its packets until its counter passes their high-water marks.
 */
export class FilePeerKeyStore implements AuthStore {
  readonly path: string;

  constructor(dir: string, private readonly report: StateWarningHandler) {
    this.path = join(dir, PEER_KEYS_FILE);
  }

  load(): AuthState | null {
    return loadOrQuarantine(this.path, (b) => decodePeerKeys(b, this.path), this.report);
  }

  save(state: AuthState): void {
    writeFileAtomic(this.path, encodePeerKeys(state), 0o600);
  }
}
