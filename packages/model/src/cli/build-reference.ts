#!/usr/bin/env node
// Builds the reference model's artifacts into build/: the float ONNX model, the
// int8 model (config + weights, the parts an OTA bundle carries), and a report
// of its accuracy and of the int8 model's agreement with ONNX Runtime.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadKernel } from '@compotastic/kernel';
import { compareWithOnnxRuntime, compileInt8 } from '../pipeline.js';
import { buildReferenceModel } from '../reference-model.js';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build');
const started = performance.now();
const ref = buildReferenceModel();
const features = ref.train.features;
const calibrationRows = 500;
const compiled = compileInt8(ref.onnx, new Map([['x', { dims: [calibrationRows, features], data: ref.train.x.subarray(0, calibrationRows * features) }]]));
const kernel = await loadKernel({ build: 'simd' });
const accuracy = await compareWithOnnxRuntime(ref.onnx, compiled.int8, kernel, { name: 'x', dims: [ref.test.count, features], data: ref.test.x }, 'probs');

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `${ref.name}.onnx`), ref.onnx);
writeFileSync(join(outDir, `${ref.name}.int8.json`), compiled.parts.config);
writeFileSync(join(outDir, `${ref.name}.int8.bin`), compiled.parts.weights);
const report = {
  model: ref.name,
  classes: ref.classes,
  floatAccuracy: { train: ref.trainAccuracy, test: ref.testAccuracy },
  int8VsOnnxRuntime: accuracy,
  bytes: { onnx: ref.onnx.length, int8Config: compiled.parts.config.length, int8Weights: compiled.parts.weights.length },
};
writeFileSync(join(outDir, `${ref.name}.report.json`), JSON.stringify(report, null, 2) + '\n');
console.log(
  `${ref.name}: float test accuracy ${(ref.testAccuracy * 100).toFixed(1)}%, int8 vs ONNX Runtime: top-1 agreement ` +
  `${(accuracy.top1Agreement * 100).toFixed(1)}%, max abs error ${accuracy.maxAbsError.toFixed(4)} on ${accuracy.samples} held-out inputs ` +
  `(${((performance.now() - started) / 1000).toFixed(1)} s)`,
);
