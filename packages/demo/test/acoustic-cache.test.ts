import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskCache } from '../src/acoustic.js';

// The acoustic story's cache: an entry reads back as written, and a damaged one reads as missing (it is made again).
describe('the acoustic cache', () => {
  const entry = () => {
    const cache = new DiskCache(mkdtempSync(join(tmpdir(), 'demo-cache-')));
    const key = DiskCache.key('clip', { text: 'help me', voice: 'en-us', snrDb: 10 });
    cache.put(key, { peakDbfs: -21.5, seconds: 2.1 }, [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(1000).fill(9)]);
    return { cache, key, file: join(cache.dir, `${key}.bin`) };
  };

  it('reads an entry back as written, keyed by what it is made from', () => {
    const { cache, key } = entry();
    expect(cache.get(key)).toEqual({ meta: { peakDbfs: -21.5, seconds: 2.1 }, arrays: [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(1000).fill(9)] });
    expect(DiskCache.key('clip', { text: 'help me', voice: 'en-us', snrDb: 10 })).toBe(key);
    expect(DiskCache.key('clip', { text: 'help me', voice: 'en-us', snrDb: 20 })).not.toBe(key);
    expect(cache.get(DiskCache.key('something else'))).toBeNull();
    // No partial file is left beside the entry.
    expect(readdirSync(cache.dir)).toEqual([`${key}.bin`]);
  });

  it('reads a truncated, padded or garbled entry as missing', () => {
    const { cache, key, file } = entry();
    const bytes = readFileSync(file);
    for (const damaged of [bytes.subarray(0, bytes.length - 1), Buffer.concat([bytes, Buffer.from([0])]), Buffer.from('not a cache entry'), Buffer.alloc(0)]) {
      writeFileSync(file, damaged);
      expect(cache.get(key)).toBeNull();
    }
  });
});
