/**
 * Conv2DBackpropInput for wasm, replacing tfjs-backend-wasm 4.22's for speed (its results are right): that
 * kernel is a plain C++ loop, not XNNPACK, and runs at 1-3 GFLOP/s. It is the gradient of every conv2d
 * with respect to its input and the forward pass of conv2dTranspose.
 *
 *   dx[n, h, w, c] = sum_{y, x, i, j, o} dy[n, y, x, o] * W[i, j, c, o],   h = y*sh + i - top, w = x*sw + j - left
 *
 * is the transposed convolution (Dumoulin & Visin, "A guide to convolution arithmetic for deep learning",
 * 2016, section 4). Three forms, each running its multiplications in XNNPACK (see strategyFor for which):
 *  - flipped conv (stride 1): an ordinary convolution of dy, padded by fh-1-top on top, with the spatially
 *    flipped filter with its channel axes swapped ([fh, fw, Co, Ci]);
 *  - stride phases (stride > 1): for each of the sh*sw output phases, a flipped conv with the sub-filter of
 *    the taps that reach that phase, outputs interleaved; no multiplication by the zeros a zero-upsampled
 *    dy would have (sh*sw times the work);
 *  - columns (the GEMM form): col2im(dy_m · W_mᵀ), one matrix product and a scatter-add; fastest when dx has
 *    few channels, where XNNPACK's convolution is slow.
 * The output size comes from the `inputShape` attribute, so 'same', 'valid', explicit and numeric padding
 * and every dimRoundingMode are exact. NCHW is transposed to NHWC and back.
 *
 * Falls back to tfjs-backend-wasm's kernel for non-float32 tensors, the one case not handled here.
 * Measured: test/tensor/bench-wasm-kernels.ts (numbers in the commit that added this file).
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerPatchKernels, type PatchGeometry } from '../patches.js';
import { compose, TO_NCHW, TO_NHWC, type KernelArgs, type KernelScope, type Shape4 } from './_shared.js';

/** src/tensor/patches.ts's col2im kernel (registered by registerPatchKernels). */
const COL2IM_KERNEL = 'NeurodynCol2Im';

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

/** The three ways this kernel computes dx; `strategyFor` picks one, tests and benchmarks may force one. */
export type Conv2DBackpropInputForm = 'columns' | 'stride-phases' | 'flipped-conv';

