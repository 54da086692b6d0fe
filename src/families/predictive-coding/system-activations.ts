/**
 * The activations φ of discriminative predictive-coding networks, with their derivatives written out: the
 * inference dynamics need φ'(z) as a local quantity (each unit scales the error it receives from above by
 * its own slope), not through autodiff.
 *
 * - `tanh`, `sigmoid`, `relu`, `leaky-relu` (slope 0.01 below 0);
 * - `hard-tanh`  φ(x) = clip(x, −1, 1) (PCX's BP-CE baseline);
 * - `gelu`       the tanh form of Hendrycks & Gimpel 2016, φ(x) = ½x(1 + tanh(c(x + 0.044715x³))), c = √(2/π)
 *                (PCX's PC default; JAX's `gelu(approximate=True)`);
 * - `identity`   a linear network (the closed-form checks).
 */
import * as tf from '@tensorflow/tfjs-core';

export const PC_ACTIVATION_NAMES = ['tanh', 'sigmoid', 'relu', 'leaky-relu', 'hard-tanh', 'gelu', 'identity'] as const;
export type PcActivationName = (typeof PC_ACTIVATION_NAMES)[number];

export interface PcActivation {
  readonly name: PcActivationName;
  apply(x: tf.Tensor): tf.Tensor;
  derivative(x: tf.Tensor): tf.Tensor;
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_K = 0.044715;
const LEAK = 0.01;

const ACTIVATIONS: Readonly<Record<PcActivationName, PcActivation>> = Object.freeze({
  tanh: { name: 'tanh', apply: (x) => tf.tanh(x), derivative: (x) => tf.sub(1, tf.square(tf.tanh(x))) },
  sigmoid: {
    name: 'sigmoid',
    apply: (x) => tf.sigmoid(x),
    derivative: (x) => {
      const s = tf.sigmoid(x);
      return tf.mul(s, tf.sub(1, s));
    },
  },
  relu: { name: 'relu', apply: (x) => tf.relu(x), derivative: (x) => tf.cast(tf.greater(x, 0), 'float32') },
  'leaky-relu': {
    name: 'leaky-relu',
    apply: (x) => tf.leakyRelu(x, LEAK),
    derivative: (x) => tf.where(tf.greater(x, 0), tf.onesLike(x), tf.fill(x.shape, LEAK)),
  },
  'hard-tanh': {
    name: 'hard-tanh',
    apply: (x) => tf.clipByValue(x, -1, 1),
    derivative: (x) => tf.cast(tf.logicalAnd(tf.greater(x, -1), tf.less(x, 1)), 'float32'),
  },
  gelu: {
    name: 'gelu',
    apply: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), GELU_K)), GELU_C)))),
    // d/dx ½x(1 + tanh g) = ½(1 + tanh g) + ½x(1 − tanh² g)·c(1 + 3k x²)
    derivative: (x) => {
      const t = tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), GELU_K)), GELU_C));
      const inner = tf.mul(tf.add(1, tf.mul(tf.square(x), 3 * GELU_K)), GELU_C);
      return tf.add(tf.mul(tf.add(1, t), 0.5), tf.mul(tf.mul(tf.mul(x, 0.5), tf.sub(1, tf.square(t))), inner));
    },
  },
  identity: { name: 'identity', apply: (x) => x, derivative: (x) => tf.onesLike(x) },
});

export function pcActivation(name: PcActivationName): PcActivation {
  return ACTIVATIONS[name];
}
