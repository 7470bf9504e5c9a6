import { type Kernel, type KernelBuild, loadBuildBytes } from '@compotastic/kernel';
import { type ModemPresetName, Prng, getRegion } from '@compotastic/mesh';
import { type Int8Model, type Int8ModelParts, Int8Executor, decodeInt8Model } from '@compotastic/model';
import {
  type CapabilityRecord, type Executor, type JobOutcome, type JobSpec, type NodeHost, type Orchestrator,
  type AuthStore, type JobStore, type OrchestratorConfig, type OrchestratorOptions, type PacketLink, type MeshLink, nodeName,
} from '@compotastic/orchestrator';
import {
  type BroadcastSender, type Flash, OTA_PORTNUM, type OfferMessage, OtaError, type ProgressStore, type SenderReport, type TransferReceiver,
  TrustStore, attachToPacketLink, buildBundle, openBundle, toHex,
} from '@compotastic/ota';
import { DeviceFirmware, FACTORY_VERSION, type FirmwareSet, type InstallOutcome, modelPartsOf, release, tailoredBundle } from './firmware.js';
import { ModelLibrary, VIBRATION_MODEL_NAME, inputWidthOf, modelNumber } from './models.js';
import { nodeOrchestrator } from './assembly.js';
import { firmwareReceiver, publisherSender } from './ota-session.js';

// One Compotastic node, assembled: the orchestrator on the radio's compute port, OTA on its own port of the same
// MeshDevice link (receive, verify, install on trial, self-test, confirm; publish bundles to direct neighbours), the
// model store fed from the running image, and everything durable in the node's storage. Browser-safe: a real node's
// storage is its state directory (nodeStorage), a simulated or in-browser node's is memory.

/** What a node keeps across restarts. */
export interface NodeStorage {
  /** Where it lives, for status (null in memory). */
  readonly location: string | null;
  readonly identity: { readonly publicKey: Uint8Array; readonly secretKey: Uint8Array };
  /** Pinned peer keys, packet counters, reputations (none: in memory, lost with the process). */
  readonly auth?: AuthStore;
  readonly jobs: JobStore;
  readonly otaProgress: ProgressStore;
  /** The device flash the A/B image lives in. */
  readonly flash: Flash;
  /** A quick index of the installed image (models.json), kept in step with what the flash boots. */
  recordImage?(image: { modelId: string; version: number; slot: 0 | 1 }): void;
}

/** The radio link a node runs on: the compute port, and further ports of the same client connection. */
export interface NodeLink extends MeshLink {
  openPort(portnum: number): PacketLink;
}

export interface NodeEvent {
  type: string;
  [key: string]: unknown;
}

export interface NodeRuntimeOptions {
  link: NodeLink;
  storage: NodeStorage;
  kernel: Kernel;
  /** The bytes of the kernel build `kernel` runs: the factory image carries them. */
  kernelWasm: Uint8Array;
  host: Omit<NodeHost, 'report'>;
  /** What this node advertises, except the model fields (they come from the installed image). */
  capabilities: Omit<CapabilityRecord, 'epoch' | 'modelId' | 'modelVersion'>;
  /** Executors tried after the installed model (GEMMs on the kernel, ONNX Runtime...). */
  executors: Executor[];
  /** Public keys whose bundles this node installs, besides its own. */
  trustedKeys?: Uint8Array[];
  /** The model line the factory image is made for: bundles of other models are declined (default vibration-mlp). */
  modelLine?: string;
  otaPort?: number;
  seed: number;
  config?: Partial<OrchestratorConfig>;
  /** Swarm admission: this node's certificate and the check its peers must pass. */
  swarm?: Pick<OrchestratorOptions, 'admit' | 'certificate'>;
  onEvent?: (e: NodeEvent) => void;
}

export interface PublishOptions {
  /** Receivers expected to take the bundle (default: whoever answers). */
  targets?: number[];
  /** Give up on receivers after this many repair rounds (default 8). */
  maxRounds?: number;
}

