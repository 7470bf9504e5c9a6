import { CodecError } from '../errors.js';
import type { JobSpec } from '../jobs/spec.js';
import { MAX_DIM, MAX_TOP_K } from '../jobs/spec.js';
import { type JobMission, decodeMission, encodeMission } from '../mission/profiles.js';
import { type CapabilityRecord, DEVICE_CLASS_CODES, encodeCapabilityRecord, readCapabilityRecord } from '../registry/capability.js';
import { ByteReader, ByteWriter } from './bytes.js';
import { decodeUfloat16, encodeUfloat16 } from './ufloat16.js';

/**
 * The Compotastic message profile, version 1. Every message starts with two bytes: 0xC0 | version, then the type.
 * The magic nibble lets a node ignore other applications that share PRIVATE_APP. Integers are little endian;
 * "varint" is unsigned LEB128 up to 32 bits (minimal encoding only). Layouts are in the README.
 */
export const PROFILE_MAGIC = 0xc0;
/** 2: JOB_REQUEST and ASSIGN carry the job's mission byte; GEMM specs may ask for the top-k of each row. */
export const PROFILE_VERSION = 2;
export const HEADER_BYTES = 2;
/** Largest Data payload on a private port without want_response/request_id (Router.cpp perhapsEncode). */
export const DEFAULT_MAX_PAYLOAD = 231;

export const MessageType = Object.freeze({
  CAP_ADVERT: 0x01,
  STATE_DELTA: 0x02,
  CAP_QUERY: 0x03,
  JOB_REQUEST: 0x04,
  OFFER: 0x05,
  ASSIGN: 0x06,
  ACCEPT: 0x07,
  DECLINE: 0x08,
  DATA: 0x09,
  DATA_WANT: 0x0a,
  PROGRESS: 0x0b,
  RESULT: 0x0c,
  RESULT_ACK: 0x0d,
  CANCEL: 0x0e,
  FAILURE: 0x0f,
  FRAGMENT: 0x13,
  AUTH_REJECT: 0x14,
  DETECTION: 0x15,
} as const);
/**
 * Type codes that are retired and must never be given to another message: 0x10-0x12 were OTA_HAVE, OTA_WANT and
 * OTA_FRAGMENT (opaque OTA bodies inside this profile) in earlier builds; OTA transfers now run on a port of their own.
 * A frame with one of them decodes as CodecError UNKNOWN_TYPE, like any code without a message.
 */
export const RESERVED_TYPE_CODES: readonly number[] = Object.freeze([0x10, 0x11, 0x12]);
export type MessageTypeName = keyof typeof MessageType;
const TYPE_NAMES = new Map<number, MessageTypeName>(Object.entries(MessageType).map(([k, v]) => [v, k as MessageTypeName]));

/** Why a worker declined or failed, or why an owner cancelled (u8 on the wire). */
export const Reason = Object.freeze({
  UNSPECIFIED: 0,
  LOW_BATTERY: 1,
  NO_MEMORY: 2,
  BUSY: 3,
  UNSUPPORTED: 4,
  MODEL_MISSING: 5,
  BAD_INPUT: 6,
  EXECUTION_ERROR: 7,
  LEASE_EXPIRED: 8,
  CANCELLED: 9,
  DEADLINE: 10,
  SHUTTING_DOWN: 11,
  SUPERSEDED: 12,
  NOT_ACCEPTING: 13,
  UNREACHABLE: 14,
  TOO_LARGE: 15,
  OWNER_QUOTA: 16,
  PREEMPTED: 17,
} as const);
export type ReasonName = keyof typeof Reason;
const REASON_NAMES = new Map<number, ReasonName>(Object.entries(Reason).map(([k, v]) => [v, k as ReasonName]));

export function reasonName(code: number): ReasonName {
  return REASON_NAMES.get(code) ?? 'UNSPECIFIED';
}

export const Stage = Object.freeze({ RECEIVING: 0, QUEUED: 1, COMPUTING: 2, SENDING: 3 } as const);
export type StageName = keyof typeof Stage;
const STAGE_NAMES = ['RECEIVING', 'QUEUED', 'COMPUTING', 'SENDING'] as const;

