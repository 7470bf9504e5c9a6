// A gate that fails is measured again before the run fails: a shared 2-core
// machine sometimes slows one contender for a whole case (another process on
// the sibling core), while a real regression fails every attempt.

import type { GateOutcome } from './gates.js';
import type { CaseResult } from './results.js';

/** The cases holding a failed timing gate (a figure, such as a patch's size, does not depend on load: never retried). */
export function casesToRetry(outcomes: readonly GateOutcome[]): Set<string> {
  return new Set(outcomes.filter((o) => o.gate === 'fail' && !o.figure).map((o) => o.case));
}

/** How well a case does on its gates: the lowest measured/min among them (higher is better). */
function gateScore(c: CaseResult, outcomes: readonly GateOutcome[]): number {
  let score = Infinity;
  for (const o of outcomes) {
    if (o.case !== c.id || o.min === undefined) continue;
    const r = c.ratios.find((x) => x.ours === o.ours && x.peer === o.peer)?.value;
    score = Math.min(score, r === undefined ? 0 : r / o.min);
  }
  return score;
}

/**
 * Replaces each case with its re-measured version when that does better on
 * its gates. Returns the merged list and the ids that were replaced.
 */
export function mergeRetried(cases: readonly CaseResult[], retried: readonly CaseResult[], outcomes: readonly GateOutcome[]): { cases: CaseResult[]; replaced: string[] } {
  const replaced: string[] = [];
  const merged = cases.map((c) => {
    const again = retried.find((r) => r.id === c.id);
    if (!again || gateScore(again, outcomes) <= gateScore(c, outcomes)) return c;
    replaced.push(c.id);
    return again;
  });
  return { cases: merged, replaced };
}
