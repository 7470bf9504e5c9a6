import { Prng } from '@compotastic/mesh';
import { describe, expect, it } from 'vitest';
import { CodecError } from '../src/errors.js';
import { GATT } from '../src/registry/ble.js';
import {
  CAPABILITY_RECORD_BYTES,
  type CapabilityRecord,
  decodeCapabilityRecord,
  encodeCapabilityRecord,
  packFirmwareVersion,
  unpackFirmwareVersion,
} from '../src/registry/capability.js';
import { decodeUfloat16, encodeUfloat16, quantizeUfloat16, UFLOAT16_MAX } from '../src/wire/ufloat16.js';
import { randomRecord } from '../src/wire/samples.js';
import { encodeMessage } from '../src/wire/messages.js';

const phone: CapabilityRecord = {
  deviceClass: 'phone',
  accelerators: ['npu'],
  precisions: ['int8', 'fp16', 'fp32'],
  onnxRuntime: false,
  kernelBuild: 'simd',
  acceptsJobs: true,
  externalPower: false,
  portBlocked: false,
  links: { ble: true, wifi: false },
  modelFamilies: ['gemm', 'gemv', 'mlp'],
  freeRamKiB: 3 * 1024 * 1024,
  gops: 100,
  firmwareVersion: '2.6.11',
  modelId: 1,
  modelVersion: 3,
  computeDrainPctPerHour: 17.77,
  epoch: 513,
};

describe('capability record (BLE core characteristic)', () => {
  it('is exactly 20 bytes with a pinned layout', () => {
    const b = encodeCapabilityRecord(phone);
    expect(b.length).toBe(CAPABILITY_RECORD_BYTES);
    expect(Array.from(b)).toEqual([
      1, // version
      3, // phone
      0b11110, // npu + int8 + fp16 + fp32
      2 | 4 | 16, // simd, accepts jobs, BLE
      7, 0, // gemm | gemv | mlp
      0x00, 0xac, // 3 GiB in KiB = 3072 * 2^10: exponent 10, mantissa 3072 -> 0xAC00
      0x35, 0x5c, // 100 GOPS = 100000 MOPS = 3125 * 2^5 -> 0x5C35
      0x8b, 0x21, // 2<<12 | 6<<6 | 11
      1, 0,
      3, 0,
      0xf1, 0x06, // 1777 (0.01 %/h units)
      0x01, 0x02, // epoch 513
    ]);
    expect(decodeCapabilityRecord(b)).toEqual(phone);
    // Values that need more than 12 significant bits are rounded down.
    expect(decodeCapabilityRecord(encodeCapabilityRecord({ ...phone, gops: 0.0501, freeRamKiB: 300_001 }))).toMatchObject({ gops: 0.05, freeRamKiB: 2343 * 128 });
  });

  it('round-trips random records and fits one mesh packet inside an advert', () => {
    const r = new Prng(9);
    for (let i = 0; i < 500; i++) {
      const rec = randomRecord(r);
      expect(decodeCapabilityRecord(encodeCapabilityRecord(rec))).toEqual(rec);
      const advert = encodeMessage({ type: 'CAP_ADVERT', record: rec, battery: 50, ttlS: 1920, load: 0, channelUtil: 12 });
      expect(advert.length).toBe(27);
    }
  });

  it('rejects wrong sizes, versions and reserved bits with CodecError', () => {
    const b = encodeCapabilityRecord(phone);
    expect(() => decodeCapabilityRecord(b.subarray(0, 19))).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
    expect(() => decodeCapabilityRecord(Uint8Array.of(...b, 0))).toThrow(expect.objectContaining({ code: 'TRAILING_BYTES' }));
    expect(() => decodeCapabilityRecord(Uint8Array.of(2, ...b.subarray(1)))).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_VERSION' }));
    const reserved = b.slice();
    reserved[2] = 0x80;
    expect(() => decodeCapabilityRecord(reserved)).toThrow(CodecError);
    const cls = b.slice();
    cls[1] = 200;
    expect(() => decodeCapabilityRecord(cls)).toThrow(CodecError);
  });

  it('packs firmware versions into 16 bits', () => {
    expect(unpackFirmwareVersion(packFirmwareVersion('2.6.11.sim'))).toBe('2.6.11');
    expect(unpackFirmwareVersion(packFirmwareVersion('2.7.4-abcdef'))).toBe('2.7.4');
    expect(() => packFirmwareVersion('beta')).toThrow(CodecError);
    expect(() => packFirmwareVersion('16.0.0')).toThrow(CodecError);
  });

  it('ufloat16 keeps 12 significant bits, rounds down and has one encoding per value', () => {
    for (const v of [0, 1, 4095, 4096, 4097, 8191, 123_456, 50, 0.05 * 1000, UFLOAT16_MAX, UFLOAT16_MAX * 2]) {
      const q = quantizeUfloat16(v);
      expect(q).toBeLessThanOrEqual(v);
      expect(q).toBeGreaterThanOrEqual(Math.min(v, UFLOAT16_MAX) * (1 - 1 / 2048) - 1);
    }
    expect(encodeUfloat16(4097)).toBe((1 << 12) | 2048);
    expect(() => decodeUfloat16((1 << 12) | 5)).toThrow(expect.objectContaining({ code: 'BAD_VALUE' }));
    expect(() => encodeUfloat16(-1)).toThrow(CodecError);
  });

  it('names a GATT service, its characteristics and the standard Battery Level', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const k of ['service', 'capabilityRecord', 'state', 'messages', 'batteryService', 'batteryLevel'] as const) expect(GATT[k]).toMatch(uuid);
    expect(GATT.batteryLevel.startsWith('00002a19')).toBe(true);
    expect(GATT.batteryLevelShort).toBe(0x2a19);
    expect(new Set([GATT.service, GATT.capabilityRecord, GATT.state, GATT.messages]).size).toBe(4);
  });
});
