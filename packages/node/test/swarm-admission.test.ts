import { Prng, toHex } from '@compotastic/mesh';
import { Authenticator, MemoryAuthStore, keyPairFromPrng } from '@compotastic/orchestrator';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import { admitNode, createSwarm, joinSwarm, revokeNode } from '../src/swarm-files.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function swarmDir(): string {
  const d = join(mkdtempSync(join(tmpdir(), 'swarm-')), 'swarm');
  dirs.push(d);
  createSwarm(d);
  return d;
}

const BROADCAST = 0xffffffff;
const advert = Uint8Array.of(0xc1, 1, 0);

function member(dir: string, num: number, seed: number, nowS: () => number, admitted = true): Authenticator {
  const keys = keyPairFromPrng(new Prng(seed));
  if (admitted) admitNode(dir, num, keys.publicKey, 2_000_000_000);
  const { certificate, admit } = admitted ? joinSwarm(dir, num, keys.publicKey, nowS) : { certificate: undefined, admit: undefined };
  return new Authenticator({ num, keys, store: new MemoryAuthStore(), certificate, admit });
}

describe('swarm admission', () => {
  it('admits a certified peer and refuses one without a certificate, revoked or expired', () => {
    const dir = swarmDir();
    let now = 1_900_000_000;
    const a = member(dir, 1, 1, () => now);
    const b = member(dir, 2, 2, () => now);
    const outsider = member(dir, 3, 3, () => now, false);
    expect(b.open(1, BROADCAST, a.seal('broadcast', advert, true)).ok).toBe(true);
    const o = b.open(3, BROADCAST, outsider.seal('broadcast', advert, true));
    expect(o.ok === false && o.code).toBe('NOT_ADMITTED');
    expect(b.peerKey(3)).toBeNull();

    const c = member(dir, 4, 4, () => now);
    revokeNode(dir, 4, null);
    const fresh = member(dir, 5, 5, () => now);
    const r = fresh.open(4, BROADCAST, c.seal('broadcast', advert, true));
    expect(r.ok === false && r.message).toContain('revoked');

    now = 2_000_000_001;
    const late = fresh.open(1, BROADCAST, a.seal('broadcast', advert, true));
    expect(late.ok === false && late.message).toContain('expired');
  });

  it('refuses to join with a certificate for another key', () => {
    const dir = swarmDir();
    admitNode(dir, 7, keyPairFromPrng(new Prng(7)).publicKey, 2_000_000_000);
    expect(() => joinSwarm(dir, 7, keyPairFromPrng(new Prng(8)).publicKey, () => 0)).toThrow(/another key/);
  });

  it('has a CLI: create, admit, revoke, with clear errors for bad input', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'swarm-cli-')), 's');
    dirs.push(dir);
    const out: string[] = [];
    const io = { out: (s: string) => void out.push(s), err: (s: string) => void out.push(s), isTty: false };
    expect(await main(['swarm', 'create', '--out', dir], io as never)).toBe(0);
    expect(await main(['swarm', 'create', '--out', dir], io as never)).not.toBe(0);
    const key = toHex(keyPairFromPrng(new Prng(9)).publicKey);
    expect(await main(['swarm', 'admit', '--swarm', dir, '--node', '!0000abcd', '--node-key', key], io as never)).toBe(0);
    expect(await main(['swarm', 'admit', '--swarm', dir, '--node', '12', '--node-key', 'zz'], io as never)).not.toBe(0);
    expect(await main(['swarm', 'revoke', '--swarm', dir, '--node', String(0xabcd)], io as never)).toBe(0);
    expect(out.join('')).toMatch(/operator key [0-9a-f]{64}/);
    expect(out.join('')).toMatch(/--node-key expects an Ed25519 public key/);
  });
});
