/**
 * A trained Predify model (a `predify-noise` run folder's model/) as an attackable classifier.
 *
 * - `predifyClassifier`: the whole loop, the defender's T = run.maxSteps timesteps, scored by the head on
 *   e_N(T). With the `unrolled` gradient mode an attack differentiates through every timestep, including
 *   the error-gradient term (written out in the system, so it is an ordinary differentiable op).
 * - `predifyFirstPassClassifier`: the first pass alone, the backbone: the same system with
 *   (β, λ, α) = (1, 0, 0), whose every step is the feedforward pass. Attacking it and evaluating the loop
 *   is the transfer ("first pass") attack; attacking the loop itself is the adaptive one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '../../base/errors.js';
import { relaxationClassifier } from '../../attacks/models/relaxation-classifier.js';
import type { ClassifierAdapter, ModelSource } from '../../attacks/models/source.js';
import type { DynamicsClassifier } from '../../attacks/classifier.js';
import { predify, type PredifyOptions, type PredifyParams } from './system-predify.js';

function build(source: ModelSource, firstPass: boolean): DynamicsClassifier {
  const trained = source.trained;
  if (!trained || !trained.params['conv1.w'] || !trained.params['dec1.w']) {
    throw new DataError(`${source.origin}: a Predify classifier needs a trained backbone and decoders (model/ with conv*.w and dec*.w from a predify-noise run); pass that run folder`);
  }
  const { train } = source.data;
  const { kind: _kind, ...options } = source.system as { kind: string } & Omit<PredifyOptions, 'imageSize'>;
  const system = predify({ ...options, imageSize: train.height, ...(firstPass ? { beta: 1, lambda: 0, alpha: 0 } : {}) });
  const imageShape: [number, number, number] = [train.height, train.width, 1];
  const steps = firstPass ? 1 : source.run.maxSteps;
  return relaxationClassifier({
    name: firstPass ? `Predify backbone (first pass; ${trained.trainedBy})` : `Predify (β ${JSON.stringify(system.options.beta)}, λ ${JSON.stringify(system.options.lambda)}, α ${JSON.stringify(system.options.alpha)}, ${steps} timesteps)`,
    family: 'predify',
    system,
    params: trained.params as PredifyParams,
    classes: system.classes,
    imageShape,
    relaxation: { maxSteps: steps, checkEvery: steps },
    toInput: (x) => ({ x: tf.reshape(x, [x.shape[0]!, ...imageShape]) as tf.Tensor4D }),
    logitsOf: (logits) => logits as tf.Tensor2D,
  });
}

export const predifyClassifier = (source: ModelSource): DynamicsClassifier => build(source, false);
export const predifyFirstPassClassifier = (source: ModelSource): DynamicsClassifier => build(source, true);

export const predifyClassifierAdapter: ClassifierAdapter = {
  kind: 'predify',
  description: 'Predify: the trained backbone with its PCoders run for the spec’s timesteps, scored by the head on the top representation',
  create: predifyClassifier,
};
