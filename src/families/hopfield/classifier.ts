/**
 * The Hopfield reference system as a classifier. Ten class prototypes ξ_c ∈ {−1, +1}ⁿ (the class means of
 * the training images binarised at `prototypeThreshold`, as the hopfield-recall job stores them) are
 * stored with the projection rule; an image x ∈ [0, 1]ⁿ becomes the cue 2x − 1 (so binary images map to
 * ±1), the network relaxes with the spec's integrator, dt, steps and tolerance, and the class scores are
 * the overlaps with the prototypes, z_c = κ · (1/n) ξ_c · V with V = tanh(gain · u) and κ = `logitScale`
 * (10: overlaps lie in [−1, 1], so without a scale cross-entropy would hardly separate the classes; DLR and
 * the margin-based attacks do not depend on κ).
 *
 * With `cueCurrent` = 0 the input sets only the initial state, so the fixed point does not depend on x
 * locally: the implicit gradient is exactly 0, and the unrolled one decays as the state falls into an
 * attractor. That is a real property of this classifier, and the reason gradient-free attacks are needed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { relaxationSettings } from '../../core/run-settings.js';
import { binaryClassPrototypes } from '../../data/index.js';
import { storePatterns } from './system.js';
import { hopfieldEntry } from './options.js';
import type { DynamicsClassifier } from '../../attacks/classifier.js';
import { relaxationClassifier } from '../../attacks/models/relaxation-classifier.js';
import type { ClassifierAdapter, ModelSource } from '../../attacks/models/source.js';

export function hopfieldClassifier(source: ModelSource, logitScale = 10): DynamicsClassifier {
  const { train } = source.data;
  const n = train.height * train.width;
  const job = source.job ?? { kind: 'none' };
  const threshold = typeof job.prototypeThreshold === 'number' ? job.prototypeThreshold : 0.4;
  const rule = job.rule === 'hebbian' ? 'hebbian' : 'projection';
  const { kind: _kind, ...systemOptions } = source.system;
  const system = hopfieldEntry.create(systemOptions, { inputSize: n });
  const prototypes = binaryClassPrototypes(train, threshold);
  const params = storePatterns(prototypes, rule);
  return relaxationClassifier({
    name: `hopfield ${n} units, ${train.classes} prototypes (${rule})`,
    family: 'hopfield',
    system,
    params,
    classes: train.classes,
    imageShape: [train.height, train.width, 1],
    relaxation: relaxationSettings(source.run),
    toInput: (x) => ({ cue: tf.sub(tf.mul(x, 2), 1) as tf.Tensor2D }),
    logitsOf: (v) => tf.mul(tf.matMul(v as tf.Tensor2D, prototypes, false, true), logitScale / n) as tf.Tensor2D,
    owned: [prototypes],
  });
}

export const hopfieldClassifierAdapter: ClassifierAdapter = {
  kind: 'hopfield',
  description: 'continuous Hopfield network storing the class prototypes; class scores are the overlaps with them',
  create: (source) => hopfieldClassifier(source),
};
