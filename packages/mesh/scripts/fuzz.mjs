/* global process, console, performance, Buffer */
// The long fuzz and statistics runs of this package, after `pnpm build`:
//   pnpm fuzz [--count N] [--seed SEED]        (defaults: 1,000,000 frames and draws, seed 20261124)
// The unit tests run a small slice of the same checks; this runs the volume. Seeded with the project's Prng, so a
// failure prints the stream seed that reproduces it. Exits non-zero on any failure or bad argument.
//
// Framing: N frames in streams of 30, of two kinds, half the frames each:
// - intact: frames whose bodies are full of 0x94 0xC3, with magic-free noise between them, fed in random chunks of
//   1..64 bytes. Every frame must come out byte-identical and in order, the garbage must be exactly the noise, and
//   nothing may stay buffered.
// - mutated: valid frames with random bytes overwritten, fed in random chunks. The decoder must never throw, never
//   emit a frame over 512 bytes, never buffer more than one frame plus a chunk, and must account for every byte:
//   after a magic-free tail longer than a frame, frames (with their 4-byte headers) plus garbage equal the input.
// Prng: N draws of each helper; every face count of intBelow(6) and the mean (and sd) of float, gaussian and
// exponential must sit within 4 standard errors of the exact value, as in the unit test but with a larger sample (a
// correct generator fails one of these nine checks for about 1 seed in 2,000).
import { FRAME_HEADER_BYTES, FrameDecoder, MAX_FRAME_PAYLOAD_BYTES, Prng, concatBytes as concat, encodeFrame } from '../dist/index.js';
import { feedInChunks, magicBody, magicFreeNoise as noise, parseFuzzArgs } from '../dist/fuzz.js';


