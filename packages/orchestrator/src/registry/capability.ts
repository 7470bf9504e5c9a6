import { CodecError } from '../errors.js';
import { ByteReader, ByteWriter } from '../wire/bytes.js';
import { decodeUfloat16, encodeUfloat16, quantizeUfloat16 } from '../wire/ufloat16.js';

/** Device classes, in wire order (index = code). */
export const DEVICE_CLASS_CODES = ['unknown', 'microcontroller', 'sbc', 'phone', 'laptop', 'jetson', 'server'] as const;
export type DeviceClassName = (typeof DEVICE_CLASS_CODES)[number];

export const KERNEL_BUILD_CODES = ['none', 'scalar', 'simd', 'relaxed'] as const;
export type KernelBuildName = (typeof KERNEL_BUILD_CODES)[number];

/** Model families a node can run, one bit each (bit = index). */
export const MODEL_FAMILIES = ['gemm', 'gemv', 'mlp', 'cnn', 'rnn', 'transformer', 'audio', 'vision', 'detection', 'embedding', 'onnx-graph'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

export type Accelerator = 'gpu' | 'npu';
export type Precision = 'int8' | 'fp16' | 'fp32';

/** Length of the core record: one default-MTU BLE read (ATT MTU 23 - 3). */
export const CAPABILITY_RECORD_BYTES = 20;
export const CAPABILITY_RECORD_VERSION = 1;

/**
 * What a node can compute, as it advertises it. Numbers are stored as ufloat16 on the wire, so peers see them
 * rounded down to 12 significant bits.
 */
export interface CapabilityRecord {
  deviceClass: DeviceClassName;
  accelerators: Accelerator[];
  precisions: Precision[];
  /** Can run ONNX graphs with onnxruntime-web. */
  onnxRuntime: boolean;
  kernelBuild: KernelBuildName;
  /** Takes work from peers (false: only submits its own). */
  acceptsJobs: boolean;
  /** On mains or vehicle power: battery cost does not apply. */
  externalPower: boolean;
  /**
   * The node's radio drops the compute layer's port (rebroadcast_mode CORE_PORTNUMS_ONLY, the default of routers): it
   * can send, but neither receives nor relays the port. Neighbours use this to warn about their path.
   */
  portBlocked: boolean;
  /** Short fast links it can use besides LoRa. */
  links: { ble: boolean; wifi: boolean };
  modelFamilies: ModelFamily[];
  /** Memory free for jobs, KiB. */
  freeRamKiB: number;
  /** Measured int8 throughput, GOPS. */
  gops: number;
  /** Meshtastic firmware version "major.minor.patch". */
  firmwareVersion: string;
  /** Installed model bundle (0 = none) and its version, so OTA can send a delta. */
  modelId: number;
  modelVersion: number;
  /** Battery drain while computing, percent per hour (0 = unknown or external power). */
  computeDrainPctPerHour: number;
  /** State version: bumped whenever any advertised field changes; deltas name the version they apply to. */
  epoch: number;
}

/**
 * Layout (little endian):
 *  0      record version (1)
 *  1      device class code
 *  2      bit0 GPU, bit1 NPU, bit2 int8, bit3 fp16, bit4 fp32, bit5 ONNX runtime, bits 6-7 zero
 *  3      bits0-1 kernel build, bit2 accepts jobs, bit3 external power, bit4 BLE, bit5 Wi-Fi, bit6 port blocked, bit7 zero
 *  4-5    model families bitmask
 *  6-7    free RAM, KiB (ufloat16)
 *  8-9    int8 throughput, MOPS (ufloat16)
 *  10-11  firmware version: major<<12 | minor<<6 | patch (4/6/6 bits)
 *  12-13  model id
 *  14-15  model version
 *  16-17  compute drain, 0.01 %/h (ufloat16)
 *  18-19  epoch
 */
export function encodeCapabilityRecord(r: CapabilityRecord, w = new ByteWriter(CAPABILITY_RECORD_BYTES)): Uint8Array {
  const start = w.length;
  w.u8(CAPABILITY_RECORD_VERSION);
  w.u8(codeOf(DEVICE_CLASS_CODES, r.deviceClass, 'device class'));
  w.u8(accelByte(r));
  w.u8(roleByte(r));
  w.u16(familiesMask(r.modelFamilies));
  w.u16(encodeUfloat16(r.freeRamKiB));
  w.u16(encodeUfloat16(r.gops * 1000));
  w.u16(packFirmwareVersion(r.firmwareVersion));
  w.u16(checkU16('modelId', r.modelId));
  w.u16(checkU16('modelVersion', r.modelVersion));
  w.u16(encodeUfloat16(r.computeDrainPctPerHour * 100));
  w.u16(checkU16('epoch', r.epoch));
  const out = w.finish();
  return out.subarray(start);
}

export function decodeCapabilityRecord(bytes: Uint8Array): CapabilityRecord {
  if (bytes.length !== CAPABILITY_RECORD_BYTES) {
    throw new CodecError(bytes.length < CAPABILITY_RECORD_BYTES ? 'TRUNCATED' : 'TRAILING_BYTES', `capability record must be ${CAPABILITY_RECORD_BYTES} bytes, got ${bytes.length}`);
  }
  const r = new ByteReader(bytes, 'capability record');
  const rec = readCapabilityRecord(r);
  r.end();
  return rec;
}

/** Read the 20-byte record from a larger message. */
export function readCapabilityRecord(r: ByteReader): CapabilityRecord {
  const version = r.u8('record version');
  if (version !== CAPABILITY_RECORD_VERSION) throw new CodecError('UNSUPPORTED_VERSION', `capability record version ${version} is not supported`);
  const deviceClass = fromCode(DEVICE_CLASS_CODES, r.u8('device class'), 'device class');
  const accel = r.u8('accelerators');
  if (accel & 0xc0) throw new CodecError('BAD_VALUE', 'capability record: reserved accelerator bits are set');
  const role = r.u8('roles');
  if (role & 0x80) throw new CodecError('BAD_VALUE', 'capability record: reserved role bits are set');
  const families = r.u16('model families');
  if (families >>> MODEL_FAMILIES.length) throw new CodecError('BAD_VALUE', 'capability record: unknown model family bits are set');
  const rec: CapabilityRecord = {
    deviceClass,
    accelerators: [...(accel & 1 ? ['gpu' as const] : []), ...(accel & 2 ? ['npu' as const] : [])],
    precisions: [...(accel & 4 ? ['int8' as const] : []), ...(accel & 8 ? ['fp16' as const] : []), ...(accel & 16 ? ['fp32' as const] : [])],
    onnxRuntime: (accel & 32) !== 0,
    kernelBuild: KERNEL_BUILD_CODES[role & 3] as KernelBuildName,
    acceptsJobs: (role & 4) !== 0,
    externalPower: (role & 8) !== 0,
    portBlocked: (role & 64) !== 0,
    links: { ble: (role & 16) !== 0, wifi: (role & 32) !== 0 },
    modelFamilies: MODEL_FAMILIES.filter((_, i) => families & (1 << i)),
    freeRamKiB: decodeUfloat16(r.u16('free RAM')),
    gops: decodeUfloat16(r.u16('throughput')) / 1000,
    firmwareVersion: unpackFirmwareVersion(r.u16('firmware version')),
    modelId: r.u16('model id'),
    modelVersion: r.u16('model version'),
    computeDrainPctPerHour: decodeUfloat16(r.u16('compute drain')) / 100,
    epoch: r.u16('epoch'),
  };
  return rec;
}

/** The record as peers will decode it (numbers rounded through ufloat16, lists in canonical order). */
export function canonicalRecord(r: CapabilityRecord): CapabilityRecord {
  return decodeCapabilityRecord(encodeCapabilityRecord(r));
}

export function accelByte(r: Pick<CapabilityRecord, 'accelerators' | 'precisions' | 'onnxRuntime'>): number {
  let b = 0;
  if (r.accelerators.includes('gpu')) b |= 1;
  if (r.accelerators.includes('npu')) b |= 2;
  if (r.precisions.includes('int8')) b |= 4;
  if (r.precisions.includes('fp16')) b |= 8;
  if (r.precisions.includes('fp32')) b |= 16;
  if (r.onnxRuntime) b |= 32;
  return b;
}

export function roleByte(r: Pick<CapabilityRecord, 'kernelBuild' | 'acceptsJobs' | 'externalPower' | 'links' | 'portBlocked'>): number {
  let b = codeOf(KERNEL_BUILD_CODES, r.kernelBuild, 'kernel build');
  if (r.acceptsJobs) b |= 4;
  if (r.externalPower) b |= 8;
  if (r.links.ble) b |= 16;
  if (r.links.wifi) b |= 32;
  if (r.portBlocked) b |= 64;
  return b;
}

export function familiesMask(families: readonly ModelFamily[]): number {
  let m = 0;
  for (const f of families) m |= 1 << codeOf(MODEL_FAMILIES, f, 'model family');
  return m;
}

/** "2.6.11" -> major<<12 | minor<<6 | patch. Anything after the third number (".sim", "-abcdef") is dropped. */
export function packFirmwareVersion(v: string): number {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v);
  if (!m) throw new CodecError('BAD_VALUE', `firmware version must start with major.minor.patch, got ${JSON.stringify(v)}`);
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (major > 15 || minor > 63 || patch > 63) throw new CodecError('BAD_VALUE', `firmware version ${v} does not fit 4/6/6 bits`);
  return (major << 12) | (minor << 6) | patch;
}

export function unpackFirmwareVersion(p: number): string {
  return `${p >>> 12}.${(p >>> 6) & 63}.${p & 63}`;
}

function checkU16(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new CodecError('BAD_VALUE', `${what} must be an integer 0..65535, got ${v}`);
  return v;
}

export function codeOf<T extends string>(table: readonly T[], value: T, what: string): number {
  const i = table.indexOf(value);
  if (i < 0) throw new CodecError('BAD_VALUE', `unknown ${what} ${JSON.stringify(value)}`);
  return i;
}

export function fromCode<T extends string>(table: readonly T[], code: number, what: string): T {
  const v = table[code];
  if (v === undefined) throw new CodecError('BAD_VALUE', `unknown ${what} code ${code}`);
  return v;
}

/** Round numbers the way the wire does, so local and remote views of a record compare equal. */
export function roundForWire(r: CapabilityRecord): CapabilityRecord {
  return {
    ...r,
    freeRamKiB: quantizeUfloat16(r.freeRamKiB),
    gops: quantizeUfloat16(r.gops * 1000) / 1000,
    computeDrainPctPerHour: quantizeUfloat16(r.computeDrainPctPerHour * 100) / 100,
  };
}