export const Stream = Object.freeze({ INPUT: 0, OUTPUT: 1 } as const);
export type StreamId = 0 | 1;

/** Why a node refuses a peer's packets (AUTH_REJECT, u8 on the wire). */
export const AuthRejectReason = Object.freeze({ KEY_CONFLICT: 1, NOT_ADMITTED: 2 } as const);

export const ResultAckStatus = Object.freeze({ ACCEPTED: 0, DUPLICATE: 1, REJECTED: 2 } as const);

/** Fields a state delta may carry, one bit each (bit = index). */
export const DELTA_FIELDS = [
  'battery',
  'freeRamKiB',
  'gops',
  'load',
  'channelUtil',
  'accel',
  'roles',
  'modelFamilies',
  'model',
  'firmware',
  'computeDrain',
  'ttlS',
  'deviceClass',
] as const;
export type DeltaField = (typeof DELTA_FIELDS)[number];

/** Values of a state delta. Raw wire values for the flag bytes; numbers in their natural units. */
export interface DeltaValues {
  battery?: number;
  freeRamKiB?: number;
  gops?: number;
  load?: number;
  channelUtil?: number;
  accel?: number;
  roles?: number;
  modelFamilies?: number;
  model?: { id: number; version: number };
  firmware?: number;
  computeDrain?: number;
  ttlS?: number;
  deviceClass?: number;
}

/** Battery byte: 0..100 percent, 255 = unknown / no battery. */
export const BATTERY_UNKNOWN = 255;

export interface ShardRef {
  jobId: number;
  shard: number;
  attempt: number;
}

export type Message =
  | { type: 'CAP_ADVERT'; record: CapabilityRecord; battery: number; ttlS: number; load: number; channelUtil: number }
  | { type: 'STATE_DELTA'; baseEpoch: number; epoch: number; values: DeltaValues }
  | { type: 'CAP_QUERY'; wantAdvert: boolean }
  | { type: 'JOB_REQUEST'; jobId: number; spec: JobSpec; deadlineS: number; mission: JobMission }
  | { type: 'OFFER'; jobId: number; etaMs: number; battery: number; load: number }
  | ({ type: 'ASSIGN'; leaseS: number; redundant: boolean; inputCrc: number; mission: JobMission; spec: JobSpec } & ShardRef)
  | ({ type: 'ACCEPT'; etaMs: number } & ShardRef)
  | ({ type: 'DECLINE'; reason: number } & ShardRef)
  | ({ type: 'DATA'; stream: StreamId; offset: number; bytes: Uint8Array } & ShardRef)
  | ({ type: 'DATA_WANT'; stream: StreamId; ranges: Array<[offset: number, length: number]> } & ShardRef)
  | ({ type: 'PROGRESS'; stage: number; pct: number; etaMs: number } & ShardRef)
  | ({ type: 'RESULT'; status: number; length: number; crc: number; inline: Uint8Array | null; signature?: Uint8Array | null } & ShardRef)
  | ({ type: 'RESULT_ACK'; status: number } & ShardRef)
  | { type: 'CANCEL'; jobId: number; shard: number | null; reason: number }
  | ({ type: 'FAILURE'; reason: number; detail: string } & ShardRef)
  | { type: 'AUTH_REJECT'; reason: number }
  | ({ type: 'DETECTION' } & Detection)
  | { type: 'FRAGMENT'; msgId: number; index: number; count: number; totalLength: number | null; crc: number | null; chunk: Uint8Array };

export type MessageOf<T extends MessageTypeName> = Extract<Message, { type: T }>;

/** An Ed25519 signature over a result's binding (redundant execution), on RESULT flag bit 1. */
export const RESULT_SIGNATURE_BYTES = 64;
/** Most DATA_WANT ranges in one message. */
export const MAX_WANT_RANGES = 16;
/** Longest FAILURE detail, bytes of UTF-8. */
export const MAX_DETAIL_BYTES = 64;

