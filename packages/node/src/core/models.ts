// An int8 model as the swarm sees it: its versions, which node has which
// installed, and the layer-range runner the orchestrator calls on a node
// (activations cross the mesh in the model package's wire form).

import type { Kernel } from '@compotastic/kernel';
import { matmulInteger, quantizeLinear } from '@compotastic/kernel/reference';
import {
  type ActivationLayout, type Int8Model, type TensorMap, Int8Executor, activationBytes, activationLayout, decodeActivations, encodeActivations,
  runFloatOp,
} from '@compotastic/model';
import { type Executor, type ModelLayerRunner, type ModelLayersSpec, ModelLayerExecutor } from '@compotastic/orchestrator';
import type { ModelProfile } from '@compotastic/orchestrator';

/** The vibration-event model's id in capability records and job specs (the swarm workload's GEMM weights use 1). */
export const VIBRATION_MODEL_ID = 2;
/** Its name in over-the-air releases (the bundle manifest's modelId). */
export const VIBRATION_MODEL_NAME = 'vibration-mlp';

/** Models the compute layer knows by number: capability records carry a number, bundles a name. */
const MODEL_NUMBERS = new Map<string, number>([[VIBRATION_MODEL_NAME, VIBRATION_MODEL_ID]]);

/** The number a model advertises under, or 0 (advertised as no model) for a name the layer has no number for. */
export function modelNumber(name: string): number {
  return MODEL_NUMBERS.get(name) ?? 0;
}

/** Width of a model's first input row, from the first linear layer (the only input shape int8 models take). */
export function inputWidthOf(model: Int8Model): number {
  const first = [...model.linears.entries()].sort((a, b) => a[0] - b[0])[0];
  if (!first) throw new Error(`model ${model.name} has no linear layer`);
  return first[1].k;
}

export interface ModelVersion {
  version: number;
  model: Int8Model;
  exec: Int8Executor;
  /** Elements per row of every value the model produces or takes. */
  widths: Map<string, number>;
  profile: ModelProfile;
}

export class ModelLibrary {
  private readonly versions = new Map<number, ModelVersion>();
  private readonly installed = new Map<number, Set<number>>();

  constructor(private readonly kernel: Kernel, readonly modelId: number = VIBRATION_MODEL_ID) {}

  /** Registers an int8 version (weights packed once, shared by every node that installs it). */
  add(version: number, model: Int8Model, inputWidth: number): ModelVersion {
    const exec = Int8Executor.create(this.kernel, model);
    // One dry run on a zero row tells every value's width.
    const values = exec.run(new Map(model.inputs.map((i) => [i.name, { dims: [1, inputWidth], data: new Float32Array(inputWidth) }] as const)));
    const widths = new Map([...values].map(([name, t]) => [name, t.data.length] as const));
    const layout = (at: number) => activationLayout(exec, at, (name) => widths.get(name) ?? 0);
    const profile: ModelProfile = {
      modelId: this.modelId,
      modelVersion: version,
      inputBytesPerItem: activationBytes(layout(0), 1),
      layers: model.ops.map((op, i) => {
        const linear = model.linears.get(i);
        return {
          ops: linear ? 2 * linear.k * linear.n : 8 * (widths.get(op.output) ?? 1),
          weightBytes: linear ? linear.k * linear.n + 8 * linear.n : 0,
          outputBytesPerItem: activationBytes(layout(i + 1), 1),
        };
      }),
    };
    const v: ModelVersion = { version, model, exec, widths, profile };
    this.versions.set(version, v);
    return v;
  }

  get(version: number): ModelVersion | undefined {
    return this.versions.get(version);
  }

  get latest(): ModelVersion | undefined {
    return [...this.versions.values()].sort((a, b) => b.version - a.version)[0];
  }

  install(node: number, version: number): void {
    if (!this.versions.has(version)) throw new Error(`model version ${version} is unknown`);
    let set = this.installed.get(node);
    if (!set) this.installed.set(node, (set = new Set()));
    set.add(version);
  }

  /** The newest version installed on a node, or null. */
  installedVersion(node: number): number | null {
    const set = this.installed.get(node);
    return set && set.size ? Math.max(...set) : null;
  }

  layout(version: number, at: number): ActivationLayout[] {
    const v = this.mustGet(version);
    return activationLayout(v.exec, at, (name) => v.widths.get(name) ?? 0);
  }

