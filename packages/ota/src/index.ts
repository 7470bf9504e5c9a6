// @compotastic/ota: signed, delta-encoded, forward-error-corrected model and firmware bundles for a LoRa mesh.
export { OtaError, isOtaError, type OtaErrorCode } from './errors.js';
export { ByteReader, ByteWriter, bytesEqual, concatBytes, crc32, fromHex, toHex } from './bytes.js';
export { sha256, sha256Stream, type Sha256Stream } from './hash.js';

export {
  MANIFEST_FORMAT_VERSION, PART_ENCODINGS, PART_KINDS, decodeManifest, encodeManifest, imageDigest,
  type Manifest, type PartEncoding, type PartEntry, type PartKind,
} from './manifest.js';
export { TrustStore, generateSigningKey, keyId, signManifest, verifyManifestSignature, type SigningKey } from './signing.js';
export {
  BUNDLE_MAGIC, buildBundle, openBundle,
  type BuildBundleOptions, type BuiltBundle, type OpenedBundle, type PartChoice, type Release, type ReleasePart,
} from './bundle.js';

export { createPatch, type CreatePatchOptions, type PatchStats } from './patch/encode.js';
export {
  DEFAULT_APPLY_MEMORY_BYTES, applyPatch, applyPatchStream, patchWorkingBytes, readPatchHeader,
  type ApplyPatchOptions, type ApplyPatchResult,
} from './patch/apply.js';
export { PATCH_MAGIC, type PatchHeader } from './patch/header.js';
export { DEFAULT_DIFF_MODEL_SIZE, diffModelBytes, type DiffModelSize } from './codec/diff-model.js';
export { RawInflater, type ByteInput } from './codec/inflate.js';
export {
  decodePart, decodePartStream, encodePart, encodePartCandidates,
  type DecodePartOptions, type EncodePartOptions, type EncodedPart,
} from './delta/part-codec.js';

export {
  BlockDecoder, FountainDecoder, FountainEncoder, partitionBlocks, repairCoefficients,
  type FountainParams, type SourceBlock,
} from './fec/fountain.js';
export { measureReceiveMemory, type ReceiveMemoryOptions, type ReceiveMemoryResult } from './experiments/receive-memory.js';
export { FlashFountainDecoder, flashDecoderLayout, type FlashDecoderLayout } from './fec/flash-decoder.js';
export { symbolsToSend } from './fec/sizing.js';

export {
  DATA_HEADER_BYTES, MAX_HASHES_PER_MESSAGE, MAX_MESSAGE_BYTES, MAX_SYMBOL_BYTES, PROTOCOL_VERSION, REASON_CODES, SYMBOL_HASH_BYTES, decodeMessage,
  encodeMessage, type DataMessage, type EndMessage, type HashesMessage, type OfferMessage, type PollMessage, type ReceiverState, type StatusMessage, type TransferMessage,
} from './transfer/messages.js';
export type { TransferLink, TransferLinkStats } from './transfer/link.js';
export { offerDigest, signHashes, signOffer, symbolHash, verifyHashes, verifyOffer, type UnsignedOffer } from './transfer/auth.js';
export { DutyCyclePacer, type DutyCyclePacerOptions, type PacingPolicy } from './transfer/pacing.js';
export { BroadcastSender, type ReceiverReport, type SenderOptions, type SenderReport } from './transfer/sender.js';
export {
  DEFAULT_MAX_PENDING_SYMBOLS, DEFAULT_STALL_TIMEOUT_MS, TransferReceiver, acceptOfferFor, receiverWorkspaceBytes, type InstalledVersion, type DeliveryResult, type OfferDecision, type ReceiverOptions, type ReceiverStats,
} from './transfer/receiver.js';

export { bufferSource, BufferSink, type ByteSink, type RandomAccessSource } from './storage/io.js';
export { FaultyFlash, FlashRegion, FlashWriter, MemoryFlash, PowerCutError, checkGeometry, eraseRange, type Flash } from './storage/flash.js';
export {
  FlashProgressStore, MemoryProgressStore,
  type ProgressStore, type StoredState, type StoredSymbol, type StoredTransfer, type StoredTransferCursor,
} from './storage/progress.js';

export { BootRecordStore, type BootRecord, type BootState, type SlotIndex } from './update/boot-record.js';
export { SLOT_HEADER_BYTES, verifySlot, type SlotImage } from './update/slot-image.js';
export {
  Updater, partitionFlash,
  type BootResult, type DeviceIdentity, type InstallResult, type InstalledImage, type PartitionLayout, type SelfTest, type UpdaterOptions,
} from './update/updater.js';

export {
  DEFAULT_MAX_IN_FLIGHT, OTA_PORTNUM, attachToPacketLink, type MeshEndpoint, type PacketLinkOptions, type PortLink,
} from './adapters/packet-link.js';

export { seededSigningKey, startBroadcastRollout, startUnicastRollout, type RolloutOptions, type RolloutProgress } from './experiments/rollout.js';
export { distanceForLoss, rolloutScenario, type RolloutScenarioOptions } from './experiments/scenario.js';
export { measureFecOverhead, type OverheadStats } from './experiments/fec-overhead.js';
export { measureAuthenticatedFecOverhead } from './experiments/authenticated-overhead.js';
export { compareRolloutAirtime, type AirtimeComparison, type SimulationLike } from './experiments/airtime.js';
export type { SimulatorLike, SimulatorPacket } from './experiments/sim-link.js';
export { signedSession, type SignedSession } from './experiments/signed-session.js';
export { measureForgedSymbolCost, type ForgedSymbolCost } from './experiments/forged-symbols.js';
