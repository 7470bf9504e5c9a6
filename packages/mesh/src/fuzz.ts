// Generators and argument parsing shared by the seeded fuzz runs: the unit tests run a small slice of each
// check, the packages' `pnpm fuzz` scripts run the volume, and both draw their inputs from here.
import { MeshError } from './errors.js';
import { FRAME_START1, FRAME_START2, FrameDecoder, type FrameDecoderOutput } from './framing.js';
import type { Prng } from './prng.js';

/** A frame body of random bytes with the stream magic 0x94 0xC3 planted every 2..5 bytes. */
export function magicBody(rng: Prng, length: number): Uint8Array {
  const body = rng.bytes(length);
  for (let i = 0; i + 1 < length; i += 2 + rng.intBelow(4)) {
    body[i] = FRAME_START1;
    body[i + 1] = FRAME_START2;
  }
  return body;
}

/** Random bytes that cannot start a frame (no 0x94): what a device's debug log looks like to the decoder. */
export function magicFreeNoise(rng: Prng, length: number): Uint8Array {
  const out = rng.bytes(length);
  for (let i = 0; i < out.length; i++) if (out[i] === FRAME_START1) out[i] = 0x20;
  return out;
}

/** Feeds a stream to the decoder in random chunks of 1..64 bytes, as a serial line or socket delivers it. */
export function feedInChunks(decoder: FrameDecoder, stream: Uint8Array, rng: Prng): FrameDecoderOutput[] {
  const out: FrameDecoderOutput[] = [];
  for (let i = 0; i < stream.length; ) {
    const n = 1 + rng.intBelow(64);
    out.push(...decoder.push(stream.subarray(i, i + n)));
    i += n;
  }
  return out;
}

export interface FuzzOptions {
  count: number;
  seed: number;
}

/**
 * Parses `--count N` and `--seed S` (either `--flag value` or `--flag=value`) over the defaults. Throws a MeshError
 * BAD_ARGUMENT naming the argument and the usage.
 */
export function parseFuzzArgs(argv: readonly string[], defaults: FuzzOptions, usage: string): FuzzOptions {
  const opts = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.split('=', 2);
    const value = inline ?? argv[++i];
    const n = Number(value);
    if (flag === '--count' && Number.isSafeInteger(n) && n > 0) opts.count = n;
    else if (flag === '--seed' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff) opts.seed = n;
    else {
      const shown = `${arg}${inline === undefined && value !== undefined ? ` ${value}` : ''}`;
      throw new MeshError('BAD_ARGUMENT', `bad argument "${shown}"; usage: ${usage} [--count N (> 0)] [--seed 0..4294967295]`);
    }
  }
  return opts;
}
