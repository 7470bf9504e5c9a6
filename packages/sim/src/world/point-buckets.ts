/** Cells per axis either side of the origin; beyond it cells merge, which keeps every neighbour within one cell. */
const MAX_CELL = 2 ** 25;

/**
 * Points in square buckets `cellM` wide: every point within `cellM` of a position lies in the 3 x 3 cells around it,
 * so a question about nearby points reads a few cells instead of every point.
 */
export class PointBuckets {
  private readonly cells = new Map<number, number[]>();
  private readonly xs: number[] = [];
  private readonly ys: number[] = [];

  constructor(private readonly cellM: number) {}

  get size(): number {
    return this.xs.length;
  }

  private cellOf(v: number): number {
    return Math.min(MAX_CELL, Math.max(-MAX_CELL, Math.floor(v / this.cellM))) + MAX_CELL;
  }

  add(x: number, y: number): void {
    const key = this.cellOf(x) * (2 * MAX_CELL + 1) + this.cellOf(y);
    let cell = this.cells.get(key);
    if (!cell) {
      cell = [];
      this.cells.set(key, cell);
    }
    cell.push(this.xs.length);
    this.xs.push(x);
    this.ys.push(y);
  }

  /** Whether `test` holds for some point in the 3 x 3 cells around (x, y): a superset of those within cellM. */
  some(x: number, y: number, test: (px: number, py: number) => boolean): boolean {
    const cx = this.cellOf(x);
    const cy = this.cellOf(y);
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        const cell = this.cells.get((cx + dx) * (2 * MAX_CELL + 1) + cy + dy);
        if (!cell) continue;
        for (const i of cell) if (test(this.xs[i] as number, this.ys[i] as number)) return true;
      }
    }
    return false;
  }
}
