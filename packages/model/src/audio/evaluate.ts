// Float against int8 on the same clips: for each head, the detection rate on its
// positives, false accepts per hour of negative audio, and how often the two
// pipelines make the same decision at the threshold (per clip and per 80 ms step).

import { AUDIO_RATE_HZ } from './speech.js';
import type { Clip } from './corpus.js';
import {
  EMBEDDING_FRAMES, EMBEDDING_SIZE, EMBEDDING_STEP, MEL_BINS, WAKE_THRESHOLD, type WakeWordStages, clipEmbeddings, headScores, melFeatures,
} from './wakeword.js';

export interface PipelineResult {
  detected: number;
  falseAccepts: number;
  detectionRate: number;
  falseAcceptsPerHour: number;
}

export interface HeadComparison {
  head: string;
  positives: number;
  negatives: number;
  negativeHours: number;
  float: PipelineResult;
  int8: PipelineResult;
  /** Clips on which both pipelines decide the same at the threshold. */
  clipAgreement: number;
  /** Steps (one per 80 ms) on which both decide the same. */
  stepAgreement: number;
  /** Largest difference between the two scores at any step. */
  maxScoreDifference: number;
  /** With `perClip`: every positive clip's peak scores, and where an int8 loss comes from. */
  clips?: ClipPeaks[];
  /** With `perClip`: the mean of int8 minus float peak score over the positives. */
  meanPeakShift?: number;
}

/**
 * A positive clip's peak score in each pipeline, and in the two mixed ones that localize a
 * difference: the float embeddings read by the int8 head, and the int8 embeddings read by the float head.
 */
export interface ClipPeaks {
  description: string;
  float: number;
  int8: number;
  floatEmbeddingInt8Head: number;
  int8EmbeddingFloatHead: number;
}

export interface CompareOptions {
  /** Record every positive clip's peak scores (`ClipPeaks`); the mixed pipelines cost two more head runs per positive. */
  perClip?: boolean;
}

const max = (xs: Float32Array) => xs.reduce((m, v) => Math.max(m, v), -Infinity);

/** Runs every clip through both pipelines and compares them per head. */
export async function compareOnClips(
  reference: WakeWordStages, candidate: WakeWordStages, clips: readonly Clip[], heads: readonly string[],
  threshold = WAKE_THRESHOLD, onClip?: (done: number) => void, options: CompareOptions = {},
): Promise<HeadComparison[]> {
  const acc = heads.map((head) => ({
    head, pos: 0, neg: 0, negSamples: 0, det: [0, 0], fa: [0, 0], clipAgree: 0, steps: 0, stepAgree: 0, maxDiff: 0, clips: [] as ClipPeaks[],
  }));
  for (const [ci, clip] of clips.entries()) {
    const [ef, ei] = [await clipEmbeddings(reference, clip.samples), await clipEmbeddings(candidate, clip.samples)];
    for (const a of acc) {
      const sf = await headScores(reference, a.head, ef), si = await headScores(candidate, a.head, ei);
      const df = max(sf) >= threshold, di = max(si) >= threshold;
      if (clip.positiveFor === a.head) {
        a.pos++;
        a.det[0]! += +df;
        a.det[1]! += +di;
        if (options.perClip) {
          a.clips.push({
            description: clip.description, float: max(sf), int8: max(si),
            floatEmbeddingInt8Head: max(await headScores(candidate, a.head, ef)), int8EmbeddingFloatHead: max(await headScores(reference, a.head, ei)),
          });
        }
      } else if (clip.positiveFor === undefined) {
        a.neg++;
        a.negSamples += clip.samples.length;
        a.fa[0]! += +df;
        a.fa[1]! += +di;
      } else continue; // another head's phrase: neither a positive nor a negative for this head
      a.clipAgree += +(df === di);
      for (let s = 0; s < sf.length; s++) {
        a.steps++;
        a.stepAgree += +((sf[s]! >= threshold) === (si[s]! >= threshold));
        a.maxDiff = Math.max(a.maxDiff, Math.abs(sf[s]! - si[s]!));
      }
    }
    onClip?.(ci + 1);
    // The int8 stages run synchronously; give timers and I/O a turn between clips.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return acc.map((a) => {
    const hours = a.negSamples / AUDIO_RATE_HZ / 3600;
    const result = (i: 0 | 1): PipelineResult => ({
      detected: a.det[i]!, falseAccepts: a.fa[i]!, detectionRate: a.pos ? a.det[i]! / a.pos : 0, falseAcceptsPerHour: hours ? a.fa[i]! / hours : 0,
    });
    return {
      head: a.head, positives: a.pos, negatives: a.neg, negativeHours: hours, float: result(0), int8: result(1),
      clipAgreement: a.clipAgree / Math.max(1, a.pos + a.neg), stepAgreement: a.steps ? a.stepAgree / a.steps : 1, maxScoreDifference: a.maxDiff,
      ...(options.perClip ? { clips: a.clips, meanPeakShift: a.clips.reduce((m, c) => m + c.int8 - c.float, 0) / Math.max(1, a.clips.length) } : {}),
    };
  });
}

