// Decoder fuzzing with seeded random and mutated input: whatever the bytes,
// decodeModel returns a model or throws a ModelError, and a model it returns
// survives another encode/decode unchanged.
import { describe, expect, it } from 'vitest';
import { ModelError, attr, decodeModel, encodeModel, graph, tensor } from '../src/index.js';
import { rng, volume } from './helpers.js';

function seedModels(): Uint8Array[] {
  const body = graph('body').input('v', 'float32', [1]).node('Neg', ['v'], ['w']).output('w', 'float32', [1]).build();
  const m = graph('fuzz')
    .input('x', 'float32', ['n', 4])
    .initializer('w', tensor('float32', [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]))
    .initializer('q', tensor('int4', [3], [-8, 0, 7]))
    .initializer('i', tensor('int64', [2], [1n, -1n]))
    .initializer('s', tensor('string', [1], ['abc']))
    .node('MatMul', ['x', 'w'], ['y'], { alpha: attr.float(1), axes: [0, 1], mode: 'm', t: tensor('uint8', [2], [1, 2]), g: body })
    .output('y', 'float32', ['n', 2])
    .model({ opset: 21, metadata: { a: 'b' } });
  return [encodeModel(m), encodeModel(m, { tensorStorage: 'typed' })];
}

function check(bytes: Uint8Array, label: string): 'ok' | 'error' {
  let model;
  try {
    model = decodeModel(bytes);
  } catch (err) {
    if (!(err instanceof ModelError)) throw new Error(`${label}: ${String(err)} is not a ModelError`, { cause: err });
    expect(typeof err.code).toBe('string');
    return 'error';
  }
  const again = decodeModel(encodeModel(model));
  expect(again, label).toEqual(model);
  return 'ok';
}

describe('decoder fuzzing', () => {
  it('random bytes never escape as anything but a ModelError', () => {
    const next = rng(0xc0ffee);
    for (let i = 0, n = volume(3000, 300_000); i < n; i++) {
      const bytes = new Uint8Array(next() % 96);
      for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 255;
      check(bytes, `random #${i}`);
    }
  });

  it('mutated valid models decode or fail with a ModelError, and decoded ones re-encode stably', () => {
    const next = rng(20240607);
    const outcomes = { ok: 0, error: 0 };
    for (const seed of seedModels()) {
      expect(check(seed, 'seed')).toBe('ok');
      for (let i = 0, n = volume(600, 50_000); i < n; i++) {
        const bytes = new Uint8Array(seed);
        let out: Uint8Array = bytes;
        const kind = next() % 4;
        if (kind === 0) {
          for (let f = 1 + (next() % 3); f > 0; f--) bytes[next() % bytes.length]! ^= 1 << (next() % 8);
        } else if (kind === 1) {
          bytes[next() % bytes.length] = next() & 255;
        } else if (kind === 2) {
          out = bytes.subarray(0, next() % bytes.length);
        } else {
          const at = next() % bytes.length;
          const ins = Uint8Array.from({ length: 1 + (next() % 4) }, () => next() & 255);
          out = new Uint8Array([...bytes.subarray(0, at), ...ins, ...bytes.subarray(at)]);
        }
        outcomes[check(out, `mutation #${i} (kind ${kind})`)]++;
      }
    }
    // Both outcomes must occur often, or the mutations are not exercising the decoder.
    expect(outcomes.ok).toBeGreaterThan(100);
    expect(outcomes.error).toBeGreaterThan(100);
  });
});
