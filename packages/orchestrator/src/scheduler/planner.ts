import { nodeUserId } from '@compotastic/mesh';
import { type ShardSlice, proportionalRanges, sliceSpec } from '../jobs/split.js';
import { type JobSpec, describeSpec, inputBytes, outputBytes } from '../jobs/spec.js';
import type { AdvertisedState } from '../registry/state.js';
import {
  type BatteryPolicy,
  DEFAULT_BATTERY_POLICY,
  type ModelProfile,
  batteryAllows,
  canRun,
  computeBatteryPct,
  computeMs,
  expectedWithRecovery,
  jobOps,
  offloadCost,
  type OffloadCost,
  ownerCanSend,
  radioBatteryPct,
  survival,
} from './cost-model.js';
import { type LinkKind, type LinkPath, controlMessageMs, transfer } from './links.js';

export type PlanKind = 'local' | 'offload' | 'split' | 'pipeline' | 'none';

/** A node the planner may use, with the links that reach it. */
export interface PlanNode {
  num: number;
  state: AdvertisedState;
  /** Ways to reach it (empty for this node). */
  links: LinkPath[];
  /** Mean time between failures estimate, ms. */
  mtbfMs: number;
  /** Why it must not be used for this job (already failed it...). */
  excluded?: string;
}

export interface PlanPolicy extends BatteryPolicy {
  /** Most shards in a split plan (this node included). */
  maxShards: number;
  allowSplit: boolean;
  allowPipeline: boolean;
  /** Time until a lost worker is noticed (lease silence timeout), ms. */
  leaseDetectMs: number;
  /** This node's battery drain while transmitting, percent per hour. */
  txDrainPctPerHour: number;
}

export const DEFAULT_PLAN_POLICY: PlanPolicy = Object.freeze({
  ...DEFAULT_BATTERY_POLICY,
  maxShards: 4,
  allowSplit: true,
  allowPipeline: true,
  leaseDetectMs: 180_000,
  txDrainPctPerHour: 4,
});

export interface PlanRequest {
  spec: JobSpec;
  /** This node: its own state and whether its executors can run the job. */
  self: PlanNode & { canExecute: boolean };
  peers: readonly PlanNode[];
  policy?: Partial<PlanPolicy>;
  /** Per-layer figures for model jobs. */
  profile?: ModelProfile;
}

/** One shard of a plan: who runs which part, over which link, and what it is expected to cost. */
export interface PlanAssignment {
  node: number;
  self: boolean;
  slice: ShardSlice;
  spec: JobSpec;
  link: LinkKind;
  hops: number | null;
  inputBytes: number;
  outputBytes: number;
  transferInMs: number;
  computeMs: number;
  transferOutMs: number;
  /** When the shard is expected to finish, ms after the plan starts. */
  endMs: number;
  batteryCostPct: number;
}

export interface ConsideredPlan {
  kind: Exclude<PlanKind, 'none'>;
  nodes: number[];
  expectedMs: number | null;
  feasible: boolean;
  reason?: string;
}

/** The planner's decision and why, in a form the trace and a viewer can show. */
export interface Plan {
  kind: PlanKind;
  job: string;
  /** Expected completion including the chance of losing a worker and redoing its part, ms. */
  expectedMs: number;
  /** Completion if nothing fails, ms. */
  nominalMs: number;
  successProbability: number;
  assignments: PlanAssignment[];
  /** Every alternative looked at, feasible or not, best first. */
  considered: ConsideredPlan[];
  explanation: string;
}

interface Candidate {
  kind: Exclude<PlanKind, 'none'>;
  expectedMs: number;
  nominalMs: number;
  p: number;
  assignments: PlanAssignment[];
}

interface Participant {
  node: PlanNode;
  self: boolean;
  link: LinkPath | null;
}

function hopsOf(link: LinkPath | null): number | null {
  return link && link.kind === 'lora' ? link.hops : link ? 1 : null;
}

function linkKind(link: LinkPath | null): LinkKind {
  return link ? link.kind : 'local';
}

