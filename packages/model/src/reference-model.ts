// The project's own small real model: an MLP trained on the vibration-event
// dataset and exported to ONNX. Models cannot be downloaded on a mesh node (or in
// CI), so the pipeline, its tests and the demo use this one; it is rebuilt
// deterministically from seeds.

import { VIBRATION_CLASSES, type Dataset, vibrationDataset } from './data/vibration.js';
import { attr, graph } from './onnx/builder.js';
import { encodeModel } from './onnx/proto.js';
import { tensor } from './onnx/tensor.js';
import type { Model } from './onnx/types.js';
import { LAYER_NORM_EPSILON, type MlpWeights, accuracy, trainMlp } from './train/mlp.js';

export const REFERENCE_MODEL_NAME = 'vibration-mlp';

export interface ReferenceModelOptions {
  trainSamples?: number;
  testSamples?: number;
  epochs?: number;
  seed?: number;
}

export interface ReferenceModel {
  name: string;
  classes: readonly string[];
  weights: MlpWeights;
  model: Model;
  onnx: Uint8Array;
  train: Dataset;
  /** Held-out data, generated from a different seed. */
  test: Dataset;
  trainAccuracy: number;
  testAccuracy: number;
}

/** The MLP as an ONNX graph (opset 20: LayerNormalization and Gelu are standard ops). */
export function mlpToOnnx(w: MlpWeights, name = REFERENCE_MODEL_NAME): Model {
  return graph(name)
    .input('x', 'float32', ['batch', w.inputs])
    .initializer('w1', tensor('float32', [w.inputs, w.hidden1], w.w1))
    .initializer('b1', tensor('float32', [w.hidden1], w.b1))
    .initializer('gamma', tensor('float32', [w.hidden1], w.gamma))
    .initializer('beta', tensor('float32', [w.hidden1], w.beta))
    .initializer('w2', tensor('float32', [w.hidden1, w.hidden2], w.w2))
    .initializer('b2', tensor('float32', [w.hidden2], w.b2))
    .initializer('w3', tensor('float32', [w.hidden2, w.classes], w.w3))
    .initializer('b3', tensor('float32', [w.classes], w.b3))
    .node('MatMul', ['x', 'w1'], ['h1'])
    .node('Add', ['h1', 'b1'], ['h1b'])
    .node('LayerNormalization', ['h1b', 'gamma', 'beta'], ['ln'], { axis: -1, epsilon: attr.float(LAYER_NORM_EPSILON) })
    .node('Gelu', ['ln'], ['g'])
    .node('MatMul', ['g', 'w2'], ['h2'])
    .node('Add', ['h2', 'b2'], ['h2b'])
    .node('Relu', ['h2b'], ['r'])
    .node('Gemm', ['r', 'w3', 'b3'], ['logits'])
    .node('Softmax', ['logits'], ['probs'], { axis: -1 })
    .output('probs', 'float32', ['batch', w.classes])
    .model({ opset: 20, producerName: 'compotastic' });
}

/** Generates the data, trains the MLP and exports it (about 3 s on one core). */
export function buildReferenceModel(options: ReferenceModelOptions = {}): ReferenceModel {
  const seed = options.seed ?? 1;
  const train = vibrationDataset(options.trainSamples ?? 8000, seed);
  const test = vibrationDataset(options.testSamples ?? 1000, seed + 1000);
  const weights = trainMlp(train, { epochs: options.epochs ?? 6, seed });
  const model = mlpToOnnx(weights);
  return {
    name: REFERENCE_MODEL_NAME, classes: VIBRATION_CLASSES, weights, model, onnx: encodeModel(model), train, test,
    trainAccuracy: accuracy(weights, train), testAccuracy: accuracy(weights, test),
  };
}