/**
 * What a sensor heard (DETECTION): a keyword id from the swarm's keyword table, the detector's score in 1/255 steps,
 * when (seconds on the sensor's clock) and a per-sensor sequence number (wrapping at 2^16) so listeners can tell a
 * repeat from a new event. Never audio: 8 bytes of body.
 */
export interface Detection {
  keyword: number;
  /** 0..255: the score times 255, rounded down (scoreByte). */
  score255: number;
  timeS: number;
  seq: number;
}

/** A detector's score in [0, 1] as DETECTION carries it (rounded down, so a score under a threshold never reads over it). */
export function scoreByte(score: number): number {
  if (!Number.isFinite(score) || score < 0 || score > 1) throw new CodecError('BAD_VALUE', `a detection score must be in [0, 1], got ${score}`);
  return Math.floor(score * 255);
}

// ---------------------------------------------------------------------------------------------- job spec codec

const SPEC_GEMM = 1;
const SPEC_MODEL = 2;

function zpByte(zp: number): number {
  return zp & 0xff;
}

function zpValue(raw: number, type: 'uint8' | 'int8'): number {
  return type === 'int8' ? (raw << 24) >> 24 : raw;
}

export function writeJobSpec(w: ByteWriter, spec: JobSpec): void {
  if (spec.kind === 'gemm') {
    w.u8(SPEC_GEMM);
    const resident = spec.weights !== 'inline';
    const q = spec.requant;
    const topK = spec.topK;
    w.u8((spec.aType === 'int8' ? 1 : 0) | (spec.bType === 'int8' ? 2 : 0) | (resident ? 4 : 0) | (q ? 8 : 0) | (q?.type === 'int8' ? 16 : 0) | (topK !== undefined ? 32 : 0));
    w.varint(spec.m).varint(spec.k).varint(spec.n);
    w.u8(zpByte(spec.aZeroPoint)).u8(zpByte(spec.bZeroPoint));
    if (spec.weights !== 'inline') w.u32(spec.weights.resident);
    if (q) {
      if (!Number.isInteger(q.shift) || q.shift < -31 || q.shift > 30) throw new CodecError('BAD_VALUE', `requant shift ${q.shift} is outside -31..30`);
      if (q.multiplier > 0x7fffffff) throw new CodecError('BAD_VALUE', `requant multiplier ${q.multiplier} exceeds Q31`);
      w.u32(q.multiplier).u8(q.shift & 0xff).u8(zpByte(q.zeroPoint));
    }
    if (topK !== undefined) {
      if (!Number.isInteger(topK) || topK < 1 || topK > Math.min(MAX_TOP_K, spec.n)) throw new CodecError('BAD_VALUE', `top-k ${topK} is outside 1..${Math.min(MAX_TOP_K, spec.n)}`);
      w.u8(topK);
    }
    return;
  }
  if (spec.kind === 'model') {
    w.u8(SPEC_MODEL);
    w.u16(spec.modelId).u16(spec.modelVersion).u8(spec.layerStart).u8(spec.layerEnd);
    w.varint(spec.batch).varint(spec.inputBytes).varint(spec.outputBytes);
    return;
  }
  throw new CodecError('BAD_VALUE', `unknown job kind ${JSON.stringify((spec as { kind?: unknown }).kind)}`);
}

function dim(r: ByteReader, what: string): number {
  const v = r.varint(what);
  if (v < 1 || v > MAX_DIM) throw new CodecError('BAD_VALUE', `job spec: ${what} ${v} is outside 1..${MAX_DIM}`);
  return v;
}

