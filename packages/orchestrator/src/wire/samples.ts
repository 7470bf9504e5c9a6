import { Prng } from '@compotastic/mesh';
import { type JobSpec, MAX_TOP_K } from '../jobs/spec.js';
import { type JobMission, PRIORITY_CLASSES, PROFILE_NAMES } from '../mission/profiles.js';
import type { CapabilityRecord } from '../registry/capability.js';
import { DEVICE_CLASS_CODES, KERNEL_BUILD_CODES, MODEL_FAMILIES, canonicalRecord } from '../registry/capability.js';
import { type DeltaValues, type Message, MAX_WANT_RANGES } from './messages.js';

/**
 * Random but valid messages of every type from a seeded generator: the starting point of the fuzzers and of the
 * round-trip tests.
 */
export function randomRecord(r: Prng): CapabilityRecord {
  return canonicalRecord({
    deviceClass: r.pick(DEVICE_CLASS_CODES),
    accelerators: r.bool() ? ['gpu'] : r.bool() ? ['npu', 'gpu'] : [],
    precisions: r.bool(0.8) ? ['int8', 'fp32'] : ['fp16'],
    onnxRuntime: r.bool(),
    kernelBuild: r.pick(KERNEL_BUILD_CODES),
    acceptsJobs: r.bool(),
    externalPower: r.bool(),
    portBlocked: r.bool(0.1),
    links: { ble: r.bool(), wifi: r.bool() },
    modelFamilies: MODEL_FAMILIES.filter(() => r.bool(0.3)),
    freeRamKiB: r.int(0, 1 << 26),
    gops: r.uniform(0, 50_000),
    firmwareVersion: `${r.int(0, 16)}.${r.int(0, 64)}.${r.int(0, 64)}`,
    modelId: r.int(0, 65536),
    modelVersion: r.int(0, 65536),
    computeDrainPctPerHour: r.uniform(0, 100),
    epoch: r.int(0, 65536),
  });
}

export function randomSpec(r: Prng): JobSpec {
  if (r.bool(0.7)) {
    const aType = r.bool() ? 'int8' : 'uint8';
    const bType = r.bool() ? 'int8' : 'uint8';
    const zp = (t: string): number => (t === 'int8' ? r.int(-128, 128) : r.int(0, 256));
    const spec: JobSpec = {
      kind: 'gemm',
      m: r.int(1, 5000),
      k: r.int(1, 5000),
      n: r.int(1, 5000),
      aType,
      bType,
      aZeroPoint: zp(aType),
      bZeroPoint: zp(bType),
      weights: r.bool() ? 'inline' : { resident: r.uint32() },
    };
    if (r.bool()) {
      const type = r.bool() ? 'int8' : 'uint8';
      spec.requant = { multiplier: r.int(0, 0x7fffffff), shift: r.int(-31, 31), zeroPoint: zp(type), type };
    }
    if (r.bool()) spec.topK = r.int(1, Math.min(MAX_TOP_K, spec.n) + 1);
    return spec;
  }
  const start = r.int(0, 200);
  return { kind: 'model', modelId: r.int(0, 65536), modelVersion: r.int(0, 65536), layerStart: start, layerEnd: r.int(start + 1, 256), batch: r.int(1, 1000), inputBytes: r.int(1, 1 << 20), outputBytes: r.int(1, 1 << 20) };
}

function randomDelta(r: Prng): DeltaValues {
  const v: DeltaValues = {};
  if (r.bool()) v.battery = r.bool(0.9) ? r.int(0, 101) : 255;
  if (r.bool()) v.freeRamKiB = r.int(0, 4096);
  if (r.bool()) v.gops = r.int(0, 4000) / 1000;
  if (r.bool()) v.load = r.int(0, 256);
  if (r.bool()) v.channelUtil = r.int(0, 101);
  if (r.bool()) v.accel = r.int(0, 64);
  if (r.bool()) v.roles = r.int(0, 128);
  if (r.bool()) v.modelFamilies = r.int(0, 1 << MODEL_FAMILIES.length);
  if (r.bool()) v.model = { id: r.int(0, 65536), version: r.int(0, 65536) };
  if (r.bool()) v.firmware = r.int(0, 65536);
  if (r.bool()) v.computeDrain = r.int(0, 4000) / 100;
  if (r.bool()) v.ttlS = r.int(0, 65536);
  if (r.bool()) v.deviceClass = r.int(0, DEVICE_CLASS_CODES.length);
  return v;
}

