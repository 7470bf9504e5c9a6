/* global process, console, performance */
// The long fuzz run: `pnpm fuzz [frames] [seed] [authFrames]` after `pnpm build`. Random and mutated frames go through
// the message decoder (and fragments through a reassembler); every frame must decode to a message that re-encodes to
// the same bytes or be rejected with a typed error. Then mutated authenticated frames (default 100k) go through a
// receiver's authentication: every one must be refused. Exits non-zero on any crash or accepted mutation.
import { fuzzAuthenticatedFrames, fuzzDecoder } from '../dist/index.js';

const frames = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 20261124);
const batch = 100_000;
const t0 = performance.now();
const total = { frames: 0, decoded: 0, rejected: 0, crashes: 0, byCode: {} };
let firstCrash = null;
for (let done = 0, i = 0; done < frames; done += batch, i++) {
  const s = fuzzDecoder((seed + i * 7919) >>> 0, Math.min(batch, frames - done));
  total.frames += s.frames;
  total.decoded += s.decoded;
  total.rejected += s.rejected;
  total.crashes += s.crashes;
  for (const [k, v] of Object.entries(s.byCode)) total.byCode[k] = (total.byCode[k] ?? 0) + v;
  firstCrash ??= s.firstCrash;
  process.stderr.write(`\r${total.frames.toLocaleString('en-US')} frames`);
}
const secs = (performance.now() - t0) / 1000;
process.stderr.write('\n');
console.log(`${total.frames} frames in ${secs.toFixed(1)} s: ${total.decoded} decoded, ${total.rejected} rejected with typed errors, ${total.crashes} crashes`);
console.log(`rejections by code: ${JSON.stringify(total.byCode)}`);
if (firstCrash) console.log(`first crash: ${JSON.stringify(firstCrash)}`);
const authFrames = Number(process.argv[4] ?? 100_000);
const t1 = performance.now();
const auth = fuzzAuthenticatedFrames(seed, authFrames);
console.log(`${auth.frames} mutated authenticated frames in ${((performance.now() - t1) / 1000).toFixed(1)} s: ${auth.accepted} accepted, ${auth.rejected} rejected, ${auth.crashes} crashes; by code: ${JSON.stringify(auth.byCode)}`);
if (auth.firstCrash) console.log(`first crash: ${auth.firstCrash}`);
process.exit(total.crashes === 0 && auth.crashes === 0 && auth.accepted === 0 ? 0 : 1);