export function readJobSpec(r: ByteReader): JobSpec {
  const kind = r.u8('job kind');
  if (kind === SPEC_GEMM) {
    const flags = r.u8('gemm flags');
    if (flags & ~63) throw new CodecError('BAD_VALUE', 'job spec: reserved gemm flag bits are set');
    if (flags & 16 && !(flags & 8)) throw new CodecError('BAD_VALUE', 'job spec: requant type bit set without requant');
    const aType = flags & 1 ? 'int8' : 'uint8';
    const bType = flags & 2 ? 'int8' : 'uint8';
    const m = dim(r, 'm');
    const k = dim(r, 'k');
    const n = dim(r, 'n');
    const aZeroPoint = zpValue(r.u8('a zero point'), aType);
    const bZeroPoint = zpValue(r.u8('b zero point'), bType);
    const weights = flags & 4 ? { resident: r.u32('weights id') } : ('inline' as const);
    const spec: JobSpec = { kind: 'gemm', m, k, n, aType, bType, aZeroPoint, bZeroPoint, weights };
    if (flags & 8) {
      const multiplier = r.u32('requant multiplier');
      if (multiplier > 0x7fffffff) throw new CodecError('BAD_VALUE', `job spec: requant multiplier ${multiplier} exceeds Q31`);
      const shift = (r.u8('requant shift') << 24) >> 24;
      if (shift < -31 || shift > 30) throw new CodecError('BAD_VALUE', `job spec: requant shift ${shift} is outside -31..30`);
      const type = flags & 16 ? 'int8' : 'uint8';
      spec.requant = { multiplier, shift, zeroPoint: zpValue(r.u8('requant zero point'), type), type };
    }
    if (flags & 32) {
      const topK = r.u8('top-k');
      if (topK < 1 || topK > Math.min(MAX_TOP_K, n)) throw new CodecError('BAD_VALUE', `job spec: top-k ${topK} is outside 1..${Math.min(MAX_TOP_K, n)}`);
      spec.topK = topK;
    }
    return spec;
  }
  if (kind === SPEC_MODEL) {
    const modelId = r.u16('model id');
    const modelVersion = r.u16('model version');
    const layerStart = r.u8('layer start');
    const layerEnd = r.u8('layer end');
    if (layerEnd <= layerStart) throw new CodecError('BAD_VALUE', `job spec: empty layer range [${layerStart}, ${layerEnd})`);
    const batch = dim(r, 'batch');
    const inputBytes = r.varint('input bytes');
    const outputBytes = r.varint('output bytes');
    if (inputBytes < 1 || outputBytes < 1) throw new CodecError('BAD_VALUE', 'job spec: model input and output sizes must be positive');
    return { kind: 'model', modelId, modelVersion, layerStart, layerEnd, batch, inputBytes, outputBytes };
  }
  throw new CodecError('BAD_VALUE', `job spec: unknown kind ${kind}`);
}

// ---------------------------------------------------------------------------------------------- deltas

export function deltaMask(values: DeltaValues): number {
  let mask = 0;
  DELTA_FIELDS.forEach((f, i) => {
    if (values[f] !== undefined) mask |= 1 << i;
  });
  return mask;
}

function writeDelta(w: ByteWriter, v: DeltaValues): void {
  w.varint(deltaMask(v));
  if (v.battery !== undefined) w.u8(v.battery);
  if (v.freeRamKiB !== undefined) w.u16(encodeUfloat16(v.freeRamKiB));
  if (v.gops !== undefined) w.u16(encodeUfloat16(v.gops * 1000));
  if (v.load !== undefined) w.u8(v.load);
  if (v.channelUtil !== undefined) w.u8(v.channelUtil);
  if (v.accel !== undefined) w.u8(v.accel);
  if (v.roles !== undefined) w.u8(v.roles);
  if (v.modelFamilies !== undefined) w.u16(v.modelFamilies);
  if (v.model !== undefined) w.u16(v.model.id).u16(v.model.version);
  if (v.firmware !== undefined) w.u16(v.firmware);
  if (v.computeDrain !== undefined) w.u16(encodeUfloat16(v.computeDrain * 100));
  if (v.ttlS !== undefined) w.u16(v.ttlS);
  if (v.deviceClass !== undefined) w.u8(v.deviceClass);
}

