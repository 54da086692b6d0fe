/**
 * lca_conv: convolutional LCA (lcapt form), one step:
 *   a = relu(u - 0.25); r = conv_transpose(a, Φ); e = x - r; u += (conv(e, Φ) + a - u) / 100
 * x 64×1×28×28, Φ 64×1×7×7, stride 1, 'same' padding (3). PyTorch's NCHW becomes NHWC here:
 * x [64,28,28,1], u [64,28,28,64], Φ as a tfjs conv2d filter [7,7,1,64] (HWIO, W[i,j,0,c] = Φ[c,0,i,j]).
 *
 * conv_transpose(a, Φ) with padding 3 is the adjoint of conv(·, Φ, 'same'). Two equal ways to run it:
 *  - 'transpose': tf.conv2dTranspose(a, W) (the Conv2DBackpropInput kernel);
 *  - 'flipped':   tf.conv2d(a, F, 'same') with F = W flipped in space, in/out swapped: F[i,j,c,0] = W[6-i,6-j,0,c].
 * Both are checked against a direct loop in test/bench/lca_conv.test.ts. The timed workload is neither: it
 * runs the system's own step (src/systems/lca-conv.ts), which on wasm and cpu computes both products in the
 * GEMM form, conv = im2col · Φ_m and conv_transpose = col2im(a · Φ_mᵀ) (src/tensor/patches.ts), because
 * tfjs-wasm's one-output-channel convolution and Conv2DBackpropInput are slow (2–3 and ~1 GFLOP/s).
 * test/systems/lca.test.ts checks that step against the explicit G-matrix form.
 */
import * as tf from '@tensorflow/tfjs-core';
import { lcaConv as lcaConvSystem } from '../../src/families/lca/system-conv.js';
import type { Workload } from '../types.js';
import { systemStepper } from './system-stepper.js';

export type ConvTransposeMode = 'transpose' | 'flipped';

/** Default chosen by timing both on wasm (see bench/README.md). */
export const LCA_CONV_MODE: ConvTransposeMode = 'flipped';

/** The flipped kernel for the 'flipped' mode: [kh,kw,1,C] -> [kh,kw,C,1], reversed in both spatial axes. */
export function flipKernel(w: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]));
}

/** One LCA step; returns the new u (the caller disposes the old one). Shapes: u [N,H,W,C], x [N,H,W,1]. */
export function lcaConvStep(
  u: tf.Tensor4D,
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  wFlipped: tf.Tensor4D,
  mode: ConvTransposeMode = LCA_CONV_MODE,
  lambda = 0.25,
  tau = 100,
): tf.Tensor4D {
  return tf.tidy(() => {
    const a = tf.relu(tf.sub(u, lambda)) as tf.Tensor4D;
    const r =
      mode === 'transpose'
        ? tf.conv2dTranspose(a, w, x.shape, 1, 'same')
        : tf.conv2d(a, wFlipped, 1, 'same');
    const e = tf.sub(x, r);
    const drive = tf.conv2d(e as tf.Tensor4D, w, 1, 'same');
    return tf.add(u, tf.div(tf.sub(tf.add(drive, a), u), tau)) as tf.Tensor4D;
  });
}

/**
 * The benchmark runs the system's own step (src/systems/lca-conv.ts, error form, input normalisation off so
 * that the step is exactly the definition above); `lcaConvStep` stays as the plain-ops definition the test
 * checks both against.
 */
export function makeLcaConv(): Workload {
  return {
    id: 'lca_conv',
    steps: 20,
    flopsPerStep: 2 * 2 * 64 * 28 * 28 * 64 * 49,
    setup(rng) {
      const x = tf.tidy(() => tf.transpose(rng.normal([64, 1, 28, 28]), [0, 2, 3, 1])) as tf.Tensor4D;
      // Φ [64,1,7,7] (out, in, kh, kw) -> HWIO [7,7,1,64]
      const dictionary = tf.tidy(() => tf.transpose(rng.normal([64, 1, 7, 7]), [2, 3, 1, 0])) as tf.Tensor4D;
      const system = lcaConvSystem({ inputChannels: 1, features: 64, kernelSize: 7, stride: 1, padding: 'same', lambda: 0.25, tau: 100, normalizeInput: false });
      const params = { dictionary };
      const input = { x };
      return systemStepper(system, input, params, { output: (state) => state.u, owned: [] });
    },
  };
}

export const lcaConv: Workload = makeLcaConv();
