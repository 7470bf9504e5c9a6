type Grown = Int32Array | Float64Array | Uint8Array;

/** A copy of `a` at length `n` (n >= a.length), the same kind of typed array. */
export function grown<T extends Grown>(a: T, n: number): T {
  const b = new (a.constructor as new (length: number) => T)(n);
  b.set(a);
  return b;
}