function readDelta(r: ByteReader): DeltaValues {
  const mask = r.varint('delta mask');
  if (mask >>> DELTA_FIELDS.length) throw new CodecError('BAD_VALUE', 'state delta: unknown field bits are set');
  const v: DeltaValues = {};
  const has = (f: DeltaField): boolean => (mask & (1 << DELTA_FIELDS.indexOf(f))) !== 0;
  if (has('battery')) v.battery = battery(r.u8('battery'));
  if (has('freeRamKiB')) v.freeRamKiB = decodeUfloat16(r.u16('free RAM'));
  if (has('gops')) v.gops = decodeUfloat16(r.u16('throughput')) / 1000;
  if (has('load')) v.load = r.u8('load');
  if (has('channelUtil')) v.channelUtil = percent(r.u8('channel utilization'), 'channel utilization');
  if (has('accel')) {
    v.accel = r.u8('accelerators');
    if (v.accel & 0xc0) throw new CodecError('BAD_VALUE', 'state delta: reserved accelerator bits are set');
  }
  if (has('roles')) {
    v.roles = r.u8('roles');
    if (v.roles & 0x80) throw new CodecError('BAD_VALUE', 'state delta: reserved role bits are set');
  }
  if (has('modelFamilies')) v.modelFamilies = r.u16('model families');
  if (has('model')) v.model = { id: r.u16('model id'), version: r.u16('model version') };
  if (has('firmware')) v.firmware = r.u16('firmware');
  if (has('computeDrain')) v.computeDrain = decodeUfloat16(r.u16('compute drain')) / 100;
  if (has('ttlS')) v.ttlS = r.u16('ttl');
  if (has('deviceClass')) {
    v.deviceClass = r.u8('device class');
    // Checked here, not when the delta is applied: a frame that decodes must be safe to apply.
    if (v.deviceClass >= DEVICE_CLASS_CODES.length) throw new CodecError('BAD_VALUE', `state delta: unknown device class code ${v.deviceClass}`);
  }
  return v;
}

function battery(b: number): number {
  if (b > 100 && b !== BATTERY_UNKNOWN) throw new CodecError('BAD_VALUE', `battery ${b} is neither 0..100 nor 255`);
  return b;
}

function percent(b: number, what: string): number {
  if (b > 100) throw new CodecError('BAD_VALUE', `${what} ${b} exceeds 100`);
  return b;
}

// ---------------------------------------------------------------------------------------------- encode

function shardRef(w: ByteWriter, m: ShardRef): void {
  w.varint(m.jobId).varint(m.shard).u8(m.attempt);
}

function readShardRef(r: ByteReader): ShardRef {
  return { jobId: r.varint('job id'), shard: r.varint('shard'), attempt: r.u8('attempt') };
}

export interface EncodeOptions {
  /** Refuse to produce more than this many bytes (default 231). Pass Infinity to encode for fragmentation. */
  maxPayload?: number;
}

