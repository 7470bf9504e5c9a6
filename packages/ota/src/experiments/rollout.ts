import { PortNum, Prng, onAirPacketBytes, timeOnAirMs, type ModemPresetName } from '@compotastic/mesh';
import { OTA_PORTNUM } from '../adapters/packet-link.js';
import { type SimulatorLike, attachToSimulator } from './sim-link.js';
import { DutyCyclePacer } from '../transfer/pacing.js';
import { TransferReceiver, type ReceiverOptions } from '../transfer/receiver.js';
import { BroadcastSender, type SenderOptions, type SenderReport } from '../transfer/sender.js';
import { MemoryProgressStore } from '../storage/progress.js';
import { bytesEqual } from '../bytes.js';
import { TrustStore, generateSigningKey, type SigningKey } from '../signing.js';

// Two ways to push one bundle to many nodes over a mesh, for measuring them against each other in the same
// scenario: the broadcast fountain transfer of this package, and the naive alternative of a unicast to every node
// with want_ack (stop-and-wait, resending on NAK or timeout). Both only start work; the caller runs the mesh.

export interface RolloutOptions {
  sender: number;
  receivers: readonly number[];
  bundle: Uint8Array;
  preset: ModemPresetName;
  seed: number;
  /** Hop limit of the rollout's packets (default: the mesh's). */
  hopLimit?: number;
  portnum?: number;
  /** The publisher's key (default: one derived from the seed); every receiver trusts it. */
  key?: SigningKey;
  /** What the offer announces (default: model "rollout" v1, full, counter 0). */
  manifest?: SenderOptions['manifest'];
  /** The receivers' offer policy and stall timeout (default: take every offer, 10 min). */
  receiver?: Partial<Pick<ReceiverOptions, 'accept' | 'stallTimeoutMs'>>;
  /** Sees every packet a receiver gets and hands it on with `deliver` (an attack harness measures what it does). */
  /** The sender starts this long after the receivers listen (default 0). */
  startDelayMs?: number;
  tap?: (node: number, from: number, payload: Uint8Array, receiver: TransferReceiver, deliver: () => void) => void;
}

/** A publisher key derived from a seed, for experiments that must replay exactly. */
export function seededSigningKey(rng: Prng): SigningKey {
  return generateSigningKey(rng.bytes(32));
}

export interface RolloutProgress {
  /** Receivers holding the exact bundle. */
  delivered: number;
  done: boolean;
  /** When the last receiver got it (mesh time, ms), or null. */
  finishedAtMs: number | null;
  /** Bundles handed to a receiver that are not the one sent. */
  wrongDeliveries?: number;
}

function airtimeFor(preset: ModemPresetName, portnum: number): (n: number) => number {
  return (n) => timeOnAirMs(preset, onAirPacketBytes({ portnum, payloadBytes: n }));
}

/** The broadcast fountain transfer: one sender, every receiver listening. */
export function startBroadcastRollout(mesh: SimulatorLike, o: RolloutOptions): { progress(): RolloutProgress; report(): SenderReport | null; receivers: TransferReceiver[] } {
  const portnum = o.portnum ?? OTA_PORTNUM;
  const rng = new Prng(o.seed);
  const key = o.key ?? seededSigningKey(rng.derive('publisher-key'));
  const trust = new TrustStore([key.publicKey]);
  const attach = { portnum, ...(o.hopLimit === undefined ? {} : { hopLimit: o.hopLimit }) };
  let delivered = 0;
  let wrongDeliveries = 0;
  let finishedAtMs: number | null = null;
  const receivers = o.receivers.map((node) => {
    let rx: TransferReceiver | null = null;
    const onMessage = (from: number, p: Uint8Array): void => {
      if (!rx) return;
      if (o.tap) o.tap(node, from, p, rx, () => rx!.onMessage(from, p));
      else rx.onMessage(from, p);
    };
    const link = attachToSimulator(mesh, node, { onMessage }, attach);
    rx = new TransferReceiver({
      nodeId: node, link, clock: mesh.clock, rng: rng.derive(`receiver-${node}`), store: new MemoryProgressStore(), trust,
      accept: o.receiver?.accept ?? (() => true),
      ...(o.receiver?.stallTimeoutMs === undefined ? {} : { stallTimeoutMs: o.receiver.stallTimeoutMs }),
      deliver: (b) => {
        if (!bytesEqual(b, o.bundle)) {
          wrongDeliveries++;
          return { ok: false, code: 'CORRUPT' };
        }
        delivered++;
        if (delivered === o.receivers.length) finishedAtMs = mesh.clock.now();
        return { ok: true };
      },
    });
    return rx;
  });
  let report: SenderReport | null = null;
  let sender: BroadcastSender | null = null;
  const link = attachToSimulator(mesh, o.sender, { onMessage: (from, p) => sender?.onMessage(from, p) }, attach);
  sender = new BroadcastSender({
    bundle: o.bundle, manifest: o.manifest ?? { modelId: 'rollout', version: 1, baseVersion: null, securityCounter: 0 }, key, link, clock: mesh.clock,
    pacer: new DutyCyclePacer({ dutyCyclePercent: 100, gapFactor: 0.25 }), airtimeMs: airtimeFor(o.preset, portnum),
    session: rng.int(0, 0x10000), seed: rng.uint32(), receivers: o.receivers, onDone: (r) => (report = r),
  });
  if (o.startDelayMs) mesh.clock.setTimer(o.startDelayMs, () => sender!.start());
  else sender.start();
  return {
    progress: () => ({ delivered, done: report !== null, finishedAtMs, wrongDeliveries }),
    report: () => report,
    receivers,
  };
}

