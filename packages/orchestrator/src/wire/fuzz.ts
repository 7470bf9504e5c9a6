import { Prng } from '@compotastic/mesh';
import { OrchestratorError } from '../errors.js';
import { Reassembler } from './fragment.js';
import { encodeForLink } from './fragment.js';
import { HEADER_BYTES, MessageType, PROFILE_MAGIC, PROFILE_VERSION, RESERVED_TYPE_CODES, decodeMessage, encodeMessage } from './messages.js';
import { sampleMessages } from './samples.js';

export interface FuzzStats {
  frames: number;
  decoded: number;
  rejected: number;
  /** Frames that raised anything other than a typed OrchestratorError, or decoded to something that does not re-encode to the same bytes. */
  crashes: number;
  byCode: Record<string, number>;
  firstCrash: { frame: number[]; error: string } | null;
}

/** Random frames carry a real type code, or now and then a retired one (which must be rejected as unknown). */
const TYPE_CODES = [...Object.values(MessageType), ...RESERVED_TYPE_CODES];

/** Mutations applied to a valid frame: the kinds of damage a radio link and a hostile peer produce. */
function mutate(frame: Uint8Array, r: Prng): Uint8Array {
  const b = Array.from(frame);
  const n = 1 + r.intBelow(3);
  for (let i = 0; i < n; i++) {
    switch (r.intBelow(7)) {
      case 0:
        if (b.length) {
          const k = r.intBelow(b.length);
          b[k] = (b[k] as number) ^ (1 << r.intBelow(8));
        }
        break;
      case 1:
        if (b.length) b[r.intBelow(b.length)] = r.intBelow(256);
        break;
      case 2:
        b.splice(r.intBelow(b.length + 1), 0, r.intBelow(256));
        break;
      case 3:
        if (b.length) b.splice(r.intBelow(b.length), 1);
        break;
      case 4:
        b.length = r.intBelow(b.length + 1);
        break;
      case 5:
        for (let k = r.intBelow(8); k > 0; k--) b.push(r.intBelow(256));
        break;
      default:
        // Varint bombs: runs of continuation bits.
        if (b.length > HEADER_BYTES) b.splice(HEADER_BYTES + r.intBelow(b.length - HEADER_BYTES), 0, ...Array.from({ length: 1 + r.intBelow(6) }, () => 0x80 | r.intBelow(128)));
        break;
    }
  }
  return Uint8Array.from(b);
}

function randomFrame(r: Prng): Uint8Array {
  const len = r.intBelow(240);
  const b = r.bytes(len);
  if (len >= 2 && r.bool(0.7)) {
    b[0] = PROFILE_MAGIC | PROFILE_VERSION;
    b[1] = r.pick(TYPE_CODES);
  }
  return b;
}

/**
 * Throw random and mutated frames at the decoder (and fragments at a reassembler). A frame must either decode to a
 * message that re-encodes to exactly the same bytes, or be rejected with a typed OrchestratorError; anything else
 * counts as a crash. `valid` supplies well-formed frames to mutate.
 */
export function fuzzDecoder(seed: number, frames: number, valid: (r: Prng) => Uint8Array[] = sampleFrames): FuzzStats {
  const r = new Prng(seed);
  const stats: FuzzStats = { frames: 0, decoded: 0, rejected: 0, crashes: 0, byCode: {}, firstCrash: null };
  let clockMs = 0;
  const reassembler = new Reassembler({ clock: { now: () => clockMs, setTimer: () => ({}), clearTimer: () => undefined }, maxTotal: 32 });
  let pool: Uint8Array[] = [];
  for (let i = 0; i < frames; i++) {
    if (pool.length === 0) pool = valid(r);
    const frame = r.bool(0.3) ? randomFrame(r) : mutate(pool.pop() as Uint8Array, r);
    stats.frames++;
    clockMs += 1000;
    try {
      const msg = decodeMessage(frame);
      const again = encodeMessage(msg, { maxPayload: Infinity });
      if (again.length !== frame.length || again.some((v, k) => v !== frame[k])) throw new Error(`decoded ${msg.type} does not re-encode to the same bytes`);
      if (msg.type === 'FRAGMENT') reassembler.push(r.intBelow(4), msg);
      stats.decoded++;
    } catch (e) {
      if (!tallyRejection(stats, e)) {
        stats.crashes++;
        stats.firstCrash ??= { frame: Array.from(frame), error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
      }
    }
  }
  return stats;
}

/** Count a typed rejection (an OrchestratorError) by its code; false for anything else, which is a crash. */
export function tallyRejection(stats: { rejected: number; byCode: Record<string, number> }, e: unknown): boolean {
  if (!(e instanceof OrchestratorError)) return false;
  stats.rejected++;
  stats.byCode[e.code] = (stats.byCode[e.code] ?? 0) + 1;
  return true;
}

/** Well-formed frames to mutate: one message of every type, plus the fragments of a message split at a tiny MTU. */
export function sampleFrames(r: Prng): Uint8Array[] {
  const out = sampleMessages(r).map((m) => encodeMessage(m, { maxPayload: Infinity }));
  out.push(...encodeForLink({ type: 'FAILURE', jobId: r.uint32(), shard: 0, attempt: 1, reason: 7, detail: 'x'.repeat(r.intBelow(64)) }, r.intBelow(65536), 24));
  return out;
}