const mission = (r: Prng): JobMission => ({ profile: r.pick(PROFILE_NAMES), priority: r.pick(PRIORITY_CLASSES) });

const ref = (r: Prng) => ({ jobId: r.uint32(), shard: r.int(0, 70000), attempt: r.int(0, 256) });

/** One random valid message of each type (the list covers every type). */
export function sampleMessages(r: Prng): Message[] {
  const bytes = (n: number): Uint8Array => r.bytes(n);
  return [
    { type: 'CAP_ADVERT', record: randomRecord(r), battery: r.bool() ? r.int(0, 101) : 255, ttlS: r.int(0, 65536), load: r.int(0, 256), channelUtil: r.int(0, 101) },
    { type: 'STATE_DELTA', baseEpoch: r.int(0, 65536), epoch: r.int(0, 65536), values: randomDelta(r) },
    { type: 'CAP_QUERY', wantAdvert: r.bool() },
    { type: 'JOB_REQUEST', jobId: r.uint32(), spec: randomSpec(r), deadlineS: r.int(0, 65536), mission: mission(r) },
    { type: 'OFFER', jobId: r.uint32(), etaMs: r.uint32(), battery: r.int(0, 101), load: r.int(0, 256) },
    { type: 'ASSIGN', ...ref(r), leaseS: r.int(0, 65536), redundant: r.bool(), inputCrc: r.uint32(), mission: mission(r), spec: randomSpec(r) },
    { type: 'ACCEPT', ...ref(r), etaMs: r.uint32() },
    { type: 'DECLINE', ...ref(r), reason: r.int(0, 256) },
    { type: 'DATA', ...ref(r), stream: r.bool() ? 0 : 1, offset: r.int(0, 1 << 24), bytes: bytes(r.int(1, 180)) },
    { type: 'DATA_WANT', ...ref(r), stream: r.bool() ? 0 : 1, ranges: Array.from({ length: r.int(0, MAX_WANT_RANGES + 1) }, () => [r.int(0, 1 << 24), r.int(1, 1 << 20)] as [number, number]) },
    { type: 'PROGRESS', ...ref(r), stage: r.int(0, 4), pct: r.int(0, 101), etaMs: r.uint32() },
    (() => {
      const inline = r.bool() ? bytes(r.int(0, 150)) : null;
      const signature = r.bool() ? bytes(64) : null;
      return { type: 'RESULT' as const, ...ref(r), status: r.int(0, 256), length: inline ? inline.length : r.int(0, 1 << 24), crc: r.uint32(), inline, signature };
    })(),
    { type: 'AUTH_REJECT', reason: r.int(1, 3) },
    { type: 'DETECTION', keyword: r.int(0, 256), score255: r.int(0, 256), timeS: r.uint32(), seq: r.int(0, 65536) },
    { type: 'RESULT_ACK', ...ref(r), status: r.int(0, 3) },
    { type: 'CANCEL', jobId: r.uint32(), shard: r.bool() ? null : r.int(0, 70000), reason: r.int(0, 256) },
    { type: 'FAILURE', ...ref(r), reason: r.int(0, 256), detail: r.bool() ? 'battery 12%' : 'résumé ✓ '.repeat(r.int(0, 6)) },
    (() => {
      const count = r.int(2, 256);
      const index = r.int(0, count);
      return { type: 'FRAGMENT' as const, msgId: r.int(0, 65536), index, count, totalLength: index === 0 ? r.uint32() : null, crc: index === 0 ? r.uint32() : null, chunk: bytes(r.int(1, 200)) };
    })(),
  ];
}
