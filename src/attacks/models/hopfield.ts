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
import { integrators } from '../../core/integrators/index.js';
import { binaryClassPrototypes } from '../../data/index.js';
import { storePatterns } from '../../systems/hopfield.js';
import { systems } from '../../systems/index.js';
import type { DynamicsClassifier } from '../classifier.js';
import { relaxationClassifier } from './relaxation-classifier.js';
import { classifierAdapters, type ModelSource } from './source.js';

export function hopfieldClassifier(source: ModelSource, logitScale = 10): DynamicsClassifier {
  const { train } = source.data;
  const n = train.height * train.width;
  const job = source.job ?? { kind: 'none' };
  const threshold = typeof job.prototypeThreshold === 'number' ? job.prototypeThreshold : 0.4;
  const rule = job.rule === 'hebbian' ? 'hebbian' : 'projection';
  const { kind: _kind, ...systemOptions } = source.system;
  const system = systems.get('hopfield').create(systemOptions, { inputSize: n });
  const prototypes = binaryClassPrototypes(train, threshold);
  const params = storePatterns(prototypes, rule);
  return relaxationClassifier({
    name: `hopfield ${n} units, ${train.classes} prototypes (${rule})`,
    family: 'hopfield',
    system,
    params,
    classes: train.classes,
    imageShape: [train.height, train.width, 1],
    relaxation: { maxSteps: source.run.maxSteps, ...(source.run.converge ? { tolerance: source.run.converge.tolerance } : {}) },
    ...(source.run.integrator ? { integrator: integrators.get(source.run.integrator, 'run.integrator') } : {}),
    dt: source.run.dt,
    ...(source.run.checkEvery ? { checkEvery: source.run.checkEvery } : {}),
    toInput: (x) => ({ cue: tf.sub(tf.mul(x, 2), 1) as tf.Tensor2D }),
    logitsOf: (v) => tf.mul(tf.matMul(v as tf.Tensor2D, prototypes, false, true), logitScale / n) as tf.Tensor2D,
    owned: [prototypes],
  });
}

classifierAdapters.register('hopfield', {
  kind: 'hopfield',
  description: 'continuous Hopfield network storing the class prototypes; class scores are the overlaps with them',
  create: (source) => hopfieldClassifier(source),
});
