import type { Kernel } from '@compotastic/kernel';
import { bytesEqual } from '../bytes.js';
import { openBundle, type OpenedBundle } from '../bundle.js';
import { decodePartStream } from '../delta/part-codec.js';
import { OtaError } from '../errors.js';
import { sha256Stream } from '../hash.js';
import type { Manifest } from '../manifest.js';
import type { ApplyPatchOptions } from '../patch/apply.js';
import type { TrustStore } from '../signing.js';
import { FlashRegion, FlashWriter, eraseRange, type Flash } from '../storage/flash.js';
import type { RandomAccessSource } from '../storage/io.js';
import { BootRecordStore, type BootRecord, type BootState, type SlotIndex } from './boot-record.js';
import { SLOT_HEADER_BYTES, encodeSlotHeader, partOffsets, slotBytesNeeded, slotPartSource, verifySlot, type SlotImage } from './slot-image.js';

// A/B updates in the style of MCUboot's test-and-confirm swap, without the swap: the new image is written to the
// inactive slot, checked from flash, and the boot record then points at it as "pending". The next boot runs it as
// "testing"; the running image confirms itself after its self-test, or is rolled back. A reboot while testing (a
// crash, a watchdog) also rolls back. Anti-rollback: a bundle whose security counter is below the confirmed floor,
// or whose version is not newer than the installed one, is refused.

export interface DeviceIdentity {
  deviceClass: string;
  /** Wasm features the device runs (the kernel's FEATURE_* bits). */
  wasmFeatures: number;
}

export interface PartitionLayout {
  /** Two sectors for the boot record. */
  bootRecord: Flash;
  slots: [Flash, Flash];
}

/** Carves a flash into boot record (2 sectors) and two equal slots. */
export function partitionFlash(flash: Flash): PartitionLayout {
  const sectors = flash.length / flash.sectorSize;
  const slotSectors = Math.floor((sectors - 2) / 2);
  if (slotSectors * flash.sectorSize <= SLOT_HEADER_BYTES) throw new OtaError('INVALID_ARGUMENT', 'flash is too small for two slots');
  const s = flash.sectorSize;
  return {
    bootRecord: new FlashRegion(flash, 0, 2 * s),
    slots: [new FlashRegion(flash, 2 * s, slotSectors * s), new FlashRegion(flash, (2 + slotSectors) * s, slotSectors * s)],
  };
}

export interface UpdaterOptions {
  layout: PartitionLayout;
  trust: TrustStore;
  device: DeviceIdentity;
  /** Needed to rebuild tensor-delta parts (and to self-test kernel parts). */
  kernel: Kernel;
  patch?: ApplyPatchOptions;
}

export interface BootResult {
  slot: SlotIndex;
  state: BootState;
  manifest: Manifest;
  /** What boot() did: e.g. 'booted', 'trying new image', 'rolled back: ...'. */
  action: string;
}

export interface InstallResult {
  slot: SlotIndex;
  manifest: Manifest;
}

/** A self-test: resolves true when the new image works on this device. */
export type SelfTest = (image: InstalledImage) => boolean;

/** Read access to the running image. */
export interface InstalledImage {
  manifest: Manifest;
  part(name: string): RandomAccessSource | null;
}

export class Updater {
  private readonly records: BootRecordStore;
  private readonly slots: [Flash, Flash];
  private current: { slot: SlotIndex; image: SlotImage; record: BootRecord } | null = null;

  constructor(private readonly opts: UpdaterOptions) {
    this.records = new BootRecordStore(opts.layout.bootRecord);
    this.slots = opts.layout.slots;
  }

  private verify(slot: SlotIndex, why?: (r: string) => void): SlotImage | null {
    return verifySlot(this.slots[slot], this.opts.trust, why);
  }

