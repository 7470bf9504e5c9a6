// @compotastic/demo: the end-to-end demo, browser-safe (the CLI is Node-only).
export {
  runDemo, type AcousticClip, type AcousticDetection, type AcousticKit, type AcousticSummary, type DemoOptions, type DemoStep, type DemoSummary, type OtaPart,
  type StoryJob,
} from './demo.js';
export { GATE_DBFS, VAD_HANGOVER_MS, VAD_SPEECH, embeddedCount, gateSchedule, type GateOptions, type GateSchedule } from './vad-gate.js';
export { clipScore, heldOutScore } from './acoustic-story.js';
// The rollout moved to @compotastic/node/core; re-exported for existing importers.
export { rollout, type RolloutOutcome, type RolloutTarget } from '@compotastic/node/core';
