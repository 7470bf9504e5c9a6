import { Prng } from '@compotastic/mesh';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Kernel } from '@compotastic/kernel';
import { BUNDLE_MAGIC, buildBundle, openBundle } from '../src/bundle.js';
import { ByteReader, ByteWriter, concatBytes } from '../src/bytes.js';
import { decodePart, encodePart } from '../src/delta/part-codec.js';
import { OtaError } from '../src/errors.js';
import { sha256 } from '../src/hash.js';
import { decodeManifest, encodeManifest, type Manifest } from '../src/manifest.js';
import { TrustStore, generateSigningKey, keyId, signManifest } from '../src/signing.js';
import { expectBytes, kernel, releases, volume } from './helpers.js';

let k: Kernel;
beforeAll(async () => {
  k = await kernel();
});

const key = generateSigningKey(new Uint8Array(32).fill(7));
const otherKey = generateSigningKey(new Uint8Array(32).fill(8));
const trust = new TrustStore([key.publicKey]);

function expectCode(fn: () => unknown, code: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(OtaError);
  expect((err as OtaError).code).toBe(code);
}

describe('bundles', () => {
  it('builds a full bundle that opens and decodes to the release', () => {
    const { v1 } = releases();
    const b = buildBundle(k, v1, { key });
    const opened = openBundle(b.bytes, trust);
    expect(opened.manifest.baseVersion).toBeNull();
    opened.manifest.parts.forEach((p, i) => {
      expect(p.encoding).toBe('full');
      const data = decodePart(p.encoding, opened.partSource(i).read(0, p.encodedSize), null, { size: p.size, kernel: k });
      expectBytes(data, v1.parts[i]!.data, v1.parts[i]!.name);
      expectBytes(sha256(data), p.sha256, 'sha256');
    });
  });

  it('sends the smallest encoding per part: a patch for code, a tensor delta for fine-tuned weights', () => {
    const { v1, v2 } = releases();
    const full = buildBundle(k, v2, { key });
    const delta = buildBundle(k, v2, { key, base: v1 });
    const byName = Object.fromEntries(delta.choices.map((c) => [c.name, c]));
    expect(byName['kernel.wasm']!.encoding).toBe('bindiff');
    expect(byName['weights']!.encoding).toBe('tensor-sub');
    for (const c of delta.choices) expect(c.encodedSize).toBe(Math.min(...c.candidates.map((x) => x.size)));
    expect(delta.bytes.length).toBeLessThan(full.bytes.length / 2);
    const opened = openBundle(delta.bytes, trust);
    expect(opened.manifest.baseVersion).toBe(1);
    opened.manifest.parts.forEach((p, i) => {
      const base = v1.parts[i]!.data;
      const data = decodePart(p.encoding, opened.partSource(i).read(0, p.encodedSize), p.baseSha256 ? base : null, { size: p.size, kernel: k });
      expectBytes(data, v2.parts[i]!.data, v2.parts[i]!.name);
    });
  });

  it('rejects forged signatures, unknown keys, corrupted and truncated bundles with a reason', () => {
    const { v1 } = releases();
    const b = buildBundle(k, v1, { key }).bytes;
    // The signature sits right before the payload; flip a bit in it.
    const r = new ByteReader(b);
    r.bytes(13);
    const manifestLen = r.varint('manifest length');
    const sigAt = r.offset + manifestLen;
    const forged = b.slice();
    forged[sigAt]! ^= 1;
    expectCode(() => openBundle(forged, trust), 'BAD_SIGNATURE');
    expectCode(() => openBundle(b, new TrustStore([otherKey.publicKey])), 'UNKNOWN_KEY');
    const signedByOther = buildBundle(k, v1, { key: otherKey }).bytes;
    expectCode(() => openBundle(signedByOther, trust), 'UNKNOWN_KEY');
    const corrupt = b.slice();
    corrupt[corrupt.length - 5]! ^= 0x40;
    expectCode(() => openBundle(corrupt, trust), 'CORRUPT');
    expectCode(() => openBundle(b.subarray(0, b.length - 1), trust), 'MANIFEST_MISMATCH');
    expectCode(() => openBundle(b.subarray(0, 20), trust), 'MALFORMED');
    const badMagic = b.slice();
    badMagic[0] = 0;
    expectCode(() => openBundle(badMagic, trust), 'MALFORMED');
  });

  it('a manifest that does not match its parts is refused even when signed', () => {
    const { v1 } = releases();
    const good = buildBundle(k, v1, { key });
    const m: Manifest = { ...good.manifest, parts: good.manifest.parts.map((p, i) => (i === 0 ? { ...p, encodedSize: p.encodedSize + 1 } : p)) };
    const forgedManifest = encodeManifest(m);
    // Re-sign the lying manifest with the trusted key: the payload length no longer matches.
    const rebuilt = rebuildWithManifest(good.bytes, good.manifest, forgedManifest);
    expectCode(() => openBundle(rebuilt, trust), 'MANIFEST_MISMATCH');
    const m2: Manifest = { ...good.manifest, parts: good.manifest.parts.map((p, i) => (i === 1 ? { ...p, encodedSha256: new Uint8Array(32) } : p)) };
    expectCode(() => openBundle(rebuildWithManifest(good.bytes, good.manifest, encodeManifest(m2)), trust), 'CORRUPT');
  });

  it('manifests round-trip canonically and reject every mutation that would change their meaning', () => {
    const { v1 } = releases();
    const m = buildBundle(k, v1, { key }).manifest;
    const bytes = encodeManifest(m);
    expectBytes(encodeManifest(decodeManifest(bytes)), bytes);
    const rng = new Prng(5);
    let accepted = 0;
    let rejected = 0;
    for (let i = 0, n = volume(300, 20000); i < n; i++) {
      const x = bytes.slice();
      x[rng.intBelow(x.length)]! ^= 1 << rng.intBelow(8);
      let d: Manifest;
      try {
        d = decodeManifest(x);
      } catch (e) {
        expect(e).toBeInstanceOf(OtaError);
        rejected++;
        continue;
      }
      // Some flips only change a hash or a count value: the result must re-encode to exactly those bytes.
      expectBytes(encodeManifest(d), x, `flip ${i}`);
      accepted++;
    }
    // Most bytes of a manifest are hashes, whose flips decode (to another, re-encodable manifest); flips in the
    // structure are refused. Both kinds must have been hit for the loop above to have checked anything.
    expect(accepted).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
    expectCode(() => decodeManifest(Uint8Array.of(...bytes, 0)), 'MALFORMED');
  });

  it('full and tensor parts whose blocks exceed the memory budget are refused before anything is allocated', () => {
    const data = new Prng(41).bytes(70_000);
    const huge = encodePart(k, data, null, { encodings: ['full'], blockBytes: 1 << 20 });
    const decode = (memoryBudget?: number): Uint8Array => decodePart('full', huge.bytes, null, { size: data.length, kernel: k, ...(memoryBudget ? { patch: { memoryBudget } } : {}) });
    try {
      decode();
      throw new Error('expected TOO_LARGE');
    } catch (e) {
      expect((e as OtaError).code).toBe('TOO_LARGE');
    }
    // The same encoding decodes where the budget allows it; the default 8 KiB blocks fit the default 64 KiB.
    expectBytes(decode(4 << 20), data);
    const normal = encodePart(k, data, null, { encodings: ['full'] });
    expectBytes(decodePart('full', normal.bytes, null, { size: data.length, kernel: k }), data);
    const delta = encodePart(k, data, data, { encodings: ['tensor-sub'], blockBytes: 40_000 });
    expect(() => decodePart('tensor-sub', delta.bytes, data, { size: data.length, kernel: k })).toThrow(/working memory/);
  });

  it('fuzzing openBundle never throws anything but OtaError', () => {
    const { v1 } = releases();
    const b = buildBundle(k, v1, { key }).bytes;
    const rng = new Prng(6);
    for (let i = 0, n = volume(60, 5000); i < n; i++) {
      const x = b.slice(0, rng.int(1, b.length + 1));
      for (let f = 0; f < 3; f++) if (x.length) x[rng.intBelow(x.length)] = rng.int(0, 256);
      expect(() => openBundle(x, trust)).toThrow(OtaError);
    }
  });
});


/** Re-signs a different manifest over the same payload, as a key holder could. */
function rebuildWithManifest(bundle: Uint8Array, original: Manifest, manifestBytes: Uint8Array): Uint8Array {
  const payloadLen = original.parts.reduce((n, p) => n + p.encodedSize, 0);
  const payload = bundle.subarray(bundle.length - payloadLen);
  const header = new ByteWriter(256).bytes(BUNDLE_MAGIC).u8(1).bytes(keyId(key.publicKey)).varint(manifestBytes.length).bytes(manifestBytes).bytes(signManifest(manifestBytes, key)).finish();
  return concatBytes([header, payload]);
}
