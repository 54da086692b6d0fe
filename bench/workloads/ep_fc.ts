/**
 * ep_fc: one synchronous EP relaxation step of a 784-500-10 layered Hopfield net, ρ = clip(·,0,1):
 * h ← ρ(x W1 + y W2ᵀ + b1); y ← ρ(h W2 + b2). Batch 64.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Workload } from '../types.js';
import { disposeNet, epFcStep, makeEpFcNet } from './ep_shared.js';

export const epFc: Workload = {
  id: 'ep_fc',
  steps: 100,
  flopsPerStep: 2 * 64 * (784 * 500 + 2 * 500 * 10),
  setup(rng) {
    const net = makeEpFcNet(rng);
    let h: tf.Tensor = tf.zeros([64, 500]);
    let y: tf.Tensor = tf.zeros([64, 10]);
    return {
      step() {
        const [hn, yn] = tf.tidy(() => epFcStep(net, net.x, h, y));
        tf.dispose([h, y]);
        h = hn;
        y = yn;
      },
      output: () => y,
      dispose() {
        disposeNet(net);
        tf.dispose([h, y]);
      },
    };
  },
};
