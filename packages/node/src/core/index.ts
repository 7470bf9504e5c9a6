// @compotastic/node/core: the browser-safe parts of a node (model store, device firmware, OTA and rollouts), shared by real nodes,
// the simulated swarm of the demo and the viewer's worker.
export {
  ModelLibrary, VIBRATION_MODEL_ID, VIBRATION_MODEL_NAME, inputWidthOf, modelNumber, referenceLayers, type ModelVersion,
} from './models.js';
export {
  DeviceFirmware, FACTORY_VERSION, factoryBundle, FEATURES, modelPartsOf, modelSelfTest, release, tailoredBundle,
  type DeviceFirmwareOptions, type FirmwareSet, type InstallOutcome,
} from './firmware.js';
export {
  CompotasticNode, type ModelPublishReport, type NodeEvent, type NodeLink, type NodeRuntimeOptions, type NodeStatus, type NodeStorage, type OtaStatus,
  type PublishOptions,
} from './runtime.js';
export {
  INITIAL_REDUNDANCY, firmwareReceiver, installDelivery, otaAirtime, publisherPacer, publisherSender, type FirmwareReceiverOptions, type PublisherOptions,
} from './ota-session.js';
export { rollout, type RolloutEnv, type RolloutEventType, type RolloutOutcome, type RolloutTarget } from './rollout.js';
export { nodeExecutor, nodeOrchestrator, type InstalledModelRunner, type NodeOrchestratorOptions } from './assembly.js';
