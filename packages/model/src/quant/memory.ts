// What an int8 model needs on a device: the bundle (config + weights, as shipped)
// and the peak arena, the most bytes of activations alive at once while it runs:
// every value still to be read, the op's output, and a conv or linear layer's
// scratch (its uint8 input, im2col columns and int32 accumulators; an int8 LSTM's
// uint8 input and hidden state and its two accumulators, for one step).

import type { FloatTensor } from '../graph/ir.js';
import type { Int8Executor } from './executor.js';
import type { Int8ModelParts } from './format.js';
import { opInputs, opOutputs } from '../graph/ir.js';

export interface ModelMemory {
  bundleBytes: number;
  /** Packed int8 weights, int32 biases and float constants. */
  weightsBytes: number;
  peakArenaBytes: number;
}

const bytes = (t: FloatTensor) => t.data.length * 4;

/** Runs the model once on `inputs`, op by op, and measures its peak arena. */
export function measureMemory(exec: Int8Executor, parts: Int8ModelParts, inputs: Map<string, FloatTensor>): ModelMemory {
  const ops = exec.model.ops;
  const lastUse = new Map<string, number>();
  ops.forEach((op, i) => { for (const n of opInputs(op)) lastUse.set(n, i); });
  for (const o of exec.model.outputs) lastUse.set(o, ops.length);
  let values = new Map(inputs);
  let peak = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    values = exec.run(values, { from: i, to: i + 1 });
    const out = values.get(op.output)!;
    let scratch = 0;
    const l = exec.model.linears.get(i);
    if (l) {
      const rows = out.data.length / l.n; // output positions (conv) or rows (linear)
      const input = values.get((op as { input: string }).input)!;
      // 16-bit inputs: two uint8 digit arrays, one im2col buffer reused for both, the products and their 64-bit sum.
      scratch = l.inputBits === 16
        ? 2 * input.data.length + (op.kind === 'conv' ? rows * l.k : 0) + rows * l.n * (4 + 8)
        : input.data.length + (op.kind === 'conv' ? rows * l.k : 0) + rows * l.n * 4;
    }
    const r = exec.model.recurrent?.get(i);
    if (r) {
      const batch = values.get((op as { input: string }).input)?.dims[1] ?? 1; // X is [seq, batch, input]
      scratch = batch * (r.x.k + r.h.k + 2 * r.x.n * 4); // uint8 input and hidden state, two int32 accumulators
    }
    let live = scratch;
    const written = new Set(opOutputs(op));
    for (const [name, t] of values) if ((lastUse.get(name) ?? -1) >= i || written.has(name)) live += exec.model.constants.has(name) ? 0 : bytes(t);
    peak = Math.max(peak, live);
    for (const name of [...values.keys()]) if ((lastUse.get(name) ?? -1) <= i && !written.has(name) && !exec.model.outputs.includes(name)) values.delete(name);
  }
  return { bundleBytes: parts.config.length + parts.weights.length, weightsBytes: parts.weights.length, peakArenaBytes: peak };
}
