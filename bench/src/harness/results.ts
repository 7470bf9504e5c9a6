// The result file: one JSON document per suite run, written to
// bench/results/<suite>-<timestamp>.json.

import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import type { GateOutcome } from './gates.js';
import type { Work } from './suite.js';

export const RESULT_SCHEMA = 'compotastic-bench/1';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  arch: string;
  node: string;
  v8: string;
  /** The 1-minute load average when the suite started: how busy the cores were (older files lack it). */
  load1?: number;
}

export type ContenderStatus = 'ok' | 'skipped' | 'failed' | 'wrong';

export interface ContenderResult {
  id: string;
  label: string;
  role: 'ours' | 'peer';
  nodeFlags?: string[];
  status: ContenderStatus;
  /** Why it was skipped, failed or wrong. */
  reason?: string;
  /** Median over rounds of each round's median time per call. */
  medianMs?: number;
  roundsMs?: number[];
  /** In a figure case: the quantity this contender reported (in the case's `figure` unit). */
  figure?: number;
  gops?: number;
  gbps?: number;
}

export interface RatioResult {
  key: string;
  ours: string;
  peer: string;
  /** Median over rounds of time(peer) / time(ours), each pair measured in the same round; figure(peer) / figure(ours) in a figure case. */
  value?: number;
  rounds?: number[];
  /** Why there is no value (a contender skipped or failed). */
  missing?: string;
}

export interface CaseResult {
  id: string;
  group: string;
  work?: Work;
  note?: string;
  skipped?: string;
  contenders: ContenderResult[];
  ratios: RatioResult[];
  /** What the case measures instead of time (its figures are stored with the result); its time per call is not shown. */
  untimed?: string;
  /** The unit of the quantity a figure case compares (its contenders' `figure`); nothing in it was timed. */
  figure?: string;
  /** The case's own lower bound on timed calls, when it sets one (slow cases). */
  minIterations?: number;
  /** Wall time of the whole case (setup and every round), ms: the next run's progress estimate. */
  wallMs?: number;
}

export interface RunSettings {
  rounds: number;
  timeMs: number;
  minIterations: number;
  warmupMs: number;
}

export interface SuiteResult {
  schema: typeof RESULT_SCHEMA;
  suite: string;
  description: string;
  mode: 'full' | 'short';
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  /** What was measured: build flags, versions (from the suite's describe()). */
  build: Record<string, unknown>;
  settings: RunSettings;
  cases: CaseResult[];
  gates: GateOutcome[];
}

export function machineInfo(): MachineInfo {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${type()} ${release()}`,
    arch: arch(),
    node: process.version,
    v8: process.versions.v8,
    load1: Math.round(loadavg()[0]! * 100) / 100,
  };
}

/** GOPS and GB/s of a time per call. */
export function throughput(work: Work | undefined, ms: number): { gops?: number; gbps?: number } {
  const out: { gops?: number; gbps?: number } = {};
  if (!(ms > 0) || !work) return out;
  if (work.ops) out.gops = work.ops / (ms * 1e6);
  if (work.bytes) out.gbps = work.bytes / (ms * 1e6);
  return out;
}

/** A file-name-safe timestamp: 2025-01-31T12-00-00Z. */
export function fileStamp(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

export function resultFileName(result: Pick<SuiteResult, 'suite' | 'startedAt'>): string {
  return `${result.suite}-${fileStamp(result.startedAt)}.json`;
}

export function writeResult(dir: string, result: SuiteResult): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, resultFileName(result));
  writeFileSync(path, JSON.stringify(result, null, 2) + '\n');
  return path;
}

/** Checks that parsed JSON has the result shape (used by tests and by tools reading old results). */
export function isSuiteResult(value: unknown): value is SuiteResult {
  const r = value as SuiteResult;
  return typeof r === 'object' && r !== null && r.schema === RESULT_SCHEMA && typeof r.suite === 'string'
    && typeof r.machine?.cpu === 'string' && Number.isInteger(r.machine?.cores) && typeof r.machine?.v8 === 'string'
    && Array.isArray(r.cases) && r.cases.every((c) => typeof c.id === 'string' && Array.isArray(c.contenders) && Array.isArray(c.ratios))
    && Array.isArray(r.gates);
}
