// The acoustic story's material, prepared on the machine running the demo (Node only: espeak-ng, sox, onnxruntime):
// openWakeWord's hey_rhasspy head and Silero VAD v5 quantized for the sensors, the clips played to them (espeak-ng
// speech, seeded noise), each as the energy gate's level, the int8 VAD's speech probabilities and the int8
// speech-embedding model's output, the "help me" head the laptop fine-tunes, and what each int8 model needs on a
// sensor (bytes and peak arena). All of it is cached on disk, keyed by what it is made from (the model files, espeak-ng's version, the
// clip's text, voice and noise, the training parameters), so only a cold run pays for synthesis and embedding.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kernel } from '@compotastic/kernel';
import { Prng } from '@compotastic/mesh';
import { Int8Executor, type Int8Model, type Int8ModelParts, decodeInt8Model, encodeInt8Model, measureMemory } from '@compotastic/model';
import {
  AUDIO_RATE_HZ, HELD_OUT_VOICES, Int8WakeWord, KEYWORD_WINDOW, NEGATIVE_PHRASES, OrtWakeWord, type Voice, calibrationCorpus, clipEmbeddings, mixAtSnr, noise,
  SILERO_CONTEXT, SILERO_FRAME, SILERO_STATE_DIMS, SileroVad, importSilero, openWakeWordModel, peakFrameDbfs, placeInWindow, pretrainedHead,
  quantizeHead, quantizeSilero, quantizeWakeWord, sileroModel, speak, trainKeywordHead,
} from '@compotastic/model/audio';
import type { AcousticClip, AcousticKit } from './demo.js';

/** Where the demo caches what it prepares, unless told otherwise: the repository's node_modules/.cache. */
export const DEFAULT_CACHE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../node_modules/.cache/compotastic-demo');

/** Bump when what a cache entry holds changes (2: clips synthesized with seeded dither; 3: the embedding model quantized after activation equalization; 4: mel features from 16-bit PCM levels). */
const CACHE_FORMAT = 4;

/** How much acoustic story to tell: the default run, or a small one (few clips, a tiny head) for tests. */
export type AcousticScale = 'full' | 'small';

interface ClipSpec {
  text: string;
  voice: Voice | null;
  /** SNR of seeded noise mixed in, dB (null: clean); for a noise clip, its amplitude. */
  snrDb: number | null;
  positiveFor?: string;
  noise?: { color: 'white' | 'pink'; amplitude: number; seed: number };
}

interface Plan {
  before: ClipSpec[];
  after: ClipSpec[];
  heldOut: ClipSpec[];
  training: { positives: number; negatives: number; epochs: number; hidden: [number, number]; seed: number };
  calibrationClips: number;
}

const BASE = 'hey_rhasspy';
const KEYWORD = { name: 'help_me', phrase: 'help me' };

const spoken = (text: string, voice: Voice, snrDb: number | null, positiveFor?: string): ClipSpec => ({ text, voice, snrDb, positiveFor });
const noiseClip = (color: 'white' | 'pink', amplitude: number, seed: number): ClipSpec => ({
  text: amplitude < 0.01 ? 'near-silence' : `${color} noise`, voice: null, snrDb: null, noise: { color, amplitude, seed },
});

function plan(scale: AcousticScale): Plan {
  const [v0, v1, v2, v3] = HELD_OUT_VOICES as [Voice, Voice, Voice, Voice];
  if (scale === 'small') {
    const heldOut = [spoken('help me', v0, null, KEYWORD.name), spoken('help me', v1, null, KEYWORD.name), spoken(NEGATIVE_PHRASES[0]!, v0, null), noiseClip('pink', 0.3, 1)];
    return {
      before: [spoken('hey rhasspy', v0, null, BASE), noiseClip('white', 0.003, 2)],
      after: [heldOut[0]!, heldOut[2]!],
      heldOut,
      training: { positives: 16, negatives: 16, epochs: 20, hidden: [8, 8], seed: 2 },
      calibrationClips: 2,
    };
  }
  const positives = [v0, v1, v2, v3].flatMap((v) => [spoken('help me', v, null, KEYWORD.name), spoken('help me', v, 10, KEYWORD.name)]);
  const negatives = [
    ...NEGATIVE_PHRASES.slice(0, 4).flatMap((t, i) => [spoken(t, [v0, v1, v2, v3][i]!, null), spoken(t, [v1, v2, v3, v0][i]!, 10)]),
    spoken('hey rhasspy', v1, null), noiseClip('pink', 0.3, 3), noiseClip('white', 0.3, 4), noiseClip('white', 0.003, 5),
  ];
  const heldOut = [...positives, ...negatives];
  return {
    before: [spoken('hey rhasspy', v0, null, BASE), spoken(NEGATIVE_PHRASES[0]!, v1, null), spoken('hey rhasspy', v2, 10, BASE), noiseClip('white', 0.003, 6), spoken('hey rhasspy', v3, null, BASE)],
    // Played after the update: positives in two voices, a negative and near-silence, all from the held-out set.
    after: [positives[0]!, negatives[0]!, positives[3]!, negatives[10]!, positives[4]!],
    heldOut,
    training: { positives: 40, negatives: 100, epochs: 40, hidden: [8, 8], seed: 3 },
    calibrationClips: 4,
  };
}