/** Fragment header of the naive transfer: u16 index. */
const UNICAST_HEADER = 2;
const UNICAST_TIMEOUT_MS = 120_000;

/**
 * The naive alternative: the bundle cut into payload-sized fragments, sent to each receiver in turn as unicasts with
 * want_ack, one at a time, each resent until its ACK arrives.
 */
export function startUnicastRollout(mesh: SimulatorLike, o: RolloutOptions & { payloadBytes?: number }): { progress(): RolloutProgress; attempts(): number } {
  const portnum = o.portnum ?? OTA_PORTNUM;
  const chunk = (o.payloadBytes ?? 229) - UNICAST_HEADER;
  const fragments = Math.ceil(o.bundle.length / chunk);
  const got = new Map<number, Uint8Array>(o.receivers.map((r) => [r, new Uint8Array(o.bundle.length)]));
  const count = new Map<number, Set<number>>(o.receivers.map((r) => [r, new Set<number>()]));
  const finished = new Set<number>();
  let target = 0;
  let index = 0;
  let pendingId = -1;
  let attempts = 0;
  let delivered = 0;
  let finishedAtMs: number | null = null;
  let timer: ReturnType<SimulatorLike['clock']['setTimer']> | null = null;

  for (const r of o.receivers) {
    mesh.addListener(r, {
      onPacket(p, _snr, _rssi, viaRadio) {
        if (!viaRadio || p.portnum !== portnum || !p.payload || p.payload.length < UNICAST_HEADER) return;
        const i = p.payload[0]! | (p.payload[1]! << 8);
        got.get(r)!.set(p.payload.subarray(UNICAST_HEADER), i * chunk);
        const seen = count.get(r)!;
        seen.add(i);
        if (seen.size === fragments && !finished.has(r) && bytesEqual(got.get(r)!, o.bundle)) {
          finished.add(r);
          delivered++;
          if (delivered === o.receivers.length) finishedAtMs = mesh.clock.now();
        }
      },
    });
  }
  const sendCurrent = (): void => {
    if (target >= o.receivers.length) return;
    const payload = new Uint8Array(UNICAST_HEADER + Math.min(chunk, o.bundle.length - index * chunk));
    payload[0] = index & 0xff;
    payload[1] = index >> 8;
    payload.set(o.bundle.subarray(index * chunk, index * chunk + chunk), UNICAST_HEADER);
    attempts++;
    pendingId = mesh.sendFromApp(o.sender, {
      to: o.receivers[target]!, portnum, payload, wantAck: true, ...(o.hopLimit === undefined ? {} : { hopLimit: o.hopLimit }),
    }).id;
    if (timer) mesh.clock.clearTimer(timer);
    const id = pendingId;
    timer = mesh.clock.setTimer(UNICAST_TIMEOUT_MS, () => {
      if (pendingId === id) sendCurrent();
    });
  };
  mesh.addListener(o.sender, {
    onPacket(p) {
      if (p.portnum !== PortNum.ROUTING_APP || p.requestId !== pendingId || pendingId < 0) return;
      if (p.routingError === 0) {
        index++;
        if (index === fragments) {
          index = 0;
          target++;
        }
      }
      // Delivered: next fragment; NAK (retransmissions exhausted): the same one again.
      sendCurrent();
    },
  });
  sendCurrent();
  return { progress: () => ({ delivered, done: target >= o.receivers.length, finishedAtMs }), attempts: () => attempts };
}
