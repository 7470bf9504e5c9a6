import { OtaError } from '../errors.js';

/** Decides when the next packet may go. Transport-agnostic: the caller reports what it sent. */
export interface PacingPolicy {
  /** Milliseconds to wait before sending a packet of `airtimeMs` at `nowMs` (0: send now). */
  delayMs(nowMs: number, airtimeMs: number): number;
  /** Records a packet that went on air. */
  sent(nowMs: number, airtimeMs: number): void;
}

export interface DutyCyclePacerOptions {
  /** Region's hourly transmit limit in percent (100 = none; EU_868 10). */
  dutyCyclePercent: number;
  /** Share of that limit this transfer may use, leaving the rest for the node's other traffic (default 0.5). */
  share?: number;
  /** Rolling window the limit applies to (default one hour, as the firmware). */
  windowMs?: number;
  /** Idle time after each packet, as a multiple of its airtime (default 1: the transfer takes at most half the channel). */
  gapFactor?: number;
  /** Current channel utilization in percent, if the transport knows it. */
  channelUtilization?: () => number;
  /** Above this utilization the sender holds back (default 25, the firmware's limit for polite broadcasts). */
  maxChannelUtilizationPercent?: number;
  /** How long to hold back when the channel is busy (default 10 s). */
  busyBackoffMs?: number;
  /**
   * While the channel is busy the transfer still moves, at this share of the airtime (default 10 %): packets are
   * spaced so that our airtime is at most this percentage of the time. A mesh that never drops below the threshold
   * (a crowded scene, a node parked in the middle of it) would otherwise starve the transfer for good. 0 holds back
   * entirely until the channel calms down.
   */
  busySharePercent?: number;
}

/** The window Meshtastic's channel utilization covers. */
const UTILIZATION_WINDOW_MS = 60_000;

/**
 * Keeps a transfer inside the region's duty cycle (own airtime over a rolling window), leaves a gap after every
 * packet for other traffic, and slows down to a small share of the airtime while the channel is busier than the
 * polite-broadcast threshold.
 */
export class DutyCyclePacer implements PacingPolicy {
  private readonly log: { at: number; airtime: number }[] = [];
  private used = 0;
  private nextFree = 0;
  private readonly budgetMs: number;
  private readonly windowMs: number;
  private readonly gapFactor: number;
  private readonly maxUtil: number;
  private readonly busyBackoffMs: number;
  private readonly busyShare: number;
  private last: { at: number; airtime: number } | null = null;

  constructor(private readonly o: DutyCyclePacerOptions) {
    const share = o.share ?? 0.5;
    if (!(o.dutyCyclePercent > 0 && o.dutyCyclePercent <= 100)) throw new OtaError('INVALID_ARGUMENT', 'duty cycle must be in (0, 100]');
    if (!(share > 0 && share <= 1)) throw new OtaError('INVALID_ARGUMENT', 'share must be in (0, 1]');
    this.windowMs = o.windowMs ?? 3_600_000;
    this.budgetMs = (this.windowMs * o.dutyCyclePercent * share) / 100;
    this.gapFactor = o.gapFactor ?? 1;
    this.maxUtil = o.maxChannelUtilizationPercent ?? 25;
    this.busyBackoffMs = o.busyBackoffMs ?? 10_000;
    this.busyShare = o.busySharePercent ?? 10;
    if (!(this.busyShare >= 0 && this.busyShare <= 100)) throw new OtaError('INVALID_ARGUMENT', 'busySharePercent must be in [0, 100]');
    if (!(this.gapFactor >= 0)) throw new OtaError('INVALID_ARGUMENT', 'gapFactor must be >= 0');
  }

  // A packet leaves the window a millisecond after it is a full window old, so rounding never lets one count short.
  private expire(now: number): void {
    while (this.log.length > 0 && this.log[0]!.at + this.windowMs < now) this.used -= this.log.shift()!.airtime;
  }

  delayMs(now: number, airtimeMs: number): number {
    if (airtimeMs > this.budgetMs) throw new OtaError('INVALID_ARGUMENT', 'a single packet exceeds the duty-cycle budget');
    this.expire(now);
    let wait = Math.max(0, this.nextFree - now);
    // Wait until enough old airtime leaves the window.
    let excess = this.used + airtimeMs - this.budgetMs;
    for (let i = 0; excess > 0 && i < this.log.length; i++) {
      const e = this.log[i]!;
      wait = Math.max(wait, e.at + this.windowMs + 1 - now);
      excess -= e.airtime;
    }
    if (wait === 0 && this.o.channelUtilization && this.othersUtilization(now, this.o.channelUtilization()) > this.maxUtil) {
      if (this.busyShare === 0) return this.busyBackoffMs;
      // Busy: the next packet waits until the previous one is a 1/share fraction of the time since it started.
      const spacedUntil = this.last ? this.last.at + (this.last.airtime * 100) / this.busyShare : now;
      // Look again at least every backoff period: the channel may have calmed down by then.
      wait = Math.min(this.busyBackoffMs, Math.max(0, spacedUntil - now));
    }
    return wait;
  }

  /**
   * The channel utilization a node reports counts its own transmissions too (Meshtastic's airtime counter adds TX
   * and RX over the last minute). Politeness is about other traffic, so our own last minute is taken out; otherwise
   * a transfer that keeps the channel half busy by design would throttle itself.
   */
  private othersUtilization(now: number, reportedPercent: number): number {
    let ownMs = 0;
    for (let i = this.log.length - 1; i >= 0 && this.log[i]!.at >= now - UTILIZATION_WINDOW_MS; i--) ownMs += this.log[i]!.airtime;
    return Math.max(0, reportedPercent - (100 * ownMs) / UTILIZATION_WINDOW_MS);
  }

  sent(now: number, airtimeMs: number): void {
    this.expire(now);
    this.log.push({ at: now, airtime: airtimeMs });
    this.last = { at: now, airtime: airtimeMs };
    this.used += airtimeMs;
    this.nextFree = now + airtimeMs * (1 + this.gapFactor);
  }

  /** Own airtime inside the current window. */
  usedMs(now: number): number {
    this.expire(now);
    return this.used;
  }
}