export interface ModelPublishReport {
  version: number;
  bundles: Array<{ build: KernelBuild; from: number; targets: number[]; bytes: number; encodings: string[]; report: SenderReport }>;
}

export interface OtaStatus {
  /** useful: symbols received since this process started; resumed: those restored from flash at start. */
  receiving: { state: string; session: number | null; useful: number; resumed: number; needed: number; percent: number; reason: string };
  publishing: { session: number; bundleBytes: number; version: number; targets: number[]; packets: number; startedMs: number } | null;
  lastPublish: SenderReport | null;
}

export interface NodeStatus {
  num: number;
  id: string;
  publicKey: string;
  stateDir: string | null;
  kernelBuild: string;
  image: { model: string; version: number; slot: number; state: string; bootAction: string };
  model: { id: number; version: number } | null;
  radio: ReturnType<MeshLink['facts']>;
  peers: Array<{
    num: number; id: string; name: string | null; deviceClass: string | null; hops: number | null; snr: number | null; battery: number | null; model: string | null;
    acceptsJobs: boolean | null; lastHeardS: number;
  }>;
  jobs: ReturnType<Orchestrator['coordinator']['list']>;
  ota: OtaStatus;
}


export class CompotasticNode {
  readonly orchestrator: Orchestrator;
  readonly firmware: DeviceFirmware;
  readonly num: number;
  private library: ModelLibrary | null = null;
  private readonly trust: TrustStore;
  private readonly receiver: TransferReceiver;
  private sender: { tx: BroadcastSender; status: NonNullable<OtaStatus['publishing']> } | null = null;
  private lastPublish: SenderReport | null = null;
  private readonly detachOta: () => void;
  private readonly rng: Prng;
  private readonly otaLink: ReturnType<typeof attachToPacketLink>['link'];
  private readonly otaBroadcast: ReturnType<typeof attachToPacketLink>['link'];
  private readonly firmwareSet: FirmwareSet;
  private progressTimer: ReturnType<NodeHost['clock']['setTimer']> | null = null;
  private closed = false;
  private readonly resumedSymbols: number;

  constructor(private readonly o: NodeRuntimeOptions) {
    const { link, storage, kernel } = o;
    this.num = link.nodeNum;
    this.rng = new Prng(o.seed >>> 0).derive('node');
    const own = { secretKey: storage.identity.secretKey, publicKey: storage.identity.publicKey };
    this.trust = new TrustStore([own.publicKey, ...(o.trustedKeys ?? [])]);
    this.firmwareSet = { key: own, trust: this.trust, modelName: o.modelLine ?? VIBRATION_MODEL_NAME, kernels: { [kernel.build]: o.kernelWasm }, models: new Map() };
    // The factory image is the node's own: its kernel build, no model, signed with its own key on first start.
    this.firmware = new DeviceFirmware({
      flash: storage.flash, kernel, trust: this.trust, build: kernel.build,
      factory: () => buildBundle(kernel, release(this.firmwareSet, FACTORY_VERSION, kernel.build), { key: own }).bytes,
      selfTest: (image) => this.selfTest(modelPartsOf(image)),
    });
    this.loadInstalledModel();
    this.recordImage();

    const modelRunner = {
      has: (id: number, version: number) => this.library?.runnerFor(this.num).has(id, version) ?? false,
      runLayers: (id: number, version: number, start: number, end: number, batch: number, input: Uint8Array) => {
        const lib = this.library;
        if (!lib) throw new OtaError('INVALID_STATE', 'no model is installed');
        return lib.runnerFor(this.num).runLayers(id, version, start, end, batch, input);
      },
    };
    const installed = this.installedModel();
    this.orchestrator = nodeOrchestrator({
      host: { ...o.host, report: (type, data) => this.emit({ type, ...data }) },
      mesh: link,
      installedModel: modelRunner,
      executors: o.executors,
      capabilities: { ...o.capabilities, modelId: installed?.id ?? 0, modelVersion: installed?.version ?? 0 },
      seed: o.seed,
      config: o.config,
      store: storage.jobs,
      identity: storage.identity,
      authStore: storage.auth,
      ...o.swarm,
      modelProfile: (id, version) => this.library?.profileOf(id, version),
    });

    // OTA: one port of the same client link; replies (status) go unicast or broadcast on it, direct neighbours only.
    const port = link.openPort(o.otaPort ?? OTA_PORTNUM);
    const endpoint = {
      onMessage: (from: number, payload: Uint8Array) => {
        this.receiver.onMessage(from, payload);
        this.sender?.tx.onMessage(from, payload);
      },
    };
    const attached = attachToPacketLink(port, endpoint, { hopLimit: 0 });
    this.otaLink = attached.link;
    this.otaBroadcast = {
      send: (payload, to) => {
        const taken = attached.link.send(payload, to);
        if (taken !== false && this.sender) this.sender.status.packets++;
        return taken;
      },
    };
    this.detachOta = attached.detach;
    // Symbols a restarted receiver already has on flash (the receiver restores them as it is built).
    this.resumedSymbols = (() => {
      try {
        return storage.otaProgress.load()?.symbols.length ?? 0;
      } catch {
        return 0;
      }
    })();
    this.receiver = firmwareReceiver({
      nodeId: this.num, link: this.otaLink, clock: o.host.clock, rng: this.rng.derive('ota-rx'), store: storage.otaProgress,
      firmware: this.firmware, selfTest: (image) => this.selfTest(modelPartsOf(image)),
      report: (outcome, offer) => this.installed(outcome, offer),
    });
    if (this.receiver.state === 'receiving') this.emit({ type: 'ota_resumed', session: this.receiver.session, symbols: this.resumedSymbols, needed: this.receiver.needed });
  }

