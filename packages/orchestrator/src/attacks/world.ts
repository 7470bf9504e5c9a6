import type { Clock } from '@compotastic/mesh';
import type { MeshLink } from '../transport/link.js';

/** A packet as a radio in range hears it, whoever it was for (an adversary's radio listens to everything). */
export interface OverheardPacket {
  from: number;
  to: number | 'broadcast';
  payload: Uint8Array;
}

/**
 * The simulated mesh an attack runs in: one radio per node, virtual time. The attack suite is written against this
 * interface so the compute layer does not depend on the simulator; the attack script and tests provide it over the
 * simulator's mesh (propagation, collisions, the firmware's routing).
 */
export interface AttackWorld {
  readonly clock: Clock;
  /** Node numbers, in a fixed order. */
  readonly nodes: readonly number[];
  /** The mesh link of a node, for its orchestrator. */
  link(num: number): MeshLink;
  /** Transmit raw bytes from `radio` with any `from` in the header (firmware that lies about its node number). */
  inject(radio: number, from: number, to: number | 'broadcast', payload: Uint8Array): void;
  /** Every packet any node transmits on the compute port (what a listening adversary in range overhears). */
  overhear(handler: (p: OverheardPacket) => void): void;
  /** Advance virtual time to `untilMs`, letting promise work settle between events. */
  run(untilMs: number): Promise<void>;
}

export type AttackWorldFactory = (options: { seed: number; nodes: number }) => AttackWorld;
