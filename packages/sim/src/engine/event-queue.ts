/** One scheduled callback. Cancelling clears `fn`; the heap drops it when it surfaces. */
export interface SimEvent {
  time: number;
  seq: number;
  fn: ((arg: unknown) => void) | null;
  arg: unknown;
}

const INITIAL_CAPACITY = 1024;

/**
 * Binary min-heap ordered by (time, insertion sequence), so events at the same instant run in the order they were
 * scheduled: that ordering is what makes runs reproducible. The keys sit in typed arrays beside the heap's event
 * references, so sifting compares numbers in two flat arrays instead of reading an event object at every level.
 */
export class EventQueue {
  private times = new Float64Array(INITIAL_CAPACITY);
  private seqs = new Float64Array(INITIAL_CAPACITY);
  private events: Array<SimEvent | undefined> = new Array(INITIAL_CAPACITY);
  private length = 0;
  private nextSeq = 0;
  private live = 0;

  get size(): number {
    return this.live;
  }

  private grow(): void {
    const cap = this.times.length * 2;
    const times = new Float64Array(cap);
    times.set(this.times);
    const seqs = new Float64Array(cap);
    seqs.set(this.seqs);
    this.times = times;
    this.seqs = seqs;
    this.events.length = cap;
  }

  push(time: number, fn: (arg: unknown) => void, arg?: unknown): SimEvent {
    const seq = this.nextSeq++;
    const ev: SimEvent = { time, seq, fn, arg };
    if (this.length === this.times.length) this.grow();
    const times = this.times;
    const seqs = this.seqs;
    const events = this.events;
    let i = this.length++;
    // Sift up.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent] as number;
      if (pt < time || (pt === time && (seqs[parent] as number) < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent] as number;
      events[i] = events[parent];
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    events[i] = ev;
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
    return this.length > 0 ? (this.times[0] as number) : Infinity;
  }

  /** Remove and return the next live event. */
  pop(): SimEvent | undefined {
    this.dropCancelled();
    const ev = this.removeTop();
    if (ev) this.live--;
    return ev;
  }

  private dropCancelled(): void {
    while (this.length > 0 && (this.events[0] as SimEvent).fn === null) this.removeTop();
  }

  private removeTop(): SimEvent | undefined {
    if (this.length === 0) return undefined;
    const times = this.times;
    const seqs = this.seqs;
    const events = this.events;
    const top = events[0] as SimEvent;
    const n = --this.length;
    const lastTime = times[n] as number;
    const lastSeq = seqs[n] as number;
    const last = events[n] as SimEvent;
    events[n] = undefined;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        let ct = times[l] as number;
        let cs = seqs[l] as number;
        if (r < n) {
          const rt = times[r] as number;
          const rs = seqs[r] as number;
          if (rt < ct || (rt === ct && rs < cs)) {
            c = r;
            ct = rt;
            cs = rs;
          }
        }
        if (lastTime < ct || (lastTime === ct && lastSeq < cs)) break;
        times[i] = ct;
        seqs[i] = cs;
        events[i] = events[c];
        i = c;
      }
      times[i] = lastTime;
      seqs[i] = lastSeq;
      events[i] = last;
    }
    return top;
  }
}
