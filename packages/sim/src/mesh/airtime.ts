/** Fixed buckets over a rolling window, zeroed as time moves past them (the firmware's AirTime arrays). */
export class RollingBuckets {
  private readonly buckets: Float64Array;
  private lastIndex = 0;

  constructor(private readonly bucketMs: number, count: number) {
    this.buckets = new Float64Array(count);
  }

  private advance(nowMs: number): number {
    const index = Math.floor(nowMs / this.bucketMs);
    const n = this.buckets.length;
    if (index - this.lastIndex >= n) this.buckets.fill(0);
    else for (let i = this.lastIndex + 1; i <= index; i++) this.buckets[i % n] = 0;
    if (index > this.lastIndex) this.lastIndex = index;
    return index % n;
  }

  add(nowMs: number, amount: number): void {
    const slot = this.advance(nowMs);
    this.buckets[slot] = (this.buckets[slot] as number) + amount;
  }

  sum(nowMs: number): number {
    this.advance(nowMs);
    let s = 0;
    for (const b of this.buckets) s += b;
    return s;
  }

  clear(): void {
    this.buckets.fill(0);
  }
}

/**
 * AirTime: channel utilization over the last minute (6 x 10 s buckets of TX + RX airtime) and our own TX
 * utilization over the last hour (60 x 1 min), both in percent.
 */
export class AirtimeTracker {
  private readonly channel = new RollingBuckets(10_000, 6);
  private readonly tx = new RollingBuckets(60_000, 60);
  txTotalMs = 0;
  rxTotalMs = 0;

  logTx(nowMs: number, airtimeMs: number): void {
    this.channel.add(nowMs, airtimeMs);
    this.tx.add(nowMs, airtimeMs);
    this.txTotalMs += airtimeMs;
  }

  logRx(nowMs: number, airtimeMs: number): void {
    this.channel.add(nowMs, airtimeMs);
    this.rxTotalMs += airtimeMs;
  }

  channelUtilizationPercent(nowMs: number): number {
    return (this.channel.sum(nowMs) / 60_000) * 100;
  }

  txUtilizationPercent(nowMs: number): number {
    return (this.tx.sum(nowMs) / 3_600_000) * 100;
  }

  /** Polite senders (telemetry, position) keep quiet above 25% channel utilization. */
  isTxAllowedChannelUtil(nowMs: number, polite = false): boolean {
    return this.channelUtilizationPercent(nowMs) < (polite ? 25 : 40);
  }

  reset(): void {
    this.channel.clear();
    this.tx.clear();
  }
}
