import { DEFAULT_NOISE_FIGURE_DB, getModemPreset, noiseFloorDbm, type ModemPresetName } from '@compotastic/mesh';
import { OtaError } from '../errors.js';

// A rollout scenario for the project's simulator, as a plain scenario object: one sender in the middle, receivers on
// a circle around it at the distance where per-packet fading loses a chosen fraction of the sender's packets. Path
// loss is log-distance without static shadowing, so every sender-receiver link has the same loss rate; receivers
// also hear each other, so their replies and ACKs contend for the channel as they would.

export interface RolloutScenarioOptions {
  receivers: number;
  /** Target loss on each sender-receiver link from fading alone (collisions add to it). */
  loss: number;
  preset?: ModemPresetName;
  seed: number;
  /** Per-packet fading, dB (default 6). */
  fadingDb?: number;
  durationS?: number;
  txPowerDbm?: number;
}

const PATH = { model: 'log-distance', d0M: 40, gamma: 2.08, pl0Db: 127.41 } as const;

/** Inverse standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new OtaError('INVALID_ARGUMENT', 'quantile needs 0 < p < 1');
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  const poly = (k: number[], x: number): number => k.reduce((acc, v) => acc * x + v, 0);
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(c, q) / (poly(d, q) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (poly(a, r) * q) / (poly(b, r) * r + 1);
}

/** Sender-receiver distance at which fading of `fadingDb` loses `loss` of the packets. */
export function distanceForLoss(loss: number, preset: ModemPresetName, txPowerDbm: number, fadingDb: number): number {
  const p = getModemPreset(preset);
  const sensitivity = noiseFloorDbm(p.bandwidthKHz, DEFAULT_NOISE_FIGURE_DB) + p.snrLimitDb;
  // Received power is mean + N(0, fading); lost when below sensitivity.
  const meanRx = sensitivity - fadingDb * normalQuantile(loss);
  const pathLoss = txPowerDbm - meanRx;
  return PATH.d0M * 10 ** ((pathLoss - PATH.pl0Db) / (10 * PATH.gamma));
}

export function rolloutScenario(o: RolloutScenarioOptions): Record<string, unknown> {
  const preset = o.preset ?? 'LONG_FAST';
  const fading = o.fadingDb ?? 6;
  const tx = o.txPowerDbm ?? 30;
  const r = distanceForLoss(o.loss, preset, tx, fading);
  // Centre at (r, r) so every coordinate is inside the positive quadrant the simulator's area covers.
  const list: Record<string, unknown>[] = [{ name: 'sender', x: r, y: r, traffic: false }];
  for (let i = 0; i < o.receivers; i++) {
    const a = (2 * Math.PI * i) / o.receivers;
    list.push({ name: `rx${i}`, x: r + r * Math.cos(a), y: r + r * Math.sin(a), traffic: false });
  }
  return {
    name: `ota-rollout-${o.receivers}`,
    seed: o.seed,
    duration: o.durationS ?? 48 * 3600,
    preset,
    region: 'US',
    area: { widthM: Math.ceil(2 * r + 1), heightM: Math.ceil(2 * r + 1) },
    nodes: { txPowerDbm: tx, list },
    pathLoss: { ...PATH, sigmaDb: 0, fastFadingSigmaDb: fading },
    traffic: [],
  };
}