/** Encode one message. Throws CodecError BAD_VALUE for out-of-range fields and TOO_LARGE past maxPayload. */
export function encodeMessage(msg: Message, options: EncodeOptions = {}): Uint8Array {
  const w = new ByteWriter(64);
  const code = MessageType[msg.type];
  if (code === undefined) throw new CodecError('UNKNOWN_TYPE', `unknown message type ${JSON.stringify((msg as { type?: unknown }).type)}`);
  w.u8(PROFILE_MAGIC | PROFILE_VERSION).u8(code);
  switch (msg.type) {
    case 'CAP_ADVERT':
      encodeCapabilityRecord(msg.record, w);
      w.u8(battery(msg.battery)).u16(msg.ttlS).u8(msg.load).u8(percent(msg.channelUtil, 'channel utilization'));
      break;
    case 'STATE_DELTA':
      w.u16(msg.baseEpoch).u16(msg.epoch);
      writeDelta(w, msg.values);
      break;
    case 'CAP_QUERY':
      w.u8(msg.wantAdvert ? 1 : 0);
      break;
    case 'JOB_REQUEST':
      w.varint(msg.jobId).u16(msg.deadlineS).u8(encodeMission(msg.mission));
      writeJobSpec(w, msg.spec);
      break;
    case 'OFFER':
      w.varint(msg.jobId).varint(msg.etaMs).u8(battery(msg.battery)).u8(msg.load);
      break;
    case 'ASSIGN':
      shardRef(w, msg);
      w.u16(msg.leaseS).u8(msg.redundant ? 1 : 0).u32(msg.inputCrc).u8(encodeMission(msg.mission));
      writeJobSpec(w, msg.spec);
      break;
    case 'ACCEPT':
      shardRef(w, msg);
      w.varint(msg.etaMs);
      break;
    case 'DECLINE':
      shardRef(w, msg);
      w.u8(msg.reason);
      break;
    case 'DATA':
      shardRef(w, msg);
      w.u8(stream(msg.stream)).varint(msg.offset);
      if (msg.bytes.length === 0) throw new CodecError('BAD_VALUE', 'DATA must carry at least one byte');
      w.bytes(msg.bytes);
      break;
    case 'DATA_WANT':
      shardRef(w, msg);
      w.u8(stream(msg.stream));
      if (msg.ranges.length > MAX_WANT_RANGES) throw new CodecError('BAD_VALUE', `DATA_WANT carries at most ${MAX_WANT_RANGES} ranges`);
      w.u8(msg.ranges.length);
      for (const [off, len] of msg.ranges) {
        if (len < 1) throw new CodecError('BAD_VALUE', 'DATA_WANT range length must be positive');
        w.varint(off).varint(len);
      }
      break;
    case 'PROGRESS':
      shardRef(w, msg);
      if (msg.stage > 3) throw new CodecError('BAD_VALUE', `unknown stage ${msg.stage}`);
      w.u8(msg.stage).u8(percent(msg.pct, 'progress')).varint(msg.etaMs);
      break;
    case 'RESULT':
      shardRef(w, msg);
      w.u8(msg.status).varint(msg.length).u32(msg.crc).u8((msg.inline ? 1 : 0) | (msg.signature ? 2 : 0));
      if (msg.signature) {
        if (msg.signature.length !== RESULT_SIGNATURE_BYTES) throw new CodecError('BAD_VALUE', `a RESULT signature is ${RESULT_SIGNATURE_BYTES} bytes`);
        w.bytes(msg.signature);
      }
      if (msg.inline) {
        if (msg.inline.length !== msg.length) throw new CodecError('BAD_VALUE', 'inline RESULT data must have the declared length');
        w.bytes(msg.inline);
      }
      break;
    case 'AUTH_REJECT':
      if (msg.reason < 1 || msg.reason > 2) throw new CodecError('BAD_VALUE', `unknown auth reject reason ${msg.reason}`);
      w.u8(msg.reason);
      break;
    case 'DETECTION':
      w.u8(msg.keyword).u8(msg.score255).u32(msg.timeS).u16(msg.seq);
      break;
    case 'RESULT_ACK':
      shardRef(w, msg);
      if (msg.status > 2) throw new CodecError('BAD_VALUE', `unknown result ack status ${msg.status}`);
      w.u8(msg.status);
      break;
    case 'CANCEL':
      w.varint(msg.jobId).u8(msg.shard === null ? 1 : 0);
      if (msg.shard !== null) w.varint(msg.shard);
      w.u8(msg.reason);
      break;
    case 'FAILURE':
      shardRef(w, msg);
      w.u8(msg.reason).shortString(msg.detail, MAX_DETAIL_BYTES);
      break;
    case 'FRAGMENT':
      w.u16(msg.msgId).u8(msg.index).u8(msg.count);
      if (msg.count < 2 || msg.index >= msg.count) throw new CodecError('BAD_VALUE', `fragment ${msg.index} of ${msg.count} is invalid`);
      if (msg.index === 0) {
        if (msg.totalLength === null || msg.crc === null) throw new CodecError('BAD_VALUE', 'the first fragment carries the total length and CRC');
        w.varint(msg.totalLength).u32(msg.crc);
      }
      if (msg.chunk.length === 0) throw new CodecError('BAD_VALUE', 'a fragment must carry at least one byte');
      w.bytes(msg.chunk);
      break;
  }
  const out = w.finish();
  const max = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  if (out.length > max) throw new CodecError('TOO_LARGE', `${msg.type} encodes to ${out.length} bytes, over the ${max}-byte limit`);
  return out;
}

function stream(s: number): number {
  if (s !== 0 && s !== 1) throw new CodecError('BAD_VALUE', `unknown data stream ${s}`);
  return s;
}

// ---------------------------------------------------------------------------------------------- decode

