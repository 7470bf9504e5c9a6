// Direct (unicast) messages sent and delivered to their destination: the "delivered" figure of the
// summary. The simulation feeds it as it runs; a trace reader feeds it the trace's `gen` and `deliver`
// events, and gets the same figure for the same run.

import { isBroadcast } from '../mesh/packet.js';

export interface DirectDeliverySummary {
  sent: number;
  delivered: number;
  deliveredPct: number;
}

export class DirectDeliveryTally {
  private sent = 0;
  private delivered = 0;
  /** Undelivered unicast messages: key -> destination. */
  private readonly pending = new Map<number | string, number>();

  /** A message was generated (broadcasts are not direct messages). */
  generated(key: number | string, to: number): void {
    if (isBroadcast(to)) return;
    this.sent++;
    this.pending.set(key, to);
  }

  /** A node received a message for the first time. */
  received(key: number | string, node: number): void {
    if (this.pending.get(key) !== node) return;
    this.pending.delete(key);
    this.delivered++;
  }

  /** Feeds one trace event; any event other than `gen` and `deliver` is ignored. */
  observe(e: { ev: string; node?: unknown; from?: unknown; id?: unknown; to?: unknown }): void {
    if (typeof e.from !== 'number' || typeof e.id !== 'number') return;
    const key = `${e.from}:${e.id}`;
    if (e.ev === 'gen' && typeof e.to === 'number') this.generated(key, e.to);
    else if (e.ev === 'deliver' && typeof e.node === 'number') this.received(key, e.node);
  }

  summary(): DirectDeliverySummary {
    return { sent: this.sent, delivered: this.delivered, deliveredPct: this.sent ? Math.round((this.delivered / this.sent) * 100 * 100) / 100 : 0 };
  }
}