/** openWakeWord's mel model: a 512-sample window every 160 samples (10 ms). */
const MEL_WINDOW = 512, MEL_HOP = 160;

/** One pipeline's scores over a long stream, computed chunk by chunk exactly as over the whole stream at once. */
class StreamScorer {
  private features = new Float32Array(0);
  /** Absolute frame index of features[0]; the next embedding window starts at nextWindow. */
  private featureStart = 0;
  private nextWindow = 0;
  private embeddings = new Float32Array(0);
  readonly scores = new Map<string, number[]>();

  constructor(private readonly stages: WakeWordStages, private readonly heads: readonly string[]) {
    for (const h of heads) this.scores.set(h, []);
  }

  /** Feeds the next chunk: it starts at the sample of the next mel frame and runs 352 samples past its last hop. */
  async feed(samples: Float32Array): Promise<void> {
    const mel = melFeatures(await this.stages.mel(samples));
    const all = new Float32Array(this.features.length + mel.data.length);
    all.set(this.features);
    all.set(mel.data, this.features.length);
    const frames = all.length / MEL_BINS;
    const windows: number[] = [];
    while (this.nextWindow + EMBEDDING_FRAMES <= this.featureStart + frames) {
      windows.push(this.nextWindow);
      this.nextWindow += EMBEDDING_STEP;
    }
    const input = new Float32Array(windows.length * EMBEDDING_FRAMES * MEL_BINS);
    windows.forEach((w, i) => input.set(all.subarray((w - this.featureStart) * MEL_BINS, (w - this.featureStart + EMBEDDING_FRAMES) * MEL_BINS), i * EMBEDDING_FRAMES * MEL_BINS));
    this.features = all.slice((this.nextWindow - this.featureStart) * MEL_BINS);
    this.featureStart = this.nextWindow;
    if (windows.length === 0) return;
    const fresh = await this.stages.embed({ dims: [windows.length, EMBEDDING_FRAMES, MEL_BINS, 1], data: input });
    const emb = new Float32Array(this.embeddings.length + fresh.data.length);
    emb.set(this.embeddings);
    emb.set(fresh.data, this.embeddings.length);
    const count = emb.length / EMBEDDING_SIZE, old = this.embeddings.length / EMBEDDING_SIZE;
    let keep = 0;
    for (const h of this.heads) {
      const w = this.stages.window(h);
      keep = Math.max(keep, w - 1);
      // Windows ending at a new embedding only: start from the last w - 1 old ones.
      const from = Math.max(0, old - (w - 1));
      const scores = await headScores(this.stages, h, { dims: [count - from, EMBEDDING_SIZE], data: emb.subarray(from * EMBEDDING_SIZE) });
      this.scores.get(h)!.push(...scores);
    }
    this.embeddings = emb.slice(Math.max(0, count - keep) * EMBEDDING_SIZE);
  }
}

/** A pipeline's accepts on a negative stream (all false). */
export interface StreamAccepts {
  accepts: number;
  perHour: number;
}