function describe(s: ClipSpec): string {
  if (!s.voice) return s.text;
  return `"${s.text}" (${s.voice.name} ${s.voice.speed} wpm, ${s.snrDb === null ? 'clean' : `${s.snrDb} dB SNR`})`;
}

function synthesize(s: ClipSpec, window: number): Float32Array {
  if (s.noise) return noise(placeInWindow(new Float32Array(0), window, 1).length, new Prng(s.noise.seed), s.noise.color).map((v) => v * s.noise!.amplitude);
  const clip = placeInWindow(speak(s.text, s.voice!, 0.2), window);
  if (s.snrDb === null) return clip;
  const rng = new Prng(parseInt(createHash('sha256').update(JSON.stringify(s)).digest('hex').slice(0, 8), 16));
  return mixAtSnr(clip, noise(clip.length, rng, 'pink'), s.snrDb);
}

/** A cache entry: a JSON header and raw byte arrays, in one file. */
export class DiskCache {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  static key(...parts: unknown[]): string {
    return createHash('sha256').update(JSON.stringify([CACHE_FORMAT, ...parts])).digest('hex').slice(0, 32);
  }

  get(name: string): { meta: Record<string, unknown>; arrays: Uint8Array[] } | null {
    const file = join(this.dir, `${name}.bin`);
    if (!existsSync(file)) return null;
    try {
      const buf = readFileSync(file);
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      const headerLen = view.getUint32(0, true);
      const header = JSON.parse(buf.subarray(4, 4 + headerLen).toString('utf8')) as { meta: Record<string, unknown>; lengths: number[] };
      let at = 4 + headerLen;
      const arrays = header.lengths.map((n) => {
        const a = new Uint8Array(n);
        a.set(buf.subarray(at, at + n));
        at += n;
        return a;
      });
      return at === buf.length ? { meta: header.meta, arrays } : null;
    } catch {
      return null; // a damaged entry is made again
    }
  }

  put(name: string, meta: Record<string, unknown>, arrays: Uint8Array[]): void {
    const header = Buffer.from(JSON.stringify({ meta, lengths: arrays.map((a) => a.length) }), 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(header.length, 0);
    const file = join(this.dir, `${name}.bin`);
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, Buffer.concat([len, header, ...arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))]));
    renameSync(partial, file);
  }
}

const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
const floatBytes = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const floatsOf = (b: Uint8Array): Float32Array => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