function equal(a, b) {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** One intact stream of `frames` frames; returns a failure message or null. */
function intactStream(seed, frames) {
  const rng = new Prng(seed);
  const sent = [];
  const parts = [];
  const noiseParts = [];
  for (let k = 0; k < frames; k++) {
    if (rng.bool(0.3)) {
      const n = noise(rng, rng.intBelow(40));
      parts.push(n);
      noiseParts.push(n);
    }
    const body = magicBody(rng, rng.intBelow(MAX_FRAME_PAYLOAD_BYTES + 1));
    sent.push(body);
    parts.push(encodeFrame(body));
  }
  const stream = concat(parts);
  const d = new FrameDecoder();
  const got = [];
  const garbage = [];
  for (const o of feedInChunks(d, stream, rng)) (o.type === 'frame' ? got : garbage).push(o.type === 'frame' ? o.payload : o.bytes);
  if (got.length !== sent.length) return `intact seed ${seed}: ${got.length} frames out, ${sent.length} in`;
  const bad = got.findIndex((g, i) => !equal(g, sent[i]));
  if (bad >= 0) return `intact seed ${seed}: frame ${bad} differs`;
  if (!equal(concat(garbage), concat(noiseParts))) return `intact seed ${seed}: garbage is not the noise that was sent`;
  if (d.bufferedBytes !== 0) return `intact seed ${seed}: ${d.bufferedBytes} bytes left buffered`;
  return null;
}

/** One mutated stream of `frames` frames; returns a failure message or null. */
function mutatedStream(seed, frames) {
  const rng = new Prng(seed);
  const parts = [];
  for (let k = 0; k < frames; k++) parts.push(encodeFrame(magicBody(rng, rng.intBelow(300))));
  const stream = concat(parts);
  for (let m = 0, mutations = 1 + rng.intBelow(frames * 2); m < mutations; m++) stream[rng.intBelow(stream.length)] = rng.intBelow(256);
  const input = concat([stream, noise(rng, FRAME_HEADER_BYTES + MAX_FRAME_PAYLOAD_BYTES + 1)]);
  const d = new FrameDecoder();
  let accounted = 0;
  try {
    for (let i = 0; i < input.length; ) {
      const n = 1 + rng.intBelow(50);
      for (const o of d.push(input.subarray(i, i + n))) {
        if (o.type === 'frame') {
          if (o.payload.length > MAX_FRAME_PAYLOAD_BYTES) return `mutated seed ${seed}: a ${o.payload.length}-byte frame`;
          accounted += FRAME_HEADER_BYTES + o.payload.length;
        } else accounted += o.bytes.length;
      }
      if (d.bufferedBytes > FRAME_HEADER_BYTES + MAX_FRAME_PAYLOAD_BYTES + 50) return `mutated seed ${seed}: ${d.bufferedBytes} bytes buffered`;
      i += n;
    }
  } catch (e) {
    return `mutated seed ${seed}: threw ${e?.stack ?? e}`;
  }
  if (d.bufferedBytes !== 0) return `mutated seed ${seed}: ${d.bufferedBytes} bytes buffered after a long magic-free tail`;
  if (accounted !== input.length) return `mutated seed ${seed}: ${accounted} bytes came out of ${input.length}`;
  return null;
}

let opts;
try {
  opts = parseFuzzArgs(process.argv.slice(2), { count: 1_000_000, seed: 20261124 }, 'fuzz.mjs');
} catch (e) {
  console.error(e.message);
  process.exit(2);
}

const FRAMES_PER_STREAM = 30;
const root = new Prng(opts.seed);
const t0 = performance.now();
const done = { intact: 0, mutated: 0 };
const failures = [];
for (let frames = 0, s = 0; frames < opts.count; s++) {
  const n = Math.min(FRAMES_PER_STREAM, opts.count - frames);
  const kind = s % 2 === 0 ? 'intact' : 'mutated';
  const seed = root.uint32();
  const failure = kind === 'intact' ? intactStream(seed, n) : mutatedStream(seed, n);
  if (failure) failures.push(failure);
  done[kind] += n;
  frames += n;
  if (process.stderr.isTTY && s % 2000 === 0) process.stderr.write(`\r${frames.toLocaleString('en-US')} frames`);
}
if (process.stderr.isTTY) process.stderr.write('\n');
const secs = (performance.now() - t0) / 1000;
console.log(`framing fuzz, seed ${opts.seed}: ${done.intact + done.mutated} frames in ${secs.toFixed(1)} s (${done.intact} intact, ${done.mutated} mutated), ${failures.length} failing streams`);
for (const f of failures.slice(0, 10)) console.log(`  ${f}`);

/** Distribution checks at volume; returns failure messages. */
function prngStatistics(seed, n) {
  const rng = new Prng(seed);
  const out = [];
  const within = (label, value, expected, standardError) => {
    const z = (value - expected) / standardError;
    if (!(Math.abs(z) < 4)) out.push(`prng seed ${seed}: ${label} = ${value} is ${z.toFixed(1)} standard errors from ${expected}`);
  };
  const counts = [0, 0, 0, 0, 0, 0];
  let fSum = 0;
  let gSum = 0;
  let gSq = 0;
  let eSum = 0;
  for (let i = 0; i < n; i++) {
    counts[rng.intBelow(6)]++;
    const f = rng.float();
    if (!(f >= 0 && f < 1)) out.push(`prng seed ${seed}: float() gave ${f}`);
    fSum += f;
    const g = rng.gaussian(2, 3);
    gSum += g;
    gSq += (g - 2) ** 2;
    eSum += rng.exponential(5);
  }
  counts.forEach((c, face) => within(`count of intBelow(6) = ${face}`, c, n / 6, Math.sqrt((n * 5) / 36)));
  within('mean of float()', fSum / n, 0.5, Math.sqrt(1 / 12 / n));
  within('mean of gaussian(2, 3)', gSum / n, 2, 3 / Math.sqrt(n));
  within('sd of gaussian(2, 3)', Math.sqrt(gSq / n), 3, 3 / Math.sqrt(2 * n));
  within('mean of exponential(5)', eSum / n, 5, 5 / Math.sqrt(n));
  return out.slice(0, 10);
}

const t1 = performance.now();
const prngFailures = prngStatistics(opts.seed, opts.count);
console.log(`prng statistics, seed ${opts.seed}: ${opts.count} draws of each helper in ${((performance.now() - t1) / 1000).toFixed(1)} s, ${prngFailures.length} failing checks`);
for (const f of prngFailures) console.log(`  ${f}`);
process.exit(failures.length === 0 && prngFailures.length === 0 ? 0 : 1);