/** True when the bytes start like a message of this profile (any version). */
export function looksLikeProfile(bytes: Uint8Array): boolean {
  return bytes.length >= HEADER_BYTES && ((bytes[0] as number) & 0xf0) === PROFILE_MAGIC;
}

/**
 * Decode one message. Throws CodecError (and nothing else) for anything malformed: wrong magic, unsupported version,
 * unknown type, truncation, out-of-range values, or bytes left over.
 */
export function decodeMessage(bytes: Uint8Array): Message {
  if (!(bytes instanceof Uint8Array)) throw new CodecError('BAD_VALUE', 'expected a Uint8Array');
  const r = new ByteReader(bytes, 'message');
  const b0 = r.u8('header');
  if ((b0 & 0xf0) !== PROFILE_MAGIC) throw new CodecError('BAD_MAGIC', `not a Compotastic message (first byte 0x${b0.toString(16)})`);
  if ((b0 & 0x0f) !== PROFILE_VERSION) throw new CodecError('UNSUPPORTED_VERSION', `profile version ${b0 & 0x0f} is not supported (this node speaks ${PROFILE_VERSION})`);
  const code = r.u8('type');
  const type = TYPE_NAMES.get(code);
  if (!type) {
    const retired = RESERVED_TYPE_CODES.includes(code) ? ' (a retired code, reserved)' : '';
    throw new CodecError('UNKNOWN_TYPE', `unknown message type 0x${code.toString(16)}${retired}`);
  }
  const ctx = new ByteReader(bytes.subarray(HEADER_BYTES), type);
  const msg = decodeBody(type, ctx);
  ctx.end();
  return msg;
}

