// Runs an int8 model layer by layer on a kernel build: linear and conv layers
// quantize their input with the calibrated uint8 scale, multiply on the int8
// kernel with weights packed once (a convolution multiplies its im2col columns),
// and come back to float32 with the per-channel scales; the other ops run in
// float32. Any range of layers can run on its own, so a
// model can be split across nodes as a pipeline.

import type { Kernel, PackedMatrix } from '@compotastic/kernel';
import { convGeometry, convOutputDims, im2col } from '../graph/conv.js';
import { runFloatOp, type TensorMap } from '../graph/float-exec.js';
import { type ConvOp, type FloatTensor, GraphShapeError, opInputs, opOutputs } from '../graph/ir.js';
import { type LstmOp, lstmSteps } from '../graph/shape-ops.js';
import { type Int8Linear, type Int8Model, type Int8Recurrent, roundHalfEven } from './quantize.js';

/** acc + weight x product: one digit's int32 products added into the layer's accumulator (float64 past one digit, exact). */
function combineDigit(acc: Int32Array | Float64Array | undefined, product: Int32Array, weight: number): Int32Array | Float64Array {
  if (!acc) return weight === 1 ? product : Float64Array.from(product, (v) => v * weight);
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + product[i]! * weight;
  return acc;
}

export interface LayerRange {
  /** First op to run (default 0). */
  from?: number;
  /** One past the last op to run (default: all). */
  to?: number;
}

export class Int8Executor {
  private readonly packed = new Map<number, PackedMatrix>();
  private readonly packedRecurrent = new Map<number, { x: PackedMatrix; h: PackedMatrix }>();

  private constructor(private readonly kernel: Kernel, readonly model: Int8Model) {}

  /** Packs every layer's weights once for this kernel. */
  static create(kernel: Kernel, model: Int8Model): Int8Executor {
    const ex = new Int8Executor(kernel, model);
    for (const [i, l] of model.linears) ex.packed.set(i, kernel.packWeights(l.weights, l.k, l.n, 0));
    for (const [i, r] of model.recurrent ?? []) {
      ex.packedRecurrent.set(i, { x: kernel.packWeights(r.x.weights, r.x.k, r.x.n, 0), h: kernel.packWeights(r.h.weights, r.h.k, r.h.n, 0) });
    }
    return ex;
  }

  get layerCount(): number {
    return this.model.ops.length;
  }

  /** Multiply-accumulates of the linear layers in [from, to) for `rows` input rows (conv layers are not counted). */
  macs(rows: number, range: LayerRange = {}): number {
    let total = 0;
    for (const [i, l] of this.model.linears) {
      if (this.model.ops[i]!.kind === 'linear' && i >= (range.from ?? 0) && i < (range.to ?? this.layerCount)) total += rows * l.k * l.n;
    }
    return total;
  }

  private conv(index: number, op: ConvOp, l: Int8Linear, x: FloatTensor): FloatTensor {
    const g = convGeometry(x.dims, op.spatialRank, op, `layer ${index} (Conv)`);
    const positions = g.outHeight * g.outWidth;
    if (g.channels * op.kernel[0] * op.kernel[1] !== l.k) throw new GraphShapeError(`layer ${index} expects ${l.k / (op.kernel[0] * op.kernel[1])} channels, got [${x.dims.join(', ')}]`);
    const digits = this.inputDigits(l, x.data);
    const cols = new Uint8Array(positions * l.k);
    const out = new Float32Array(g.batch * l.n * positions);
    const scales = Float32Array.from(l.weightScales, (w) => Math.fround(l.inputScale * w));
    const packed = this.packed.get(index)!;
    for (let n = 0; n < g.batch; n++) {
      let acc: Int32Array | Float64Array | undefined;
      for (const d of digits) {
        im2col(d.q, n, g, op, d.zeroPoint, cols, true);
        acc = combineDigit(acc, this.kernel.matmulInteger(cols, positions, packed, d.zeroPoint), d.weight);
      }
      const base = n * l.n * positions;
      for (let p = 0; p < positions; p++) {
        for (let c = 0; c < l.n; c++) out[base + c * positions + p] = (acc![p * l.n + c]! + l.bias[c]!) * scales[c]!;
      }
    }
    return { dims: convOutputDims(g, l.n, op.spatialRank), data: out };
  }

  /** An LSTM whose two matrix products per step run on the kernel (X_t W^T with the biases, H R^T). */
  private lstm(index: number, op: LstmOp, r: Int8Recurrent, values: TensorMap): void {
    const get = (name: string | undefined) => (name ? values.get(name) ?? this.model.constants.get(name) : undefined);
    const x = get(op.input);
    if (!x) throw new GraphShapeError(`value '${op.input}' is not available at layer ${index}`);
    if (x.dims.length !== 3 || x.dims[2] !== r.x.k || r.h.k !== op.hiddenSize) throw new GraphShapeError(`layer ${index} (LSTM) expects [seq, batch, ${r.x.k}], got [${x.dims.join(', ')}]`);
    const batch = x.dims[1]!, step = batch * r.x.k;
    const packed = this.packedRecurrent.get(index)!;
    const gates = new Float32Array(batch * r.x.n);
    const res = lstmSteps(x, op.hiddenSize, op.direction, get(op.initialH), get(op.initialC), (t, h) => {
      const gx = this.product(index, r.x, packed.x, { dims: [batch, r.x.k], data: x.data.subarray(t * step, (t + 1) * step) });
      const gh = this.product(index, r.h, packed.h, { dims: [batch, r.h.k], data: h });
      for (let i = 0; i < gates.length; i++) gates[i] = gx.data[i]! + gh.data[i]!;
      return gates;
    });
    values.set(op.output, res.y);
    if (op.outputH) values.set(op.outputH, res.h);
    if (op.outputC) values.set(op.outputC, res.c);
  }

