import { Prng } from '@compotastic/mesh';
import { ModelProto } from '../src/onnx/schema.js';

/** Encodes a hand-written ModelProto object (field names as in onnx.proto), to craft malformed models. */
export function wireModel(obj: Record<string, unknown>): Uint8Array {
  return ModelProto.encode(obj).finish();
}

/** A minimal valid graph around one node, as a wire object. */
export function wireGraph(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'g',
    node: [{ op_type: 'Identity', input: ['x'], output: ['y'] }],
    input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 2 }] } } } }],
    output: [{ name: 'y' }],
    ...extra,
  };
}

/**
 * `pnpm fuzz` sets MODEL_FUZZ=1: the fuzz tests then run their thorough volume. `pnpm test` runs the same checks on a
 * fixed, modest number of inputs.
 */
export function volume(test: number, fuzz: number): number {
  return process.env['MODEL_FUZZ'] === '1' ? fuzz : test;
}

/** A seeded uint32 source (the project's Prng): every fuzz input is reproducible from its seed. */
export function rng(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.uint32();
}
