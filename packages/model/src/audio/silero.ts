// Silero VAD v5 (the ONNX file @ricky0123/vad-web ships) on the project's
// executor: a speech probability for every 512-sample frame of 16 kHz audio, the
// recurrent state (`state`, [2, 1, 128]: the LSTM's h and c) carried from frame
// to frame, and each frame preceded by the last 64 samples of the one before, as
// Silero's own wrapper feeds it. The graph is imported with the sample rate fixed
// at 16 kHz and the input shapes fixed, so its If nodes on the rate and on shapes
// fold away. Three backends run it: onnxruntime-web (the reference), the float
// executor, and the int8 executor (convolutions and the LSTM's matrix products
// on the kernel, calibrated on speech and noise).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Kernel } from '@compotastic/kernel';
import { runFloat, type TensorMap } from '../graph/float-exec.js';
import { importOnnx } from '../graph/import.js';
import type { FloatGraph, FloatTensor } from '../graph/ir.js';
import { decodeModel } from '../onnx/proto.js';
import { tensor } from '../onnx/tensor.js';
import { Int8Executor } from '../quant/executor.js';
import { type Int8Model, type QuantizeOptions, quantizeGraph } from '../quant/quantize.js';
import { ModelError } from '../errors.js';
import { AUDIO_RATE_HZ } from './speech.js';

/** Samples per Silero frame at 16 kHz (32 ms). */
export const SILERO_FRAME = 512;
/** Samples of the previous frame prepended to each frame. */
export const SILERO_CONTEXT = 64;
/** Silero's recurrent state: h and c of its 128-unit LSTM, batch 1. */
export const SILERO_STATE_DIMS = [2, 1, 128] as const;
/** The usual speech threshold on Silero's probability. */
export const SPEECH_THRESHOLD = 0.5;

/** The bytes of Silero VAD v5, read from node_modules. */
export function sileroModel(): Uint8Array {
  const pkg = createRequire(import.meta.url).resolve('@ricky0123/vad-web/package.json');
  return readFileSync(join(dirname(pkg), 'dist', 'silero_vad_v5.onnx'));
}

/** Silero's graph with the sample rate fixed at 16 kHz and one frame (context + 512 samples) per run. */
export function importSilero(onnx: Uint8Array = sileroModel()): FloatGraph {
  return importOnnx(decodeModel(onnx), {
    inputValues: { sr: tensor('int64', [], BigInt64Array.of(BigInt(AUDIO_RATE_HZ))) },
    inputShapes: { input: [1, SILERO_CONTEXT + SILERO_FRAME], state: [...SILERO_STATE_DIMS] },
  });
}

/** The frames of a clip (the last one zero-padded), each as Silero's input: 64 context samples then 512 new ones. */
export function sileroInputs(samples: Float32Array): FloatTensor[] {
  const frames = Math.ceil(samples.length / SILERO_FRAME);
  const out: FloatTensor[] = [];
  for (let f = 0; f < frames; f++) {
    const data = new Float32Array(SILERO_CONTEXT + SILERO_FRAME);
    const start = f * SILERO_FRAME;
    data.set(samples.subarray(Math.max(0, start - SILERO_CONTEXT), start), start >= SILERO_CONTEXT ? 0 : SILERO_CONTEXT - start);
    data.set(samples.subarray(start, start + SILERO_FRAME), SILERO_CONTEXT);
    out.push({ dims: [1, SILERO_CONTEXT + SILERO_FRAME], data });
  }
  return out;
}

const zeroState = (): FloatTensor => ({ dims: [...SILERO_STATE_DIMS], data: new Float32Array(SILERO_STATE_DIMS[0] * SILERO_STATE_DIMS[1] * SILERO_STATE_DIMS[2]) });

function outputs(values: TensorMap): { prob: number; state: FloatTensor } {
  const prob = values.get('output'), state = values.get('stateN');
  if (!prob || !state) throw new ModelError('SILERO', 'the Silero graph did not produce output and stateN');
  return { prob: prob.data[0]!, state };
}

/**
 * Silero VAD on the project's executors: `probabilities` scores a clip frame by
 * frame from a fresh state, `process` scores the next frame of a stream, and
 * `opens` is a gate in front of the wake-word pipeline (like `gateOpens`): true
 * when some frame's speech probability reaches the threshold.
 */
export class SileroVad {
  private state = zeroState();
  private context = new Float32Array(SILERO_CONTEXT);

  private constructor(private readonly run: (inputs: TensorMap) => TensorMap, private readonly release?: () => void) {}

  /** The float32 executor over the imported graph. */
  static float(graph: FloatGraph = importSilero()): SileroVad {
    return new SileroVad((inputs) => runFloat(graph, inputs));
  }

  /** The int8 executor on a kernel build (call `dispose` when done). */
  static int8(kernel: Kernel, model: Int8Model): SileroVad {
    const exec = Int8Executor.create(kernel, model);
    return new SileroVad((inputs) => exec.run(inputs), () => exec.dispose());
  }

