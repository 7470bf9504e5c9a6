import { describe, expect, it } from 'vitest';
import {
  CW_MAX,
  DATA_PAYLOAD_LEN,
  MeshError,
  PortNum,
  arduinoMap,
  assertPayloadFits,
  cwSizeForChannelUtil,
  cwSizeForSnr,
  defaultFrequencyMHz,
  droppedByCorePortnumsOnly,
  encodedDataSize,
  firmwarePacketTimeMs,
  getModemPreset,
  getRegion,
  lastByteOfNodeNum,
  maxPayloadFor,
  onAirPacketBytes,
  rebroadcastDelayMs,
  rebroadcastDelayWorstMs,
  retransmissionDelayMs,
  txDelayMs,
} from '../src/index.js';

const fixed = (value: number) => ({ intBelow: (n: number) => Math.min(value, n - 1) });

describe('contention windows', () => {
  it('maps SNR onto CW with integer truncation like Arduino map()', () => {
    expect(cwSizeForSnr(-20)).toBe(3);
    expect(cwSizeForSnr(-15)).toBe(3);
    expect(cwSizeForSnr(-14)).toBe(4);
    expect(cwSizeForSnr(-5.9)).toBe(5);
    expect(cwSizeForSnr(10)).toBe(8);
    // Not clamped, as in the firmware.
    expect(cwSizeForSnr(16)).toBe(9);
    expect(arduinoMap(-25, -20, 10, 3, 8)).toBe(3);
    expect(cwSizeForChannelUtil(0)).toBe(3);
    expect(cwSizeForChannelUtil(100)).toBe(8);
  });

  it('gives routers the early window and clients the late one', () => {
    const slot = 28;
    expect(rebroadcastDelayMs(fixed(0), 0, slot, true)).toBe(0);
    expect(rebroadcastDelayMs(fixed(99), 10, slot, true)).toBe((2 * 8 - 1) * slot);
    expect(rebroadcastDelayMs(fixed(0), 0, slot, false)).toBe(2 * CW_MAX * slot);
    expect(rebroadcastDelayMs(fixed(1000), 10, slot, false)).toBe(2 * CW_MAX * slot + 255 * slot);
    expect(rebroadcastDelayWorstMs(10, slot)).toBe(2 * CW_MAX * slot + 256 * slot);
    expect(txDelayMs(fixed(1000), 0, slot)).toBe(7 * slot);
    expect(() => txDelayMs(fixed(0), 0, 0)).toThrow(MeshError);
  });

  it('spaces retransmissions about 10.3 s for a 255-byte LONG_FAST packet', () => {
    const airtime = firmwarePacketTimeMs('LONG_FAST', 255);
    expect(retransmissionDelayMs(airtime, 0, getModemPreset('LONG_FAST').slotTimeMs)).toBe(2 * 2131 + (8 + 16 + 32) * 28 + 4500);
  });
});

describe('regions', () => {
  it('has the firmware duty cycles and power limits', () => {
    expect(getRegion('US')).toMatchObject({ freqStartMHz: 902, freqEndMHz: 928, dutyCyclePercent: 100, powerLimitDbm: 30 });
    expect(getRegion('EU_868')).toMatchObject({ dutyCyclePercent: 10, powerLimitDbm: 27 });
    expect(getRegion('EU_433').dutyCyclePercent).toBe(10);
    expect(getRegion('UA_868').dutyCyclePercent).toBe(1);
    expect(() => getRegion('MARS')).toThrow(expect.objectContaining({ code: 'INVALID_REGION' }));
  });

  it('picks the default frequency slot from the channel name hash', () => {
    expect(defaultFrequencyMHz(getRegion('US'), getModemPreset('LONG_FAST'))).toBeCloseTo(906.875, 6);
    expect(defaultFrequencyMHz(getRegion('EU_868'), getModemPreset('LONG_FAST'))).toBeCloseTo(869.525, 6);
  });
});

describe('packet limits', () => {
  it('matches the usable payload sizes on the private port', () => {
    expect(maxPayloadFor()).toBe(231);
    expect(maxPayloadFor({ wantResponse: true })).toBe(229);
    expect(maxPayloadFor({ requestId: true })).toBe(226);
    expect(maxPayloadFor({ replyId: true })).toBe(226);
    expect(maxPayloadFor({ pki: true })).toBe(219);
    expect(maxPayloadFor({ portnum: PortNum.TEXT_MESSAGE_APP })).toBe(232);
  });

  it('fills exactly one 255-byte LoRa packet, whatever the port number costs', () => {
    // From the firmware's rule (encoded Data + 16-byte header <= 255) the Data may take 239 bytes: portnum tag and
    // varint (2 bytes below 128, 3 from 128), payload tag and 2-byte length, 2-byte bitfield, the payload itself.
    expect(maxPayloadFor({ portnum: 1 })).toBe(239 - 2 - 3 - 2);
    expect(maxPayloadFor({ portnum: 127 })).toBe(232);
    expect(maxPayloadFor({ portnum: 128 })).toBe(239 - 3 - 3 - 2);
    expect(maxPayloadFor({ portnum: 511 })).toBe(231);
    // PKI adds 12 bytes on air.
    expect(maxPayloadFor({ portnum: 1, pki: true })).toBe(232 - 12);
    // Without a portnum field 234 bytes would fit, but mesh.proto caps Data.payload at DATA_PAYLOAD_LEN = 233.
    expect(DATA_PAYLOAD_LEN).toBe(233);
    expect(maxPayloadFor({ portnum: 0 })).toBe(233);
    // The largest payload lands on exactly 255 bytes; one more byte would not fit.
    expect(onAirPacketBytes({ portnum: 256, payloadBytes: 231 })).toBe(255);
    expect(onAirPacketBytes({ portnum: 256, payloadBytes: 232 })).toBe(256);
    expect(onAirPacketBytes({ portnum: 256, payloadBytes: 219, pki: true })).toBe(255);
  });

  it('computes encoded Data sizes field by field', () => {
    expect(encodedDataSize({ portnum: 256, payloadBytes: 231 })).toBe(239);
    expect(encodedDataSize({ portnum: 1, payloadBytes: 10, bitfield: false })).toBe(2 + 12);
    expect(encodedDataSize({ portnum: 5, payloadBytes: 2, requestId: true })).toBe(2 + 4 + 5 + 2);
  });

  it('refuses oversize payloads with TOO_LARGE', () => {
    expect(() => assertPayloadFits(232)).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    expect(() => assertPayloadFits(231)).not.toThrow();
    expect(() => maxPayloadFor({ portnum: 600 })).toThrow(MeshError);
  });

  it('applies the CORE_PORTNUMS_ONLY rules per firmware generation', () => {
    expect(droppedByCorePortnumsOnly(256)).toBe(true);
    expect(droppedByCorePortnumsOnly(257)).toBe(true);
    expect(droppedByCorePortnumsOnly(300)).toBe(false);
    expect(droppedByCorePortnumsOnly(300, '2.7-whitelist')).toBe(true);
    expect(droppedByCorePortnumsOnly(PortNum.TEXT_MESSAGE_APP)).toBe(false);
  });

  it('maps node numbers to header bytes', () => {
    expect(lastByteOfNodeNum(0x12345678)).toBe(0x78);
    expect(lastByteOfNodeNum(0x12345600)).toBe(0xff);
  });
});
