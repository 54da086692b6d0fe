/**
 * ep_conv: one EP step of the MNIST conv net (Laborieux P_CNN): s ← ρ(∂Φ/∂s) with
 *   Φ = Σ s₁·pool(conv(x,W₁)) + s₂·pool(conv(s₁,W₂)) + s₃·(W₃ flat(s₂)),
 * 5×5 valid convolutions with 32 and 64 channels, 2×2 max-pool, fc 10; batch 64, x 64×1×28×28.
 * NHWC here: s₁ [64,12,12,32], s₂ [64,4,4,64], s₃ [64,10]. torch flattens s₂ in (c,h,w) order; W₃'s
 * columns are permuted once to (h,w,c) order so that the product is the same computation.
 * The step is the `equilibrium-prop-conv` system's (src/systems/equilibrium-prop-conv.ts); `epConvPhi` is the
 * workload's Φ written directly, which the tests use as the reference.
 */
import * as tf from '@tensorflow/tfjs-core';
import { equilibriumPropConv } from '../../src/families/equilibrium-prop/system-conv.js';
import type { EpParams } from '../../src/families/equilibrium-prop/system.js';
import type { Workload } from '../types.js';
import { systemStepper } from './system-stepper.js';

/** Kernels the gradient needs; a backend without them skips the workload with this message. */
export const EP_CONV_KERNELS = ['Conv2D', 'MaxPool', 'Conv2DBackpropInput', 'StridedSlice', 'Pack', 'BatchMatMul'];

export interface EpConvNet {
  x: tf.Tensor4D; // [B,28,28,1]
  W1: tf.Tensor4D; // [5,5,1,32]
  W2: tf.Tensor4D; // [5,5,32,64]
  Wf: tf.Tensor2D; // [1024,10], rows in (h,w,c) order
}

/**
 * The net from torch-layout weights: Wc1 [32,1,5,5], Wc2 [64,32,5,5], Wf [10,1024] ((c,h,w) columns),
 * x [B,1,28,28]. Takes ownership of nothing; the caller disposes its inputs.
 */
export function epConvNetFromTorchLayout(x: tf.Tensor, Wc1: tf.Tensor, Wc2: tf.Tensor, Wf: tf.Tensor): EpConvNet {
  return tf.tidy(() => ({
    x: tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D,
    W1: tf.transpose(Wc1, [2, 3, 1, 0]) as tf.Tensor4D,
    W2: tf.transpose(Wc2, [2, 3, 1, 0]) as tf.Tensor4D,
    Wf: tf.reshape(tf.transpose(tf.reshape(Wf, [10, 64, 4, 4]), [2, 3, 1, 0]), [1024, 10]) as tf.Tensor2D,
  }));
}

/** Φ of the P_CNN for states s1 [B,12,12,32], s2 [B,4,4,64], s3 [B,10]. */
export function epConvPhi(net: EpConvNet, s1: tf.Tensor, s2: tf.Tensor, s3: tf.Tensor): tf.Scalar {
  const p1 = tf.maxPool(tf.conv2d(net.x, net.W1, 1, 'valid'), 2, 2, 'valid');
  const p2 = tf.maxPool(tf.conv2d(s1 as tf.Tensor4D, net.W2, 1, 'valid'), 2, 2, 'valid');
  const f = tf.matMul(tf.reshape(s2, [s2.shape[0] as number, 1024]), net.Wf);
  return tf.addN([tf.sum(tf.mul(s1, p1)), tf.sum(tf.mul(s2, p2)), tf.sum(tf.mul(s3, f))]) as tf.Scalar;
}

/** The bench net as the `equilibrium-prop-conv` system's parameters (zero biases: the workload has none). */
export function epConvParams(net: EpConvNet): EpParams {
  return { W1: net.W1, b1: tf.zeros([32]), W2: net.W2, b2: tf.zeros([64]), W3: net.Wf, b3: tf.zeros([10]) };
}

export const epConv: Workload = {
  id: 'ep_conv',
  steps: 20,
  gradientsNeeded: [],
  unsupported(backend) {
    const missing = EP_CONV_KERNELS.filter((k) => tf.getKernel(k, backend) === undefined);
    return missing.length ? `backend ${backend} lacks kernel(s) ${missing.join(', ')} needed for ∂Φ/∂s` : undefined;
  },
  setup(rng) {
    const raw = [rng.uniform([64, 1, 28, 28]), rng.normal([32, 1, 5, 5], 0.1), rng.normal([64, 32, 5, 5], 0.05), rng.normal([10, 64 * 4 * 4], 0.05)] as const;
    const net = epConvNetFromTorchLayout(...raw);
    tf.dispose([...raw]);
    // The system's own step: ∂Φ/∂s written out (max-pool gradient and transposed convolution), ρ = clip(·,0,1).
    const system = equilibriumPropConv({ inputSize: 28, channels: [32, 64], kernelSize: 5, classes: 10, activation: 'hard-sigmoid', output: 'mse' });
    const params = epConvParams(net);
    const input = { x: net.x };
    return systemStepper(system, input, params, { output: (state) => state.layers[2]!, owned: [] });
  },
};
