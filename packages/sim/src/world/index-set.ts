/**
 * A set of node indices (non-negative integers) in an open-addressed Int32Array: memory follows the members, not the
 * size of the mesh, so a message heard by 50 of 100,000 nodes costs a few hundred bytes rather than a 12.5 KB bitmap.
 */
export class IndexSet {
  private slots = new Int32Array(8).fill(-1);
  private count = 0;

  get size(): number {
    return this.count;
  }

  private static start(index: number, mask: number): number {
    return Math.imul(index, 0x9e3779b1) >>> 0 & mask;
  }

  has(index: number): boolean {
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let s = IndexSet.start(index, mask); ; s = (s + 1) & mask) {
      const v = slots[s] as number;
      if (v === index) return true;
      if (v === -1) return false;
    }
  }

  /** Adds index; false when it was already there. */
  add(index: number): boolean {
    if (this.has(index)) return false;
    if (2 * (this.count + 1) > this.slots.length) {
      const old = this.slots;
      this.slots = new Int32Array(old.length * 2).fill(-1);
      for (const v of old) if (v !== -1) this.insert(v);
    }
    this.insert(index);
    this.count++;
    return true;
  }

  private insert(index: number): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    let s = IndexSet.start(index, mask);
    while (slots[s] !== -1) s = (s + 1) & mask;
    slots[s] = index;
  }
}
