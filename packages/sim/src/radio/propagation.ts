import { SimError } from '../errors.js';

export type PathLossModelName = 'log-distance' | 'urban' | '3gpp-suburban-macro' | '3gpp-urban-macro' | 'free-space';

export const PATH_LOSS_MODELS: readonly PathLossModelName[] = ['log-distance', 'urban', '3gpp-suburban-macro', '3gpp-urban-macro', 'free-space'];

export interface PathLossParams {
  model: PathLossModelName;
  /** Reference distance (log-distance family), m. */
  d0M: number;
  /** Path loss exponent (log-distance family). */
  gamma: number;
  /** Loss at the reference distance, dB. */
  pl0Db: number;
  /** Static log-normal shadowing per directed link, dB. */
  sigmaDb: number;
  /**
   * How each directed link's shadowing is drawn: `hashed` (a hash of the seed and the link, independent of order), or
   * `meshtasticator` (Meshtasticator's setup_asymmetric_links in lib/common.py: gauss(0, sigmaDb) from Python's
   * generator seeded with the run's seed, for every (tx, rx) pair of the initial nodes, tx-major).
   */
  linkOffsets: 'hashed' | 'meshtasticator';
  /** Per-packet fading, dB (0 = off). */
  fastFadingSigmaDb: number;
  /** Carrier frequency, MHz (3GPP and free space). */
  frequencyMHz: number;
}

/** FLoRa / Meshtasticator log-distance defaults. */
export const LOG_DISTANCE_DEFAULTS = { d0M: 40, gamma: 2.08, pl0Db: 127.41, sigmaDb: 3.57 } as const;
/**
 * Urban street level: ns-3 LoRaWAN's urban exponent 3.76 from a 1 m reference at free-space loss (31.7 dB at 915 MHz),
 * with 6 dB shadowing.
 */
export const URBAN_DEFAULTS = { d0M: 1, gamma: 3.76, pl0Db: 31.7, sigmaDb: 6 } as const;

/** Mean path loss in dB at distance d (m) between antennas at heights txZ, rxZ (m). Monotonic in d. */
export function meanPathLossDb(p: PathLossParams, distanceM: number, txZ = 1, rxZ = 1): number {
  const d = Math.max(distanceM, 0.001);
  switch (p.model) {
    case 'log-distance':
    case 'urban':
      return p.pl0Db + 10 * p.gamma * Math.log10(d / p.d0M);
    case 'free-space':
      return 20 * Math.log10(d) + 20 * Math.log10(p.frequencyMHz) - 27.55;
    case '3gpp-suburban-macro':
    case '3gpp-urban-macro': {
      // 3GPP TR 36.942 macro-cell model as Meshtasticator implements it (heights in m, frequency in MHz).
      const c = p.model === '3gpp-urban-macro' ? 3 : 0;
      return (
        (44.9 - 6.55 * Math.log10(rxZ)) * (Math.log10(d) - 3) +
        45.5 +
        (35.46 - 1.1 * txZ) * Math.log10(p.frequencyMHz) -
        13.82 * Math.log10(txZ) +
        0.7 * txZ +
        c
      );
    }
    default:
      throw new SimError('INVALID_SCENARIO', `unknown path loss model ${(p as { model: string }).model}`);
  }
}

/** Largest distance at which the mean path loss stays within `budgetDb` (binary search; models are monotonic). */
export function rangeForBudgetM(p: PathLossParams, budgetDb: number, txZ = 1, rxZ = 1): number {
  let lo = 0.001;
  let hi = 1;
  while (meanPathLossDb(p, hi, txZ, rxZ) <= budgetDb && hi < 1e8) hi *= 2;
  if (meanPathLossDb(p, lo, txZ, rxZ) > budgetDb) return 0;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (meanPathLossDb(p, mid, txZ, rxZ) <= budgetDb) lo = mid;
    else hi = mid;
  }
  return lo;
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Standard normal value fixed for a directed link (tx -> rx) and a seed: a hash, not a stream, so it does not depend
 * on the order in which links are evaluated.
 */
export function linkNormal(seed: number, txIndex: number, rxIndex: number): number {
  const h = mix32(seed ^ Math.imul(txIndex + 1, 0x9e3779b1) ^ mix32(Math.imul(rxIndex + 1, 0x85ebca77)));
  const u1 = (mix32(h ^ 0x68e31da4) + 1) / 4294967297;
  const u2 = mix32(h ^ 0xb5297a4d) / 4294967296;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
