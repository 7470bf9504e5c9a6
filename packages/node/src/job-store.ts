import { randomInt } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { removeFileDurable, writeFileAtomic } from './atomic-file.js';
import { StateError, ioError, type StateWarningHandler } from './errors.js';
import { loadOrQuarantine } from './quarantine.js';
import { asObject, badContent, decodeJsonFile, decodeStateFile, encodeJsonFile, encodeStateFile, intField, type FileKind } from './state-format.js';

// Jobs a coordinator owns, kept across restarts, and the job-id counter. Ids are u32 (the wire's varint job id),
// never 0. The counter is a high-water mark written *before* ids are handed out, so a crash after reserving (or after
// using) ids can only skip some, never repeat one. Each job is its own file, so saving one job rewrites only it.

export const JOB_IDS_FILE = 'job-ids.json';
export const JOBS_DIR = 'jobs';
export const MAX_JOB_ID = 0xffffffff;
/** The most ids one reservation may take. */
export const MAX_RESERVATION = 65536;

const IDS_KIND: FileKind = { kind: 'job-ids', version: 1 };
const JOB_KIND: FileKind = { kind: 'job', version: 1 };
const JOB_NAME = /^([1-9]\d{0,9})\.job$/;

/** A stored job: its id and the coordinator's own encoding of it. */
export interface StoredJob {
  id: number;
  record: Uint8Array;
}

/**
 * What a coordinator needs from durable storage: ids that never repeat and jobs that survive a restart. Records are
 * opaque bytes; the coordinator encodes its own job representation.
 */
export interface DurableJobStore {
  /** Reserves `count` consecutive ids and returns the first; they are never handed out again, even after a crash. */
  reserveJobIds(count: number): number;
  /** Stores (or replaces) a job's record durably before returning. */
  saveJob(id: number, record: Uint8Array): void;
  /** Forgets a job durably; removing an unknown id does nothing. */
  removeJob(id: number): void;
  /** Every stored job, by increasing id. */
  loadJobs(): StoredJob[];
}

export function encodeJobIds(next: number): Uint8Array {
  return encodeJsonFile(IDS_KIND, { next });
}

/** The next id the counter hands out. */
export function decodeJobIds(bytes: Uint8Array, file?: string): number {
  return intField(IDS_KIND, asObject(IDS_KIND, decodeJsonFile(IDS_KIND, bytes, file), file), 'next', 1, MAX_JOB_ID, file);
}

/** A job file: the id (u32 little-endian, checked against the file name) then the record. */
export function encodeJob(job: StoredJob): Uint8Array {
  const body = new Uint8Array(4 + job.record.length);
  new DataView(body.buffer).setUint32(0, job.id, true);
  body.set(job.record, 4);
  return encodeStateFile(JOB_KIND, body);
}

export function decodeJob(bytes: Uint8Array, file?: string): StoredJob {
  const body = decodeStateFile(JOB_KIND, bytes, file);
  if (body.length < 4) throw badContent(JOB_KIND, 'body is shorter than a job id', file);
  const id = new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true);
  if (id === 0) throw badContent(JOB_KIND, 'job id 0', file);
  return { id, record: body.slice(4) };
}

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 1 || id > MAX_JOB_ID) throw new StateError('INVALID_ARGUMENT', `job id must be an integer 1..${MAX_JOB_ID}, got ${id}`);
}

export interface FileJobStoreOptions {
  /** First id of a brand-new counter; default random in 1..2^30 as the coordinator picks (so ids from an earlier,
   *  unstored life of the node are unlikely to be met again by workers). */
  firstJobId?: number;
  /** Receives each damaged file once (it is set aside and that part starts fresh). */
  onWarning?: StateWarningHandler;
}

/** DurableJobStore over a directory: job-ids.json and jobs/<id>.job. */
export class FileJobStore implements DurableJobStore {
  private next: number;
  private readonly jobs = new Map<number, Uint8Array>();
  private closed = false;

  private constructor(
    private readonly dir: string,
    next: number,
  ) {
    this.next = next;
  }

  static open(dir: string, options: FileJobStoreOptions = {}): FileJobStore {
    const report = options.onWarning ?? (() => {});
    const jobsDir = join(dir, JOBS_DIR);
    try {
      mkdirSync(jobsDir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw ioError('cannot create', jobsDir, e);
    }
    const idsPath = join(dir, JOB_IDS_FILE);
    const storedNext = loadOrQuarantine(idsPath, (b) => decodeJobIds(b, idsPath), report);
    const store = new FileJobStore(dir, storedNext ?? firstId(options.firstJobId));
    let names: string[];
    try {
      names = readdirSync(jobsDir);
    } catch (e) {
      throw ioError('cannot list', jobsDir, e);
    }
    for (const name of names) {
      const m = JOB_NAME.exec(name);
      if (!m) continue;
      const path = join(jobsDir, name);
      const job = loadOrQuarantine(
        path,
        (b) => {
          const j = decodeJob(b, path);
          if (String(j.id) !== m[1]) throw badContent(JOB_KIND, `holds job ${j.id}, its name says ${m[1]}`, path);
          return j;
        },
        report,
      );
      if (job) store.jobs.set(job.id, job.record);
    }
    if (storedNext === null) {
      // A lost or damaged counter restarts above every stored job; written now so the next open agrees.
      for (const id of store.jobs.keys()) if (id >= store.next) store.next = id === MAX_JOB_ID ? 1 : id + 1;
      store.persistNext(store.next);
    }
    return store;
  }

  private get jobsDir(): string {
    return join(this.dir, JOBS_DIR);
  }

  private check(): void {
    if (this.closed) throw new StateError('CLOSED', 'the job store is closed');
  }

  private persistNext(next: number): void {
    writeFileAtomic(join(this.dir, JOB_IDS_FILE), encodeJobIds(next));
    this.next = next;
  }

  /** Moves the counter past `id` if it is not already (a record saved under an id this store never handed out). */
  private coverId(id: number): void {
    if (id >= this.next) this.persistNext(id === MAX_JOB_ID ? 1 : id + 1);
  }

  /** The id the next reservation starts at (or 1, after a wrap). */
  get nextJobId(): number {
    return this.next;
  }

  reserveJobIds(count: number): number {
    this.check();
    if (!Number.isInteger(count) || count < 1 || count > MAX_RESERVATION) {
      throw new StateError('INVALID_ARGUMENT', `can reserve 1..${MAX_RESERVATION} job ids, not ${count}`);
    }
    // The u32 space wraps to 1 as the coordinator's counter does: ids repeat only after 2^32 - 1 have been used.
    const first = this.next + count - 1 > MAX_JOB_ID ? 1 : this.next;
    const end = first + count;
    this.persistNext(end > MAX_JOB_ID ? 1 : end);
    return first;
  }

  saveJob(id: number, record: Uint8Array): void {
    this.check();
    checkId(id);
    this.coverId(id);
    writeFileAtomic(join(this.jobsDir, `${id}.job`), encodeJob({ id, record }));
    this.jobs.set(id, record.slice());
  }

  removeJob(id: number): void {
    this.check();
    checkId(id);
    removeFileDurable(join(this.jobsDir, `${id}.job`));
    this.jobs.delete(id);
  }

  loadJobs(): StoredJob[] {
    this.check();
    return [...this.jobs.entries()].sort((a, b) => a[0] - b[0]).map(([id, record]) => ({ id, record: record.slice() }));
  }

  close(): void {
    this.closed = true;
  }
}

function firstId(chosen: number | undefined): number {
  if (chosen === undefined) return randomInt(1, 0x40000001);
  checkId(chosen);
  return chosen;
}
