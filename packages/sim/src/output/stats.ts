/** Log-spaced histogram for delay percentiles without keeping every sample (bins 1 ms .. ~28 h, ~2.3% wide). */
export class LogHistogram {
  private readonly bins = new Float64Array(800);
  count = 0;
  sum = 0;
  max = 0;

  private static readonly STEP = Math.log(1e8) / 800;

  add(valueMs: number): void {
    const v = Math.max(valueMs, 0);
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
    const i = v < 1 ? 0 : Math.min(799, Math.floor(Math.log(v) / LogHistogram.STEP));
    this.bins[i] = (this.bins[i] as number) + 1;
  }

  mean(): number {
    return this.count ? this.sum / this.count : 0;
  }

  /** Approximate quantile (geometric centre of the bin), q in [0, 1]. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const target = q * this.count;
    let acc = 0;
    for (let i = 0; i < this.bins.length; i++) {
      acc += this.bins[i] as number;
      if (acc >= target && (this.bins[i] as number) > 0) {
        return i === 0 ? 1 : Math.exp((i + 0.5) * LogHistogram.STEP);
      }
    }
    return this.max;
  }
}

export interface NodeSummary {
  num: number;
  name: string;
  role: string;
  deviceClass: string;
  x: number;
  y: number;
  up: boolean;
  batteryPct: number | null;
  txPackets: number;
  txAirtimeMs: number;
  rxPackets: number;
  rxAirtimeMs: number;
  relays: number;
  collisions: number;
  /** (TX + RX airtime) / time up, percent. */
  channelUtilizationPct: number;
  /** Share of its messages this node's peers received, percent (null if it sent none). */
  reachabilityPct: number | null;
}

export interface SimSummary {
  scenario: string;
  seed: number;
  preset: string;
  region: string;
  nodes: number;
  durationS: number;
  events: number;
  messages: number;
  /** Unique receptions / possible receptions (nodes up when each message was generated, minus the sender), percent. */
  reachabilityPct: number;
  /** First receptions of a message / all successful receptions, percent. */
  usefulnessPct: number;
  directMessages: { sent: number; delivered: number; deliveredPct: number };
  transmissions: number;
  receptions: number;
  collisions: number;
  drops: Record<string, number>;
  acks: Record<string, number>;
  delayMs: { mean: number; p50: number; p95: number; max: number };
  channelUtilizationPct: { mean: number; max: number };
  airtime: { totalTxMs: number; meanTxPerNodeMs: number };
  nodesUpAtEnd: number;
  appEvents: Record<string, number>;
  perNode: NodeSummary[];
}