export function conv2DBackpropInput({ inputs, attrs, backend }: KernelArgs, form?: Conv2DBackpropInputForm): tf.TensorInfo {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const channelsFirst = tf.backend_util.convertConv2DDataFormat(dataFormat) === 'channelsFirst';
  return compose(backend, (s) => {
    const dys = channelsFirst ? s.transpose(dy, TO_NHWC) : dy;
    const shapeNHWC = (channelsFirst ? TO_NHWC.map((a) => inputShape[a]!) : [...inputShape]) as Shape4;
    const info = tf.backend_util.computeConv2DInfo(
      shapeNHWC, filter.shape as Shape4, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
    if (dys.shape[1] !== oh || dys.shape[2] !== ow || dys.shape[3] !== co) {
      throw new Error(`neurodyn wasm kernels: Conv2DBackpropInput: dy shape ${dy.shape} does not match the conv2d output [${n}, ${oh}, ${ow}, ${co}] of inputShape ${inputShape}`);
    }
    const dx = (form ? forced(form, info) : strategyFor(info))(s, dys, filter, info);
    if (dx.shape[1] !== h || dx.shape[2] !== w || dx.shape[3] !== ci) {
      throw new Error(`neurodyn wasm kernels: Conv2DBackpropInput produced ${dx.shape}, expected [${n}, ${h}, ${w}, ${ci}]`);
    }
    return channelsFirst ? s.transpose(dx, TO_NCHW) : dx;
  });
}

type Strategy = (s: KernelScope, dy: tf.TensorInfo, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo) => tf.TensorInfo;

/** Largest column matrix (floats) the GEMM form may allocate: 16 Mi floats, 64 MiB. */
const MAX_COLUMN_FLOATS = 16 * 1024 * 1024;

/**
 * Chosen by timing the three forms on wasm (test/tensor/bench-wasm-kernels.ts): XNNPACK's convolution is
 * fast when dx has many channels, slow with few (3 GFLOP/s with one, as in a dictionary of single-channel
 * atoms); there, for strides above 1 (whose phases are several small convolutions) and when dx is much
 * larger than dy ('valid' padding on small images: the flipped conv multiplies the zero border), the GEMM
 * form is faster unless its column matrix grows too large.
 */
function strategyFor(info: tf.backend_util.Conv2DInfo): Strategy {
  const strided = info.strideHeight > 1 || info.strideWidth > 1;
  const square = info.filterHeight === info.filterWidth && info.strideHeight === info.strideWidth;
  const columnFloats = info.batchSize * info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * info.inChannels;
  const paddingWaste = (info.inHeight * info.inWidth) / (info.outHeight * info.outWidth);
  const columnsFaster = strided || info.inChannels <= 4 || paddingWaste > 1.5;
  if (square && columnsFaster && columnFloats <= MAX_COLUMN_FLOATS) return byColumns;
  return strided ? byStridePhases : byFlippedConv;
}

function forced(form: Conv2DBackpropInputForm, info: tf.backend_util.Conv2DInfo): Strategy {
  if (form === 'columns' && (info.filterHeight !== info.filterWidth || info.strideHeight !== info.strideWidth)) {
    throw new Error('neurodyn wasm kernels: Conv2DBackpropInput form \'columns\' needs a square filter and equal strides');
  }
  if (form === 'flipped-conv' && (info.strideHeight > 1 || info.strideWidth > 1)) {
    throw new Error('neurodyn wasm kernels: Conv2DBackpropInput form \'flipped-conv\' needs stride 1');
  }
  return { columns: byColumns, 'stride-phases': byStridePhases, 'flipped-conv': byFlippedConv }[form];
}

/**
 * The GEMM form (as in src/tensor/patches.ts): dx = col2im(dy_m · W_mᵀ), with dy_m = dy as [N*OH*OW, Co]
 * and W_m = W as [fh*fw*Ci, Co]; row (n, y, x) of the product is the fh x fw x Ci patch that output
 * position adds back into dx at rows y*sh - top .., columns x*sw - left ... All multiplications are in one
 * XNNPACK matrix product; col2im is a plain loop over the column matrix.
 */
const byColumns: Strategy = (s, dy, filter, info) => {
  registerPatchKernels();
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: k, strideHeight: stride } = info;
  const product = s.run('BatchMatMul', { a: s.reshape(dy, [1, n * oh * ow, co]), b: s.reshape(filter, [1, k * k * ci, co]) },
    { transposeA: false, transposeB: true });
  const geometry: PatchGeometry = { height: h, width: w, channels: ci, kernelSize: k, stride, padTop: info.padInfo.top, padLeft: info.padInfo.left, outHeight: oh, outWidth: ow };
  return s.run(COL2IM_KERNEL, { x: s.reshape(product, [n, oh, ow, k * k * ci]) }, { ...geometry } as unknown as tf.NamedAttrMap);
};

/**
 * dx = correlation (stride 1) of dy, zero-upsampled by `up` (1 or the stride), with the flipped filter with
 * its channel axes swapped, `up` times the row spacing; the output rows are u = 0 .. outRows-1 where u is the
 * padded-input row h + top - offset. With up = 1 this is the whole stride-1 backprop; with up = stride it is
 * the stride-1 transposed convolution that one stride phase needs.
 */
