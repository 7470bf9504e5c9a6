import { describe, expect, it } from 'vitest';
import {
  MeshError,
  MODEM_PRESETS,
  MODEM_PRESET_NAMES,
  firmwarePacketTimeMs,
  getModemPreset,
  noiseFloorDbm,
  timeOnAirMs,
  timeOnAirUs,
  type LoRaParams,
} from '../src/index.js';

function params(sf: number, bw: number, cr: number, pre: number, ldro?: boolean): LoRaParams {
  return { spreadingFactor: sf, bandwidthKHz: bw, codingRate: cr, preambleSymbols: pre, explicitHeader: true, crc: true, lowDataRateOptimize: ldro };
}

describe('modem presets', () => {
  it('has the firmware slot times', () => {
    const slots = Object.fromEntries(MODEM_PRESET_NAMES.map((n) => [n, MODEM_PRESETS[n].slotTimeMs]));
    expect(slots).toEqual({ SHORT_TURBO: 8, SHORT_FAST: 8, SHORT_SLOW: 10, MEDIUM_FAST: 12, MEDIUM_SLOW: 17, LONG_FAST: 28, LONG_MODERATE: 48, LONG_SLOW: 89 });
  });

  it('has sensitivities from noise floor and SNR limit', () => {
    expect(MODEM_PRESETS.LONG_FAST.sensitivityDbm).toBe(-131.5);
    expect(MODEM_PRESETS.SHORT_TURBO.sensitivityDbm).toBe(-118.5);
    expect(MODEM_PRESETS.LONG_SLOW.sensitivityDbm).toBe(-137);
    expect(MODEM_PRESETS.MEDIUM_FAST.sensitivityDbm).toBe(-126.5);
    expect(noiseFloorDbm(250)).toBeCloseTo(-114.02, 2);
  });

  it('rejects unknown presets with a typed error', () => {
    expect(() => getModemPreset('VERY_FAST')).toThrow(MeshError);
    expect(() => getModemPreset('nope')).toThrow(expect.objectContaining({ name: 'MeshError', code: 'INVALID_PRESET', message: expect.stringContaining('"nope"') }));
    // Names are exact: no case folding.
    expect(() => getModemPreset('long_fast')).toThrow(expect.objectContaining({ code: 'INVALID_PRESET' }));
    expect(getModemPreset('LONG_FAST')).toMatchObject({ spreadingFactor: 11, bandwidthKHz: 250, slotTimeMs: 28 });
  });
});

describe('time on air', () => {
  const vectors: Array<[LoRaParams, number, number]> = [
    [params(12, 500, 5, 8), 1, 206.848],
    [params(12, 500, 5, 12), 64, 649.216],
    [params(12, 500, 5, 8), 192, 1476.608],
    [params(8, 125, 6, 8), 253, 827.904],
    [params(11, 10.42, 7, 25, true), 16, 12824.568],
    [params(12, 125, 5, 8), 64, 2793.472],
    [params(7, 500, 5, 8), 255, 99.904],
  ];
  it.each(vectors)('Semtech vector %#', (p, pl, ms) => {
    expect(Math.abs(timeOnAirMs(p, pl) - ms)).toBeLessThan(0.0005);
    expect(timeOnAirUs(p, pl)).toBe(Math.round(ms * 1000));
  });

  const meshtastic: Record<string, number[]> = {
    LONG_FAST: [395.264, 641.024, 1009.664, 2156.544],
    MEDIUM_FAST: [109.056, 180.736, 293.376, 641.536],
    SHORT_TURBO: [16.192, 26.432, 45.632, 101.952],
    LONG_SLOW: [1974.272, 3547.136, 6168.576, 14295.04],
  };
  for (const [name, expected] of Object.entries(meshtastic)) {
    it(`${name} at 20/50/100/255 bytes`, () => {
      [20, 50, 100, 255].forEach((pl, i) => {
        expect(Math.abs(timeOnAirMs(name as 'LONG_FAST', pl) - (expected[i] as number))).toBeLessThan(0.0005);
      });
    });
  }

  it('grows monotonically with payload for every preset', () => {
    for (const name of MODEM_PRESET_NAMES) {
      let prev = 0;
      for (let pl = 0; pl <= 255; pl++) {
        const t = timeOnAirMs(name, pl);
        expect(t).toBeGreaterThanOrEqual(prev);
        prev = t;
      }
    }
  });

  it("uses 2.6.11's getPacketTime by default: symbols rounded up after the coding rate, truncated to whole ms", () => {
    // LONG_FAST 255 B: ceil(2040 / 44 * 5) + 8 = 240 payload symbols, (16 + 4.25 + 240) * 8.192 ms = 2131.97 ms.
    expect(firmwarePacketTimeMs('LONG_FAST', 255)).toBe(2131);
    // LONG_FAST 56 B: ceil(448 / 44 * 5) + 8 = 59 symbols, 79.25 * 8.192 = 649.2 ms, while the frame takes 681.98 ms.
    expect(firmwarePacketTimeMs('LONG_FAST', 56)).toBe(649);
    expect(timeOnAirMs('LONG_FAST', 56)).toBeCloseTo(681.984, 3);
    // SHORT_TURBO 20 B: ceil(176 / 28 * 5) + 8 = 40 symbols, 60.25 * 0.256 = 15.42 ms.
    expect(firmwarePacketTimeMs('SHORT_TURBO', 20)).toBe(15);
  });

  it("uses RadioLib's time on air, truncated, for 2.7.12", () => {
    expect(firmwarePacketTimeMs('LONG_FAST', 255, '2.7.12')).toBe(2156);
    expect(firmwarePacketTimeMs('LONG_FAST', 56, '2.7.12')).toBe(681);
    expect(firmwarePacketTimeMs('SHORT_TURBO', 20, '2.7.12')).toBe(16);
  });

  it('rejects bad payload sizes and parameters', () => {
    expect(() => timeOnAirMs('LONG_FAST', 256)).toThrow(expect.objectContaining({ code: 'INVALID_PAYLOAD_SIZE' }));
    expect(() => timeOnAirMs('LONG_FAST', -1)).toThrow(MeshError);
    expect(() => timeOnAirMs(params(13, 125, 5, 8), 10)).toThrow(expect.objectContaining({ code: 'INVALID_LORA_PARAMS' }));
    expect(() => timeOnAirMs(params(7, 125, 9, 8), 10)).toThrow(expect.objectContaining({ code: 'INVALID_LORA_PARAMS' }));
  });
});
