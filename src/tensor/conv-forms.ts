/**
 * Convolutions for the systems, in the form that is fastest on the active backend. This is the one place
 * that chooses; systems call `convolve` and `convolveTransposed` and never look at the backend.
 *
 *   direct: tf.conv2d and tf.conv2dTranspose, i.e. the backend's Conv2D and Conv2DBackpropInput kernels.
 *           Chosen where the native kernels are active (oneDNN's direct convolutions, src/tensor/native/),
 *           and on backends without the patch kernels (tensorflow, webgpu), whose own kernels are good.
 *   gemm:   im2col(x) · W_m and col2im(dy · W_mᵀ) with W_m the filter reshaped [k·k·C, K] (./patches.ts),
 *           so that all the arithmetic is one matrix product. Chosen on plain wasm and on cpu: tfjs-wasm's
 *           own transposed convolution is a plain loop at 1–2.4 GFLOP/s and its convolution with few output
 *           channels is slow in XNNPACK, while its matrix product is its one fast kernel.
 *
 * Both forms compute the same thing: convolve = conv2d(x, W, stride, symmetric zero padding `pad`), and
 * convolveTransposed its adjoint with respect to x (tests check both forms against each other).
 */
import * as tf from '@tensorflow/tfjs-core';
import { nativeKernelsActive } from './native/register.js';
import { col2im, im2col, patchKernelsAvailable, type PatchGeometry } from './patches.js';

export type ConvForm = 'direct' | 'gemm';

/** The form `convolve` and `convolveTransposed` use on the active backend now. */
export function convForm(): ConvForm {
  if (nativeKernelsActive()) return 'direct';
  return patchKernelsAvailable() ? 'gemm' : 'direct';
}

/** A square kernel's convolution: `stride` in both directions, `pad` zeros on every side (0 = 'valid'). */
export interface ConvShape {
  readonly stride: number;
  readonly pad: number;
}

type Shape4 = [number, number, number, number];

function explicitPadding(pad: number): 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
  return pad === 0 ? 'valid' : [[0, 0], [pad, pad], [pad, pad], [0, 0]];
}

function geometry(input: readonly number[], kernelSize: number, { stride, pad }: ConvShape): PatchGeometry {
  const [, height, width, channels] = input as Shape4;
  const out = (size: number) => Math.floor((size + 2 * pad - kernelSize) / stride) + 1;
  return { height, width, channels, kernelSize, stride, padTop: pad, padLeft: pad, outHeight: out(height), outWidth: out(width) };
}

/**
 * conv(x, filter): x [B, H, W, C], filter [k, k, C, K] → [B, H', W', K]. `prefer: 'direct'` keeps the
 * backend's own convolution on plain wasm too, for a caller whose shapes XNNPACK's convolution serves well
 * (LCA's drive: measured 2.5× faster than im2col + matMul at stride 2, K = 16, and within ±15% at stride 1,
 * K = 64, where the im2col copy is not amortised).
 */
export function convolve(x: tf.Tensor, filter: tf.Tensor, shape: ConvShape, prefer?: ConvForm): tf.Tensor4D {
  if (prefer === 'direct' || convForm() === 'direct') return tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, shape.stride, explicitPadding(shape.pad));
  const [k, , c, features] = filter.shape as Shape4;
  const g = geometry(x.shape, k, shape);
  const columns = tf.reshape(im2col(x as tf.Tensor4D, g), [-1, k * k * c]);
  const product = tf.matMul(columns, tf.reshape(filter, [k * k * c, features]));
  return tf.reshape(product, [x.shape[0]!, g.outHeight, g.outWidth, features]);
}

/** The adjoint of `convolve` with respect to x: dy [B, H', W', K] → [B, H, W, C] for x of `inputShape`. */
export function convolveTransposed(dy: tf.Tensor, filter: tf.Tensor, inputShape: readonly number[], shape: ConvShape): tf.Tensor4D {
  if (convForm() === 'direct') {
    return tf.conv2dTranspose(dy as tf.Tensor4D, filter as tf.Tensor4D, [...inputShape] as Shape4, shape.stride, explicitPadding(shape.pad));
  }
  const [k, , c, features] = filter.shape as Shape4;
  const g = geometry(inputShape, k, shape);
  const columns = tf.matMul(tf.reshape(dy, [-1, features]), tf.reshape(filter, [k * k * c, features]), false, true);
  return col2im(tf.reshape(columns, [dy.shape[0]!, g.outHeight, g.outWidth, k * k * c]), g);
}