function flippedConv(s: KernelScope, dy: tf.TensorInfo, filter: tf.TensorInfo, rowsBefore: number, colsBefore: number,
  outRows: number, outCols: number): tf.TensorInfo {
  const [n, dh, dw, co] = dy.shape as Shape4;
  const [fh, fw] = filter.shape as Shape4;
  // Correlation of [p zeros, dy, b zeros] with the flipped filter: p + dh + b - fh + 1 = outRows.
  const p = rowsBefore, b = outRows - p - dh + fh - 1;
  const q = colsBefore, r = outCols - q - dw + fw - 1;
  const cropped = s.slice(dy, [0, Math.max(-p, 0), Math.max(-q, 0), 0],
    [n, dh - Math.max(-p, 0) - Math.max(-b, 0), dw - Math.max(-q, 0) - Math.max(-r, 0), co]);
  const flipped = s.transpose(s.run('Reverse', { x: filter }, { dims: [0, 1] }), [0, 1, 3, 2]); // [fh, fw, Co, Ci]
  return s.run('Conv2D', { x: cropped, filter: flipped }, {
    strides: [1, 1],
    pad: [[0, 0], [Math.max(p, 0), Math.max(b, 0)], [Math.max(q, 0), Math.max(r, 0)], [0, 0]],
    dataFormat: 'NHWC',
    dilations: [1, 1],
    dimRoundingMode: undefined,
  } as unknown as tf.NamedAttrMap);
}

/** Stride 1: dx[h] = sum_i dy[h + top - i] W[i], a correlation of dy padded by fh-1-top with the flipped filter. */
const byFlippedConv: Strategy = (s, dy, filter, info) =>
  flippedConv(s, dy, filter, info.filterHeight - 1 - info.padInfo.top, info.filterWidth - 1 - info.padInfo.left,
    info.inHeight, info.inWidth);

/**
 * Stride sh > 1, by stride phases: with u = h + top = a*sh + ph, only taps i = ph + sh*t reach row u, from
 * dy row a - t, so dx at phase (ph, pw) is the stride-1 transposed convolution of dy with the sub-filter
 * W[ph::sh, pw::sw]: Z[a] = sum_t dy[a - t] W[ph + sh*t], a = 0 .. ceil((H + top)/sh) - 1. The sh*sw phase
 * outputs are interleaved (concat on new axes, reshape) and cropped to rows top .. top + H - 1. Each
 * convolution does only the useful multiplications, against sh*sw times as many on a zero-upsampled dy.
 */
const byStridePhases: Strategy = (s, dy, filter, info) => {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, strideHeight: sh, strideWidth: sw } = info;
  const { filterHeight: fh, filterWidth: fw, outChannels: co } = info;
  const { top, left } = info.padInfo;
  const rows = Math.ceil((h + top) / sh), cols = Math.ceil((w + left) / sw);
  const rowPhases: tf.TensorInfo[] = [];
  for (let ph = 0; ph < sh; ph++) {
    const colPhases: tf.TensorInfo[] = [];
    for (let pw = 0; pw < sw; pw++) {
      const th = Math.ceil((fh - ph) / sh), tw = Math.ceil((fw - pw) / sw); // taps in this phase
      let z: tf.TensorInfo;
      if (th <= 0 || tw <= 0) {
        z = s.alloc([n, rows, 1, cols, 1, ci], 'float32', new Float32Array(n * rows * cols * ci));
      } else {
        const sub = s.run('StridedSlice', { x: filter }, {
          begin: [ph, pw, 0, 0], end: [fh, fw, ci, co], strides: [sh, sw, 1, 1],
          beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
        }); // [th, tw, Ci, Co]
        z = s.reshape(flippedConv(s, dy, sub, th - 1, tw - 1, rows, cols), [n, rows, 1, cols, 1, ci]);
      }
      colPhases.push(z);
    }
    rowPhases.push(sw === 1 ? colPhases[0]! : s.run('Concat', colPhases as unknown as tf.NamedTensorInfoMap, { axis: 4 }));
  }
  const all = sh === 1 ? rowPhases[0]! : s.run('Concat', rowPhases as unknown as tf.NamedTensorInfoMap, { axis: 2 });
  return s.slice(s.reshape(all, [n, rows * sh, cols * sw, ci]), [0, top, left, 0], [n, h, w, ci]);
};