function decodeBody(type: MessageTypeName, r: ByteReader): Message {
  switch (type) {
    case 'CAP_ADVERT': {
      const record = readCapabilityRecord(r);
      return { type, record, battery: battery(r.u8('battery')), ttlS: r.u16('ttl'), load: r.u8('load'), channelUtil: percent(r.u8('channel utilization'), 'channel utilization') };
    }
    case 'STATE_DELTA':
      return { type, baseEpoch: r.u16('base epoch'), epoch: r.u16('epoch'), values: readDelta(r) };
    case 'CAP_QUERY': {
      const flags = r.u8('flags');
      if (flags & ~1) throw new CodecError('BAD_VALUE', 'CAP_QUERY: reserved flag bits are set');
      return { type, wantAdvert: (flags & 1) !== 0 };
    }
    case 'JOB_REQUEST':
      return { type, jobId: r.varint('job id'), deadlineS: r.u16('deadline'), mission: decodeMission(r.u8('mission')), spec: readJobSpec(r) };
    case 'OFFER':
      return { type, jobId: r.varint('job id'), etaMs: r.varint('eta'), battery: battery(r.u8('battery')), load: r.u8('load') };
    case 'ASSIGN': {
      const ref = readShardRef(r);
      const leaseS = r.u16('lease');
      const flags = r.u8('flags');
      if (flags & ~1) throw new CodecError('BAD_VALUE', 'ASSIGN: reserved flag bits are set');
      return { type, ...ref, leaseS, redundant: (flags & 1) !== 0, inputCrc: r.u32('input crc'), mission: decodeMission(r.u8('mission')), spec: readJobSpec(r) };
    }
    case 'ACCEPT':
      return { type, ...readShardRef(r), etaMs: r.varint('eta') };
    case 'DECLINE':
      return { type, ...readShardRef(r), reason: r.u8('reason') };
    case 'DATA': {
      const ref = readShardRef(r);
      const s = readStream(r);
      const offset = r.varint('offset');
      const bytes = r.rest();
      if (bytes.length === 0) throw new CodecError('TRUNCATED', 'DATA: no data bytes');
      return { type, ...ref, stream: s, offset, bytes };
    }
    case 'DATA_WANT': {
      const ref = readShardRef(r);
      const s = readStream(r);
      const count = r.u8('range count');
      if (count > MAX_WANT_RANGES) throw new CodecError('BAD_VALUE', `DATA_WANT: ${count} ranges exceed ${MAX_WANT_RANGES}`);
      const ranges: Array<[number, number]> = [];
      for (let i = 0; i < count; i++) {
        const off = r.varint('range offset');
        const len = r.varint('range length');
        if (len < 1) throw new CodecError('BAD_VALUE', 'DATA_WANT: empty range');
        ranges.push([off, len]);
      }
      return { type, ...ref, stream: s, ranges };
    }
    case 'PROGRESS': {
      const ref = readShardRef(r);
      const stage = r.u8('stage');
      if (stage > 3) throw new CodecError('BAD_VALUE', `PROGRESS: unknown stage ${stage}`);
      return { type, ...ref, stage, pct: percent(r.u8('progress'), 'progress'), etaMs: r.varint('eta') };
    }
    case 'RESULT': {
      const ref = readShardRef(r);
      const status = r.u8('status');
      const length = r.varint('length');
      const crc = r.u32('crc');
      const flags = r.u8('flags');
      if (flags & ~3) throw new CodecError('BAD_VALUE', 'RESULT: reserved flag bits are set');
      const signature = flags & 2 ? r.bytes(RESULT_SIGNATURE_BYTES, 'result signature') : null;
      let inline: Uint8Array | null = null;
      if (flags & 1) {
        inline = r.bytes(length, 'inline result');
      }
      return { type, ...ref, status, length, crc, inline, signature };
    }
    case 'AUTH_REJECT': {
      const reason = r.u8('reason');
      if (reason < 1 || reason > 2) throw new CodecError('BAD_VALUE', `AUTH_REJECT: unknown reason ${reason}`);
      return { type, reason };
    }
    case 'DETECTION':
      return { type, keyword: r.u8('keyword'), score255: r.u8('score'), timeS: r.u32('time'), seq: r.u16('sequence') };
    case 'RESULT_ACK': {
      const ref = readShardRef(r);
      const status = r.u8('status');
      if (status > 2) throw new CodecError('BAD_VALUE', `RESULT_ACK: unknown status ${status}`);
      return { type, ...ref, status };
    }
    case 'CANCEL': {
      const jobId = r.varint('job id');
      const flags = r.u8('flags');
      if (flags & ~1) throw new CodecError('BAD_VALUE', 'CANCEL: reserved flag bits are set');
      const shard = flags & 1 ? null : r.varint('shard');
      return { type, jobId, shard, reason: r.u8('reason') };
    }
    case 'FAILURE': {
      const ref = readShardRef(r);
      const reason = r.u8('reason');
      const detail = r.shortString('detail');
      if (new TextEncoder().encode(detail).length > MAX_DETAIL_BYTES) throw new CodecError('BAD_VALUE', `FAILURE detail exceeds ${MAX_DETAIL_BYTES} bytes`);
      return { type, ...ref, reason, detail };
    }
    case 'FRAGMENT': {
      const msgId = r.u16('message id');
      const index = r.u8('index');
      const count = r.u8('count');
      if (count < 2 || index >= count) throw new CodecError('BAD_VALUE', `FRAGMENT: index ${index} of ${count} is invalid`);
      let totalLength: number | null = null;
      let crc: number | null = null;
      if (index === 0) {
        totalLength = r.varint('total length');
        crc = r.u32('crc');
      }
      const chunk = r.rest();
      if (chunk.length === 0) throw new CodecError('TRUNCATED', 'FRAGMENT: empty chunk');
      return { type, msgId, index, count, totalLength, crc, chunk };
    }
  }
}

function readStream(r: ByteReader): StreamId {
  const s = r.u8('stream');
  if (s !== 0 && s !== 1) throw new CodecError('BAD_VALUE', `unknown data stream ${s}`);
  return s;
}

export function stageName(stage: number): StageName {
  return STAGE_NAMES[stage] ?? 'RECEIVING';
}

/** Payload room a DATA message leaves for bytes, given its header fields. */
export function dataRoom(ref: ShardRef, offset: number, maxPayload = DEFAULT_MAX_PAYLOAD): number {
  const w = new ByteWriter(16);
  w.u8(0).u8(0);
  shardRef(w, ref);
  w.u8(0).varint(offset);
  return maxPayload - w.length;
}
