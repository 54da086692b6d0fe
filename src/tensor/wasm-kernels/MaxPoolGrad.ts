/**
 * MaxPoolGrad for wasm, replacing tfjs-backend-wasm 4.22's, which is wrong: it seeds the running maximum
 * with `std::numeric_limits<float>::min()` (the smallest positive float, not the lowest), so a window whose
 * values are all <= 0 routes its gradient to flat offset 0 instead of its maximum, and on ties it picks the
 * last maximum where the cpu backend (and TensorFlow) pick the first. Any max-pool over signed
 * activations (before a ReLU, tanh units, LCA codes) got wrong gradients on wasm.
 *
 * A plain JS loop over the wasm heap, by design: a composition from wasm kernels needs one strided slice,
 * comparison and scatter per filter tap to keep first-max tie-breaking, which costs more than this one pass
 * (N*OH*OW*C*fh*fw reads, channels innermost so every read is contiguous, no copies). Measured
 * (test/tensor/bench-wasm-kernels.ts), x 64x28x28x32, 2x2 stride 2: 15 ms, against 32 ms for tfjs-wasm's
 * (wrong) C++ kernel and 291 ms for the cpu backend's reference kernel on copies.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelArgs, Shape4, WasmBackend } from './_shared.js';

export function maxPoolGrad({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
  const wasm = backend as WasmBackend;
  const info = tf.backend_util.computePool2DInfo(input.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const out = wasm.makeOutput(input.shape.slice(), 'float32');
  // Views after the allocation: growing the wasm memory detaches earlier views.
  const dx = wasm.typedArrayFromHeap(out) as Float32Array;
  const x = wasm.typedArrayFromHeap(input) as Float32Array;
  const g = wasm.typedArrayFromHeap(dy) as Float32Array;
  dx.fill(0);
  const best = new Float32Array(c);
  const where = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - top;
      const yLo = Math.max(0, y0), yHi = Math.min(h, y0 + fh);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - left;
        const xLo = Math.max(0, x0), xHi = Math.min(w, x0 + fw);
        best.fill(Number.NEGATIVE_INFINITY);
        where.fill(-1);
        for (let yy = yLo; yy < yHi; yy++) {
          for (let xx = xLo; xx < xHi; xx++) {
            const base = ((b * h + yy) * w + xx) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = x[base + ch]!;
              if (v > best[ch]!) { best[ch] = v; where[ch] = base + ch; }
            }
          }
        }
        const gBase = ((b * oh + oy) * ow + ox) * c;
        for (let ch = 0; ch < c; ch++) {
          const at = where[ch]!;
          if (at >= 0) dx[at] = dx[at]! + g[gBase + ch]!;
        }
      }
    }
  }
  return out;
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
};
