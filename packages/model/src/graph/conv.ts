// Convolution and max pooling over NCHW tensors (a 1-D op runs as 2-D with
// height 1). Convolution is im2col plus a matrix product: the float executor
// multiplies in float, the int8 executor packs the same columns as uint8 and
// multiplies on the kernel, so both share the geometry and the column layout.

import { type ConvOp, type FloatTensor, type MaxPoolOp, GraphShapeError } from './ir.js';

/** Batch, channels, height and width of an input, and the output's height and width. */
export interface ConvGeometry {
  batch: number;
  channels: number;
  height: number;
  width: number;
  outHeight: number;
  outWidth: number;
}

type Window = Pick<ConvOp, 'kernel' | 'strides' | 'pads'> & { dilations?: [number, number] };

/** Reads an input as NCHW (1-D inputs as height 1) and computes the output size. */
export function convGeometry(dims: readonly number[], spatialRank: 1 | 2, w: Window, op: string): ConvGeometry {
  if (dims.length !== spatialRank + 2) throw new GraphShapeError(`${op} expects a rank-${spatialRank + 2} input, got [${dims.join(', ')}]`);
  const [batch, channels] = dims as [number, number];
  const height = spatialRank === 1 ? 1 : dims[2]!, width = dims[dims.length - 1]!;
  const [kh, kw] = w.kernel, [sh, sw] = w.strides, [dh, dw] = w.dilations ?? [1, 1];
  const [pt, pl, pb, pr] = w.pads;
  const outHeight = Math.floor((height + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const outWidth = Math.floor((width + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  if (!(outHeight > 0 && outWidth > 0)) throw new GraphShapeError(`${op} window [${kh}, ${kw}] does not fit input [${dims.join(', ')}]`);
  return { batch, channels, height, width, outHeight, outWidth };
}

/** Output dims in the op's own rank. */
export function convOutputDims(g: ConvGeometry, channels: number, spatialRank: 1 | 2): number[] {
  return spatialRank === 1 ? [g.batch, channels, g.outWidth] : [g.batch, channels, g.outHeight, g.outWidth];
}

/**
 * The columns of image `n`: for every output position p (row-major), the K = C*kh*kw
 * input values under the window, padding with `pad`. Layout [P][K] when
 * `positionMajor` (the kernel's M x K operand), else [K][P].
 */
export function im2col<T extends Float32Array | Uint8Array>(
  x: T, n: number, g: ConvGeometry, op: Window, pad: number, out: T, positionMajor: boolean,
): T {
  const [kh, kw] = op.kernel, [sh, sw] = op.strides, [dh, dw] = op.dilations ?? [1, 1];
  const [pt, pl] = op.pads;
  const { channels: c, height: h, width: wd, outHeight: oh, outWidth: ow } = g;
  const k = c * kh * kw, positions = oh * ow;
  const base = n * c * h * wd;
  for (let ci = 0; ci < c; ci++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const kk = (ci * kh + ky) * kw + kx;
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - pt + ky * dh;
          const rowOk = iy >= 0 && iy < h;
          const src = base + (ci * h + iy) * wd;
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * sw - pl + kx * dw;
            const v = rowOk && ix >= 0 && ix < wd ? x[src + ix]! : pad;
            const p = oy * ow + ox;
            out[positionMajor ? p * k + kk : kk * positions + p] = v;
          }
        }
      }
    }
  }
  return out;
}

/** Float convolution: weight [cout, cin, kh, kw], optional bias [cout]. */
export function conv2d(x: FloatTensor, op: ConvOp, weight: FloatTensor, bias: FloatTensor | undefined): FloatTensor {
  const g = convGeometry(x.dims, op.spatialRank, op, 'Conv');
  const [cout, cin] = weight.dims as [number, number];
  if (cin !== g.channels) throw new GraphShapeError(`Conv weight expects ${cin} input channels, input has ${g.channels}`);
  const k = cin * op.kernel[0] * op.kernel[1], positions = g.outHeight * g.outWidth;
  const cols = new Float32Array(k * positions);
  const acc = new Float64Array(positions);
  const out = new Float32Array(g.batch * cout * positions);
  for (let n = 0; n < g.batch; n++) {
    im2col(x.data, n, g, op, 0, cols, false);
    for (let co = 0; co < cout; co++) {
      acc.fill(bias ? bias.data[co]! : 0);
      for (let kk = 0; kk < k; kk++) {
        const wv = weight.data[co * k + kk]!;
        if (wv === 0) continue;
        const row = kk * positions;
        for (let p = 0; p < positions; p++) acc[p]! += wv * cols[row + p]!;
      }
      out.set(acc, (n * cout + co) * positions);
    }
  }
  return { dims: convOutputDims(g, cout, op.spatialRank), data: out };
}

/** Max pooling; padding never wins (it counts as -Infinity). */
export function maxPool2d(x: FloatTensor, op: MaxPoolOp): FloatTensor {
  const g = convGeometry(x.dims, 2, op, 'MaxPool');
  const [kh, kw] = op.kernel, [sh, sw] = op.strides, [pt, pl] = op.pads;
  const { batch, channels, height: h, width: w, outHeight: oh, outWidth: ow } = g;
  const out = new Float32Array(batch * channels * oh * ow);
  for (let plane = 0; plane < batch * channels; plane++) {
    const src = plane * h * w, dst = plane * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let m = -Infinity;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx;
            if (ix >= 0 && ix < w) m = Math.max(m, x.data[src + iy * w + ix]!);
          }
        }
        out[dst + oy * ow + ox] = m;
      }
    }
  }
  return { dims: convOutputDims(g, channels, 2), data: out };
}
