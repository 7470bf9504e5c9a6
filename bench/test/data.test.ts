import { describe, expect, it } from 'vitest';
import { floats, outputData, quantFloats, randomBytes, sameValues } from '../src/peers/data.js';

describe('bench data', () => {
  it('is reproducible from its seed', () => {
    expect(randomBytes(64, 42, true)).toEqual(randomBytes(64, 42, true));
    expect(randomBytes(64, 42, false)).not.toEqual(randomBytes(64, 43, false));
    expect(floats(32, 1)).toEqual(floats(32, 1));
    const q = quantFloats(4096, 2);
    expect(q.every((v) => v >= -8 && v < 8 && Number.isInteger(v * 4096))).toBe(true);
  });

  it('finds the main output of any contender result', () => {
    const y = Int32Array.of(1, 2);
    expect(outputData(y)).toBe(y);
    expect(outputData({ data: y, scale: 1 })).toBe(y);
    expect(outputData({ Y: { data: y, dims: [2] }, other: { data: new Int32Array(0) } })).toBe(y);
    expect(outputData([y])).toBe(y);
    expect(outputData(7)).toBeUndefined();
    expect(outputData({})).toBeUndefined();
  });

  it('compares values and says where they differ', () => {
    expect(sameValues(Float32Array.of(1, NaN), [1, NaN])).toBeUndefined();
    expect(sameValues([1, 2], [1, 3])).toBe('value 1 is 2, expected 3');
    expect(sameValues([1], [1, 2])).toBe('1 values, expected 2');
  });
});
