import { Prng } from '@compotastic/mesh';
import { Authenticator, keyPairFromPrng } from '@compotastic/orchestrator';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FilePeerKeyStore, PEER_KEYS_FILE, decodePeerKeys, encodePeerKeys } from '../src/peer-keys.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'peer-keys-'));
  dirs.push(d);
  return d;
}

describe('peer-keys.json', () => {
  it('keeps pins, counters and high-water marks across a restart, so an old packet stays refused', () => {
    const dir = tempDir();
    const a = new Authenticator({ num: 1, keys: keyPairFromPrng(new Prng(1)), store: new FilePeerKeyStore(tempDir(), () => undefined) });
    const bKeys = keyPairFromPrng(new Prng(2));
    const b = new Authenticator({ num: 2, keys: bKeys, store: new FilePeerKeyStore(dir, () => undefined) });
    const packet = a.seal('broadcast', Uint8Array.of(0xc1, 1, 0), true);
    expect(b.open(1, 0xffffffff, packet).ok).toBe(true);
    const restarted = new Authenticator({ num: 2, keys: bKeys, store: new FilePeerKeyStore(dir, () => undefined) });
    expect(restarted.peerKey(1)).toEqual(a.publicKey);
    const replay = restarted.open(1, 0xffffffff, packet);
    expect(replay.ok === false && replay.code).toBe('REPLAY');
    const state = decodePeerKeys(readFileSync(join(dir, PEER_KEYS_FILE)));
    expect(decodePeerKeys(encodePeerKeys(state))).toEqual(state);
  });

  it('sets a damaged file aside with a warning and starts afresh', () => {
    const dir = tempDir();
    writeFileSync(join(dir, PEER_KEYS_FILE), 'compotastic-state peer-keys v1 2 00000000\n{}');
    const warnings: string[] = [];
    expect(new FilePeerKeyStore(dir, (w) => warnings.push(w.code)).load()).toBeNull();
    expect(warnings.length).toBe(1);
  });
});