/**
 * Choose how to run a job: locally, offloaded whole to one peer, split into shards across peers (rows or columns of a
 * GEMM, items of a batch), or pipelined by layer range. The plan with the least expected completion time wins among
 * those that respect memory and the battery policy. Ties go to the simpler plan (local, then fewer nodes).
 */
export function planJob(req: PlanRequest): Plan {
  const policy: PlanPolicy = { ...DEFAULT_PLAN_POLICY, ...(req.policy ?? {}) };
  const spec = req.spec;
  const considered: ConsideredPlan[] = [];
  const candidates: Candidate[] = [];
  const ops = jobOps(spec, req.profile);
  const label = describeSpec(spec);
  if (ops === null) {
    return noPlan(label, [{ kind: 'local', nodes: [], expectedMs: null, feasible: false, reason: 'no operation count for this job (model profile missing)' }]);
  }

  const local = localCandidate(req, ops, policy);
  const finite = (c: Candidate): boolean => Number.isFinite(c.expectedMs);
  if ('reason' in local) considered.push({ kind: 'local', nodes: [req.self.num], expectedMs: null, feasible: false, reason: local.reason });
  else candidates.push(local);

  const offloads: Array<{ peer: PlanNode; cost: OffloadCost; cand: Candidate }> = [];
  for (const peer of req.peers) {
    const r = offloadCandidate(req, peer, ops, policy);
    if ('reason' in r) considered.push({ kind: 'offload', nodes: [peer.num], expectedMs: null, feasible: false, reason: r.reason });
    else {
      offloads.push(r);
      candidates.push(r.cand);
    }
  }
  offloads.sort((a, b) => a.cand.expectedMs - b.cand.expectedMs || a.peer.num - b.peer.num);

  if (policy.allowSplit) {
    for (const c of splitCandidates(req, ops, policy, offloads, local)) {
      if ('reason' in c) considered.push({ kind: 'split', nodes: c.nodes, expectedMs: null, feasible: false, reason: c.reason });
      else candidates.push(c);
    }
  }
  if (policy.allowPipeline && spec.kind === 'model' && req.profile) {
    const c = pipelineCandidate(req, policy, req.profile);
    if ('reason' in c) considered.push({ kind: 'pipeline', nodes: [], expectedMs: null, feasible: false, reason: c.reason });
    else candidates.push(c);
  }

  for (let i = candidates.length - 1; i >= 0; i--) {
    const c = candidates[i] as Candidate;
    if (!finite(c)) {
      candidates.splice(i, 1);
      considered.push({ kind: c.kind, nodes: c.assignments.map((a) => a.node), expectedMs: null, feasible: false, reason: 'advertises no measurable throughput' });
    }
  }
  const rank = (c: Candidate): number => ['local', 'offload', 'split', 'pipeline'].indexOf(c.kind) * 1000 + c.assignments.length;
  candidates.sort((a, b) => a.expectedMs - b.expectedMs || rank(a) - rank(b) || (a.assignments[0]?.node ?? 0) - (b.assignments[0]?.node ?? 0));
  for (const c of candidates) considered.push({ kind: c.kind, nodes: c.assignments.map((a) => a.node), expectedMs: round(c.expectedMs), feasible: true });
  considered.sort((a, b) => Number(b.feasible) - Number(a.feasible) || (a.expectedMs ?? Infinity) - (b.expectedMs ?? Infinity));
  const best = candidates[0];
  if (!best) return noPlan(label, considered);
  return {
    kind: best.kind,
    job: label,
    expectedMs: round(best.expectedMs),
    nominalMs: round(best.nominalMs),
    successProbability: Math.round(best.p * 1e4) / 1e4,
    assignments: best.assignments,
    considered: considered.slice(0, 12),
    explanation: explain(best, candidates, considered),
  };
}

/** Time a node's queue adds before a job of `ops` starts: its current load, each shard assumed as big as this one. */
function queueMsOf(state: AdvertisedState, ops: number): number {
  return state.load > 0 ? state.load * computeMs(ops, state.record.gops) : 0;
}

function busyMs(state: AdvertisedState, ops: number): number {
  return computeMs(ops, state.record.gops) + queueMsOf(state, ops);
}