export interface StreamHeadComparison {
  head: string;
  /** Head steps scored (one per 80 ms) and hours of stream. */
  steps: number;
  hours: number;
  float: StreamAccepts;
  int8: StreamAccepts;
  /** Steps on which both decide the same at the threshold. */
  stepAgreement: number;
  /** Accepts of one pipeline with an accept of the other within the refractory time. */
  matchedAccepts: number;
  maxScoreDifference: number;
}

/**
 * Accepts in a score sequence as a streaming detector counts them: a step at or above the threshold is an
 * accept unless an accept came less than `refractorySteps` steps before it (openWakeWord's debounce).
 */
export function countAccepts(scores: ArrayLike<number>, threshold: number, refractorySteps: number): number[] {
  const at: number[] = [];
  for (let s = 0; s < scores.length; s++) {
    if (scores[s]! >= threshold && (at.length === 0 || s - at[at.length - 1]! >= refractorySteps)) at.push(s);
  }
  return at;
}

export interface StreamOptions {
  threshold?: number;
  /** Seconds after an accept in which the detector does not fire again (default 2). */
  refractorySeconds?: number;
  /** Seconds of audio per chunk fed to the pipelines (default 30). */
  chunkSeconds?: number;
  onChunk?: (seconds: number) => void;
}

/**
 * Every head's score at every 80 ms step of a long stream, fed in chunks of `chunkSeconds`: the same
 * scores as over the whole stream at once (the mel frames, embedding windows and head windows line up
 * across chunks), in memory bounded by the chunk.
 */
export async function streamScores(
  stages: WakeWordStages, samples: Float32Array, heads: readonly string[], o: Pick<StreamOptions, 'chunkSeconds' | 'onChunk'> = {},
): Promise<Map<string, number[]>> {
  const hop = Math.max(1, Math.round((o.chunkSeconds ?? 30) * AUDIO_RATE_HZ / MEL_HOP)) * MEL_HOP;
  const scorer = new StreamScorer(stages, heads);
  for (let start = 0; start + MEL_WINDOW <= samples.length; start += hop) {
    // The frames whose window starts in [start, start + hop) and fits in the stream.
    await scorer.feed(samples.subarray(start, Math.min(samples.length, start + hop + MEL_WINDOW - MEL_HOP)));
    o.onChunk?.(Math.min(samples.length, start + hop) / AUDIO_RATE_HZ);
    // The int8 stages run synchronously; give timers and I/O a turn between chunks.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return scorer.scores;
}

/** Runs a long negative stream through both pipelines in chunks and compares their false accepts per head. */
export async function compareOnStream(
  reference: WakeWordStages, candidate: WakeWordStages, samples: Float32Array, heads: readonly string[], o: StreamOptions = {},
): Promise<StreamHeadComparison[]> {
  const threshold = o.threshold ?? WAKE_THRESHOLD;
  const refractorySteps = Math.round((o.refractorySeconds ?? 2) * AUDIO_RATE_HZ / (MEL_HOP * EMBEDDING_STEP));
  const [float, int8] = [await streamScores(reference, samples, heads, o), await streamScores(candidate, samples, heads, o)];
  const hours = samples.length / AUDIO_RATE_HZ / 3600;
  return heads.map((head) => {
    const [sf, si] = [float.get(head)!, int8.get(head)!];
    const [af, ai] = [countAccepts(sf, threshold, refractorySteps), countAccepts(si, threshold, refractorySteps)];
    const near = (xs: number[], s: number) => xs.some((x) => Math.abs(x - s) < refractorySteps);
    let agree = 0, maxDiff = 0;
    for (let s = 0; s < sf.length; s++) {
      agree += +((sf[s]! >= threshold) === (si[s]! >= threshold));
      maxDiff = Math.max(maxDiff, Math.abs(sf[s]! - si[s]!));
    }
    return {
      head, steps: sf.length, hours,
      float: { accepts: af.length, perHour: af.length / hours }, int8: { accepts: ai.length, perHour: ai.length / hours },
      stepAgreement: sf.length ? agree / sf.length : 1,
      matchedAccepts: af.filter((s) => near(ai, s)).length + ai.filter((s) => near(af, s)).length,
      maxScoreDifference: maxDiff,
    };
  });
}
