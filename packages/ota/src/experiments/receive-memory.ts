import { Prng } from '@compotastic/mesh';
import { bytesEqual } from '../bytes.js';
import { OtaError } from '../errors.js';
import { sha256Source } from '../hash.js';
import { TrustStore } from '../signing.js';
import type { Flash } from '../storage/flash.js';
import type { ProgressStore } from '../storage/progress.js';
import { MAX_HASHES_PER_MESSAGE, MAX_SYMBOL_BYTES, encodeMessage } from '../transfer/messages.js';
import { TransferReceiver } from '../transfer/receiver.js';
import { seededSigningKey } from './rollout.js';
import { signedSessionSource } from './signed-session.js';

// What a receiver holds in RAM while it takes a bundle: one receiver gets a signed session with independent loss,
// then repair runs for what each block still needs, and a probe of live memory (the host's: heap and typed arrays
// after a collection, say) is read every few messages. Sources come one run of each block in turn, as a broadcast
// sends them, so every block is in progress at once. The probe's rise over the figure before the receiver existed is the
// receiver's; it never includes the sender's copy of the bundle, which exists before, nor a workspace passed in.

export interface ReceiveMemoryOptions {
  bundleBytes: number;
  loss: number;
  seed: number;
  maxBlockSymbols?: number;
  /** Where the receiver decodes (FileFlash on a host, to keep the bundle out of RAM); default the receiver's own, in RAM. */
  workspace?: Flash;
  store: ProgressStore;
  /** Live bytes now (a collection first, so garbage does not count). */
  liveBytes: () => number;
  /** Messages between probes (default 64). */
  sampleEvery?: number;
  /** Throw TOO_LARGE as soon as the receiver holds more than this. */
  capBytes?: number;
}

export interface ReceiveMemoryResult {
  bundleBytes: number;
  /** Bytes of the largest source block (maxBlockSymbols x symbol size). */
  blockBytes: number;
  /** Highest live-memory rise the probe saw while receiving. */
  peakBytes: number;
  samples: number;
  messages: number;
  delivered: boolean;
}

const instantClock = { now: () => 0, setTimer: () => ({}), clearTimer: () => undefined };

export function measureReceiveMemory(o: ReceiveMemoryOptions): ReceiveMemoryResult {
  const rng = new Prng(o.seed);
  const key = seededSigningKey(rng.derive('key'));
  const session = signedSessionSource(key, rng.derive('session'), { modelId: 'm', version: 2, securityCounter: 1 }, o.bundleBytes, o.maxBlockSymbols);
  const loss = rng.derive('loss');
  let delivered = false;
  const baseline = o.liveBytes();
  let peak = 0;
  let samples = 0;
  let messages = 0;
  const rx = new TransferReceiver({
    nodeId: 1, link: { send: () => undefined }, clock: instantClock, rng: rng.derive('rx'), store: o.store,
    trust: new TrustStore([key.publicKey]), accept: () => true, workspace: o.workspace,
    deliverStored: (b) => {
      delivered = b.length === session.bundle.length && bytesEqual(sha256Source(b), session.offer.bundleSha256);
      return { ok: delivered };
    },
  });
  const probe = (): void => {
    samples++;
    const held = o.liveBytes() - baseline;
    peak = Math.max(peak, held);
    if (o.capBytes !== undefined && held > o.capBytes) {
      throw new OtaError('TOO_LARGE', `receiver holds ${held} bytes after ${messages} messages, the cap is ${o.capBytes}`);
    }
  };
  const send = (payload: Uint8Array, lossy: boolean): void => {
    if (lossy && loss.bool(o.loss)) return;
    rx.onMessage(0, payload);
    if (++messages % (o.sampleEvery ?? 64) === 0) probe();
  };
  send(encodeMessage(session.offer), false);
  for (const p of session.sources(true)) send(p, true);
  // Repair rounds: each block gets runs of new repair ESIs until it decodes (their HASHES are never lost here).
  const next = session.encoder.blocks.map((b) => b.symbols);
  for (let round = 0; rx.state === 'receiving' && round < 64; round++) {
    for (const b of session.encoder.blocks) {
      for (let need = rx.blockNeeds()[b.index]!; need > 0; need -= MAX_HASHES_PER_MESSAGE) {
        const count = Math.min(MAX_HASHES_PER_MESSAGE, Math.ceil(need / (1 - o.loss)));
        let first = true;
        for (const p of session.run(b.index, next[b.index]!, count)) {
          send(p, !first);
          first = false;
        }
        next[b.index]! += count;
      }
    }
  }
  probe();
  return { bundleBytes: o.bundleBytes, blockBytes: (o.maxBlockSymbols ?? 512) * MAX_SYMBOL_BYTES, peakBytes: peak, samples, messages, delivered };
}