  /**
   * Chooses and verifies the image to run, advancing the test-and-confirm state machine (as a bootloader would at
   * reset). Throws NO_VALID_IMAGE when neither slot holds a verified image the floor allows.
   */
  boot(): BootResult {
    const rec = this.records.read();
    const floor = rec?.securityFloor ?? 0;
    const usable = (slot: SlotIndex): SlotImage | null => {
      const img = this.verify(slot);
      return img && img.manifest.securityCounter >= floor ? img : null;
    };
    const settle = (slot: SlotIndex, img: SlotImage, state: BootState, previous: SlotIndex | null, action: string, write: boolean): BootResult => {
      const record = write ? this.records.write({ active: slot, state, previous, securityFloor: floor }) : rec!;
      this.current = { slot, image: img, record };
      return { slot, state, manifest: img.manifest, action };
    };
    const fallback = (avoid: SlotIndex | null, action: string): BootResult => {
      for (const s of [0, 1] as SlotIndex[]) {
        if (s === avoid) continue;
        const img = usable(s);
        if (img) return settle(s, img, 'confirmed', null, action, true);
      }
      throw new OtaError('NO_VALID_IMAGE', 'no slot holds a verified image');
    };
    if (!rec) {
      // Blank record: take the newest verified image.
      const imgs = ([0, 1] as SlotIndex[]).map((s) => ({ s, img: usable(s) })).filter((x) => x.img !== null);
      imgs.sort((a, b) => b.img!.manifest.version - a.img!.manifest.version);
      const best = imgs[0];
      if (!best) throw new OtaError('NO_VALID_IMAGE', 'no slot holds a verified image');
      return settle(best.s, best.img!, 'confirmed', null, 'first boot', true);
    }
    if (rec.state === 'pending') {
      const img = usable(rec.active);
      if (img) return settle(rec.active, img, 'testing', rec.previous, 'trying new image', true);
      return fallback(rec.active, 'rolled back: new image failed verification');
    }
    if (rec.state === 'testing') {
      // Reset before the image confirmed itself: revert.
      if (rec.previous !== null) {
        const img = usable(rec.previous);
        if (img) return settle(rec.previous, img, 'confirmed', null, 'rolled back: new image was not confirmed', true);
      }
      return fallback(null, 'rolled back: previous image unavailable');
    }
    const img = usable(rec.active);
    if (img) return settle(rec.active, img, 'confirmed', rec.previous, 'booted', false);
    return fallback(rec.active, 'active image failed verification');
  }

  private running(): { slot: SlotIndex; image: SlotImage; record: BootRecord } {
    if (!this.current) throw new OtaError('INVALID_STATE', 'call boot() first');
    return this.current;
  }

  /** The image that boot() chose. */
  get installed(): InstalledImage {
    const cur = this.running();
    const slot = this.slots[cur.slot];
    return { manifest: cur.image.manifest, part: (name) => slotPartSource(slot, cur.image, name) };
  }

  get state(): BootState {
    return this.running().record.state;
  }

  get securityFloor(): number {
    return this.records.read()?.securityFloor ?? 0;
  }

  /**
   * Checks a bundle against this device without writing anything: signature, compatibility, anti-rollback, delta
   * base. Throws OtaError with the reason.
   */
  check(bundle: RandomAccessSource | Uint8Array): OpenedBundle {
    const cur = this.running();
    if (cur.record.state !== 'confirmed') throw new OtaError('INVALID_STATE', 'an update is already pending or on trial');
    const opened = openBundle(bundle, this.opts.trust);
    const m = opened.manifest;
    const have = cur.image.manifest;
    const dev = this.opts.device;
    if (m.deviceClass !== '*' && m.deviceClass !== dev.deviceClass) throw new OtaError('INCOMPATIBLE', `bundle targets ${m.deviceClass}, this device is ${dev.deviceClass}`);
    if ((m.requiredFeatures & ~dev.wasmFeatures) !== 0) throw new OtaError('INCOMPATIBLE', `bundle needs Wasm features 0x${m.requiredFeatures.toString(16)}, device has 0x${dev.wasmFeatures.toString(16)}`);
    // The security counter orders releases device-wide (like MCUboot's): versions compare within one model only, so
    // switching to another model takes a counter above the floor, or any old signed bundle of another model would do.
    const floor = Math.max(cur.record.securityFloor, have.securityCounter);
    if (m.securityCounter < floor) throw new OtaError('DOWNGRADE', `security counter ${m.securityCounter} is below the device's ${floor}`);
    if (m.modelId === have.modelId && m.version <= have.version) throw new OtaError('DOWNGRADE', `version ${m.version} is not newer than the installed ${have.version}`);
    if (m.modelId !== have.modelId && m.securityCounter <= floor) {
      throw new OtaError('DOWNGRADE', `a bundle for another model (${m.modelId}, the device runs ${have.modelId}) needs a security counter above ${floor}, it has ${m.securityCounter}`);
    }
    if (m.baseVersion !== null) {
      if (m.modelId !== have.modelId || m.baseVersion !== have.version) {
        throw new OtaError('BASE_MISMATCH', `delta for ${m.modelId} v${m.baseVersion}, device has ${have.modelId} v${have.version}`);
      }
      for (const p of m.parts) {
        if (!p.baseSha256) continue;
        const mine = have.parts.find((q) => q.name === p.name);
        if (!mine || !bytesEqual(mine.sha256, p.baseSha256)) throw new OtaError('BASE_MISMATCH', `installed part "${p.name}" is not the one the delta was built against`);
      }
    }
    const target: SlotIndex = cur.slot === 0 ? 1 : 0;
    if (slotBytesNeeded(m) > this.slots[target].length) throw new OtaError('TOO_LARGE', `image needs ${slotBytesNeeded(m)} bytes, the slot has ${this.slots[target].length}`);
    return opened;
  }