function noPlan(label: string, considered: ConsideredPlan[]): Plan {
  const reasons = considered.filter((c) => !c.feasible).slice(0, 6).map((c) => `${c.kind}${c.nodes.length ? ` ${c.nodes.map(nodeName).join('+')}` : ''}: ${c.reason}`);
  return {
    kind: 'none',
    job: label,
    expectedMs: Infinity,
    nominalMs: Infinity,
    successProbability: 0,
    assignments: [],
    considered,
    explanation: `no feasible plan for ${label}${reasons.length ? ` (${reasons.join('; ')})` : ''}`,
  };
}

function localCandidate(req: PlanRequest, ops: number, policy: PlanPolicy): Candidate | { reason: string } {
  const self = req.self;
  if (self.excluded) return { reason: self.excluded };
  if (!self.canExecute) return { reason: 'no local executor runs this job' };
  const mem = canRun({ ...self.state, record: { ...self.state.record, acceptsJobs: true } }, req.spec, req.profile);
  if (!mem.ok) return { reason: mem.reason ?? 'cannot run' };
  const c = busyMs(self.state, ops);
  const cost = computeBatteryPct(self.state, c);
  const bat = batteryAllows(self.state, cost, policy, true);
  if (!bat.ok) return { reason: bat.reason ?? 'battery' };
  const a: PlanAssignment = {
    node: self.num,
    self: true,
    slice: { axis: 'whole' },
    spec: req.spec,
    link: 'local',
    hops: null,
    inputBytes: 0,
    outputBytes: 0,
    transferInMs: 0,
    computeMs: round(c),
    transferOutMs: 0,
    endMs: round(c),
    batteryCostPct: round4(cost),
  };
  return { kind: 'local', expectedMs: c, nominalMs: c, p: 1, assignments: [a] };
}

function bestLink(peer: PlanNode, inB: number, outB: number, ops: number, queueMs: number): OffloadCost | null {
  let best: OffloadCost | null = null;
  for (const link of peer.links) {
    const c = offloadCost(inB, outB, ops, peer.state.record.gops, link, queueMs);
    if (!best || c.totalMs < best.totalMs) best = c;
  }
  return best;
}

function offloadCandidate(req: PlanRequest, peer: PlanNode, ops: number, policy: PlanPolicy): { peer: PlanNode; cost: OffloadCost; cand: Candidate } | { reason: string } {
  if (peer.excluded) return { reason: peer.excluded };
  const can = canRun(peer.state, req.spec, req.profile);
  if (!can.ok) return { reason: can.reason ?? 'cannot run' };
  if (peer.links.length === 0) return { reason: 'no link reaches it' };
  const inB = inputBytes(req.spec);
  const outB = outputBytes(req.spec);
  const queueMs = queueMsOf(peer.state, ops);
  const cost = bestLink(peer, inB, outB, ops, queueMs);
  if (!cost) return { reason: 'no link reaches it' };
  const peerCost = computeBatteryPct(peer.state, cost.computeMs);
  const bat = batteryAllows(peer.state, peerCost, policy, false);
  if (!bat.ok) return { reason: bat.reason ?? 'battery' };
  const selfCost = radioBatteryPct(cost.input.senderAirtimeMs, policy.txDrainPctPerHour);
  const selfBat = ownerCanSend(req.self.state, selfCost);
  if (!selfBat.ok) return { reason: `this node cannot afford to send: ${selfBat.reason}` };
  const p = survival(cost.totalMs, peer.mtbfMs);
  const a: PlanAssignment = {
    node: peer.num,
    self: false,
    slice: { axis: 'whole' },
    spec: req.spec,
    link: cost.link.kind,
    hops: hopsOf(cost.link),
    inputBytes: inB,
    outputBytes: outB,
    transferInMs: round(cost.handshakeMs + cost.input.ms),
    computeMs: round(cost.computeMs),
    transferOutMs: round(cost.output.ms),
    endMs: round(cost.totalMs),
    batteryCostPct: round4(peerCost),
  };
  return {
    peer,
    cost,
    cand: { kind: 'offload', expectedMs: expectedWithRecovery(cost.totalMs, p, policy.leaseDetectMs), nominalMs: cost.totalMs, p, assignments: [a] },
  };
}

