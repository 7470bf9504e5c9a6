/**
 * One attack's outcome at one share of malicious nodes. Every suite (compute here, OTA in @compotastic/ota/attacks)
 * reports in this shape, so the attack script prints them as one table.
 */
export interface AttackReport {
  suite: string;
  attack: string;
  /** Share of the nodes that are malicious, 0..1. */
  maliciousFraction: number;
  /** Malicious packets (or assignments) sent. */
  tried: number;
  /** Of those, refused by every honest node they reached. */
  rejected: number;
  forgeriesAccepted: number;
  replaysAccepted: number;
  /** Jobs that finished with output other than the honest computation's. */
  wrongResultsAccepted: number;
  jobsCompleted: number;
  /** Jobs completed on the same seed with the malicious nodes silent. */
  baselineJobsCompleted: number;
  notes?: string;
}

/** A suite of attacks: resolves to one report per attack and malicious share. */
export type AttackSuite = (options: { seed: number; json?: boolean }) => Promise<AttackReport[]>;
