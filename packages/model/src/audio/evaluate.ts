// Float against int8 on the same clips: for each head, the detection rate on its
// positives, false accepts per hour of negative audio, and how often the two
// pipelines make the same decision at the threshold (per clip and per 80 ms step).

import { AUDIO_RATE_HZ } from './speech.js';
import type { Clip } from './corpus.js';
import { WAKE_THRESHOLD, type WakeWordStages, clipEmbeddings, headScores } from './wakeword.js';

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
}

const max = (xs: Float32Array) => xs.reduce((m, v) => Math.max(m, v), -Infinity);

/** Runs every clip through both pipelines and compares them per head. */
export async function compareOnClips(
  reference: WakeWordStages, candidate: WakeWordStages, clips: readonly Clip[], heads: readonly string[],
  threshold = WAKE_THRESHOLD, onClip?: (done: number) => void,
): Promise<HeadComparison[]> {
  const acc = heads.map((head) => ({ head, pos: 0, neg: 0, negSamples: 0, det: [0, 0], fa: [0, 0], clipAgree: 0, steps: 0, stepAgree: 0, maxDiff: 0 }));
  for (const [ci, clip] of clips.entries()) {
    const [ef, ei] = [await clipEmbeddings(reference, clip.samples), await clipEmbeddings(candidate, clip.samples)];
    for (const a of acc) {
      const sf = await headScores(reference, a.head, ef), si = await headScores(candidate, a.head, ei);
      const df = max(sf) >= threshold, di = max(si) >= threshold;
      if (clip.positiveFor === a.head) {
        a.pos++;
        a.det[0]! += +df;
        a.det[1]! += +di;
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
    };
  });
}