/** Units a job can be split along, and along which axis. */
function splitAxis(spec: JobSpec, parts: number): { axis: 'rows' | 'cols'; units: number } | null {
  if (spec.kind === 'gemm') {
    if (spec.m >= parts) return { axis: 'rows', units: spec.m };
    if (spec.weights === 'inline' && spec.topK === undefined && spec.n >= parts) return { axis: 'cols', units: spec.n };
    return null;
  }
  if (spec.batch >= parts && spec.inputBytes % spec.batch === 0 && spec.outputBytes % spec.batch === 0) return { axis: 'rows', units: spec.batch };
  return null;
}

interface ShardTiming {
  medium: LinkKind;
  handshakeMs: number;
  inMs: number;
  computeMs: number;
  outMs: number;
  endMs: number;
}

/**
 * Finish times of shards that share media: everything on one medium (the LoRa channel, this node's BLE radio) is sent
 * one after another, longest compute first; results come back one after another in the order they finish. Shards on
 * different media, and the local shard, overlap.
 */
export function scheduleShards(shards: ShardTiming[]): number {
  const byMedium = new Map<LinkKind, ShardTiming[]>();
  for (const s of shards) {
    const list = byMedium.get(s.medium) ?? [];
    list.push(s);
    byMedium.set(s.medium, list);
  }
  let makespan = 0;
  for (const [medium, list] of byMedium) {
    if (medium === 'local') {
      for (const s of list) {
        s.endMs = s.computeMs;
        makespan = Math.max(makespan, s.endMs);
      }
      continue;
    }
    list.sort((a, b) => b.computeMs - a.computeMs);
    let t = 0;
    const done: Array<{ s: ShardTiming; at: number }> = [];
    for (const s of list) {
      t += s.handshakeMs + s.inMs;
      done.push({ s, at: t + s.computeMs });
    }
    done.sort((a, b) => a.at - b.at);
    let out = t;
    for (const d of done) {
      out = Math.max(out, d.at) + d.s.outMs;
      d.s.endMs = out;
      makespan = Math.max(makespan, out);
    }
  }
  return makespan;
}

function splitCandidates(
  req: PlanRequest,
  ops: number,
  policy: PlanPolicy,
  offloads: Array<{ peer: PlanNode; cost: OffloadCost; cand: Candidate }>,
  local: Candidate | { reason: string },
): Array<Candidate | { nodes: number[]; reason: string }> {
  const pool: Participant[] = [];
  if (!('reason' in local)) pool.push({ node: req.self, self: true, link: null });
  for (const o of offloads) pool.push({ node: o.peer, self: false, link: o.cost.link });
  const out: Array<Candidate | { nodes: number[]; reason: string }> = [];
  const maxParts = Math.min(policy.maxShards, pool.length);
  for (let parts = 2; parts <= maxParts; parts++) {
    const axis = splitAxis(req.spec, parts);
    const members = pool.slice(0, parts);
    const nodes = members.map((m) => m.node.num);
    if (!axis) {
      out.push({ nodes, reason: `the job has too few rows/columns/items for ${parts} shards` });
      break;
    }
    const c = evaluateSplit(req, ops, policy, members, axis);
    out.push('reason' in c ? { nodes, reason: c.reason } : c);
  }
  return out;
}

