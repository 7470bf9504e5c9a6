// How many more symbols to send so that a receiver losing a fraction p of them gets at least `need` with
// probability `confidence`: the smallest n with P(Binomial(n, 1 - p) >= need) >= confidence.

export function symbolsToSend(need: number, lossRate: number, confidence: number): number {
  if (need <= 0) return 0;
  const p = Math.min(Math.max(lossRate, 0), 0.95);
  if (p === 0) return need;
  const q = 1 - p;
  // Walk n upwards from need, keeping P(X >= need) for X ~ Bin(n, q) via the pmf.
  for (let n = need; n < need * 100 + 100; n++) {
    // P(X >= need) = 1 - sum_{k < need} pmf(k); computed in log space for stability.
    let below = 0;
    let logPmf = n * Math.log(p); // k = 0
    for (let k = 0; k < need; k++) {
      below += Math.exp(logPmf);
      logPmf += Math.log((n - k) / (k + 1)) + Math.log(q / p);
    }
    if (1 - below >= confidence) return n;
  }
  return Math.ceil(need / q) * 2;
}
