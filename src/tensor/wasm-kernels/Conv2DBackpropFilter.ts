/**
 * Conv2DBackpropFilter for wasm (missing from tfjs-backend-wasm 4.22): the gradient of conv2d with respect
 * to its filter, needed to train any convolution (and conv2dTranspose).
 *
 *   dW[i, j, c, o] = sum_{n, y, x} xpad[n, y*sh + i, x*sw + j, c] * dy[n, y, x, o]
 *
 * is itself a convolution: with the input channels as the batch and the examples as the channels,
 * xT = x transposed to [Ci, H, W, N] convolved (stride 1) with the filter dyT = dy transposed to
 * [OH, OW, N, Co], dilated by the forward stride, with the forward padding on top/left and whatever makes
 * the output exactly fh x fw on bottom/right (negative: crop the unused rows/columns of x first). The result
 * [Ci, fh, fw, Co] transposed is dW. This runs on XNNPACK's convolution, the fastest kernel wasm has.
 *
 * Measured (test/tensor/bench-wasm-kernels.ts, 2 cores) against im2col + one matMul (fh*fw strided slices
 * of the padded input concatenated into a [N*OH*OW, fh*fw*Ci] patch matrix, transposed, times dy as
 * [N*OH*OW, Co]): x 64x28x28x32, 5x5 -> 32, 'same': 111 ms (23 GFLOP/s) against 801 ms (3.2 GFLOP/s);
 * 2.3-16x faster on the other shapes tried (7x7 1->64, 3x3 s2, 14x14x64), and 1.2-1.8x the time of the
 * forward conv2d on the same shapes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { compose, TO_NHWC, type KernelArgs, type Shape4 } from './_shared.js';

export function conv2DBackpropFilter({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const channelsFirst = tf.backend_util.convertConv2DDataFormat(dataFormat) === 'channelsFirst';
  return compose(backend, (s) => {
    const xs = channelsFirst ? s.transpose(x, TO_NHWC) : x;
    const dys = channelsFirst ? s.transpose(dy, TO_NHWC) : dy;
    const info = tf.backend_util.computeConv2DInfo(
      xs.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow } = info;
    const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
    const { top, left } = info.padInfo;
    // Rows of x read by the forward conv: -top .. (oh-1)*sh + fh - 1 - top.
    const bottom = (oh - 1) * sh + fh - h - top;
    const right = (ow - 1) * sw + fw - w - left;
    const xc = s.slice(xs, [0, 0, 0, 0], [n, h + Math.min(bottom, 0), w + Math.min(right, 0), ci]);
    const xT = s.transpose(xc, [3, 1, 2, 0]); // [Ci, H', W', N]
    const dyT = s.transpose(dys, [1, 2, 0, 3]); // [OH, OW, N, Co]
    const conv = s.run('Conv2D', { x: xT, filter: dyT }, {
      strides: [1, 1],
      pad: [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]],
      dataFormat: 'NHWC',
      dilations: [sh, sw],
      dimRoundingMode: undefined,
    } as unknown as tf.NamedAttrMap); // [Ci, fh, fw, Co]
    return s.transpose(conv, [1, 2, 0, 3]);
  });
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