  /** A job running layers [start, end) of a version on `batch` rows. */
  spec(version: number, batch = 1, start = 0, end?: number): ModelLayersSpec {
    const v = this.mustGet(version);
    const stop = end ?? v.exec.layerCount;
    return {
      kind: 'model', modelId: this.modelId, modelVersion: version, layerStart: start, layerEnd: stop, batch,
      inputBytes: activationBytes(this.layout(version, start), batch), outputBytes: activationBytes(this.layout(version, stop), batch),
    };
  }

  /** Serializes float inputs (rows of the model's input) for a job starting at layer 0. */
  encodeInput(version: number, rows: Float32Array, batch: number): Uint8Array {
    const input = this.mustGet(version).model.inputs[0]!.name;
    return encodeActivations(this.layout(version, 0), new Map([[input, { dims: [batch, rows.length / batch], data: rows }]]), batch);
  }

  /** Decodes a finished job's output bytes into the model's output values. */
  decodeOutput(version: number, bytes: Uint8Array, batch: number): Float32Array {
    const v = this.mustGet(version);
    const values = decodeActivations(this.layout(version, v.exec.layerCount), bytes, batch);
    return values.get(v.model.outputs[0]!)!.data;
  }

  profileOf = (modelId: number, version: number): ModelProfile | undefined =>
    modelId === this.modelId ? this.versions.get(version)?.profile : undefined;

  private mustGet(version: number): ModelVersion {
    const v = this.versions.get(version);
    if (!v) throw new Error(`model version ${version} is unknown`);
    return v;
  }

  private run(version: number, start: number, end: number, batch: number, input: Uint8Array): Uint8Array {
    const v = this.mustGet(version);
    const values = v.exec.run(decodeActivations(this.layout(version, start), input, batch), { from: start, to: end });
    return encodeActivations(this.layout(version, end), values, batch);
  }

  /** As run, but on the plain-TS reference arithmetic (see referenceLayers). */
  private runReference(version: number, start: number, end: number, batch: number, input: Uint8Array): Uint8Array {
    const v = this.mustGet(version);
    const values = referenceLayers(v.model, decodeActivations(this.layout(version, start), input, batch), start, end);
    return encodeActivations(this.layout(version, end), values, batch);
  }

  /** What a node's orchestrator calls to run layer ranges of the models installed there. */
  runnerFor(node: number): ModelLayerRunner {
    return {
      has: (id, version) => id === this.modelId && (this.installed.get(node)?.has(version) ?? false),
      runLayers: async (_id, version, start, end, batch, input) => this.run(version, start, end, batch, input),
    };
  }

  /**
   * Runs any known version on the plain-TS reference: what finished jobs are checked against. Not the Wasm kernel the
   * nodes run, so a match shows the arithmetic is right, not only that the bytes crossed the mesh intact.
   */
  reference(): Executor {
    return new ModelLayerExecutor({
      has: (id, version) => id === this.modelId && this.versions.has(version),
      runLayers: async (_id, version, start, end, batch, input) => this.runReference(version, start, end, batch, input),
    });
  }

  dispose(): void {
    for (const v of this.versions.values()) v.exec.dispose();
    this.versions.clear();
  }
}

/**
 * Ops [from, to) of an int8 model with the kernel package's plain-TS reference for the integer steps (uint8
 * quantization of a linear layer's input, the int8 matrix product) and the model package's float ops for the rest:
 * the semantics Int8Executor implements on the Wasm kernel, restated as the oracle.
 */
export function referenceLayers(model: Int8Model, inputs: TensorMap, from: number, to: number): TensorMap {
  const values: TensorMap = new Map(inputs);
  for (let i = from; i < to; i++) {
    const op = model.ops[i]!;
    const l = model.linears.get(i);
    if (op.kind !== 'linear' || !l) {
      runFloatOp(op, values, model.constants);
      continue;
    }
    const x = values.get(op.input);
    if (!x) throw new Error(`value '${op.input}' is not available at layer ${i}`);
    const rows = x.data.length / l.k;
    const q = quantizeLinear(x.data, [l.inputScale], [l.inputZeroPoint], 'uint8', { axisLen: 1, inner: 1, mode: 'tensor' });
    const acc = matmulInteger(q, l.weights, rows, l.k, l.n, [l.inputZeroPoint], [0]);
    const out = new Float32Array(rows * l.n);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < l.n; c++) out[r * l.n + c] = (acc[r * l.n + c]! + l.bias[c]!) * Math.fround(l.inputScale * l.weightScales[c]!);
    }
    values.set(op.output, { dims: [...x.dims.slice(0, -1), l.n], data: out });
  }
  return values;
}