  /**
   * Verifies a bundle, rebuilds its image into the inactive slot (deltas read the running image's parts from flash),
   * verifies the slot, and marks it pending: it runs from the next boot(). On any failure nothing changes but the
   * inactive slot, which is left without a valid header.
   */
  install(bundle: RandomAccessSource | Uint8Array): InstallResult {
    const opened = this.check(bundle);
    const cur = this.running();
    const m = opened.manifest;
    const target: SlotIndex = cur.slot === 0 ? 1 : 0;
    const slot = this.slots[target];
    const running = this.installed;
    eraseRange(slot, 0, slotBytesNeeded(m));
    const offsets = partOffsets(m);
    m.parts.forEach((p, i) => {
      const base = p.baseSha256 ? running.part(p.name) : null;
      const writer = new FlashWriter(slot, offsets[i]!, p.size);
      const hash = sha256Stream();
      decodePartStream(p.encoding, opened.partSource(i), base, {
        write(chunk) {
          hash.update(chunk);
          writer.write(chunk);
        },
      }, { size: p.size, kernel: this.opts.kernel, ...(this.opts.patch ? { patch: this.opts.patch } : {}) });
      writer.flush();
      if (writer.written !== p.size) throw new OtaError('MANIFEST_MISMATCH', `part "${p.name}" decoded to ${writer.written} bytes, the manifest says ${p.size}`);
      if (!bytesEqual(hash.digest(), p.sha256)) throw new OtaError('MANIFEST_MISMATCH', `part "${p.name}" does not match its hash in the manifest`);
    });
    // The header goes last: only a completely written image can verify.
    const header = new FlashWriter(slot, 0, SLOT_HEADER_BYTES);
    header.write(encodeSlotHeader(opened.manifestBytes, opened.signature, opened.keyId));
    header.flush();
    let why = '';
    if (!this.verify(target, (r) => (why = r))) throw new OtaError('CORRUPT', `written image does not verify: ${why}`);
    const record = this.records.write({ active: target, state: 'pending', previous: cur.slot, securityFloor: cur.record.securityFloor });
    this.current = { ...cur, record };
    return { slot: target, manifest: m };
  }

  /** Makes the image on trial permanent and raises the anti-rollback floor to its security counter. */
  confirm(): void {
    const cur = this.running();
    if (cur.record.state !== 'testing') throw new OtaError('INVALID_STATE', `nothing to confirm (state ${cur.record.state})`);
    const floor = Math.max(cur.record.securityFloor, cur.image.manifest.securityCounter);
    const record = this.records.write({ active: cur.slot, state: 'confirmed', previous: cur.record.previous, securityFloor: floor });
    this.current = { ...cur, record };
  }

  /** Abandons the image on trial; the previous image runs from the next boot(). */
  rollback(): void {
    const cur = this.running();
    if (cur.record.state !== 'testing' || cur.record.previous === null) throw new OtaError('INVALID_STATE', 'no image on trial to roll back');
    const record = this.records.write({ active: cur.record.previous, state: 'confirmed', previous: null, securityFloor: cur.record.securityFloor });
    this.current = null;
    void record;
  }

  /** Runs the self-test of an image on trial and confirms or rolls back. Returns whether it passed. */
  selfTest(test: SelfTest): boolean {
    if (this.running().record.state !== 'testing') throw new OtaError('INVALID_STATE', 'no image on trial');
    let ok = false;
    try {
      ok = test(this.installed);
    } catch {
      ok = false;
    }
    if (ok) this.confirm();
    else this.rollback();
    return ok;
  }

  /** Writes a first image straight into a slot and confirms it (factory provisioning). */
  static provision(layout: PartitionLayout, slotIndex: SlotIndex, bundle: Uint8Array, trust: TrustStore, kernel: Kernel): void {
    const opened = openBundle(bundle, trust);
    const m = opened.manifest;
    if (m.baseVersion !== null) throw new OtaError('INVALID_ARGUMENT', 'provisioning needs a full bundle');
    const slot = layout.slots[slotIndex];
    if (slotBytesNeeded(m) > slot.length) throw new OtaError('TOO_LARGE', 'image does not fit the slot');
    eraseRange(slot, 0, slotBytesNeeded(m));
    const offsets = partOffsets(m);
    m.parts.forEach((p, i) => {
      const writer = new FlashWriter(slot, offsets[i]!, p.size);
      decodePartStream(p.encoding, opened.partSource(i), null, writer, { size: p.size, kernel });
      writer.flush();
    });
    const header = new FlashWriter(slot, 0, SLOT_HEADER_BYTES);
    header.write(encodeSlotHeader(opened.manifestBytes, opened.signature, opened.keyId));
    header.flush();
    if (!verifySlot(slot, trust)) throw new OtaError('CORRUPT', 'provisioned image does not verify');
    new BootRecordStore(layout.bootRecord).write({ active: slotIndex, state: 'confirmed', previous: null, securityFloor: m.securityCounter });
  }
}