  private linear(index: number, l: Int8Linear, x: { dims: number[]; data: Float32Array }) {
    return this.product(index, l, this.packed.get(index)!, x);
  }

  /** x . W + b over the last dimension of x, on the kernel. */
  private product(index: number, l: Int8Linear, packed: PackedMatrix, x: { dims: number[]; data: Float32Array }) {
    if (x.dims[x.dims.length - 1] !== l.k) throw new GraphShapeError(`layer ${index} expects ${l.k} inputs, got [${x.dims.join(', ')}]`);
    const rows = x.data.length / l.k;
    let acc: Int32Array | Float64Array | undefined;
    for (const d of this.inputDigits(l, x.data)) acc = combineDigit(acc, this.kernel.matmulInteger(d.q, rows, packed, d.zeroPoint), d.weight);
    const out = new Float32Array(rows * l.n);
    for (let c = 0; c < l.n; c++) {
      const s = Math.fround(l.inputScale * l.weightScales[c]!);
      const b = l.bias[c]!;
      for (let r = 0; r < rows; r++) out[r * l.n + c] = (acc![r * l.n + c]! + b) * s;
    }
    return { dims: [...x.dims.slice(0, -1), l.n], data: out };
  }

  /**
   * A layer's input as the uint8 operands of its products: one for 8-bit inputs; for 16-bit ones the high and low
   * bytes of the uint16 values, each with that byte of the zero point, so that 256 x (high product) + (low product)
   * is the product of (q - zeroPoint) exactly.
   */
  private inputDigits(l: Int8Linear, x: Float32Array): { q: Uint8Array; zeroPoint: number; weight: number }[] {
    if (l.inputBits !== 16) {
      return [{ q: this.kernel.quantizeLinear(x, { scale: l.inputScale, zeroPoint: l.inputZeroPoint, type: 'uint8' }) as Uint8Array, zeroPoint: l.inputZeroPoint, weight: 1 }];
    }
    const hi = new Uint8Array(x.length), lo = new Uint8Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const q = Math.min(65535, Math.max(0, roundHalfEven(x[i]! / l.inputScale) + l.inputZeroPoint));
      hi[i] = q >> 8;
      lo[i] = q & 255;
    }
    return [{ q: hi, zeroPoint: l.inputZeroPoint >> 8, weight: 256 }, { q: lo, zeroPoint: l.inputZeroPoint & 255, weight: 1 }];
  }

  /**
   * Runs ops [from, to) on `inputs` (the graph inputs, or the values live at
   * `from`), returning every value produced and received.
   */
  run(inputs: TensorMap, range: LayerRange = {}): TensorMap {
    const values: TensorMap = new Map(inputs);
    const from = range.from ?? 0, to = range.to ?? this.layerCount;
    if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from <= to && to <= this.layerCount)) {
      throw new GraphShapeError(`layer range [${from}, ${to}) is outside 0..${this.layerCount}`);
    }
    for (let i = from; i < to; i++) {
      const op = this.model.ops[i]!;
      if (op.kind === 'linear') {
        const x = values.get(op.input);
        if (!x) throw new GraphShapeError(`value '${op.input}' is not available at layer ${i}`);
        values.set(op.output, this.linear(i, this.model.linears.get(i)!, x));
      } else if (op.kind === 'conv') {
        const x = values.get(op.input);
        if (!x) throw new GraphShapeError(`value '${op.input}' is not available at layer ${i}`);
        values.set(op.output, this.conv(i, op, this.model.linears.get(i)!, x));
      } else if (op.kind === 'lstm' && this.model.recurrent?.has(i)) {
        this.lstm(i, op, this.model.recurrent.get(i)!, values);
      } else {
        runFloatOp(op, values, this.model.constants);
      }
    }
    return values;
  }

  /** The values a later stage needs when the model is cut before op `at`. */
  liveAt(at: number): string[] {
    const produced = new Set<string>(this.model.inputs.map((i) => i.name));
    for (let i = 0; i < at; i++) for (const o of opOutputs(this.model.ops[i]!)) produced.add(o);
    const needed = new Set<string>();
    for (let i = at; i < this.layerCount; i++) {
      const op = this.model.ops[i]!;
      for (const name of opInputs(op)) if (produced.has(name)) needed.add(name);
    }
    for (const o of this.model.outputs) if (produced.has(o)) needed.add(o);
    return [...needed];
  }

  dispose(): void {
    for (const p of [...this.packed.values(), ...[...this.packedRecurrent.values()].flatMap((r) => [r.x, r.h])].reverse()) p.dispose();
    this.packed.clear();
    this.packedRecurrent.clear();
  }
}
