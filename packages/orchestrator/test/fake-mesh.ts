import { Prng, type Clock } from '@compotastic/mesh';
import { Scheduler } from '@compotastic/sim';
import type { Destination, MeshLink, PacketLink, RadioFacts, ReceivedPacket, SendOptions, SendResult } from '../src/transport/link.js';

/**
 * A small deterministic stand-in for the mesh, for unit tests of the delegation protocol: fixed hop counts, a latency
 * per hop, seeded loss and duplication, and nodes that can be switched off. Time is a simulator scheduler; `run`
 * lets promise work settle after every event, as the real virtual-time loop does.
 */
export class FakeMesh {
  readonly scheduler = new Scheduler();
  readonly clock: Clock = this.scheduler.clock;
  private readonly links = new Map<number, FakeLink>();
  private readonly rng: Prng;
  loss = 0;
  duplicate = 0;
  hopMs = 800;
  /** Mangle packets in flight (return null to drop). */
  tamper: ((from: number, to: number, payload: Uint8Array) => Uint8Array | null) | null = null;

  constructor(seed = 1, private readonly hopsBetween: (a: number, b: number) => number = () => 1) {
    this.rng = new Prng(seed);
  }

  link(num: number): FakeLink {
    let l = this.links.get(num);
    if (!l) {
      l = new FakeLink(this, num);
      this.links.set(num, l);
    }
    return l;
  }

  hops(a: number, b: number): number {
    return this.hopsBetween(a, b);
  }

  transmit(from: FakeLink, to: Destination, payload: Uint8Array, options: SendOptions): Promise<SendResult> {
    if (!from.up) return Promise.resolve({ ok: false, error: 'NO_INTERFACE' });
    const targets = to === 'broadcast' ? [...this.links.values()].filter((l) => l !== from) : [this.links.get(to)].filter((l): l is FakeLink => !!l);
    let delivered = false;
    for (const t of targets) {
      const hops = this.hops(from.nodeNum, t.nodeNum);
      if (to === 'broadcast' && hops > 3) continue;
      if (this.rng.bool(this.loss)) continue;
      const copies = this.rng.bool(this.duplicate) ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        const delay = this.hopMs * hops * (1 + 0.2 * this.rng.float()) + c * 1000;
        this.scheduler.schedule(delay, () => {
          if (!t.up) return;
          const bytes = this.tamper ? this.tamper(from.nodeNum, t.nodeNum, payload.slice()) : payload.slice();
          if (!bytes) return;
          t.deliver({ from: from.nodeNum, to: to === 'broadcast' ? 0xffffffff : t.nodeNum, payload: bytes, hops: hops - 1, snr: 5, relayNode: null });
        });
      }
      if (t.up) delivered = true;
    }
    if (to === 'broadcast' || !options.wantAck) return Promise.resolve({ ok: true });
    const hops = targets[0] ? this.hops(from.nodeNum, targets[0].nodeNum) : 1;
    return new Promise((resolve) => this.scheduler.schedule(2 * this.hopMs * hops, () => resolve(delivered ? { ok: true } : { ok: false, error: 'MAX_RETRANSMIT' })));
  }

  /** Advance simulated time, letting promise continuations run after every event. */
  async run(untilMs: number): Promise<void> {
    for (;;) {
      await flush();
      const next = this.scheduler.nextEventTime();
      if (next > untilMs) break;
      this.scheduler.step();
    }
    this.scheduler.runUntil(untilMs);
    await flush();
  }

  async runWhile(cond: () => boolean, limitMs: number): Promise<void> {
    while (cond() && this.scheduler.now < limitMs) {
      await flush();
      if (!this.scheduler.step()) break;
    }
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}

export class FakeLink implements MeshLink {
  readonly kind = 'lora' as const;
  readonly maxPayload = 231;
  up = true;
  facts: () => RadioFacts = () => ({ preset: 'SHORT_FAST', region: 'US', dutyCyclePct: 100, channelUtilPct: 5, txUtilPct: 1, hopLimit: 3, portBlocked: false });
  private readonly handlers = new Set<(p: ReceivedPacket) => void>();
  readonly sent: Uint8Array[] = [];

  constructor(private readonly mesh: FakeMesh, readonly nodeNum: number) {}

  send(to: Destination, payload: Uint8Array, options: SendOptions): Promise<SendResult> {
    this.sent.push(payload);
    return this.mesh.transmit(this, to, payload, options);
  }

  onPacket(handler: (p: ReceivedPacket) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  deliver(p: ReceivedPacket): void {
    for (const h of this.handlers) h(p);
  }

  hopsTo(num: number): number | null {
    return this.mesh.hops(this.nodeNum, num) - 1;
  }

  openPort(): PacketLink {
    throw new Error('the fake mesh carries the orchestrator\'s port only');
  }
}
