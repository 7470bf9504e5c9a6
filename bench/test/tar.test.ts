import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TarError, extractFile, tarEntries } from '../src/fixtures/tar.js';

/** A minimal tar writer for the tests: ustar headers, pax or GNU records for long names. */
function header(name: string, size: number, type: string, prefix = ''): Uint8Array {
  const h = new Uint8Array(512);
  const put = (text: string, at: number) => h.set(new TextEncoder().encode(text), at);
  put(name.slice(0, 100), 0);
  put('0000644\0', 100);
  put(size.toString(8).padStart(11, '0') + '\0', 124);
  put(type, 156);
  put('ustar\0', 257);
  put(prefix, 345);
  return h;
}

function entry(name: string, data: Uint8Array, type = '0', prefix = ''): Uint8Array[] {
  const padded = new Uint8Array(Math.ceil(data.length / 512) * 512);
  padded.set(data);
  return [header(name, data.length, type, prefix), padded];
}

function tar(...parts: Uint8Array[][]): Uint8Array {
  const blocks = [...parts.flat(), new Uint8Array(1024)];
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * seed + 7) & 255);

describe('tar reader', () => {
  const long = `package/${'deep/'.repeat(30)}file.bin`;
  const pax = new TextEncoder().encode(`${long.length + 11} path=${long}\n`);
  const archive = tar(
    entry('package/package.json', new TextEncoder().encode('{}')),
    entry('package/bin', new Uint8Array(0), '5'),
    entry('././@PaxHeader', pax, 'x'),
    entry(long.slice(0, 99), bytes(700, 3)),
    entry('././@LongLink', new TextEncoder().encode('package/gnu/long/name.wasm\0'), 'L'),
    entry('trunc', bytes(1300, 5)),
    entry('esbuild', bytes(513, 11), '0', 'package/bin'),
  );

  it('lists regular files with pax, GNU and prefix names', () => {
    expect([...tarEntries(archive)].map((e) => [e.path, e.data.length])).toEqual([
      ['package/package.json', 2], [long, 700], ['package/gnu/long/name.wasm', 1300], ['package/bin/esbuild', 513],
    ]);
  });

  it('extracts one file from a plain or gzipped archive', () => {
    expect(extractFile(archive, 'package/bin/esbuild')).toEqual(bytes(513, 11));
    expect(extractFile(new Uint8Array(gzipSync(archive)), long)).toEqual(bytes(700, 3));
    expect(extractFile(archive, 'package/missing')).toBeUndefined();
  });

  it('rejects truncated and corrupt archives with TarError', () => {
    expect(() => extractFile(archive.subarray(0, 3000), 'package/bin/esbuild')).toThrow(TarError);
    const corrupt = archive.slice();
    corrupt.set(new TextEncoder().encode('99x'), 124);
    expect(() => extractFile(corrupt, 'x')).toThrow(/corrupt tar header/);
  });
});
