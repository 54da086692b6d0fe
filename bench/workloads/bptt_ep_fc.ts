/**
 * bptt_ep_fc: gradient of cross-entropy(y_T) with respect to the input x through T = 20 unrolled ep_fc
 * steps (the inner loop of a white-box attack through the dynamics). One step = one full forward+backward.
 * Batch 64, labels uniform in 0..9; the loss is the batch mean, as F.cross_entropy.
 *
 * The 20 steps are the `equilibrium-prop` system's step run by simulate() in the `unrolled` gradient mode
 * (NaN/Inf checked once, at the end), as an attack through the dynamics runs them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { simulate } from '../../src/core/simulate.js';
import { equilibriumProp } from '../../src/families/equilibrium-prop/system.js';
import type { Workload } from '../types.js';
import { disposeNet, makeEpFcNet } from './ep_shared.js';

export const bpttEpFc: Workload = {
  id: 'bptt_ep_fc',
  steps: 5,
  gradientsNeeded: ['BatchMatMul', 'Add', 'ClipByValue', 'Multiply', 'Sum', 'Mean', 'Neg', 'Sub', 'Exp', 'Max'],
  setup(rng) {
    const net = makeEpFcNet(rng);
    const labels = rng.ints([64], 10);
    const onehot = tf.cast(tf.oneHot(labels as tf.Tensor1D, 10), 'float32');
    const system = equilibriumProp({ sizes: [784, 500, 10], activation: 'hard-sigmoid', output: 'mse', dynamics: 'primitive-map' });
    const params = { W1: net.W1, b1: net.b1, W2: net.W2, b2: net.b2 };
    const lossOf = (x: tf.Tensor): tf.Scalar => {
      const solution = simulate({ system, params, input: { x: x as tf.Tensor2D }, maxSteps: 20, checkEvery: 20, gradient: { kind: 'unrolled' } });
      // cross-entropy of logits y_T against the labels, mean over the batch
      const loss = tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(solution.state.layers[1]!)), 1))) as tf.Scalar;
      solution.dispose();
      return loss;
    };
    const gradOf = tf.grad(lossOf);
    let g: tf.Tensor = tf.zerosLike(net.x);
    return {
      step() {
        const next = tf.tidy(() => gradOf(net.x));
        g.dispose();
        g = next;
      },
      output: () => g,
      dispose() {
        disposeNet(net);
        tf.dispose([labels, onehot, g]);
      },
    };
  },
};