function evaluateSplit(req: PlanRequest, ops: number, policy: PlanPolicy, members: Participant[], axis: { axis: 'rows' | 'cols'; units: number }): Candidate | { reason: string } {
  const spec = req.spec;
  // Weight each member by how fast it gets through one unit (its compute plus its share of the transfer).
  const unitOps = ops / axis.units;
  const weights = members.map((m) => {
    const c = computeMs(unitOps * axis.units, m.node.state.record.gops) / axis.units;
    const t = m.link ? transfer(inputBytes(spec) + outputBytes(spec), m.link).ms / axis.units : 0;
    return 1 / Math.max(1e-6, c + t);
  });
  const ranges = proportionalRanges(axis.units, weights);
  const timings: ShardTiming[] = [];
  const assignments: PlanAssignment[] = [];
  let p = 1;
  let selfRadioPct = 0;
  for (let i = 0; i < members.length; i++) {
    const m = members[i] as Participant;
    const [start, end] = ranges[i] as [number, number];
    const slice: ShardSlice = { axis: axis.axis, start, end };
    const shardSpec = sliceSpec(spec, slice);
    const shardOps = jobOps(shardSpec, req.profile) ?? unitOps * (end - start);
    const state = m.self ? { ...m.node.state, record: { ...m.node.state.record, acceptsJobs: true } } : m.node.state;
    const can = canRun(state, shardSpec, req.profile);
    if (!can.ok) return { reason: `${nodeName(m.node.num)}: ${can.reason}` };
    const c = busyMs(m.node.state, shardOps);
    const batCost = computeBatteryPct(m.node.state, c);
    const bat = batteryAllows(m.node.state, batCost, policy, m.self);
    if (!bat.ok) return { reason: `${nodeName(m.node.num)}: ${bat.reason}` };
    const inB = m.self ? 0 : inputBytes(shardSpec);
    const outB = m.self ? 0 : outputBytes(shardSpec);
    const input = m.link ? transfer(inB, m.link) : null;
    const output = m.link ? transfer(outB, m.link) : null;
    if (input) selfRadioPct += radioBatteryPct(input.senderAirtimeMs, policy.txDrainPctPerHour);
    const t: ShardTiming = {
      medium: linkKind(m.link),
      handshakeMs: m.link ? controlMessageMs(m.link) * 3 : 0,
      inMs: input?.ms ?? 0,
      computeMs: c,
      outMs: output?.ms ?? 0,
      endMs: 0,
    };
    timings.push(t);
    assignments.push({
      node: m.node.num,
      self: m.self,
      slice,
      spec: shardSpec,
      link: linkKind(m.link),
      hops: hopsOf(m.link),
      inputBytes: inB,
      outputBytes: outB,
      transferInMs: round(t.handshakeMs + t.inMs),
      computeMs: round(c),
      transferOutMs: round(t.outMs),
      endMs: 0,
      batteryCostPct: round4(batCost),
    });
  }
  const selfBat = ownerCanSend(req.self.state, selfRadioPct);
  if (!selfBat.ok) return { reason: `this node cannot afford to send: ${selfBat.reason}` };
  const makespan = scheduleShards(timings);
  timings.forEach((t, i) => {
    (assignments[i] as PlanAssignment).endMs = round(t.endMs);
    if (!(assignments[i] as PlanAssignment).self) p *= survival(t.endMs, (members[i] as Participant).node.mtbfMs);
  });
  return { kind: 'split', expectedMs: expectedWithRecovery(makespan, p, policy.leaseDetectMs), nominalMs: makespan, p, assignments };
}

/**
 * Layer-range stages over peers that have the model: fastest peers first, each taking as many consecutive layers as
 * its memory holds. Activations go back through this node between stages.
 */