  start(): void {
    this.orchestrator.start();
    const tick = (): void => {
      if (this.closed) return;
      if (this.receiver.state === 'receiving') this.emit({ type: 'ota_progress', ...this.status().ota.receiving });
      this.progressTimer = this.o.host.clock.setTimer(5000, tick);
    };
    this.progressTimer = this.o.host.clock.setTimer(5000, tick);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.progressTimer) this.o.host.clock.clearTimer(this.progressTimer);
    this.sender?.tx.cancel();
    this.detachOta();
    this.orchestrator.close();
    this.library?.dispose();
  }

  private emit(e: NodeEvent): void {
    this.o.onEvent?.(e);
  }

  /** The model the running image carries, as the compute layer numbers it. */
  private installedModel(): { id: number; version: number } | null {
    if (!this.library) return null;
    return { id: this.library.modelId, version: this.firmware.version };
  }

  private loadInstalledModel(): void {
    this.library?.dispose();
    this.library = null;
    const parts = this.firmware.modelParts();
    if (!parts) return;
    const model = decodeInt8Model(parts);
    const lib = new ModelLibrary(this.o.kernel, modelNumber(this.firmware.modelName));
    lib.add(this.firmware.version, model, inputWidthOf(model));
    lib.install(this.num, this.firmware.version);
    this.library = lib;
  }

  private recordImage(): void {
    const m = this.firmware.updater.installed.manifest;
    this.o.storage.recordImage?.({ modelId: m.modelId, version: m.version, slot: this.firmware.slot });
  }

  /** A new image's self-test: its model decodes and gives finite class scores for a zero input on this kernel. */
  private selfTest(parts: ReturnType<typeof modelPartsOf>): boolean {
    if (!parts) return true; // an image without a model (a kernel-only release) has nothing more to check here
    let model: Int8Model;
    try {
      model = decodeInt8Model(parts);
    } catch {
      return false;
    }
    const exec = Int8Executor.create(this.o.kernel, model);
    try {
      const width = inputWidthOf(model);
      const out = exec.run(new Map(model.inputs.map((i) => [i.name, { dims: [1, width], data: new Float32Array(width) }] as const)));
      const y = out.get(model.outputs[0]!);
      return !!y && y.data.length > 0 && y.data.every(Number.isFinite);
    } finally {
      exec.dispose();
    }
  }

  /** What an OTA install came to: on success the new model runs and is advertised. */
  private installed(outcome: InstallOutcome, offer: OfferMessage): void {
    if (!outcome.ok) {
      this.emit({ type: 'ota_failed', session: offer.session, code: outcome.code, message: outcome.message });
      return;
    }
    this.recordImage();
    this.loadInstalledModel();
    const installed = this.installedModel();
    this.orchestrator.updateCapabilities({ modelId: installed?.id ?? 0, modelVersion: installed?.version ?? 0 });
    this.emit({ type: 'ota_installed', session: offer.session, model: this.firmware.modelName, version: outcome.version, slot: outcome.slot });
  }

  /** Hands a job to the orchestrator; resolves with its outcome (done, or failed with a reason). */
  submit(spec: JobSpec, input: Uint8Array, options: { tag?: string; deadlineS?: number } = {}): Promise<JobOutcome> {
    const tag = options.tag ?? `job-${this.rng.uint32().toString(16)}`;
    return new Promise<JobOutcome>((resolve, reject) => {
      let id = -1;
      const off = this.orchestrator.onJobEnd((outcome) => {
        if (outcome.id !== id) return;
        off();
        resolve(outcome);
      });
      try {
        const deadline = options.deadlineS === undefined ? {} : { deadlineMs: this.o.host.clock.now() + options.deadlineS * 1000 };
        id = this.orchestrator.submit(spec, input, { tag, ...deadline });
      } catch (e) {
        off();
        reject(e);
      }
    });
  }

  /**
   * Broadcasts a signed bundle to the direct neighbours (fountain-coded, paced to the region's duty cycle and the
   * channel's load) and resolves with the sender's report when every target has it or was given up on.
   */
  publish(bundle: Uint8Array, options: PublishOptions = {}): Promise<SenderReport> {
    if (this.sender) return Promise.reject(new OtaError('INVALID_STATE', 'a bundle is already being published'));
    const { manifest } = openBundle(bundle, this.trust);
    const facts = this.o.link.facts();
    const duty = facts.dutyCyclePct > 0 ? facts.dutyCyclePct : (getRegion(facts.region)?.dutyCyclePercent ?? 100);
    const session = this.rng.int(0, 0x10000);
    return new Promise<SenderReport>((resolve) => {
      const tx = publisherSender({
        bundle, manifest, key: this.firmwareSet.key, link: this.otaBroadcast, clock: this.o.host.clock, preset: facts.preset as ModemPresetName, portnum: this.o.otaPort ?? OTA_PORTNUM,
        dutyCyclePercent: duty, channelUtilization: () => this.o.link.facts().channelUtilPct,
        maxRounds: options.maxRounds ?? 8, session, seed: this.rng.uint32(),
        ...(options.targets ? { receivers: options.targets } : {}),
        onDone: (report) => {
          this.sender = null;
          this.lastPublish = report;
          this.emit({ type: 'publish_done', session, complete: report.complete, rounds: report.rounds, receivers: report.receivers });
          resolve(report);
        },
      });
      this.sender = {
        tx,
        status: { session, bundleBytes: bundle.length, version: manifest.version, targets: options.targets ?? [], packets: 0, startedMs: this.o.host.clock.now() },
      };
      this.emit({ type: 'publish_started', session, bytes: bundle.length, model: manifest.modelId, version: manifest.version, targets: options.targets ?? [] });
      tx.start();
    });
  }

  /**
   * Builds bundles of a model version tailored to the receivers (by the kernel build each advertises, and as a delta
   * against the factory image when a receiver still runs it) and publishes them one after another, each to its group.
   * Without targets, every direct neighbour that advertises a kernel is a receiver.
   */
  async publishModel(parts: Int8ModelParts, version: number, options: PublishOptions = {}): Promise<ModelPublishReport> {
    decodeInt8Model(parts); // a malformed model is refused before anything goes on air
    if (!Number.isInteger(version) || version <= FACTORY_VERSION || version > 0xffff) throw new OtaError('INVALID_ARGUMENT', `version must be 1..65535, got ${version}`);
    const peers = this.orchestrator.registry.all().filter((p) => p.num !== this.num && p.state && p.state.record.kernelBuild !== 'none');
    const chosen = options.targets ? options.targets.map((n) => {
      const p = peers.find((x) => x.num === n);
      if (!p) throw new OtaError('INVALID_ARGUMENT', `${nodeName(n)} has not advertised a kernel build: cannot tailor a bundle for it`);
      return p;
    }) : peers.filter((p) => p.hops === 0);
    if (chosen.length === 0) throw new OtaError('INVALID_STATE', 'no receivers: no direct neighbour has advertised a kernel build yet');
    const groups = new Map<string, number[]>();
    for (const p of chosen) {
      const r = p.state!.record;
      const from = r.modelId === 0 ? FACTORY_VERSION : r.modelVersion;
      const key = `${r.kernelBuild}:${from}`;
      groups.set(key, [...(groups.get(key) ?? []), p.num]);
    }
    const fw: FirmwareSet = { ...this.firmwareSet, kernels: { ...this.firmwareSet.kernels }, models: new Map([[version, parts]]) };
    const bundles: ModelPublishReport['bundles'] = [];
    for (const [key, targets] of [...groups].sort()) {
      const [build, fromText] = key.split(':') as [KernelBuild, string];
      const from = Number(fromText);
      fw.kernels[build] ??= await loadBuildBytes(build);
      // Only the factory image is known byte for byte here; a receiver on another version gets a full bundle.
      const built = from === FACTORY_VERSION ? tailoredBundle(this.o.kernel, fw, version, from, build) : buildBundle(this.o.kernel, release(fw, version, build), { key: fw.key });
      const report = await this.publish(built.bytes, { ...options, targets });
      bundles.push({ build, from, targets, bytes: built.bytes.length, encodings: built.choices.map((c) => `${c.name}:${c.encoding}`), report });
    }
    return { version, bundles };
  }

  status(): NodeStatus {
    const now = this.o.host.clock.now();
    const m = this.firmware.updater.installed.manifest;
    const rx = this.receiver;
    const have = rx.stats.useful + this.resumedSymbols;
    const total = have + rx.needed;
    return {
      num: this.num,
      id: nodeName(this.num),
      publicKey: toHex(this.o.storage.identity.publicKey),
      stateDir: this.o.storage.location,
      kernelBuild: this.o.kernel.build,
      image: { model: m.modelId, version: m.version, slot: this.firmware.slot, state: this.firmware.updater.state, bootAction: this.firmware.bootAction },
      model: this.installedModel(),
      radio: this.o.link.facts(),
      peers: this.orchestrator.registry.all().filter((p) => p.num !== this.num).map((p) => ({
        num: p.num,
        id: nodeName(p.num),
        name: this.o.link.userName?.(p.num) ?? null,
        deviceClass: p.state?.record.deviceClass ?? null,
        hops: p.hops,
        snr: p.snr,
        battery: p.state && p.state.battery !== 255 ? p.state.battery : null,
        model: p.state && p.state.record.modelId ? `${p.state.record.modelId}@${p.state.record.modelVersion}` : null,
        acceptsJobs: p.state?.record.acceptsJobs ?? null,
        lastHeardS: Math.max(0, Math.round((now - p.lastHeardMs) / 1000)),
      })).sort((a, b) => a.lastHeardS - b.lastHeardS || a.num - b.num),
      jobs: this.orchestrator.coordinator.list(),
      ota: {
        receiving: {
          state: rx.state, session: rx.session, useful: rx.stats.useful, resumed: this.resumedSymbols, needed: rx.needed,
          percent: total ? Math.round((100 * have) / total) : rx.state === 'idle' ? 0 : 100,
          reason: rx.rejectReason,
        },
        publishing: this.sender ? { ...this.sender.status } : null,
        lastPublish: this.lastPublish,
      },
    };
  }
}
