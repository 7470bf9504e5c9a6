import type { AuthState, PeerReputation } from './store.js';

/** Votes lost before a peer can be demoted, so one unlucky tie does not exclude an honest node. */
export const DEMOTE_MIN_LOSSES = 2;

/**
 * How peers' results fared in redundant execution: a result that matched the accepted one wins a vote, one that
 * differed loses. A peer that lost at least DEMOTE_MIN_LOSSES votes and more than a quarter as many as it won is
 * demoted: the planner no longer picks it. Kept with the auth state, so a restart does not clear it.
 */
export class Reputation {
  constructor(private readonly durable: { state: AuthState; persist: () => void }) {}

  of(num: number): PeerReputation {
    return this.durable.state.reputation.get(num >>> 0) ?? { votesWon: 0, votesLost: 0 };
  }

  record(num: number, won: boolean): void {
    const r = { ...this.of(num) };
    if (won) r.votesWon++;
    else r.votesLost++;
    this.durable.state.reputation.set(num >>> 0, r);
    this.durable.persist();
  }

  isDemoted(num: number): boolean {
    const r = this.of(num);
    return r.votesLost >= DEMOTE_MIN_LOSSES && r.votesLost * 4 > r.votesWon;
  }
}
