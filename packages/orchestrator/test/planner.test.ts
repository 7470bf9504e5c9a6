import { describe, expect, it } from 'vitest';
import type { GemmSpec, JobSpec } from '../src/jobs/spec.js';
import type { CapabilityRecord } from '../src/registry/capability.js';
import type { AdvertisedState } from '../src/registry/state.js';
import { type ModelProfile, canRun, computeMs } from '../src/scheduler/cost-model.js';
import { BLE_DEFAULT, WIFI_DEFAULT, type LoRaPath, bestDataChunk, hopSuccess, loraTransfer, fastTransfer } from '../src/scheduler/links.js';
import { type PlanNode, planJob, scheduleShards } from '../src/scheduler/planner.js';

const lora = (hops: number, util = 10): LoRaPath => ({ kind: 'lora', preset: 'LONG_FAST', hops, channelUtilPct: util, dutyCyclePct: 100, txUtilPct: 0 });

function node(num: number, cls: CapabilityRecord['deviceClass'], gops: number, ramKiB: number, battery: number, links: PlanNode['links'], extra: Partial<CapabilityRecord> = {}): PlanNode {
  const state: AdvertisedState = {
    record: {
      deviceClass: cls,
      accelerators: [],
      precisions: ['int8'],
      onnxRuntime: false,
      kernelBuild: cls === 'microcontroller' ? 'scalar' : 'simd',
      acceptsJobs: true,
      externalPower: false,
      portBlocked: false,
      links: { ble: true, wifi: false },
      modelFamilies: ['gemm'],
      freeRamKiB: ramKiB,
      gops,
      firmwareVersion: '2.6.11',
      modelId: 0,
      modelVersion: 0,
      computeDrainPctPerHour: 20,
      epoch: 0,
      ...extra,
    },
    battery,
    load: 0,
    channelUtil: 10,
    ttlS: 1800,
  };
  return { num, state, links, mtbfMs: 4 * 3_600_000 };
}

const selfMcu = { ...node(1, 'microcontroller', 0.05, 150, 70, []), canExecute: true };
const gemm = (m: number, k: number, n: number, weights: GemmSpec['weights'] = 'inline', requant = false): GemmSpec => ({
  kind: 'gemm', m, k, n, aType: 'uint8', bType: 'int8', aZeroPoint: 128, bZeroPoint: 0, weights,
  ...(requant ? { requant: { multiplier: 1 << 30, shift: -10, zeroPoint: 0, type: 'int8' as const } } : {}),
});

describe('link cost model', () => {
  it('grows with hops, channel utilization and bytes; BLE beats LoRa by orders of magnitude', () => {
    const t = (bytes: number, p: LoRaPath) => loraTransfer(bytes, p).ms;
    expect(t(1000, lora(2))).toBeGreaterThan(t(1000, lora(1)));
    expect(t(1000, lora(1, 40))).toBeGreaterThan(t(1000, lora(1, 5)));
    expect(t(4000, lora(1))).toBeGreaterThan(3 * t(1000, lora(1)));
    expect(t(0, lora(1))).toBe(0);
    expect(fastTransfer(4000, BLE_DEFAULT).ms * 50).toBeLessThan(t(4000, lora(1)));
    // One LONG_FAST hop of a full packet takes at least its 2.16 s airtime.
    expect(t(219, lora(1, 0))).toBeGreaterThan(2156);
  });

  it('shrinks chunks on a busy channel, where long packets collide more', () => {
    expect(hopSuccess(lora(1, 40), 231)).toBeLessThan(hopSuccess(lora(1, 40), 40));
    expect(bestDataChunk(lora(1, 0))).toBeGreaterThan(bestDataChunk(lora(3, 50)));
    expect(bestDataChunk(lora(1, 0))).toBeGreaterThan(200);
  });

  it('counts the duty-cycle budget: an EU node that used its hour waits', () => {
    const eu = (used: number): LoRaPath => ({ ...lora(1), dutyCyclePct: 10, txUtilPct: used });
    expect(loraTransfer(20_000, eu(9.9)).ms).toBeGreaterThan(loraTransfer(20_000, eu(0)).ms * 2);
  });
});

