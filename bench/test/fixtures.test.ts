// fetchBinaryPair against a stand-in `npm` (no network in tests): it caches,
// does not fetch twice, remembers failures, and gives up on slow fetches.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type BinaryPairSpec, FixtureError, fetchBinaryPair, isCached, pairPaths } from '../src/fixtures/npm-binaries.js';

const FAKE_NPM = `#!/usr/bin/env node
// Stands in for 'npm pack <spec> --pack-destination <dir> --json': writes a .tgz
// holding package/bin/tool whose bytes depend on the version.
const fs = require('node:fs'), zlib = require('node:zlib'), path = require('node:path');
const [, , cmd, spec, , dest] = process.argv;
fs.appendFileSync(process.env.FAKE_NPM_LOG, spec + '\\n');
const mode = process.env.FAKE_NPM_MODE;
if (mode === 'fail') { process.stderr.write('npm error code E404\\nnpm error 404 Not Found\\n'); process.exit(1); }
if (mode === 'sleep') { setTimeout(() => {}, 10000); return; }
const version = spec.slice(spec.lastIndexOf('@') + 1);
const data = Buffer.from('tool ' + version + ' ' + 'x'.repeat(600));
const h = Buffer.alloc(512);
h.write(mode === 'nofile' ? 'package/README.md' : 'package/bin/tool', 0);
h.write('0000755\\0', 100);
h.write(data.length.toString(8).padStart(11, '0') + '\\0', 124);
h.write('0', 156);
h.write('ustar\\0', 257);
const body = Buffer.alloc(Math.ceil(data.length / 512) * 512);
data.copy(body);
const name = 'tool-' + version + '.tgz';
fs.writeFileSync(path.join(dest, name), zlib.gzipSync(Buffer.concat([h, body, Buffer.alloc(1024)])));
process.stdout.write(JSON.stringify([{ filename: name }]));
`;

const spec: BinaryPairSpec = { id: 'tool', pkg: '@scope/tool', from: '1.0.0', to: '1.0.1', path: 'package/bin/tool', kind: 'native executable' };

const made: string[] = [];

function setup(mode: string) {
  const dir = mkdtempSync(join(tmpdir(), 'npm-bin-'));
  made.push(dir);
  const npm = join(dir, 'npm.cjs');
  writeFileSync(npm, FAKE_NPM);
  chmodSync(npm, 0o755);
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  process.env.FAKE_NPM_LOG = log;
  process.env.FAKE_NPM_MODE = mode;
  return { cacheDir: join(dir, 'cache'), npm, calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  delete process.env.FAKE_NPM_LOG;
  delete process.env.FAKE_NPM_MODE;
});

describe('npm binary pairs', () => {
  it('fetches both releases once and serves them from the cache afterwards', async () => {
    const env = setup('ok');
    expect(isCached(spec, env.cacheDir)).toBe(false);
    const pair = await fetchBinaryPair(spec, { cacheDir: env.cacheDir, npm: env.npm });
    expect(new TextDecoder().decode(pair.old.subarray(0, 10))).toBe('tool 1.0.0');
    expect(new TextDecoder().decode(pair.next.subarray(0, 10))).toBe('tool 1.0.1');
    expect(pair.oldPath).toBe(pairPaths(spec, env.cacheDir).oldPath);
    expect(readFileSync(pair.newPath)).toEqual(Buffer.from(pair.next));
    expect(env.calls()).toEqual(['@scope/tool@1.0.0', '@scope/tool@1.0.1']);
    expect(isCached(spec, env.cacheDir)).toBe(true);
    process.env.FAKE_NPM_MODE = 'fail';
    const again = await fetchBinaryPair(spec, { cacheDir: env.cacheDir, npm: env.npm });
    expect(again.next).toEqual(pair.next);
    expect(env.calls()).toHaveLength(2);
  });

  it('reports a failed fetch, then fails fast until the retry delay has passed', async () => {
    const env = setup('fail');
    let clock = 1_000_000;
    const opts = { cacheDir: env.cacheDir, npm: env.npm, now: () => clock, retryAfterMs: 60_000 };
    await expect(fetchBinaryPair(spec, opts)).rejects.toMatchObject({ code: 'FETCH', message: expect.stringContaining('404') });
    await expect(fetchBinaryPair(spec, opts)).rejects.toMatchObject({ code: 'RECENT_FAILURE' });
    expect(env.calls()).toHaveLength(1);
    clock += 61_000;
    process.env.FAKE_NPM_MODE = 'ok';
    await expect(fetchBinaryPair(spec, opts)).resolves.toMatchObject({ spec });
    expect(existsSync(pairPaths(spec, env.cacheDir).failed)).toBe(false);
  });

  it('gives up on a slow fetch and on a package without the file', async () => {
    const slow = setup('sleep');
    await expect(fetchBinaryPair(spec, { cacheDir: slow.cacheDir, npm: slow.npm, timeoutMs: 500 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    const missing = setup('nofile');
    const err = await fetchBinaryPair(spec, { cacheDir: missing.cacheDir, npm: missing.npm }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FixtureError);
    expect(err).toMatchObject({ code: 'FORMAT', message: expect.stringContaining('has no package/bin/tool') });
    expect(isCached(spec, missing.cacheDir)).toBe(false);
  });
});
