import { Prng } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import {
  CORRUPTION_CODES, StateError, decodeIdentity, decodeJob, decodeJobIds, decodeJsonFile, decodeModelsManifest, decodeStateFile,
  encodeIdentity, encodeJob, encodeJobIds, encodeModelsManifest, encodeStateFile, generateIdentity, parseLock,
} from '../src/index.js';

const utf8 = new TextEncoder();

const DECODERS: Array<{ name: string; kind: string; decode: (b: Uint8Array) => unknown; valid: Uint8Array }> = [
  { name: 'identity', kind: 'identity', decode: (b) => decodeIdentity(b), valid: encodeIdentity(generateIdentity(0x1234, 99)) },
  { name: 'job-ids', kind: 'job-ids', decode: (b) => decodeJobIds(b), valid: encodeJobIds(4242) },
  { name: 'job', kind: 'job', decode: (b) => decodeJob(b), valid: encodeJob({ id: 77, record: Uint8Array.of(1, 2, 3, 4, 5) }) },
  {
    name: 'models',
    kind: 'models',
    decode: (b) => decodeModelsManifest(b),
    valid: encodeModelsManifest({ flash: { length: 65536, sectorSize: 4096 }, models: [{ modelId: 'kws', version: 3, slot: 1, installedMs: 5 }] }),
  },
  { name: 'any JSON state file', kind: 'x', decode: (b) => decodeJsonFile({ kind: 'x', version: 1 }, b), valid: encodeStateFile({ kind: 'x', version: 1 }, utf8.encode('{}')) },
];

function randomBytes(r: Prng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = r.intBelow(256);
  return b;
}

function mutate(r: Prng, src: Uint8Array): Uint8Array {
  const b = Array.from(src);
  for (let k = r.int(1, 4); k > 0; k--) {
    const at = r.intBelow(b.length + 1);
    const op = r.intBelow(4);
    if (op === 0 && b.length) b[at % b.length] = r.intBelow(256);
    else if (op === 1) b.splice(at, 0, r.intBelow(256));
    else if (op === 2) b.splice(at, r.int(1, 9));
    else b.length = Math.min(b.length, at);
  }
  return Uint8Array.from(b);
}

/** A random JSON value, biased towards the shapes the decoders look for, so their field checks are reached. */
function randomJson(r: Prng, depth = 0): unknown {
  const keys = ['next', 'nodeNum', 'publicKey', 'secretKey', 'createdMs', 'flash', 'length', 'sectorSize', 'models', 'modelId', 'version', 'slot', 'installedMs'];
  switch (r.intBelow(depth > 2 ? 5 : 7)) {
    case 0: return r.bool() ? r.int(-3, 5) : r.uint32() * (r.bool() ? 1 : 1e6);
    case 1: return r.bool() ? 'ab'.repeat(r.intBelow(40)) : 'kws';
    case 2: return null;
    case 3: return r.bool();
    case 4: return r.float();
    case 5: return Array.from({ length: r.intBelow(4) }, () => randomJson(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let k = r.intBelow(6); k > 0; k--) o[keys[r.intBelow(keys.length)]!] = randomJson(r, depth + 1);
      return o;
    }
  }
}

/** A copy of `v` with one value somewhere inside replaced (or a key dropped), so checks deep in a valid shape run. */
function mutateJson(r: Prng, v: unknown): unknown {
  if (typeof v !== 'object' || v === null || r.bool(0.25)) return randomJson(r, 2);
  if (Array.isArray(v)) {
    const a = v.slice();
    if (a.length === 0 || r.bool(0.2)) a.push(randomJson(r, 2));
    else a[r.intBelow(a.length)] = mutateJson(r, a[r.intBelow(a.length)]);
    return a;
  }
  const o = { ...(v as Record<string, unknown>) };
  const keys = Object.keys(o);
  if (keys.length === 0) return { [`k${r.intBelow(9)}`]: randomJson(r, 2) };
  const key = keys[r.intBelow(keys.length)]!;
  if (r.bool(0.15)) delete o[key];
  else o[key] = mutateJson(r, o[key]);
  return o;
}

/** Decoding either succeeds or throws a StateError with a corruption code; nothing else may come out. */
function expectOnlyStateError(decode: (b: Uint8Array) => unknown, input: Uint8Array): void {
  try {
    decode(input);
  } catch (e) {
    if (!(e instanceof StateError) || !CORRUPTION_CODES.includes(e.code)) throw new Error(`decoder threw ${String(e)} for ${Buffer.from(input).toString('hex')}`);
  }
}

describe.each(DECODERS)('the $name decoder', ({ kind, decode, valid }) => {
  it('decodes its own encoding', () => {
    expect(() => decode(valid)).not.toThrow();
  });

  it('throws only StateError for seeded random bytes, mutated files and random JSON bodies', () => {
    const r = new Prng(0x5eed);
    for (let i = 0; i < 600; i++) expectOnlyStateError(decode, randomBytes(r, r.intBelow(200)));
    for (let i = 0; i < 1500; i++) expectOnlyStateError(decode, mutate(r, valid));
    for (let i = 0; i < 1500; i++) {
      const body = r.bool(0.9) ? utf8.encode(JSON.stringify(randomJson(r))) : randomBytes(r, r.intBelow(64));
      expectOnlyStateError(decode, encodeStateFile({ kind, version: 1 }, body));
    }
    if (kind === 'job') return; // a binary body: covered by the byte mutations above
    const parsed = JSON.parse(new TextDecoder().decode(decodeStateFile({ kind, version: 1 }, valid))) as unknown;
    for (let i = 0; i < 1500; i++) expectOnlyStateError(decode, encodeStateFile({ kind, version: 1 }, utf8.encode(JSON.stringify(mutateJson(r, parsed)))));
  });
});

describe('the state file framing', () => {
  it('throws only StateError for random bytes behind a valid-looking header', () => {
    const r = new Prng(99);
    for (let i = 0; i < 1000; i++) {
      const head = utf8.encode(`compotastic-state job v${r.intBelow(3)} ${r.intBelow(40)} ${r.uint32().toString(16).padStart(8, '0')}\n`);
      expectOnlyStateError((b) => decodeStateFile({ kind: 'job', version: 1 }, b), new Uint8Array([...head, ...randomBytes(r, r.intBelow(40))]));
    }
  });
});

describe('the lock file parser', () => {
  it('never throws; anything but a pid and a host is no owner', () => {
    const r = new Prng(3);
    for (let i = 0; i < 1000; i++) {
      const text = r.bool() ? JSON.stringify(randomJson(r)) : new TextDecoder().decode(randomBytes(r, r.intBelow(40)));
      expect(() => parseLock(text)).not.toThrow();
    }
    expect(parseLock('{"pid": 12, "host": "h"}')).toEqual({ pid: 12, host: 'h' });
    expect(parseLock('{"pid": 0, "host": "h"}')).toBeNull();
  });
});
