import { type JobSpec, memoryBytes, opsOf, requiredModel } from '../jobs/spec.js';
import type { AdvertisedState } from '../registry/state.js';
import { BATTERY_UNKNOWN } from '../wire/messages.js';
import { type LinkPath, type TransferEstimate, controlMessageMs, transfer } from './links.js';

/** Per-layer figures of an installed model, from its bundle manifest. */
export interface ModelProfile {
  modelId: number;
  modelVersion: number;
  /** Bytes of one input item to layer 0. */
  inputBytesPerItem: number;
  layers: Array<{ ops: number; weightBytes: number; outputBytesPerItem: number }>;
}

/** Fixed cost of starting an executor for one job (argument checks, packing), ms. */
export const EXECUTOR_OVERHEAD_MS = 2;

/** Expected compute time of `ops` integer operations at `gops` GOPS, ms. */
export function computeMs(ops: number, gops: number): number {
  if (!(gops > 0)) return Infinity;
  return EXECUTOR_OVERHEAD_MS + ops / (gops * 1e6);
}

/** Operations of a job: exact for GEMM, from the model profile for layer ranges (null when unknown). */
export function jobOps(spec: JobSpec, profile?: ModelProfile): number | null {
  const direct = opsOf(spec);
  if (direct !== null) return direct;
  if (spec.kind !== 'model' || !profile || profile.modelId !== spec.modelId) return null;
  let ops = 0;
  for (let l = spec.layerStart; l < spec.layerEnd; l++) {
    const layer = profile.layers[l];
    if (!layer) return null;
    ops += layer.ops * spec.batch;
  }
  return ops;
}

/** Battery percentage a node spends computing for `ms` (0 on external power or when the drain is unknown). */
export function computeBatteryPct(state: AdvertisedState, ms: number): number {
  if (state.record.externalPower) return 0;
  return (ms / 3_600_000) * state.record.computeDrainPctPerHour;
}

/**
 * The owner's radio energy for sending a job must not drain it: unlike compute, the owner asked for this work, so only
 * an empty battery stops it.
 */
export function ownerCanSend(state: AdvertisedState, costPct: number): CapabilityCheck {
  if (state.record.externalPower || state.battery === BATTERY_UNKNOWN || state.battery - costPct > 0) return { ok: true };
  return { ok: false, reason: `battery ${state.battery}% cannot pay for ${costPct.toFixed(3)}% of transmissions` };
}

/** Battery percentage spent transmitting for `airtimeMs` at `txDrainPctPerHour`. */
export function radioBatteryPct(airtimeMs: number, txDrainPctPerHour: number): number {
  return (airtimeMs / 3_600_000) * txDrainPctPerHour;
}

export interface CapabilityCheck {
  ok: boolean;
  reason?: string;
}

/** Memory a job needs on its worker; for a layer range the model profile adds the weights of those layers. */
export function jobMemoryBytes(spec: JobSpec, profile?: ModelProfile): number {
  let bytes = memoryBytes(spec);
  if (spec.kind === 'model' && profile && profile.modelId === spec.modelId) {
    for (let l = spec.layerStart; l < spec.layerEnd; l++) bytes += profile.layers[l]?.weightBytes ?? 0;
  }
  return bytes;
}

/** Whether an advertised node can run a job at all (ignoring battery): precision, executor, installed model, memory. */
export function canRun(state: AdvertisedState, spec: JobSpec, profile?: ModelProfile): CapabilityCheck {
  const r = state.record;
  if (!r.acceptsJobs) return { ok: false, reason: 'does not accept jobs' };
  if (!r.precisions.includes('int8')) return { ok: false, reason: 'no int8 support' };
  if (spec.kind === 'gemm') {
    const kernel = r.kernelBuild !== 'none';
    const onnx = r.onnxRuntime && !spec.requant;
    if (!kernel && !onnx) return { ok: false, reason: 'no executor for this GEMM' };
  }
  const model = requiredModel(spec);
  if (model !== 0 && r.modelId !== model) return { ok: false, reason: `model ${model} is not installed` };
  if (spec.kind === 'model' && r.modelVersion !== spec.modelVersion) return { ok: false, reason: `model ${model} v${spec.modelVersion} is not installed (has v${r.modelVersion})` };
  const needKiB = Math.ceil(jobMemoryBytes(spec, profile) / 1024);
  if (needKiB > r.freeRamKiB) return { ok: false, reason: `needs ${needKiB} KiB of RAM, has ${r.freeRamKiB}` };
  return { ok: true };
}

export interface BatteryPolicy {
  /** Peers below this battery level get no work. */
  minPeerBatteryPct: number;
  /** No node (this one included) may be left below this level by a job. */
  reserveBatteryPct: number;
}

export const DEFAULT_BATTERY_POLICY: BatteryPolicy = Object.freeze({ minPeerBatteryPct: 20, reserveBatteryPct: 10 });

/** Battery check for giving `costPct` of work to a node (self: no minimum beyond the reserve). */
export function batteryAllows(state: AdvertisedState, costPct: number, policy: BatteryPolicy, isSelf: boolean): CapabilityCheck {
  if (state.record.externalPower || state.battery === BATTERY_UNKNOWN) return { ok: true };
  if (costPct <= 0 && isSelf) return { ok: true };
  if (!isSelf && state.battery < policy.minPeerBatteryPct) return { ok: false, reason: `battery ${state.battery}% is below the ${policy.minPeerBatteryPct}% threshold` };
  if (state.battery - costPct < policy.reserveBatteryPct) {
    return { ok: false, reason: `battery ${state.battery}% would fall below the ${policy.reserveBatteryPct}% reserve` };
  }
  return { ok: true };
}

export interface OffloadCost {
  link: LinkPath;
  handshakeMs: number;
  input: TransferEstimate;
  computeMs: number;
  output: TransferEstimate;
  totalMs: number;
}

/** Whole-job offload to one peer over one link: ASSIGN/ACCEPT handshake, input, compute, RESULT and output. */
export function offloadCost(inBytes: number, outBytes: number, ops: number, gops: number, link: LinkPath, queueMs = 0): OffloadCost {
  const handshakeMs = controlMessageMs(link) * 3;
  const input = transfer(inBytes, link);
  const c = computeMs(ops, gops) + queueMs;
  const output = transfer(outBytes, link);
  return { link, handshakeMs, input, computeMs: c, output, totalMs: handshakeMs + input.ms + c + output.ms };
}

/** Probability a peer stays up for `ms`, from its mean time between failures. */
export function survival(ms: number, mtbfMs: number): number {
  if (!(mtbfMs > 0)) return 0;
  return Math.exp(-ms / mtbfMs);
}

/**
 * Expected completion with recovery: with probability 1-p the work is lost, noticed after `detectMs`, and done
 * again (assumed to take as long).
 */
export function expectedWithRecovery(nominalMs: number, p: number, detectMs: number): number {
  return nominalMs + (1 - p) * (detectMs + nominalMs);
}
