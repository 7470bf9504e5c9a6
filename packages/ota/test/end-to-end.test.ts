import { Prng, timeOnAirMs, onAirPacketBytes } from '@compotastic/mesh';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Kernel } from '@compotastic/kernel';
import { buildBundle, type Release } from '../src/bundle.js';
import { OtaError } from '../src/errors.js';
import { TrustStore, generateSigningKey } from '../src/signing.js';
import { MemoryFlash } from '../src/storage/flash.js';
import { MemoryProgressStore } from '../src/storage/progress.js';
import { DutyCyclePacer } from '../src/transfer/pacing.js';
import { TransferReceiver, acceptOfferFor } from '../src/transfer/receiver.js';
import { BroadcastSender, type SenderReport } from '../src/transfer/sender.js';
import { Updater, partitionFlash } from '../src/update/updater.js';
import { LossyHub, PUBLISHER_KEY, PUBLISHER_TRUST, VirtualClock, expectBytes, kernel, releases } from './helpers.js';

let k: Kernel;
let v1: Release;
let v2: Release;
const key = generateSigningKey(new Uint8Array(32).fill(7));
const trust = new TrustStore([key.publicKey]);
beforeAll(async () => {
  k = await kernel();
  ({ v1, v2 } = releases());
});

const airtime = (n: number): number => timeOnAirMs('LONG_FAST', onAirPacketBytes({ portnum: 290, payloadBytes: n }));

/** Devices running v1; a gateway broadcasts `bundle`; each device installs what it receives. */
function rollout(bundle: Uint8Array, manifest: { modelId: string; version: number; baseVersion: number | null; securityCounter: number }, devices: number, loss: number, acceptAll = false) {
  const clock = new VirtualClock();
  const rng = new Prng(21);
  const hub = new LossyHub(clock, rng.derive('air'), loss);
  const v1Bundle = buildBundle(k, v1, { key }).bytes;
  const nodes = Array.from({ length: devices }, (_, i) => {
    const flash = new MemoryFlash(256 * 1024, 4096);
    Updater.provision(partitionFlash(flash), 0, v1Bundle, trust, k);
    const updater = new Updater({ layout: partitionFlash(flash), trust, device: { deviceClass: 'esp32-s3', wasmFeatures: 0 }, kernel: k });
    updater.boot();
    const id = 200 + i;
    const rx = new TransferReceiver({
      nodeId: id, link: hub.link(id), clock, rng: rng.derive(`n${id}`), store: new MemoryProgressStore(), trust: PUBLISHER_TRUST,
      accept: acceptAll ? () => true : acceptOfferFor({ modelId: 'kws-tiny', version: 1, securityFloor: updater.securityFloor }),
      deliver: (b) => {
        try {
          updater.install(b);
          return { ok: true };
        } catch (e) {
          return { ok: false, code: (e as OtaError).code, message: (e as Error).message };
        }
      },
    });
    hub.endpoints.set(id, (from, p) => rx.onMessage(from, p));
    return { id, flash, rx };
  });
  let report: SenderReport | null = null;
  const sender = new BroadcastSender({
    bundle, manifest, key: PUBLISHER_KEY, link: hub.link(1), clock, pacer: new DutyCyclePacer({ dutyCyclePercent: 10 }), airtimeMs: airtime,
    session: 77, seed: 1234, receivers: nodes.map((n) => n.id), onDone: (r) => (report = r),
  });
  hub.endpoints.set(1, (from, p) => sender.onMessage(from, p));
  sender.start();
  clock.run();
  return { nodes, report: report as SenderReport | null, clock };
}

describe('end to end: broadcast, verify, install, reboot, confirm', () => {
  it('every device ends up running the new release', () => {
    const b = buildBundle(k, v2, { key, base: v1 });
    const { nodes, report } = rollout(b.bytes, { ...b.manifest }, 5, 0.2);
    expect(report!.complete).toBe(true);
    for (const n of nodes) {
      const u = new Updater({ layout: partitionFlash(n.flash), trust, device: { deviceClass: 'esp32-s3', wasmFeatures: 0 }, kernel: k });
      expect(u.boot()).toMatchObject({ state: 'testing', action: 'trying new image' });
      expect(u.selfTest((img) => img.part('weights')!.length === v2.parts[1]!.data.length)).toBe(true);
      const w = u.installed.part('weights')!;
      expectBytes(w.read(0, w.length), v2.parts[1]!.data, 'weights');
    }
  });

  it('a bundle signed by an unknown key is transferred, refused with its reason, and nothing changes', () => {
    const forged = buildBundle(k, v2, { key: generateSigningKey(new Uint8Array(32).fill(1)), base: v1 });
    const { nodes, report } = rollout(forged.bytes, { ...forged.manifest }, 3, 0.1);
    expect(report!.receivers.every((r) => r.state === 'rejected' && r.reason === 'UNKNOWN_KEY')).toBe(true);
    for (const n of nodes) {
      expect(n.rx.state).toBe('rejected');
      const u = new Updater({ layout: partitionFlash(n.flash), trust, device: { deviceClass: 'esp32-s3', wasmFeatures: 0 }, kernel: k });
      expect(u.boot()).toMatchObject({ state: 'confirmed' });
      expect(u.installed.manifest.version).toBe(1);
    }
  });

  it('a downgrade is declined from the offer alone, before any data is taken', () => {
    const old = buildBundle(k, { ...v2, version: 1, securityCounter: 0 }, { key });
    const { nodes, report } = rollout(old.bytes, { ...old.manifest }, 3, 0);
    expect(report!.receivers.every((r) => r.state === 'declined' && r.reason === 'DOWNGRADE')).toBe(true);
    for (const n of nodes) expect(n.rx.stats.data).toBe(0);
  });

  it('a downgrade that lies in its offer is still refused at install', () => {
    const old = buildBundle(k, { ...v2, version: 1, securityCounter: 0 }, { key });
    // The offer claims a newer version; the signed manifest says otherwise.
    const { nodes } = rollout(old.bytes, { ...old.manifest, version: 9, securityCounter: 9 }, 2, 0, true);
    for (const n of nodes) {
      expect(n.rx.state).toBe('rejected');
      expect(n.rx.rejectReason).toBe('DOWNGRADE');
    }
  });
});