describe('planner', () => {
  it('runs a small job locally when that is fastest', () => {
    const plan = planJob({ spec: gemm(1, 64, 16), self: selfMcu, peers: [node(2, 'phone', 100, 1 << 20, 80, [lora(1)])] });
    expect(plan.kind).toBe('local');
    expect(plan.assignments[0]?.self).toBe(true);
    expect(plan.explanation).toMatch(/^local:/);
  });

  it('offloads the whole job over LoRa to the best peer when local is infeasible, and says why', () => {
    const spec = gemm(1, 1024, 256, { resident: 0x10000 }, true);
    const peers = [
      node(2, 'phone', 100, 1 << 20, 80, [lora(3)], { modelId: 1, modelVersion: 1 }),
      node(3, 'phone', 100, 1 << 20, 80, [lora(1)], { modelId: 1, modelVersion: 1 }),
      node(4, 'laptop', 500, 1 << 22, 90, [lora(1)]), // no model: cannot run resident weights
    ];
    const plan = planJob({ spec, self: { ...selfMcu, canExecute: false }, peers });
    expect(plan.kind).toBe('offload');
    expect(plan.assignments[0]?.node).toBe(3);
    expect(plan.assignments[0]?.link).toBe('lora');
    expect(plan.explanation).toContain('local rejected');
    expect(plan.considered.find((c) => c.nodes.includes(4))?.reason).toMatch(/model 1 is not installed/);
  });

  it('does not split over LoRa: shipping activations costs more than it saves', () => {
    const spec = gemm(64, 256, 256, 'inline');
    const peers = [2, 3, 4].map((n) => node(n, 'phone', 100, 1 << 20, 80, [lora(1)]));
    const plan = planJob({ spec, self: { ...node(1, 'sbc', 20, 1 << 20, 80, []), canExecute: true }, peers });
    expect(plan.kind).not.toBe('split');
    // The split was costed and is feasible: it loses on time, not on a constraint.
    const split = plan.considered.find((c) => c.kind === 'split' && c.feasible);
    expect(split).toBeDefined();
    expect(split!.expectedMs).toBeGreaterThan(plan.expectedMs);
  });

  it('splits a compute-heavy batch over a fast short link, but not the same job over LoRa', () => {
    // Single-board computers side by side with the layer's weights installed: 2.1 G operations, 4.3 s on one of them.
    const spec = gemm(64, 4096, 4096, { resident: 0x10000 }, true);
    const sbc = (num: number, gops: number, links: PlanNode['links']) => node(num, 'sbc', gops, 256 * 1024, 80, links, { modelId: 1 });
    const self = { ...sbc(1, 0.5, []), canExecute: true };
    const near = [sbc(2, 1, [lora(1), WIFI_DEFAULT]), sbc(3, 0.5, [lora(1), WIFI_DEFAULT])];
    const plan = planJob({ spec, self, peers: near, policy: { maxShards: 3 } });
    expect(plan.kind).toBe('split');
    const rows = new Map(plan.assignments.map((a) => [a.node, a.slice.axis === 'rows' ? a.slice.end - a.slice.start : 0]));
    expect(rows.get(2) ?? 0).toBeGreaterThan(rows.get(3) ?? 0);
    expect([...rows.values()].reduce((a, b) => a + b, 0)).toBe(64);
    // All three take part, the peers over Wi-Fi.
    expect(plan.assignments.map((a) => [a.node, a.link])).toEqual([[1, 'local'], [2, 'wifi'], [3, 'wifi']]);
    expect(plan.expectedMs).toBeLessThan(plan.considered.find((c) => c.kind === 'local')?.expectedMs ?? 0);
    const far = near.map((p) => ({ ...p, links: [lora(1)] }));
    const overLora = planJob({ spec, self, peers: far, policy: { maxShards: 3 } });
    expect(overLora.kind).toBe('local');
    expect(overLora.explanation).toMatch(/split .* min/);
  });

  it('respects battery thresholds and memory, and reports no plan with reasons when nothing fits', () => {
    const spec = gemm(1, 1024, 256, { resident: 0x10000 }, true);
    const low = node(2, 'phone', 100, 1 << 20, 12, [lora(1)], { modelId: 1 });
    const tiny = node(3, 'phone', 100, 64, 90, [lora(1)], { modelId: 1 });
    const mains = node(4, 'laptop', 500, 1 << 22, 5, [lora(2)], { modelId: 1, externalPower: true });
    let plan = planJob({ spec, self: { ...selfMcu, canExecute: false }, peers: [low, tiny] });
    expect(plan.kind).toBe('none');
    expect(plan.explanation).toMatch(/below the 20% threshold/);
    expect(plan.explanation).toMatch(/KiB of RAM/);
    plan = planJob({ spec, self: { ...selfMcu, canExecute: false }, peers: [low, tiny, mains] });
    expect(plan.assignments[0]?.node).toBe(4);
    // A peer whose battery the job would push below the reserve is skipped too.
    const heavy = gemm(512, 2048, 2048, 'inline');
    const drained = node(5, 'phone', 0.01, 1 << 22, 21, [BLE_DEFAULT], { computeDrainPctPerHour: 400 });
    plan = planJob({ spec: heavy, self: { ...selfMcu, canExecute: false }, peers: [drained] });
    expect(plan.kind).toBe('none');
    expect(plan.explanation).toMatch(/reserve/);
  });

  it('prefers a reliable peer over a slightly faster one that keeps dropping out', () => {
    const spec = gemm(1, 1024, 256, { resident: 0x10000 }, true);
    const flaky = { ...node(2, 'laptop', 500, 1 << 22, 90, [lora(1)], { modelId: 1 }), mtbfMs: 60_000 };
    const steady = node(3, 'phone', 100, 1 << 20, 90, [lora(1)], { modelId: 1 });
    const plan = planJob({ spec, self: { ...selfMcu, canExecute: false }, peers: [flaky, steady] });
    expect(plan.assignments[0]?.node).toBe(3);
    expect(plan.successProbability).toBeGreaterThan(0.9);
  });

  it('pipelines layer ranges when no single peer holds the whole model', () => {
    const profile: ModelProfile = {
      modelId: 7,
      modelVersion: 1,
      inputBytesPerItem: 512,
      layers: Array.from({ length: 6 }, () => ({ ops: 50e6, weightBytes: 300 * 1024, outputBytesPerItem: 256 })),
    };
    const spec: JobSpec = { kind: 'model', modelId: 7, modelVersion: 1, layerStart: 0, layerEnd: 6, batch: 1, inputBytes: 512, outputBytes: 256 };
    const peers = [2, 3, 4].map((n) => node(n, 'sbc', 20, 1024, 90, [BLE_DEFAULT], { modelId: 7, modelVersion: 1 }));
    const plan = planJob({ spec, self: { ...selfMcu, canExecute: false }, peers, profile });
    expect(plan.kind).toBe('pipeline');
    const stages = plan.assignments.map((a) => (a.slice.axis === 'layers' ? [a.slice.start, a.slice.end] : []));
    expect(stages.flat()[0]).toBe(0);
    expect(stages.flat().at(-1)).toBe(6);
    for (let i = 1; i < stages.length; i++) expect(stages[i]?.[0]).toBe(stages[i - 1]?.[1]);
    // Without a profile the planner cannot cost a model job and says so.
    expect(planJob({ spec, self: { ...selfMcu, canExecute: false }, peers }).explanation).toMatch(/model profile missing/);
  });

  it('schedules shards on a shared medium one after another, and local shards in parallel', () => {
    const t = (medium: 'lora' | 'local', inMs: number, computeMs: number, outMs: number) => ({ medium, handshakeMs: 0, inMs, computeMs, outMs, endMs: 0 });
    // Inputs go out at 10 and 20, computes end at 110 and 120, results come back at 120 and 130.
    expect(scheduleShards([t('lora', 10, 100, 10), t('lora', 10, 100, 10)])).toBe(130);
    expect(scheduleShards([t('local', 0, 50, 0), t('lora', 10, 5, 10)])).toBe(50);
  });

  it('checks capabilities: int8, an executor, the model, memory', () => {
    const n = node(9, 'phone', 100, 100, 90, []);
    expect(canRun(n.state, gemm(1, 16, 16)).ok).toBe(true);
    expect(canRun({ ...n.state, record: { ...n.state.record, precisions: ['fp16'] } }, gemm(1, 16, 16)).reason).toMatch(/int8/);
    expect(canRun({ ...n.state, record: { ...n.state.record, kernelBuild: 'none', onnxRuntime: true } }, gemm(1, 16, 16, 'inline', true)).ok).toBe(false);
    expect(canRun(n.state, gemm(1, 1024, 1024)).reason).toMatch(/RAM/);
    expect(computeMs(1e9, 1)).toBeCloseTo(1002, 0);
  });
});
