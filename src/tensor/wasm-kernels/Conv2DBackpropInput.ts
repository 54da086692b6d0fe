/**
 * Conv2DBackpropInput for wasm, replacing tfjs-backend-wasm 4.22's for speed (its results are right): that
 * kernel is a plain C++ loop, not XNNPACK, and runs at 1-2.4 GFLOP/s. It is the gradient of every conv2d
 * with respect to its input and the forward pass of conv2dTranspose.
 *
 *   dx[n, h, w, c] = sum_{y, x, i, j, o} dy[n, y, x, o] * W[i, j, c, o],   h = y*sh + i - top, w = x*sw + j - left
 *
 * is the transposed convolution (Dumoulin & Visin, "A guide to convolution arithmetic for deep learning",
 * 2016, section 4): dy zero-upsampled by the stride (reshape to [N, OH, 1, OW, 1, Co], pad, reshape, crop to
 * (OH-1)*sh + 1 rows), correlated at stride 1 by XNNPACK's ordinary convolution with the spatially flipped
 * filter with its channel axes swapped ([fh, fw, Co, Ci]), padded by (fh-1-top) on top and whatever makes
 * the output exactly H high at the bottom (negative amounts: crop dy instead); likewise for the width. The
 * output size comes from the `inputShape` attribute, so every padding mode and dimRoundingMode is exact.
 *
 * Falls back to tfjs-backend-wasm's kernel for non-float32 tensors (the only case not handled here).
 * For stride s the upsampled dy is s^2 times larger, 1 - 1/s^2 of it zeros, so the convolution does s^2
 * times the useful work; still several times faster than the original loop (test/tensor/bench-wasm-kernels.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { compose, TO_NCHW, TO_NHWC, type KernelArgs, type Shape4 } from './_shared.js';

/** Builds the replacement around `original`, tfjs-backend-wasm's kernel (the fallback). */
export function makeConv2DBackpropInput(original: tf.KernelFunc | undefined): tf.KernelFunc {
  const kernel = ({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo => {
    const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    if (dy.dtype !== 'float32' || filter.dtype !== 'float32') {
      if (!original) throw new Error('neurodyn wasm kernels: Conv2DBackpropInput supports float32 only');
      return original({ inputs, attrs: attrs ?? {}, backend }) as tf.TensorInfo;
    }
    return conv2DBackpropInput({ inputs, attrs, backend });
  };
  return kernel as unknown as tf.KernelFunc;
}

export function conv2DBackpropInput({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const channelsFirst = tf.backend_util.convertConv2DDataFormat(dataFormat) === 'channelsFirst';
  return compose(backend, (s) => {
    const dys = channelsFirst ? s.transpose(dy, TO_NHWC) : dy;
    const shapeNHWC = (channelsFirst ? TO_NHWC.map((a) => inputShape[a]!) : [...inputShape]) as Shape4;
    const info = tf.backend_util.computeConv2DInfo(
      shapeNHWC, filter.shape as Shape4, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
    const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
    if (dys.shape[1] !== oh || dys.shape[2] !== ow || dys.shape[3] !== co) {
      throw new Error(`neurodyn wasm kernels: Conv2DBackpropInput: dy shape ${dy.shape} does not match the conv2d output [${n}, ${oh}, ${ow}, ${co}] of inputShape ${inputShape}`);
    }
    // dy with (stride - 1) zeros between rows and between columns: [N, (OH-1)*sh + 1, (OW-1)*sw + 1, Co].
    let up = dys;
    if (sh > 1 || sw > 1) {
      const spread = s.pad(s.reshape(dys, [n, oh, 1, ow, 1, co]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
      up = s.slice(s.reshape(spread, [n, oh * sh, ow * sw, co]), [0, 0, 0, 0], [n, (oh - 1) * sh + 1, (ow - 1) * sw + 1, co]);
    }
    const hu = up.shape[1]!, wu = up.shape[2]!;
    // Correlation of [p zeros, up, b zeros] with the flipped filter gives dx; p + hu + b - fh + 1 = H.
    const p = fh - 1 - info.padInfo.top, b = h - p - hu + fh - 1;
    const q = fw - 1 - info.padInfo.left, r = w - q - wu + fw - 1;
    const cropped = s.slice(up, [0, Math.max(-p, 0), Math.max(-q, 0), 0],
      [n, hu - Math.max(-p, 0) - Math.max(-b, 0), wu - Math.max(-q, 0) - Math.max(-r, 0), co]);
    const flipped = s.transpose(s.run('Reverse', { x: filter }, { dims: [0, 1] }), [0, 1, 3, 2]); // [fh, fw, Co, Ci]
    const conv = s.run('Conv2D', { x: cropped, filter: flipped }, {
      strides: [1, 1],
      pad: [[0, 0], [Math.max(p, 0), Math.max(b, 0)], [Math.max(q, 0), Math.max(r, 0)], [0, 0]],
      dataFormat: 'NHWC',
      dilations: [1, 1],
      dimRoundingMode: undefined,
    } as unknown as tf.NamedAttrMap); // [N, H, W, Ci]
    if (conv.shape[1] !== h || conv.shape[2] !== w || conv.shape[3] !== ci) {
      throw new Error(`neurodyn wasm kernels: Conv2DBackpropInput produced ${conv.shape}, expected [${n}, ${h}, ${w}, ${ci}]`);
    }
    return channelsFirst ? s.transpose(conv, TO_NCHW) : conv;
  });
}