  reset(): void {
    this.state = zeroState();
    this.context = new Float32Array(SILERO_CONTEXT);
  }

  /** The speech probability of the next 512 samples of a stream. */
  process(frame: Float32Array): number {
    if (frame.length !== SILERO_FRAME) throw new ModelError('SILERO', `a Silero frame is ${SILERO_FRAME} samples, got ${frame.length}`);
    const data = new Float32Array(SILERO_CONTEXT + SILERO_FRAME);
    data.set(this.context);
    data.set(frame, SILERO_CONTEXT);
    this.context = frame.slice(-SILERO_CONTEXT);
    return this.step({ dims: [1, data.length], data });
  }

  private step(input: FloatTensor): number {
    const { prob, state } = outputs(this.run(new Map([['input', input], ['state', this.state]])));
    this.state = state;
    return prob;
  }

  /** Per-frame speech probabilities of a clip, from a fresh state (the stream state is reset too). */
  probabilities(samples: Float32Array): Float32Array {
    this.reset();
    const probs = Float32Array.from(sileroInputs(samples), (x) => this.step(x));
    this.reset();
    return probs;
  }

  /** True when some frame of the clip is speech at `threshold`. */
  opens(samples: Float32Array, threshold = SPEECH_THRESHOLD): boolean {
    return this.probabilities(samples).some((p) => p >= threshold);
  }

  dispose(): void {
    this.release?.();
  }
}

/** The inputs every frame of the clips sees in the float graph (fresh state per clip), for calibration. */
export function sileroFrameInputs(graph: FloatGraph, clips: Float32Array[]): TensorMap[] {
  const batches: TensorMap[] = [];
  for (const clip of clips) {
    let state = zeroState();
    for (const input of sileroInputs(clip)) {
      const feeds: TensorMap = new Map([['input', input], ['state', state]]);
      batches.push(feeds);
      state = outputs(runFloat(graph, feeds)).state;
    }
  }
  return batches;
}

/**
 * Silero with its convolutions and its LSTM's matrix products in int8 (`lstm: 'float'` keeps the LSTM float32),
 * activation ranges calibrated frame by frame on the clips.
 */
export function quantizeSilero(graph: FloatGraph, calibrationClips: Float32Array[], options: QuantizeOptions = {}): Int8Model {
  return quantizeGraph(graph, sileroFrameInputs(graph, calibrationClips), options);
}

/** Silero in onnxruntime-web, the reference, fed exactly as the executors are. */
export class OrtSilero {
  private constructor(
    private readonly ort: typeof import('onnxruntime-web'),
    private readonly session: import('onnxruntime-web').InferenceSession,
  ) {}

  static async create(onnx: Uint8Array = sileroModel()): Promise<OrtSilero> {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    return new OrtSilero(ort, await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'] }));
  }

  /** Per-frame speech probabilities of a clip, from a fresh state. */
  async probabilities(samples: Float32Array): Promise<Float32Array> {
    const sr = new this.ort.Tensor('int64', BigInt64Array.of(BigInt(AUDIO_RATE_HZ)), []);
    let state: import('onnxruntime-web').Tensor = new this.ort.Tensor('float32', zeroState().data, [...SILERO_STATE_DIMS]);
    const inputs = sileroInputs(samples);
    const probs = new Float32Array(inputs.length);
    for (const [i, x] of inputs.entries()) {
      const out = await this.session.run({ input: new this.ort.Tensor('float32', x.data, x.dims), state, sr });
      probs[i] = (out['output']!.data as Float32Array)[0]!;
      state = out['stateN']!;
    }
    return probs;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** How two backends' per-frame probabilities compare over a set of clips. */
export interface SileroAgreement {
  frames: number;
  /** Frames the reference calls speech at the threshold. */
  speechFrames: number;
  /** Frames where both sides agree on speech or not at the threshold. */
  frameAgreement: number;
  /** Of the reference's speech frames, the share the candidate also calls speech. */
  speechFrameAgreement: number;
  maxProbDifference: number;
}

/** Compares per-frame probabilities of a candidate against a reference, clip by clip. */
export function compareSileroProbabilities(reference: Float32Array[], candidate: Float32Array[], threshold = SPEECH_THRESHOLD): SileroAgreement {
  let frames = 0, speech = 0, agree = 0, speechAgree = 0, maxDiff = 0;
  reference.forEach((ref, c) => {
    const cand = candidate[c]!;
    if (cand.length !== ref.length) throw new ModelError('SILERO', `clip ${c}: ${cand.length} frames against ${ref.length}`);
    for (let i = 0; i < ref.length; i++) {
      const r = ref[i]! >= threshold, k = cand[i]! >= threshold;
      frames++;
      if (r === k) agree++;
      if (r) speech++;
      if (r && k) speechAgree++;
      maxDiff = Math.max(maxDiff, Math.abs(ref[i]! - cand[i]!));
    }
  });
  return {
    frames, speechFrames: speech, frameAgreement: frames ? agree / frames : 1, speechFrameAgreement: speech ? speechAgree / speech : 1,
    maxProbDifference: maxDiff,
  };
}
