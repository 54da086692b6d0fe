/**
 * bptt_ep_fc: gradient of cross-entropy(y_T) with respect to the input x through T = 20 unrolled ep_fc
 * steps (the inner loop of a white-box attack through the dynamics). One step = one full forward+backward.
 * Batch 64, labels uniform in 0..9; the loss is the batch mean, as F.cross_entropy.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Workload } from '../types.js';
import { disposeNet, epFcStep, makeEpFcNet } from './ep_shared.js';

export const bpttEpFc: Workload = {
  id: 'bptt_ep_fc',
  steps: 5,
  gradientsNeeded: ['BatchMatMul', 'Add', 'ClipByValue', 'Multiply', 'Sum', 'Mean', 'Neg', 'Sub', 'Exp', 'Max'],
  setup(rng) {
    const net = makeEpFcNet(rng);
    const labels = rng.ints([64], 10);
    const onehot = tf.oneHot(labels as tf.Tensor1D, 10);
    const lossOf = (x: tf.Tensor): tf.Scalar => {
      let h: tf.Tensor = tf.zeros([64, 500]);
      let y: tf.Tensor = tf.zeros([64, 10]);
      for (let t = 0; t < 20; t++) [h, y] = epFcStep(net, x, h, y);
      // cross-entropy of logits y against the labels, mean over the batch
      return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(y)), 1))) as tf.Scalar;
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
