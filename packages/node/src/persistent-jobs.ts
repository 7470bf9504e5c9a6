import { type JobStore, type PersistedJob, type ShardSlice, validateJobSpec } from '@compotastic/orchestrator';
import { StateError } from './errors.js';
import type { DurableJobStore } from './job-store.js';

// The coordinator's job store on the node's state directory: each job is one record file (JSON with its byte arrays
// in base64), and job ids come from the directory's counter, reserved a block at a time, so they never repeat after a
// restart or a crash.

/** Ids reserved per write of the counter: a crash skips at most this many, a restart never reuses one. */
const ID_BLOCK = 64;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

const toB64 = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('base64'));
const fromB64 = (s: unknown, what: string): Uint8Array => {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new StateError('BAD_CONTENT', `job record: ${what} is not base64`);
  return new Uint8Array(Buffer.from(s, 'base64'));
};

export function encodePersistedJob(job: PersistedJob): Uint8Array {
  return encoder.encode(JSON.stringify({
    id: job.id, spec: job.spec, input: toB64(job.input), submittedMs: job.submittedMs, deadlineMs: job.deadlineMs, status: job.status,
    reason: job.reason, tag: job.tag, slices: job.slices, outputs: job.outputs.map(toB64), output: toB64(job.output), finishedMs: job.finishedMs,
  }));
}

/** Decodes a record written by encodePersistedJob; anything else is a typed BAD_CONTENT error. */
export function decodePersistedJob(bytes: Uint8Array, id: number): PersistedJob {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(decoder.decode(bytes)) as Record<string, unknown>;
  } catch (e) {
    throw new StateError('BAD_CONTENT', `job record ${id} is not JSON: ${(e as Error).message}`);
  }
  if (!o || typeof o !== 'object' || o.id !== id) throw new StateError('BAD_CONTENT', `job record ${id} does not hold job ${id}`);
  const num = (k: string, nullable = false): number | null => {
    const v = o[k];
    if (nullable && v === null) return null;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new StateError('BAD_CONTENT', `job record ${id}: ${k} must be a number`);
    return v;
  };
  const spec = o.spec as PersistedJob['spec'];
  try {
    validateJobSpec(spec);
  } catch (e) {
    throw new StateError('BAD_CONTENT', `job record ${id}: ${(e as Error).message}`);
  }
  if (o.status !== 'running' && o.status !== 'done' && o.status !== 'failed') throw new StateError('BAD_CONTENT', `job record ${id}: bad status`);
  if (!Array.isArray(o.slices) || !Array.isArray(o.outputs)) throw new StateError('BAD_CONTENT', `job record ${id}: slices and outputs must be arrays`);
  if (o.reason !== null && typeof o.reason !== 'string') throw new StateError('BAD_CONTENT', `job record ${id}: bad reason`);
  if (o.tag !== null && typeof o.tag !== 'string') throw new StateError('BAD_CONTENT', `job record ${id}: bad tag`);
  return {
    id,
    spec,
    input: fromB64(o.input, 'input'),
    submittedMs: num('submittedMs')!,
    deadlineMs: num('deadlineMs')!,
    status: o.status,
    reason: o.reason,
    tag: o.tag,
    slices: o.slices as ShardSlice[],
    outputs: o.outputs.map((x, i) => (x === null ? null : fromB64(x, `output ${i}`))),
    output: o.output === null ? null : fromB64(o.output, 'output'),
    finishedMs: num('finishedMs', true),
  };
}

export interface PersistentJobStoreOptions {
  /** A stored job that cannot be decoded: it is dropped from the store (never a crash loop). */
  onCorrupt?: (id: number, error: StateError) => void;
}

/** The orchestrator's JobStore over a DurableJobStore (the state directory's jobs/ and job-ids.json). */
export class PersistentJobStore implements JobStore {
  private next = 0;
  private left = 0;

  constructor(private readonly durable: DurableJobStore, private readonly options: PersistentJobStoreOptions = {}) {}

  save(job: PersistedJob): void {
    this.durable.saveJob(job.id, encodePersistedJob(job));
  }

  load(): PersistedJob[] {
    const jobs: PersistedJob[] = [];
    for (const stored of this.durable.loadJobs()) {
      try {
        jobs.push(decodePersistedJob(stored.record, stored.id));
      } catch (e) {
        if (!(e instanceof StateError)) throw e;
        this.options.onCorrupt?.(stored.id, e);
        this.durable.removeJob(stored.id);
      }
    }
    return jobs.sort((a, b) => a.submittedMs - b.submittedMs || a.id - b.id);
  }

  delete(id: number): void {
    this.durable.removeJob(id);
  }

  allocateJobId(): number {
    if (this.left === 0) {
      this.next = this.durable.reserveJobIds(ID_BLOCK);
      this.left = ID_BLOCK;
    }
    this.left--;
    return this.next++;
  }
}
