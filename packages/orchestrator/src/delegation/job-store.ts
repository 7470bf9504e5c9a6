import type { JobMission } from '../mission/profiles.js';
import type { ShardSlice } from '../jobs/split.js';
import type { JobSpec } from '../jobs/spec.js';

export type JobStatus = 'running' | 'done' | 'failed';

/** What a coordinator must not lose across a power cycle: the job, its input, and finished shard results. */
export interface PersistedJob {
  id: number;
  spec: JobSpec;
  input: Uint8Array;
  submittedMs: number;
  deadlineMs: number;
  status: JobStatus;
  reason: string | null;
  tag: string | null;
  slices: ShardSlice[];
  /** Finished shard outputs by shard index. */
  outputs: Array<Uint8Array | null>;
  output: Uint8Array | null;
  finishedMs: number | null;
  /** The job's profile and class (jobs stored before missions existed: the default profile's). */
  mission?: JobMission;
}

/** Durable job storage (flash, a file, IndexedDB...). Writes happen on every state change of a job. */
export interface JobStore {
  save(job: PersistedJob): void;
  load(): PersistedJob[];
  delete(id: number): void;
}

/** Keeps jobs in memory: survives a simulated power cycle because the object outlives the node's volatile state. */
export class MemoryJobStore implements JobStore {
  private readonly jobs = new Map<number, PersistedJob>();

  save(job: PersistedJob): void {
    this.jobs.set(job.id, { ...job, slices: [...job.slices], outputs: [...job.outputs] });
  }

  load(): PersistedJob[] {
    return [...this.jobs.values()].sort((a, b) => a.submittedMs - b.submittedMs || a.id - b.id).map((j) => ({ ...j, slices: [...j.slices], outputs: [...j.outputs] }));
  }

  delete(id: number): void {
    this.jobs.delete(id);
  }
}
