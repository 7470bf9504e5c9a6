// Small robust statistics: benchmarks on shared machines have outliers, so
// everything reported is a median.

export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Median absolute deviation relative to the median (a spread measure robust to outliers). */
export function relativeSpread(values: readonly number[]): number {
  const m = median(values);
  if (!Number.isFinite(m) || m === 0) return NaN;
  return median(values.map((x) => Math.abs(x - m))) / Math.abs(m);
}

/** Rounds down to `digits` significant digits (gates are set below what is measured). */
export function floorSignificant(value: number, digits = 2): number {
  if (!(value > 0) || !Number.isFinite(value)) return 0;
  const scale = 10 ** (Math.floor(Math.log10(value)) - digits + 1);
  return Number((Math.floor(value / scale + 1e-9) * scale).toPrecision(digits));
}
