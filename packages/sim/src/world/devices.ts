/** Device classes and what the simulator assumes about them (compute, memory, power draw, battery). */
export type DeviceClass = 'microcontroller' | 'sbc' | 'phone' | 'laptop' | 'jetson';

export const DEVICE_CLASSES: readonly DeviceClass[] = ['microcontroller', 'sbc', 'phone', 'laptop', 'jetson'];

export interface DeviceProfile {
  /** Sustained int8 compute, giga-operations per second. */
  gops: number;
  /** Memory available to workloads, MB. */
  ramMb: number;
  /** Draw while idle with the radio listening, mA at the battery. */
  idleMa: number;
  /** Extra draw while computing, mA. */
  computeMa: number;
  /** Default battery capacity, mAh. */
  batteryMah: number;
  /** Has Bluetooth LE for proximity reads. */
  ble: boolean;
}

/**
 * Modelling assumptions, not measurements: an ESP32/nRF52 radio node, a Raspberry Pi class board, a phone, a laptop
 * and a Jetson Orin class module, all expressed as current at a ~3.7 V battery.
 */
export const DEVICE_PROFILES: Readonly<Record<DeviceClass, DeviceProfile>> = Object.freeze({
  microcontroller: { gops: 0.05, ramMb: 0.3, idleMa: 25, computeMa: 40, batteryMah: 3000, ble: true },
  sbc: { gops: 20, ramMb: 2048, idleMa: 350, computeMa: 600, batteryMah: 10000, ble: true },
  phone: { gops: 100, ramMb: 6144, idleMa: 150, computeMa: 800, batteryMah: 4500, ble: true },
  laptop: { gops: 500, ramMb: 16384, idleMa: 1500, computeMa: 3000, batteryMah: 15000, ble: true },
  jetson: { gops: 20000, ramMb: 8192, idleMa: 1500, computeMa: 4000, batteryMah: 20000, ble: true },
});

/** SX126x-class transmit current (plus an external PA above 22 dBm), mA. */
export function txCurrentMa(txPowerDbm: number): number {
  if (txPowerDbm <= 22) return 28 + 4.1 * Math.max(txPowerDbm, 0);
  return 118 + 0.55 * (10 ** (txPowerDbm / 10) - 158);
}