function pipelineCandidate(req: PlanRequest, policy: PlanPolicy, profile: ModelProfile): Candidate | { reason: string } {
  const spec = req.spec;
  if (spec.kind !== 'model') return { reason: 'only model jobs pipeline' };
  if (profile.modelId !== spec.modelId || profile.modelVersion !== spec.modelVersion) return { reason: 'model profile does not match the job' };
  const peers = req.peers
    .filter((p) => !p.excluded && p.links.length > 0 && p.state.record.acceptsJobs && p.state.record.modelId === spec.modelId && p.state.record.modelVersion === spec.modelVersion)
    .sort((a, b) => b.state.record.gops - a.state.record.gops || a.num - b.num);
  const assignments: PlanAssignment[] = [];
  let layer = spec.layerStart;
  let inBytes = spec.inputBytes;
  let t = 0;
  let p = 1;
  for (const peer of peers) {
    if (layer >= spec.layerEnd) break;
    const freeBytes = peer.state.record.freeRamKiB * 1024;
    let end = layer;
    let mem = inBytes;
    while (end < spec.layerEnd) {
      const l = profile.layers[end];
      if (!l) return { reason: `model profile has no layer ${end}` };
      const need = mem + l.weightBytes + l.outputBytesPerItem * spec.batch;
      if (need > freeBytes) break;
      mem += l.weightBytes;
      end++;
    }
    if (end === layer) continue;
    const outBytes = (profile.layers[end - 1] as { outputBytesPerItem: number }).outputBytesPerItem * spec.batch;
    const slice: ShardSlice = { axis: 'layers', start: layer, end, inputBytes: inBytes, outputBytes: outBytes };
    const stageSpec = sliceSpec(spec, slice);
    const ops = jobOps(stageSpec, profile) ?? 0;
    const cost = bestLink(peer, inBytes, outBytes, ops, queueMsOf(peer.state, ops));
    if (!cost) continue;
    const batCost = computeBatteryPct(peer.state, cost.computeMs);
    if (!batteryAllows(peer.state, batCost, policy, false).ok) continue;
    t += cost.totalMs;
    p *= survival(cost.totalMs, peer.mtbfMs);
    assignments.push({
      node: peer.num,
      self: false,
      slice,
      spec: stageSpec,
      link: cost.link.kind,
      hops: hopsOf(cost.link),
      inputBytes: inBytes,
      outputBytes: outBytes,
      transferInMs: round(cost.handshakeMs + cost.input.ms),
      computeMs: round(cost.computeMs),
      transferOutMs: round(cost.output.ms),
      endMs: round(t),
      batteryCostPct: round4(batCost),
    });
    layer = end;
    inBytes = outBytes;
  }
  if (layer < spec.layerEnd) return { reason: `the peers with model ${spec.modelId} cannot hold layers ${layer}..${spec.layerEnd - 1}` };
  if (assignments.length < 2) return { reason: 'one peer holds every layer: that is an offload, not a pipeline' };
  return { kind: 'pipeline', expectedMs: expectedWithRecovery(t, p, policy.leaseDetectMs), nominalMs: t, p, assignments };
}

/** A node as the planner's explanations name it: its Meshtastic user id. */
export const nodeName = nodeUserId;

function fmtMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

function fmtBytes(b: number): string {
  return b < 1024 ? `${b} B` : `${(b / 1024).toFixed(1)} KiB`;
}

function explain(best: Candidate, candidates: Candidate[], considered: ConsideredPlan[]): string {
  const parts = best.assignments.map((a) => {
    if (a.self) return `this node computes ${describeSlice(a.slice)} in ${fmtMs(a.computeMs)}`;
    const via = a.link === 'lora' ? `LoRa, ${a.hops} hop${a.hops === 1 ? '' : 's'}` : a.link.toUpperCase();
    return `${nodeName(a.node)} (${via}) gets ${describeSlice(a.slice)}: send ${fmtBytes(a.inputBytes)} in ${fmtMs(a.transferInMs)}, compute ${fmtMs(a.computeMs)}, return ${fmtBytes(a.outputBytes)} in ${fmtMs(a.transferOutMs)}`;
  });
  const head = `${best.kind}: ${parts.join('; ')}; expected ${fmtMs(best.expectedMs)}`;
  const others: string[] = [];
  const seen = new Set<string>([best.kind]);
  for (const c of candidates.slice(1)) {
    if (seen.has(c.kind)) continue;
    seen.add(c.kind);
    others.push(`${c.kind} ${fmtMs(c.expectedMs)}`);
  }
  for (const c of considered) {
    if (c.feasible || seen.has(c.kind)) continue;
    seen.add(c.kind);
    others.push(`${c.kind} rejected (${c.reason})`);
  }
  return others.length ? `${head} (vs ${others.join(', ')})` : head;
}

function describeSlice(s: ShardSlice): string {
  switch (s.axis) {
    case 'whole':
      return 'the whole job';
    case 'rows':
      return `rows ${s.start}..${s.end - 1}`;
    case 'cols':
      return `columns ${s.start}..${s.end - 1}`;
    case 'layers':
      return `layers ${s.start}..${s.end - 1}`;
  }
}

function round(v: number): number {
  return Number.isFinite(v) ? Math.round(v * 10) / 10 : v;
}

function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
