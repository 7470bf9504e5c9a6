// @compotastic/model/audio (Node only: reads the models from node_modules, runs espeak-ng and sox).
// Audio: openWakeWord's pretrained models in float (onnxruntime-web) and int8 (the kernel), speech synthesized with
// espeak-ng for evaluation, and new keyword heads trained on the speech embedding.
export { AUDIO_RATE_HZ, SpeechSynthesisError, speak, noise, mixAtSnr } from './speech.js';
export type { Voice } from './speech.js';
export {
  WAKE_WORD_HEADS, WAKE_THRESHOLD, EMBEDDING_FRAMES, EMBEDDING_STEP, EMBEDDING_SIZE, MEL_BINS, openWakeWordModel, pretrainedHead,
  melModelInput, melFeatures, embeddingInput, headInputs, minimumSamples, clipEmbeddings, headScores, OrtWakeWord, Int8WakeWord, quantizeWakeWord,
  quantizeHead, wakeWordParts,
} from './wakeword.js';
export type { WakeWordHead, HeadSpec, WakeWordStages, WakeWordInt8 } from './wakeword.js';
export { heldOutCorpus, calibrationCorpus, placeInWindow, durationSeconds, HELD_OUT_VOICES, NEGATIVE_PHRASES, SNRS_DB, voiceVariants } from './corpus.js';
export type { Clip, CorpusOptions } from './corpus.js';
export { GATE_FRAME_SAMPLES, GATE_THRESHOLD_DBFS, gateOpens, peakFrameDbfs } from './energy-gate.js';
export { compareOnClips } from './evaluate.js';
export type { HeadComparison, PipelineResult } from './evaluate.js';
export { trainKeywordHead, KEYWORD_WINDOW } from './keyword-head.js';
export type { KeywordTrainingOptions, TrainedKeywordHead } from './keyword-head.js';
export {
  SILERO_FRAME, SILERO_CONTEXT, SILERO_STATE_DIMS, SPEECH_THRESHOLD, sileroModel, importSilero, sileroInputs, sileroFrameInputs, quantizeSilero,
  SileroVad, OrtSilero, compareSileroProbabilities,
} from './silero.js';
export type { SileroAgreement } from './silero.js';
