/**
 * The backprop baseline of predictive coding: the same network's feedforward pass ū_L = f(x; θ) and the
 * batch-mean output cost C(ū_L, y) (the PCN's own `cost`, SE or CE), differentiated by autodiff. With the
 * shared trainer this is the comparison of PCX: same network, initialisation, data order and optimizer; only
 * the update differs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import { backprop } from '../../learning/backprop.js';
import type { ParamMap } from '../../learning/optimizers.js';
import type { LearningRule } from '../../learning/rule.js';
import { oneHot, type PcFlow, type PcNetwork } from './system-pc.js';

export function feedforwardBackprop(system: PcNetwork | PcFlow): LearningRule<ParamMap> {
  return backprop({
    name: 'backprop',
    modifies: system.paramNames,
    loss: (params, batch) => {
      if (!batch.y) throw new SpecError('data', 'backprop on a classifier needs class labels');
      const logits = system.forward(batch.x as tf.Tensor2D, params)[system.depth - 1]!;
      const loss = tf.mean(system.cost(logits, oneHot(batch.y, system.classes))) as tf.Scalar;
      const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), batch.y), 'float32')) as tf.Scalar;
      return { loss, metrics: { accuracy } };
    },
  });
}
