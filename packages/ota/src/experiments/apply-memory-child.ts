import { readFileSync } from 'node:fs';

// Child of measureApplyMemory: argv patch path, old image path, writes between probes. Prints one JSON line.
declare const gc: () => void;

const [patchPath, oldPath, every] = process.argv.slice(2);
const patch = new Uint8Array(readFileSync(patchPath!));
const old = new Uint8Array(readFileSync(oldPath!));
const sampleEvery = Number(every ?? 16);
const live = (): number => {
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
};
// A device has no node:crypto: hide it before the applier loads, so the streaming hash is the portable one the device
// runs (Node's native hash holds about 6 KB of typed arrays of its own, which no device would).
(process as { getBuiltinModule?: unknown }).getBuiltinModule = undefined;
const baseline = live();
const device = await import('@compotastic/ota/device');
let peak = live() - baseline;
let samples = 1;
let writes = 0;
try {
  const r = device.applyPatchStream(device.bufferSource(patch), device.bufferSource(old), {
    write() {
      if (++writes % sampleEvery !== 0) return;
      samples++;
      peak = Math.max(peak, live() - baseline);
    },
  });
  const formulaBytes = device.patchWorkingBytes(device.readPatchHeader(device.bufferSource(patch)));
  process.stdout.write(JSON.stringify({ peakBytes: peak, formulaBytes, newLength: r.newLength, samples }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ error: String(e) }) + '\n');
}
