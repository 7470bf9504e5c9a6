/** The firmware's default Li-ion open-circuit voltages (mV) at 100, 90, ... 0 % charge (OCV_ARRAY). */
const LI_ION_OCV_MV = [4190, 4050, 3990, 3890, 3800, 3720, 3630, 3530, 3420, 3300, 3100] as const;

/** Open-circuit voltage of a Li-ion cell at a charge level, volts: linear between the firmware's 10 % steps. */
export function liIonVoltage(pct: number): number {
  const p = Math.min(100, Math.max(0, pct));
  const fromTop = (100 - p) / 10;
  const i = Math.min(LI_ION_OCV_MV.length - 2, Math.floor(fromTop));
  const hi = LI_ION_OCV_MV[i] as number;
  const lo = LI_ION_OCV_MV[i + 1] as number;
  return (hi + (lo - hi) * (fromTop - i)) / 1000;
}

/**
 * Coulomb counter: a continuous base draw plus charges for transmitting and computing. The level is computed on demand
 * from elapsed time, so it costs nothing per event.
 */
export class Battery {
  private usedMah = 0;
  private baseSinceMs: number;
  failed = false;

  constructor(
    readonly capacityMah: number,
    initialPct: number,
    private baseMa: number,
    startMs: number,
  ) {
    this.usedMah = capacityMah * (1 - initialPct / 100);
    this.baseSinceMs = startMs;
  }

  private settle(nowMs: number): void {
    if (nowMs > this.baseSinceMs) {
      this.usedMah += (this.baseMa * (nowMs - this.baseSinceMs)) / 3_600_000;
      this.baseSinceMs = nowMs;
    }
  }

  /** Change the continuous draw (e.g. node switched off: 0). */
  setBaseDraw(nowMs: number, ma: number): void {
    this.settle(nowMs);
    this.baseMa = ma;
  }

  /** Charge `ma` for `durationMs`. */
  charge(nowMs: number, ma: number, durationMs: number): void {
    this.settle(nowMs);
    this.usedMah += (ma * durationMs) / 3_600_000;
  }

  percent(nowMs: number): number {
    if (this.failed) return 0;
    this.settle(nowMs);
    return Math.max(0, 100 * (1 - this.usedMah / this.capacityMah));
  }

  /** Time until empty at the current base draw, ms (Infinity when not draining). */
  msUntilEmpty(nowMs: number): number {
    this.settle(nowMs);
    const left = this.capacityMah - this.usedMah;
    if (left <= 0) return 0;
    return this.baseMa > 0 ? (left / this.baseMa) * 3_600_000 : Infinity;
  }

  /** Time until the level reaches `pct`, ms. */
  msUntilPercent(nowMs: number, pct: number): number {
    this.settle(nowMs);
    const target = this.capacityMah * (1 - pct / 100);
    const left = target - this.usedMah;
    if (left <= 0) return 0;
    return this.baseMa > 0 ? (left / this.baseMa) * 3_600_000 : Infinity;
  }
}
