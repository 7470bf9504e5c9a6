/** Anything with a position that lives in the grid. */
export interface Placed {
  x: number;
  y: number;
  gridKey: number;
}

/**
 * Uniform grid with cells as wide as the longest radio range, so every node a transmission can affect lies in the
 * 3 x 3 block of cells around the sender.
 */
export class SpatialGrid<T extends Placed> {
  private readonly cells = new Map<number, T[]>();

  constructor(readonly cellSizeM: number) {}

  private key(x: number, y: number): number {
    const cx = Math.floor(x / this.cellSizeM) + 32768;
    const cy = Math.floor(y / this.cellSizeM) + 32768;
    return cx * 65536 + cy;
  }

  insert(item: T): void {
    item.gridKey = this.key(item.x, item.y);
    let cell = this.cells.get(item.gridKey);
    if (!cell) {
      cell = [];
      this.cells.set(item.gridKey, cell);
    }
    cell.push(item);
  }

  remove(item: T): void {
    const cell = this.cells.get(item.gridKey);
    if (!cell) return;
    const i = cell.indexOf(item);
    if (i >= 0) {
      cell[i] = cell[cell.length - 1] as T;
      cell.pop();
    }
    if (cell.length === 0) this.cells.delete(item.gridKey);
  }

  /** Call after changing item.x / item.y. */
  move(item: T): void {
    const k = this.key(item.x, item.y);
    if (k === item.gridKey) return;
    this.remove(item);
    this.insert(item);
  }

  /** Items in the 3 x 3 cells around (x, y), in a stable order. */
  near(x: number, y: number, out: T[]): T[] {
    out.length = 0;
    const base = this.key(x, y);
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        const cell = this.cells.get(base + dx * 65536 + dy);
        if (cell) for (const item of cell) out.push(item);
      }
    }
    return out;
  }
}
