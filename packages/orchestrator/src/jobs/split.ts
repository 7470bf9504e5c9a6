import { JobSpecError } from '../errors.js';
import { type GemmSpec, type JobSpec, gemmCols, gemmRows, inputBytes, outputBytes, outputElementBytes } from './spec.js';

/**
 * Which part of a job a shard computes. `rows`: rows of A (batch items) with all of B; `cols`: all of A with a
 * column block of B; `layers`: a layer range of a model (a pipeline stage); `whole`: the entire job.
 */
export type ShardSlice =
  | { axis: 'whole' }
  | { axis: 'rows'; start: number; end: number }
  | { axis: 'cols'; start: number; end: number }
  | { axis: 'layers'; start: number; end: number; inputBytes: number; outputBytes: number };

export function sliceSpec(spec: JobSpec, slice: ShardSlice): JobSpec {
  switch (slice.axis) {
    case 'whole':
      return spec;
    case 'rows':
      if (spec.kind === 'gemm') return gemmRows(spec, slice.start, slice.end);
      return modelBatch(spec, slice.start, slice.end);
    case 'cols':
      if (spec.kind !== 'gemm') throw new JobSpecError('BAD_SHAPE', 'only a GEMM splits by column');
      return gemmCols(spec, slice.start, slice.end);
    case 'layers':
      if (spec.kind !== 'model') throw new JobSpecError('BAD_SHAPE', 'only a model job splits by layer');
      if (slice.start < spec.layerStart || slice.end > spec.layerEnd || slice.end <= slice.start) {
        throw new JobSpecError('BAD_SHAPE', `layers [${slice.start}, ${slice.end}) are outside [${spec.layerStart}, ${spec.layerEnd})`);
      }
      return { ...spec, layerStart: slice.start, layerEnd: slice.end, inputBytes: slice.inputBytes, outputBytes: slice.outputBytes };
  }
}

function modelBatch(spec: Extract<JobSpec, { kind: 'model' }>, start: number, end: number): JobSpec {
  if (spec.inputBytes % spec.batch !== 0 || spec.outputBytes % spec.batch !== 0) {
    throw new JobSpecError('BAD_SHAPE', 'model batch does not divide its input/output sizes evenly');
  }
  if (start < 0 || end > spec.batch || end <= start) throw new JobSpecError('BAD_SHAPE', `batch range [${start}, ${end}) is outside 0..${spec.batch}`);
  const n = end - start;
  return { ...spec, batch: n, inputBytes: (spec.inputBytes / spec.batch) * n, outputBytes: (spec.outputBytes / spec.batch) * n };
}

/** The input bytes a shard needs, cut from the whole job's input. Pipeline stages after the first get theirs later. */
export function sliceInput(spec: JobSpec, input: Uint8Array, slice: ShardSlice): Uint8Array {
  if (input.length !== inputBytes(spec)) throw new JobSpecError('BAD_SHAPE', `job input has ${input.length} bytes, the spec needs ${inputBytes(spec)}`);
  switch (slice.axis) {
    case 'whole':
      return input;
    case 'layers':
      return input;
    case 'rows': {
      if (spec.kind === 'model') {
        const per = spec.inputBytes / spec.batch;
        return input.slice(slice.start * per, slice.end * per);
      }
      const aRows = input.subarray(slice.start * spec.k, slice.end * spec.k);
      if (spec.weights !== 'inline') return aRows.slice();
      const out = new Uint8Array(aRows.length + spec.k * spec.n);
      out.set(aRows, 0);
      out.set(input.subarray(spec.m * spec.k), aRows.length);
      return out;
    }
    case 'cols': {
      if (spec.kind !== 'gemm') throw new JobSpecError('BAD_SHAPE', 'only a GEMM splits by column');
      const g: GemmSpec = spec;
      const aLen = g.m * g.k;
      const width = slice.end - slice.start;
      const out = new Uint8Array(aLen + g.k * width);
      out.set(input.subarray(0, aLen), 0);
      for (let r = 0; r < g.k; r++) {
        const from = aLen + r * g.n + slice.start;
        out.set(input.subarray(from, from + width), aLen + r * width);
      }
      return out;
    }
  }
}

/** Assemble the job's output from its shards' outputs (same order as `slices`). */
export function mergeOutputs(spec: JobSpec, slices: readonly ShardSlice[], outputs: readonly Uint8Array[]): Uint8Array {
  if (slices.length !== outputs.length || slices.length === 0) throw new JobSpecError('BAD_SHAPE', 'one output per shard is needed');
  const first = slices[0] as ShardSlice;
  if (first.axis === 'whole' || first.axis === 'layers') {
    // A single shard, or a pipeline whose last stage produced the job's output.
    return outputs[outputs.length - 1] as Uint8Array;
  }
  const out = new Uint8Array(outputBytes(spec));
  if (first.axis === 'rows') {
    const perRow = spec.kind === 'gemm' ? outputBytes(spec) / spec.m : spec.outputBytes / spec.batch;
    slices.forEach((s, i) => {
      if (s.axis !== 'rows') throw new JobSpecError('BAD_SHAPE', 'shards mix split axes');
      const o = outputs[i] as Uint8Array;
      if (o.length !== (s.end - s.start) * perRow) throw new JobSpecError('BAD_SHAPE', `shard ${i} output has ${o.length} bytes, expected ${(s.end - s.start) * perRow}`);
      out.set(o, s.start * perRow);
    });
    return out;
  }
  if (spec.kind !== 'gemm') throw new JobSpecError('BAD_SHAPE', 'only a GEMM splits by column');
  const el = outputElementBytes(spec);
  slices.forEach((s, i) => {
    if (s.axis !== 'cols') throw new JobSpecError('BAD_SHAPE', 'shards mix split axes');
    const width = s.end - s.start;
    const o = outputs[i] as Uint8Array;
    if (o.length !== spec.m * width * el) throw new JobSpecError('BAD_SHAPE', `shard ${i} output has ${o.length} bytes, expected ${spec.m * width * el}`);
    for (let r = 0; r < spec.m; r++) out.set(o.subarray(r * width * el, (r + 1) * width * el), (r * spec.n + s.start) * el);
  });
  return out;
}

/** Split [0, total) into parts proportional to `weights` (largest remainder; every part gets at least one unit). */
export function proportionalRanges(total: number, weights: readonly number[]): Array<[number, number]> {
  const n = weights.length;
  if (n === 0 || n > total) throw new JobSpecError('BAD_SHAPE', `cannot split ${total} units into ${n} non-empty parts`);
  const sum = weights.reduce((a, b) => a + Math.max(0, b), 0);
  const raw = weights.map((w) => (sum > 0 ? (Math.max(0, w) / sum) * (total - n) : (total - n) / n));
  const counts = raw.map((r) => 1 + Math.floor(r));
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    counts[i] = (counts[i] as number) + 1;
    left--;
  }
  const out: Array<[number, number]> = [];
  let pos = 0;
  for (const c of counts) {
    out.push([pos, pos + c]);
    pos += c;
  }
  return out;
}
