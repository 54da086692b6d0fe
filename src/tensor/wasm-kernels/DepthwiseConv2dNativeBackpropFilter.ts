/**
 * DepthwiseConv2dNativeBackpropFilter for wasm (missing from tfjs-backend-wasm 4.22): the gradient of
 * depthwiseConv2d (and separableConv2d) with respect to its filter [fh, fw, C, M].
 *
 *   dW[i, j, c, m] = sum_{n, y, x} xpad[n, y*sh + i*dh, x*sw + j*dw, c] * dy[n, y, x, c*M + m]
 *
 * is a depthwise convolution with the (channel, example) pairs as channels: x transposed to [1, H, W, C*N]
 * convolved (stride 1, dilated by the forward stride) with dy transposed to the depthwise filter
 * [OH, OW, C*N, M], explicit padding as in Conv2DBackpropFilter; the output [1, fh', fw', C*N*M] summed over
 * N is dW (fh' = effective filter height; with a forward dilation the result is sampled every dh rows).
 * Runs on XNNPACK's depthwise convolution. Measured (test/tensor/bench-wasm-kernels.ts) against a per-tap
 * strided-slice * dy summed over (n, y, x): x 64x28x28x32, 3x3 x1: 53 ms against 212 ms; 5x5 x2 stride 2:
 * 123 ms against 3.4 s. Still about 20x the forward depthwise conv (XNNPACK has no fast path for a
 * 28x28 dilated depthwise kernel), which is acceptable where depthwise layers are rare.
 */
import * as tf from '@tensorflow/tfjs-core';
import { compose, type KernelArgs, type Shape4 } from './_shared.js';

export function depthwiseConv2dNativeBackpropFilter({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  return compose(backend, (s) => {
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as Shape4, filterShape, strides, dilations ?? [1, 1], pad, dimRoundingMode, true);
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
    const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
    const { effectiveFilterHeight: efh, effectiveFilterWidth: efw, filterHeight: fh, filterWidth: fw } = info;
    const m = filterShape[3];
    const { top, left } = info.padInfo;
    const bottom = (oh - 1) * sh + efh - h - top;
    const right = (ow - 1) * sw + efw - w - left;
    const xc = s.slice(x, [0, 0, 0, 0], [n, h + Math.min(bottom, 0), w + Math.min(right, 0), c]);
    const hc = xc.shape[1]!, wc = xc.shape[2]!;
    const xT = s.reshape(s.transpose(xc, [1, 2, 3, 0]), [1, hc, wc, c * n]); // channel index c*N + n
    const dyT = s.reshape(s.transpose(s.reshape(dy, [n, oh, ow, c, m]), [1, 2, 3, 0, 4]), [oh, ow, c * n, m]);
    const conv = s.run('DepthwiseConv2dNative', { x: xT, filter: dyT }, {
      strides: [1, 1],
      pad: [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]],
      dilations: [sh, sw],
      dimRoundingMode: undefined,
      dataFormat: 'NHWC',
    } as unknown as tf.NamedAttrMap); // [1, efh, efw, C*N*M], channel index (c*N + n)*M + m
    const sampled = dh === 1 && dw === 1 ? conv : s.run('StridedSlice', { x: conv }, {
      begin: [0, 0, 0, 0], end: [1, efh, efw, c * n * m], strides: [1, dh, dw, 1],
      beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
    });
    const perExample = s.reshape(sampled, [fh, fw, c, n, m]);
    return n === 1 ? s.reshape(perExample, [fh, fw, c, m]) : s.sum(perExample, [3]);
  });
}

export const depthwiseConv2dNativeBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as tf.KernelFunc,
};
