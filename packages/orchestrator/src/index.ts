// @compotastic/orchestrator: the compute layer of a Meshtastic mesh. Browser-safe; the Meshtastic radio binding is in
// '@compotastic/orchestrator/meshtastic'. Simulated swarms are @compotastic/swarm's, so a node's install has no simulator.
export * from './errors.js';
export * from './wire/messages.js';
export { ByteReader, ByteWriter } from './wire/bytes.js';
export { encodeUfloat16, decodeUfloat16, quantizeUfloat16, UFLOAT16_MAX } from './wire/ufloat16.js';
export { encodeForLink, fragmentBytes, maxFragmentedBytes, Reassembler, MAX_FRAGMENTS, type ReassemblerOptions, type ReassemblyStats } from './wire/fragment.js';
export * from './registry/capability.js';
export * from './registry/state.js';
export { CapabilityRegistry, type PeerEntry, type PeerFreshness, type RegistryOptions, type DeltaOutcome } from './registry/registry.js';
export { GATT, DEFAULT_ATT_PAYLOAD, type BleAdapter, type BleRead } from './registry/ble.js';
export * from './jobs/spec.js';
export * from './jobs/split.js';
export { InboundStream, chunksOf } from './jobs/stream.js';
export * from './jobs/executor.js';
export { matMulIntegerModel, type MatMulIntegerModelOptions } from './jobs/onnx-model.js';
export * from './scheduler/links.js';
export * from './scheduler/cost-model.js';
export * from './scheduler/planner.js';
export * from './transport/link.js';
export { Messenger, type MessageHandler, type MessageMeta, type MessengerStats, type Priority } from './transport/messenger.js';
export { DEFAULT_CONFIG, resolveConfig, type NodeHost, type NodeContext, type OrchestratorConfig } from './context.js';
export { Coordinator, type JobOutcome, type SubmitOptions } from './delegation/coordinator.js';
export { Worker, type WorkerStats } from './delegation/worker.js';
export { MemoryJobStore, type JobStore, type PersistedJob, type JobStatus } from './delegation/job-store.js';
export { Orchestrator, type OrchestratorOptions, type OrchestratorStats } from './orchestrator.js';
export { fuzzDecoder, sampleFrames, type FuzzStats } from './wire/fuzz.js';
export { sampleMessages, randomRecord, randomSpec } from './wire/samples.js';
