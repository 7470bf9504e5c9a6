import { AuthError } from '../errors.js';

/** A peer's record of how its results fared in redundant execution. */
export interface PeerReputation {
  votesWon: number;
  votesLost: number;
}

/**
 * What authentication keeps across restarts: the peers' pinned keys (trust on first use), the highest counter this
 * node may have used (reserved ahead), the highest counter accepted from each peer, and the peers' reputations.
 */
export interface AuthState {
  /** Every counter below this may have been used: the next start continues from here. */
  counterReserved: number;
  pins: Map<number, Uint8Array>;
  highWater: Map<number, number>;
  reputation: Map<number, PeerReputation>;
}

/**
 * Durable storage for AuthState. `save` must be atomic (all of the new state or all of the old), since a torn write
 * could reuse a counter or forget a pin; a node writes through after every change that matters.
 */
export interface AuthStore {
  load(): AuthState | null;
  save(state: AuthState): void;
}

export function emptyAuthState(): AuthState {
  return { counterReserved: 1, pins: new Map(), highWater: new Map(), reputation: new Map() };
}

export function cloneAuthState(s: AuthState): AuthState {
  return {
    counterReserved: s.counterReserved,
    pins: new Map([...s.pins].map(([k, v]) => [k, v.slice()])),
    highWater: new Map(s.highWater),
    reputation: new Map([...s.reputation].map(([k, v]) => [k, { ...v }])),
  };
}

/** Auth state in memory: survives the node's stop/start (a simulated power cycle) but not the process. */
export class MemoryAuthStore implements AuthStore {
  private state: AuthState | null = null;
  saves = 0;

  load(): AuthState | null {
    return this.state ? cloneAuthState(this.state) : null;
  }

  save(state: AuthState): void {
    this.saves++;
    this.state = cloneAuthState(state);
  }
}

/** Check a loaded state's shape (a store decoding a file calls this). Throws AuthError BAD_STATE. */
export function validateAuthState(s: AuthState): AuthState {
  if (!Number.isInteger(s.counterReserved) || s.counterReserved < 1 || s.counterReserved > 0xffffffff) throw new AuthError('BAD_STATE', `counterReserved ${s.counterReserved} is outside 1..2^32-1`);
  for (const [num, key] of s.pins) {
    if (!Number.isInteger(num) || num < 0 || num > 0xffffffff) throw new AuthError('BAD_STATE', `pinned node number ${num} is not a u32`);
    if (key.length !== 32) throw new AuthError('BAD_STATE', `pinned key of node ${num} is ${key.length} bytes, not 32`);
  }
  for (const [num, hw] of s.highWater) {
    if (!Number.isInteger(hw) || hw < 0 || hw > 0xffffffff) throw new AuthError('BAD_STATE', `high-water mark of node ${num} is not a u32`);
  }
  for (const [num, r] of s.reputation) {
    if (!Number.isInteger(r.votesWon) || !Number.isInteger(r.votesLost) || r.votesWon < 0 || r.votesLost < 0) throw new AuthError('BAD_STATE', `reputation of node ${num} is not two counts`);
  }
  return s;
}
