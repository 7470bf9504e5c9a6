/** What one attack came to: the same shape for every suite of the project's adversarial harness. */
export interface AttackReport {
  suite: 'ota';
  attack: string;
  /** Share of the nodes (besides the publisher) that attack. */
  maliciousFraction: number;
  /** Malicious packets that reached an honest receiver. */
  tried: number;
  /** Of those, the ones that changed nothing a receiver trusts (no session taken, no symbol kept). */
  rejected: number;
  /** Forged offers or symbols a receiver acted on. */
  forgeriesAccepted: number;
  /** Replayed genuine old offers or symbols a receiver acted on. */
  replaysAccepted: number;
  /** Bundles a receiver was handed that are not the publisher's. */
  wrongResultsAccepted: number;
  /** Honest receivers that got the publisher's bundle with the attackers present... */
  jobsCompleted: number;
  /** ...and in the honest run on the same seed. */
  baselineJobsCompleted: number;
  notes?: string;
}
