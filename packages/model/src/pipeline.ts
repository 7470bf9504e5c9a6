// The high-compute side of the model pipeline in one place: import a float
// ONNX model, calibrate and quantize it to int8, serialize it for a bundle, and
// measure how closely the int8 model follows the float model in ONNX Runtime.

import type { Kernel } from '@compotastic/kernel';
import type { TensorMap } from './graph/float-exec.js';
import { importOnnx } from './graph/import.js';
import type { FloatGraph } from './graph/ir.js';
import { decodeModel } from './onnx/proto.js';
import { Int8Executor } from './quant/executor.js';
import { type Int8ModelParts, encodeInt8Model } from './quant/format.js';
import { type Int8Model, quantizeGraph } from './quant/quantize.js';

export interface CompiledInt8Model {
  graph: FloatGraph;
  int8: Int8Model;
  parts: Int8ModelParts;
}

/** Imports a float ONNX model and quantizes it with activation ranges calibrated on `calibration`. */
export function compileInt8(onnx: Uint8Array, calibration: TensorMap): CompiledInt8Model {
  const graph = importOnnx(decodeModel(onnx));
  const int8 = quantizeGraph(graph, calibration);
  return { graph, int8, parts: encodeInt8Model(int8) };
}

export interface AccuracyReport {
  samples: number;
  /** Fraction of inputs whose arg-max class is the same in both models. */
  top1Agreement: number;
  /** Largest absolute difference over all output values. */
  maxAbsError: number;
  /** Mean absolute difference over all output values. */
  meanAbsError: number;
}

/** Compares two [rows, classes] outputs. */
export function compareOutputs(reference: Float32Array, candidate: Float32Array, rows: number): AccuracyReport {
  const cols = reference.length / rows;
  let agree = 0, maxAbs = 0, sumAbs = 0;
  for (let r = 0; r < rows; r++) {
    let a = 0, b = 0;
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      if (reference[i]! > reference[r * cols + a]!) a = j;
      if (candidate[i]! > candidate[r * cols + b]!) b = j;
      const d = Math.abs(reference[i]! - candidate[i]!);
      maxAbs = Math.max(maxAbs, d);
      sumAbs += d;
    }
    if (a === b) agree++;
  }
  return { samples: rows, top1Agreement: agree / rows, maxAbsError: maxAbs, meanAbsError: sumAbs / reference.length };
}

/**
 * Runs the float model in onnxruntime-web and the int8 model on a kernel build
 * over the same inputs, and compares their outputs.
 */
export async function compareWithOnnxRuntime(
  onnx: Uint8Array, int8: Int8Model, kernel: Kernel, input: { name: string; dims: number[]; data: Float32Array }, output: string,
): Promise<AccuracyReport> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(onnx);
  try {
    const result = await session.run({ [input.name]: new ort.Tensor('float32', input.data, input.dims) });
    const reference = result[output]!.data as Float32Array;
    const ex = Int8Executor.create(kernel, int8);
    try {
      const got = ex.run(new Map([[input.name, { dims: input.dims, data: input.data }]])).get(output);
      if (!got) throw new Error(`the int8 model did not produce '${output}'`);
      return compareOutputs(reference, got.data, input.dims[0]!);
    } finally {
      ex.dispose();
    }
  } finally {
    await session.release();
  }
}
