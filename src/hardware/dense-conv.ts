/**
 * Convolutions and pooling windows as dense projections [size_from, size_to] (row-major, NHWC flattening:
 * index (i·W + j)·C + c), so that a convolutional network can be described as a LayeredNetwork: what a chip
 * without weight sharing stores, and the fan-in and fan-out it must route.
 *
 * Convolution (tfjs's conv2d, a cross-correlation) of x [H, W, C] with a kernel [k, k, C, K], stride s and
 * padding (top, left) to y [H', W', K]:
 *
 *   y[p, q, f] = Σ_{di, dj, c} x[p·s + di − top, q·s + dj − left, c] · kernel[di, dj, c, f]
 *
 * so the dense matrix D has D[(i, j, c), (p, q, f)] = kernel[i − p·s + top, j − q·s + left, c, f] where both
 * offsets lie in [0, k), else 0; y = x D. The 2×2 (window × window) max-pool's selector has a 1 from each
 * position of a window to the window's unit.
 *
 * The expansion costs H·W·C·H'·W'·K floats: `DENSE_LIMIT` caps what a caller may build, and larger
 * configurations get an error naming the size instead of running out of memory.
 */
import { SpecError } from '../base/errors.js';

export interface ConvGeometry {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly kernelSize: number;
  readonly features: number;
  readonly stride: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly outHeight: number;
  readonly outWidth: number;
}

/** Largest number of entries of one dense expansion (2^26 floats, 256 MiB). */
export const DENSE_LIMIT = 2 ** 26;

/** Throws, naming `what` and its size, if a dense [rows, cols] matrix is above the limit. */
export function checkDenseSize(rows: number, cols: number, what: string): void {
  if (rows * cols > DENSE_LIMIT) {
    throw new SpecError(what, `its dense expansion would be ${rows}×${cols} = ${(rows * cols).toExponential(2)} weights, above the limit of ${DENSE_LIMIT} (the hardware network expands convolutions into dense projections; use a smaller configuration: fewer features or channels, a larger stride)`);
  }
}

/** The dense matrix [H·W·C, H'·W'·K] of a convolution with `kernel` [k, k, C, K] (row-major, as tfjs stores it). */
export function denseConvolution(kernel: Float32Array, g: ConvGeometry, what = 'convolution'): Float32Array {
  const { height: H, width: W, channels: C, kernelSize: k, features: K, stride: s } = g;
  if (kernel.length !== k * k * C * K) throw new SpecError(what, `kernel has ${kernel.length} values, expected ${k}×${k}×${C}×${K}`);
  const cols = g.outHeight * g.outWidth * K;
  checkDenseSize(H * W * C, cols, what);
  const dense = new Float32Array(H * W * C * cols);
  for (let p = 0; p < g.outHeight; p++) {
    for (let q = 0; q < g.outWidth; q++) {
      for (let di = 0; di < k; di++) {
        const i = p * s + di - g.padTop;
        if (i < 0 || i >= H) continue;
        for (let dj = 0; dj < k; dj++) {
          const j = q * s + dj - g.padLeft;
          if (j < 0 || j >= W) continue;
          for (let c = 0; c < C; c++) {
            const row = ((i * W + j) * C + c) * cols + (p * g.outWidth + q) * K;
            const from = ((di * k + dj) * C + c) * K;
            for (let f = 0; f < K; f++) dense[row + f] = kernel[from + f]!;
          }
        }
      }
    }
  }
  return dense;
}

/** The selector [H·W·C, (H/w)·(W/w)·C] of a w×w max-pool with stride w ('valid': a remainder row or column is dropped). */
export function poolSelector(height: number, width: number, channels: number, window: number, what = 'max-pool'): Float32Array {
  const outH = Math.floor(height / window);
  const outW = Math.floor(width / window);
  const cols = outH * outW * channels;
  checkDenseSize(height * width * channels, cols, what);
  const selector = new Float32Array(height * width * channels * cols);
  for (let i = 0; i < outH * window; i++) {
    for (let j = 0; j < outW * window; j++) {
      for (let c = 0; c < channels; c++) {
        const col = (Math.floor(i / window) * outW + Math.floor(j / window)) * channels + c;
        selector[((i * width + j) * channels + c) * cols + col] = 1;
      }
    }
  }
  return selector;
}

/** Wᵀ of a row-major [rows, cols] matrix. */
export function transposeDense(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c]!;
  return t;
}

/** `values` repeated once per position ([positions × values.length]): a per-channel bias at every pixel. */
export function tileDense(values: Float32Array, positions: number): Float32Array {
  const out = new Float32Array(values.length * positions);
  for (let p = 0; p < positions; p++) out.set(values, p * values.length);
  return out;
}

/** The [size, size] identity, checked against the dense-size limit like every expanded projection. */
export function identityDense(size: number, what: string): Float32Array {
  checkDenseSize(size, size, what);
  const eye = new Float32Array(size * size);
  for (let i = 0; i < size; i++) eye[i * size + i] = 1;
  return eye;
}
