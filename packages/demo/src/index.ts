// @compotastic/demo: the end-to-end demo, browser-safe (the CLI is Node-only).
export { runDemo, type DemoOptions, type DemoStep, type DemoSummary, type OtaPart, type StoryJob } from './demo.js';
export { ModelLibrary, VIBRATION_MODEL_ID, VIBRATION_MODEL_NAME, referenceLayers, type ModelVersion } from './models.js';
export { DeviceImage, FACTORY_VERSION, release, tailoredBundle, modelSelfTest, type FirmwareSet } from './firmware.js';
export { rollout, type RolloutOutcome, type RolloutTarget } from './rollout.js';
