/**
 * Predify's feedback learning rule (predify/utils/training.py `train_pcoders`; Choksi et al. 2021): with the
 * backbone frozen, one feedforward pass gives e_0 = x, e_1 … e_N, and the decoders alone descend the local
 * reconstruction loss
 *
 *   R = Σ_n mean_batch ε_{n−1},   ε_{n−1} = mean over the example's elements of (D_n(e_n) − e_{n−1})²
 *
 * Each decoder's gradient involves only its own layer pair, so although it is taken by autodiff (as in
 * Predify) the rule is local; `modifies` lists only the decoder parameters, so the optimizer cannot move
 * the backbone.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backprop } from '../../learning/backprop.js';
import type { ParamMap } from '../../learning/optimizers.js';
import type { LearningRule } from '../../learning/rule.js';
import type { PredifySystem } from './system-predify.js';

export function predifyDecoderRule(system: PredifySystem): LearningRule<ParamMap> {
  const N = system.options.channels.length;
  return backprop({
    name: 'predify-reconstruction',
    modifies: system.decoderNames,
    loss: (params, batch) => {
      const x = batch.x as tf.Tensor4D;
      // The backbone is frozen: its pass is outside what is differentiated (only decoder names are).
      const reps = system.feedforward(x, params);
      const terms = reps.map((e, i) => tf.mean(system.reconstructionError(i + 1, e, i === 0 ? x : reps[i - 1]!, params)) as tf.Scalar);
      const loss = (N === 1 ? terms[0]! : tf.addN(terms)) as tf.Scalar;
      return { loss, metrics: Object.fromEntries(terms.map((t, i) => [`recon${i}`, t])) };
    },
  });
}

/** The backbone's own training: backprop of the head's cross-entropy through the feedforward pass. */
export function predifyBackboneRule(system: PredifySystem): LearningRule<ParamMap> {
  return backprop({
    name: 'backbone-backprop',
    modifies: system.backboneNames,
    loss: (params, batch) => {
      const reps = system.feedforward(batch.x as tf.Tensor4D, params);
      const logits = system.head(reps[N(system) - 1]!, params);
      const target = tf.cast(tf.oneHot(batch.y!, system.classes), 'float32');
      const loss = tf.mean(tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1))) as tf.Scalar;
      return { loss, metrics: { accuracy: tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), batch.y!), 'float32')) as tf.Scalar } };
    },
  });
}

const N = (system: PredifySystem) => system.options.channels.length;