function espeakVersion(): string {
  const r = spawnSync('espeak-ng', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'missing';
}

/** True when espeak-ng and sox can run (the acoustic story synthesizes its clips with them). */
export function speechToolsPresent(): boolean {
  return ['espeak-ng', 'sox'].every((c) => spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status === 0);
}

export interface AcousticOptions {
  kernel: Kernel;
  scale: AcousticScale;
  cacheDir: string;
  /** Progress of a cold run, one line at a time. */
  say: (line: string) => void;
}

/** Builds (or reads from the cache) everything the acoustic story needs. */
export async function prepareAcoustic(o: AcousticOptions): Promise<AcousticKit & { cache: { hits: number; misses: number } }> {
  const p = plan(o.scale);
  const cache = new DiskCache(o.cacheDir);
  const stats = { hits: 0, misses: 0 };
  const modelHash = createHash('sha256');
  for (const f of ['melspectrogram', 'embedding_model']) modelHash.update(openWakeWordModel(f));
  const base = pretrainedHead(BASE);
  modelHash.update(base.onnx);
  const models = modelHash.digest('hex');
  const voice = espeakVersion();

  // Silero VAD v5 in int8 (convolutions and LSTM), calibrated frame by frame on espeak-ng clips and seeded noise.
  const sileroKey = DiskCache.key('silero-int8', createHash('sha256').update(sileroModel()).digest('hex'), voice, p.calibrationClips);
  let sileroParts: Int8ModelParts | null = null;
  const loadSilero = (): Int8ModelParts => {
    if (sileroParts) return sileroParts;
    const hit = cache.get(sileroKey);
    if (hit) {
      stats.hits++;
      return (sileroParts = { weights: hit.arrays[0]!, config: hit.arrays[1]! });
    }
    stats.misses++;
    o.say(`quantizing Silero VAD v5 to int8 (calibrated on ${p.calibrationClips} espeak-ng clips and 2 noise clips)`);
    const calibration = [...calibrationCorpus(11, p.calibrationClips), noise(2 * AUDIO_RATE_HZ, new Prng(12), 'pink').map((v) => v * 0.3), noise(2 * AUDIO_RATE_HZ, new Prng(13)).map((v) => v * 0.003)];
    sileroParts = encodeInt8Model(quantizeSilero(importSilero(), calibration));
    cache.put(sileroKey, {}, [sileroParts.weights, sileroParts.config]);
    return sileroParts;
  };
  let vad: SileroVad | null = null;

  // The float reference and the int8 pipeline, made only when something is missing from the cache.
  let reference: OrtWakeWord | null = null;
  let int8: Int8WakeWord | null = null;
  const ref = async (): Promise<OrtWakeWord> => (reference ??= await OrtWakeWord.create([base]));

  const int8Key = DiskCache.key('int8-pipeline', models, voice, p.calibrationClips);
  let int8Parts: { embedding: Int8ModelParts; head: Int8ModelParts } | null = null;
  const loadInt8 = async (): Promise<{ embedding: Int8ModelParts; head: Int8ModelParts }> => {
    if (int8Parts) return int8Parts;
    const hit = cache.get(int8Key);
    if (hit) {
      stats.hits++;
      const [ew, ec, hw, hc] = hit.arrays as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
      return (int8Parts = { embedding: { weights: ew, config: ec }, head: { weights: hw, config: hc } });
    }
    stats.misses++;
    o.say(`quantizing the speech-embedding model and the ${BASE} head to int8 (calibrated on ${p.calibrationClips} espeak-ng clips)`);
    const q = await quantizeWakeWord(await ref(), [base], calibrationCorpus(7, p.calibrationClips));
    const embedding = encodeInt8Model(q.embedding), head = encodeInt8Model(q.heads.get(BASE)!);
    cache.put(int8Key, {}, [embedding.weights, embedding.config, head.weights, head.config]);
    return (int8Parts = { embedding, head });
  };

  // A clip as a sensor hears it: the gate's level, the int8 VAD's and the int8 embedding model's outputs (the story
  // decides which of them the sensor's pipeline uses; the head runs in the story).
  const clipOf = async (s: ClipSpec, what: string): Promise<AcousticClip> => {
    let audio: Float32Array | null = null;
    const samples = (): Float32Array => (audio ??= synthesize(s, KEYWORD_WINDOW + 6));
    const vadKey = DiskCache.key('clip-vad', sileroKey, s, KEYWORD_WINDOW);
    const vadHit = cache.get(vadKey);
    let speech: Float32Array;
    if (vadHit) {
      stats.hits++;
      speech = floatsOf(vadHit.arrays[0]!);
    } else {
      stats.misses++;
      o.say(`running the int8 Silero VAD on ${what} clip ${describe(s)}`);
      vad ??= SileroVad.int8(o.kernel, decodeInt8Model(loadSilero()));
      speech = vad.probabilities(samples());
      cache.put(vadKey, {}, [floatBytes(speech)]);
    }
    const key = DiskCache.key('clip', models, voice, p.calibrationClips, s, KEYWORD_WINDOW);
    const hit = cache.get(key);
    let peakDbfs: number, seconds: number, embeddings: Float32Array;
    if (hit) {
      stats.hits++;
      peakDbfs = hit.meta.peakDbfs as number;
      seconds = hit.meta.seconds as number;
      embeddings = floatsOf(hit.arrays[0]!);
    } else {
      stats.misses++;
      o.say(`embedding ${what} clip ${describe(s)} with the int8 speech-embedding model`);
      peakDbfs = Math.max(-1000, peakFrameDbfs(samples()));
      seconds = samples().length / AUDIO_RATE_HZ;
      if (!int8) {
        const parts = await loadInt8();
        int8 = new Int8WakeWord(o.kernel, { embedding: decodeInt8Model(parts.embedding), heads: new Map([[BASE, decodeInt8Model(parts.head)]]) });
      }
      embeddings = (await clipEmbeddings(int8, samples())).data;
      cache.put(key, { peakDbfs, seconds }, [floatBytes(embeddings)]);
    }
    return { text: s.text, description: describe(s), peakDbfs, seconds, embeddings, vad: speech, positiveFor: s.positiveFor };
  };

  try {
    const baseParts = (await loadInt8()).head;
    // The new head, as the laptop trains it: espeak-ng voices the held-out set never uses, embedded in float.
    const t = p.training;
    const trainKey = DiskCache.key('keyword-head', models, voice, KEYWORD, t);
    let keywordParts: Int8ModelParts, examples: { positive: number; negative: number };
    const hit = cache.get(trainKey);
    if (hit) {
      stats.hits++;
      keywordParts = { weights: hit.arrays[0]!, config: hit.arrays[1]! };
      examples = hit.meta.examples as typeof examples;
    } else {
      stats.misses++;
      o.say(`training the "${KEYWORD.phrase}" head (${t.positives} positive and ${t.negatives} negative espeak-ng clips, hidden widths ${t.hidden.join('/')}, ${t.epochs} epochs)`);
      const trained = await trainKeywordHead(await ref(), KEYWORD.name, KEYWORD.phrase, t);
      keywordParts = encodeInt8Model(await quantizeHead(trained.spec.onnx, trained.embeddings));
      examples = trained.examples;
      cache.put(trainKey, { examples }, [keywordParts.weights, keywordParts.config]);
    }
    const before: AcousticClip[] = [];
    for (const s of p.before) before.push(await clipOf(s, 'story'));
    const heldOut: AcousticClip[] = [];
    for (const s of p.heldOut) heldOut.push(await clipOf(s, 'held-out'));
    const after = p.after.map((s) => heldOut[p.heldOut.indexOf(s)]!);
    // What each model needs on a sensor, measured once on the kernel (an op-by-op run, as the model package measures).
    const memoryKey = DiskCache.key('memory', int8Key, sileroKey, trainKey);
    let memory: AcousticKit['memory'];
    const memoryHit = cache.get(memoryKey);
    if (memoryHit) {
      stats.hits++;
      memory = memoryHit.meta.models as AcousticKit['memory'];
    } else {
      stats.misses++;
      o.say('measuring what each int8 model needs on a sensor (bytes, peak arena)');
      const measure = (name: string, parts: Int8ModelParts, inputs?: (m: Int8Model) => Map<string, { dims: number[]; data: Float32Array }>) => {
        const model = decodeInt8Model(parts);
        const exec = Int8Executor.create(o.kernel, model);
        try {
          const filled = (dims: number[]) => ({ dims, data: new Float32Array(size(dims)).fill(0.5) });
          const feeds = inputs?.(model) ?? new Map(model.inputs.map((i) => [i.name, filled(i.dims.map((d) => (typeof d === 'number' ? d : 1)))]));
          return { name, ...measureMemory(exec, parts, feeds) };
        } finally {
          exec.dispose();
        }
      };
      const speechFrame = synthesize(p.before[0]!, KEYWORD_WINDOW + 6);
      const at = speechFrame.findIndex((v) => Math.abs(v) > 0.05);
      memory = [
        measure('Silero VAD v5', loadSilero(), () => new Map([
          ['input', { dims: [1, SILERO_CONTEXT + SILERO_FRAME], data: speechFrame.slice(at, at + SILERO_CONTEXT + SILERO_FRAME) }],
          ['state', { dims: [...SILERO_STATE_DIMS], data: new Float32Array(size(SILERO_STATE_DIMS)) }],
        ])),
        measure('speech embedding', (await loadInt8()).embedding),
        measure(BASE, baseParts),
        measure(KEYWORD.name, keywordParts),
      ];
      cache.put(memoryKey, { models: memory }, []);
    }
    return {
      base: { name: BASE, phrase: 'hey rhasspy', parts: baseParts },
      keyword: { ...KEYWORD, parts: keywordParts, training: { ...t, examples } },
      before, after, heldOut, memory, cache: stats,
    };
  } finally {
    (int8 as Int8WakeWord | null)?.dispose();
    (vad as SileroVad | null)?.dispose();
    await (reference as OrtWakeWord | null)?.release();
  }
}
