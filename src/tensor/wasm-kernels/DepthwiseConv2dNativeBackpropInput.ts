/**
 * DepthwiseConv2dNativeBackpropInput for wasm (missing from tfjs-backend-wasm 4.22): the gradient of
 * depthwiseConv2d (and separableConv2d) with respect to its input.
 *
 *   dx[n, h, w, c] = sum_m sum_{i, j} dy[n, y, x, c*M + m] * W[i, j, c, m],   h = y*sh + i*dh - top
 *
 * is the transposed depthwise convolution: dy zero-upsampled by the stride (reshape to
 * [N, OH, 1, OW, 1, C*M], pad, reshape), correlated (stride 1, dilation dh) by XNNPACK's depthwise
 * convolution with the spatially flipped filter as [fh, fw, C*M, 1], padded by (efh-1-top) on top and
 * whatever makes the output H high at the bottom (negative: crop dy instead), then summed over M.
 */
import * as tf from '@tensorflow/tfjs-core';
import { compose, type KernelArgs, type Shape4 } from './_shared.js';

export function depthwiseConv2dNativeBackpropInput({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  return compose(backend, (s) => {
    const info = tf.backend_util.computeConv2DInfo(
      inputShape, filter.shape as Shape4, strides, dilations ?? [1, 1], pad, dimRoundingMode, true);
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
    const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
    const { effectiveFilterHeight: efh, effectiveFilterWidth: efw, filterHeight: fh, filterWidth: fw } = info;
    const m = filter.shape[3]!;
    const cm = c * m;
    // dy with (stride - 1) zeros between rows and between columns: [N, (OH-1)*sh + 1, (OW-1)*sw + 1, C*M].
    let up = dy;
    if (sh > 1 || sw > 1) {
      const spread = s.pad(s.reshape(dy, [n, oh, 1, ow, 1, cm]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
      up = s.slice(s.reshape(spread, [n, oh * sh, ow * sw, cm]), [0, 0, 0, 0], [n, (oh - 1) * sh + 1, (ow - 1) * sw + 1, cm]);
    }
    const hu = up.shape[1]!, wu = up.shape[2]!;
    // Correlation of [P zeros, up, B zeros] with the flipped filter gives dx; P + hu + B - efh + 1 = H.
    const p = efh - 1 - info.padInfo.top, b = h - p - hu + efh - 1;
    const q = efw - 1 - info.padInfo.left, r = w - q - wu + efw - 1;
    const cropped = s.slice(up, [0, Math.max(-p, 0), Math.max(-q, 0), 0],
      [n, hu - Math.max(-p, 0) - Math.max(-b, 0), wu - Math.max(-q, 0) - Math.max(-r, 0), cm]);
    const flipped = s.reshape(s.run('Reverse', { x: filter }, { dims: [0, 1] }), [fh, fw, cm, 1]);
    const conv = s.run('DepthwiseConv2dNative', { x: cropped, filter: flipped }, {
      strides: [1, 1],
      pad: [[0, 0], [Math.max(p, 0), Math.max(b, 0)], [Math.max(q, 0), Math.max(r, 0)], [0, 0]],
      dilations: [dh, dw],
      dimRoundingMode: undefined,
      dataFormat: 'NHWC',
    } as unknown as tf.NamedAttrMap); // [N, H, W, C*M]
    return m === 1 ? conv : s.sum(s.reshape(conv, [n, h, w, c, m]), [4]);
  });
}

export const depthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as tf.KernelFunc,
};
