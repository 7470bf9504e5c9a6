// @compotastic/model: the model pipeline: ONNX protobuf I/O and an in-memory
// graph builder, import, int8 quantization, the executors, and the audio models.
export { ModelError, OnnxFormatError, UnsupportedOnnxError, ExternalDataError, GraphBuildError } from './errors.js';
export { encodeModel, decodeModel } from './onnx/proto.js';
export type { EncodeOptions, DecodeOptions } from './onnx/proto.js';
export { tensor, elementCount, validateTensor } from './onnx/tensor.js';
export type { ExternalDataResolver, TensorStorage } from './onnx/tensor.js';
export { graph, GraphBuilder, attr, toAttribute, irVersionForOpset, TypedAttribute } from './onnx/builder.js';
export type { AttributeInput, BuildOptions, ModelOptions, NodeOptions } from './onnx/builder.js';
export { DATA_TYPES, dataTypeOfCode, isDataType } from './onnx/types.js';
export type {
  Attribute, AttributeType, DataType, Dim, Graph, Int64, Model, Node, OpsetImport, Tensor, TensorData, TensorDataOf,
  TensorTypeInfo, ValueInfo,
} from './onnx/types.js';
export { ONNX_PROTO } from './onnx/schema.js';

// The pipeline: reference data and model, import, quantization, executor.
export { VIBRATION_CLASSES, WINDOW, SAMPLE_RATE_HZ, vibrationDataset } from './data/vibration.js';
export type { Dataset, VibrationClass } from './data/vibration.js';
export { trainMlp, accuracy as mlpAccuracy, forward as mlpForward } from './train/mlp.js';
export type { MlpWeights, TrainOptions } from './train/mlp.js';
export { buildReferenceModel, mlpToOnnx, REFERENCE_MODEL_NAME } from './reference-model.js';
export type { ReferenceModel, ReferenceModelOptions } from './reference-model.js';
export { importOnnx, SUPPORTED_OPS } from './graph/import.js';
export type { ImportOptions } from './graph/import.js';
export { SHAPE_ONNX_OPS, lstm } from './graph/shape-ops.js';
export { inlineIf } from './graph/control-flow.js';
export type { InlineReport } from './graph/control-flow.js';
export { runFloat, runFloatOp, linearFloat } from './graph/float-exec.js';
export type { TensorMap } from './graph/float-exec.js';
export { UnsupportedOpsError, GraphShapeError, opInputs, opOutputs, isGemmOp, OP_KINDS } from './graph/ir.js';
export type { FloatGraph, FloatTensor, GraphInput, Op } from './graph/ir.js';
export { calibrate, quantizeGraph, quantizeWithRanges, activationParams } from './quant/quantize.js';
export { OrtProbe, calibrateWithOnnxRuntime, inputHessiansWithOnnxRuntime } from './quant/ort-calibrate.js';
export { roundWithErrorFeedback } from './quant/gptq.js';
export { correctBiases } from './quant/bias-correction.js';
export type { LayerBiasCorrection } from './quant/bias-correction.js';
export { measureMemory } from './quant/memory.js';
export type { ModelMemory } from './quant/memory.js';
export type { Int8Model, Int8Linear, Int8Recurrent, ActivationRange, QuantizeOptions } from './quant/quantize.js';
export { encodeInt8Model, decodeInt8Model, Int8FormatError, INT8_FORMAT, INT8_FORMAT_VERSION } from './quant/format.js';
export type { Int8ModelParts } from './quant/format.js';
export { Int8Executor } from './quant/executor.js';
export type { LayerRange } from './quant/executor.js';
export { compileInt8, compareOutputs, compareWithOnnxRuntime } from './pipeline.js';
export type { CompiledInt8Model, AccuracyReport } from './pipeline.js';
export { activationLayout, activationBytes, encodeActivations, decodeActivations } from './quant/activations.js';
export type { ActivationLayout } from './quant/activations.js';

// The audio models (openWakeWord, espeak-ng speech) read files and run programs, so they live in
// '@compotastic/model/audio', keeping this entry free of Node-only imports.
