/**
 * lca_fc: fully connected LCA, one step: a = relu(u - 0.05); u += (b - u - a G) / 100,
 * with the drive b = xΦ and G = ΦᵀΦ - I computed once. x 64×784, Φ 784×1568 (1568 atoms).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Workload } from '../types.js';

export const lcaFc: Workload = {
  id: 'lca_fc',
  steps: 50,
  flopsPerStep: 2 * 64 * 1568 * 1568,
  setup(rng) {
    const { b, G } = tf.tidy(() => {
      const x = rng.normal([64, 784]);
      const phi = rng.normal([784, 1568]);
      return {
        b: tf.matMul(x, phi),
        G: tf.sub(tf.matMul(phi, phi, true, false), tf.eye(1568)),
      };
    });
    let u: tf.Tensor = tf.zeros([64, 1568]);
    return {
      step() {
        const next = tf.tidy(() => {
          const a = tf.relu(tf.sub(u, 0.05));
          return tf.add(u, tf.div(tf.sub(tf.sub(b, u), tf.matMul(a, G)), 100));
        });
        u.dispose();
        u = next;
      },
      output: () => u,
      dispose() {
        tf.dispose([b, G, u]);
      },
    };
  },
};
