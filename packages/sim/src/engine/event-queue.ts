/** One scheduled callback. Cancelling clears `fn`; the heap drops it when it surfaces. */
export interface SimEvent {
  time: number;
  seq: number;
  fn: ((arg: unknown) => void) | null;
  arg: unknown;
}

/**
 * Binary min-heap ordered by (time, insertion sequence), so events at the same instant run in the order they were
 * scheduled: that ordering is what makes runs reproducible.
 */
export class EventQueue {
  private heap: SimEvent[] = [];
  private nextSeq = 0;
  private live = 0;

  get size(): number {
    return this.live;
  }

  push(time: number, fn: (arg: unknown) => void, arg?: unknown): SimEvent {
    const ev: SimEvent = { time, seq: this.nextSeq++, fn, arg };
    const heap = this.heap;
    let i = heap.length;
    heap.push(ev);
    // Sift up.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as SimEvent;
      if (p.time < time || (p.time === time && p.seq < ev.seq)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = ev;
    this.live++;
    return ev;
  }

  cancel(ev: SimEvent): boolean {
    if (ev.fn === null) return false;
    ev.fn = null;
    this.live--;
    return true;
  }

  /** Time of the next live event, or Infinity. */
  peekTime(): number {
    this.dropCancelled();
    const top = this.heap[0];
    return top ? top.time : Infinity;
  }

  /** Remove and return the next live event. */
  pop(): SimEvent | undefined {
    this.dropCancelled();
    const ev = this.removeTop();
    if (ev) this.live--;
    return ev;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && (this.heap[0] as SimEvent).fn === null) this.removeTop();
  }

  private removeTop(): SimEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (!top) return undefined;
    const last = heap.pop() as SimEvent;
    const n = heap.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        let child = heap[l] as SimEvent;
        if (r < n) {
          const rc = heap[r] as SimEvent;
          if (rc.time < child.time || (rc.time === child.time && rc.seq < child.seq)) {
            c = r;
            child = rc;
          }
        }
        if (last.time < child.time || (last.time === child.time && last.seq < child.seq)) break;
        heap[i] = child;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  }
}
