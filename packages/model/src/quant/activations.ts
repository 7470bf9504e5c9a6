// How a layer range's inputs and outputs cross the mesh: the values live at a
// cut, concatenated in the order the model lists them. A value that feeds a
// linear layer travels as the uint8 that layer would quantize it to anyway (a
// quarter of the bytes, and bit-identical results); anything else travels as
// little-endian float32.

import { type FloatTensor, GraphShapeError, opInputs } from '../graph/ir.js';
import type { Int8Executor } from './executor.js';
import { type Int8Linear, roundHalfEven } from './quantize.js';

export interface ActivationLayout {
  name: string;
  /** Elements per batch row. */
  width: number;
  /** uint8 with this linear layer's input scale and zero point, or float32. */
  quantizedBy?: Int8Linear;
}

/** The values crossing a cut before op `at`, and how each travels. `widths` gives the row width of each value. */
export function activationLayout(exec: Int8Executor, at: number, widths: (name: string) => number): ActivationLayout[] {
  const names = at >= exec.layerCount ? exec.model.outputs : exec.liveAt(at);
  return names.map((name) => {
    // Quantized on the wire only when every later reader is a linear layer with the same input parameters.
    const readers = exec.model.ops.map((op, i) => [op, i] as const).filter(([op, i]) => i >= at && opInputs(op).includes(name));
    const linears = readers.map(([op, i]) => (op.kind === 'linear' && op.input === name ? exec.model.linears.get(i) : undefined));
    const first = linears[0];
    const shared = first !== undefined && linears.every((l) => l !== undefined && l.inputScale === first.inputScale && l.inputZeroPoint === first.inputZeroPoint);
    return { name, width: widths(name), ...(shared ? { quantizedBy: first } : {}) };
  });
}

export function activationBytes(layout: ActivationLayout[], batch: number): number {
  return layout.reduce((n, l) => n + batch * l.width * (l.quantizedBy ? 1 : 4), 0);
}

/** Serializes the values of `layout` for `batch` rows. */
export function encodeActivations(layout: ActivationLayout[], values: Map<string, FloatTensor>, batch: number): Uint8Array {
  const out = new Uint8Array(activationBytes(layout, batch));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const l of layout) {
    const t = values.get(l.name);
    if (!t || t.data.length !== batch * l.width) throw new GraphShapeError(`value '${l.name}' needs ${batch * l.width} elements`);
    if (l.quantizedBy) {
      const { inputScale: s, inputZeroPoint: zp } = l.quantizedBy;
      for (const v of t.data) {
        const q = Number.isNaN(v) ? zp : Math.min(255, Math.max(0, roundHalfEven(Math.fround(v / s)) + zp));
        out[at++] = q;
      }
    } else {
      for (const v of t.data) {
        view.setFloat32(at, v, true);
        at += 4;
      }
    }
  }
  return out;
}

/** Rebuilds the values of `layout` from bytes (uint8 values are dequantized exactly as the executor would). */
export function decodeActivations(layout: ActivationLayout[], bytes: Uint8Array, batch: number): Map<string, FloatTensor> {
  if (bytes.length !== activationBytes(layout, batch)) {
    throw new GraphShapeError(`activations are ${bytes.length} bytes, expected ${activationBytes(layout, batch)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Map<string, FloatTensor>();
  let at = 0;
  for (const l of layout) {
    const data = new Float32Array(batch * l.width);
    if (l.quantizedBy) {
      const { inputScale: s, inputZeroPoint: zp } = l.quantizedBy;
      for (let i = 0; i < data.length; i++) data[i] = (bytes[at++]! - zp) * s;
    } else {
      for (let i = 0; i < data.length; i++, at += 4) data[i] = view.getFloat32(at, true);
    }
    values.set(l.name, { dims: [batch, l.width], data });
  }
  return values;
}
