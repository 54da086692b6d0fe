/**
 * An equilibrium-propagation network (src/systems/equilibrium-prop.ts, trained by `ep-train`) as a
 * classifier: x is clamped as the input layer, the free phase relaxes from zero for the spec's `maxSteps`
 * (T1; EP runs a fixed number of steps) with the system's own synchronous map, and the class scores are
 * the readout: the output layer's rates (in [0, 1] for hard-sigmoid units) with the MSE output, or the
 * softmax readout's logits. The prediction is their argmax, as in training.
 *
 * The bottom-up drive x W₁ + b₁ is precomputed once per relaxation (`prepare`), as training does; it
 * is a differentiable function of x, so every gradient mode reaches x through it.
 *
 * With the MSE output the scores are bounded rates, on which cross-entropy is a weak attack loss (softmax
 * of numbers in [0, 1] is nearly flat); the margin and DLR losses do not depend on that scale.
 */
import * as tf from '@tensorflow/tfjs-core';
import { relaxationSettings } from '../../core/run-settings.js';
import { DataError } from '../../base/errors.js';
import { equilibriumPropConvEntry, equilibriumPropEntry } from './options.js';
import type { EquilibriumNetwork } from './system.js';
import type { DynamicsClassifier } from '../../attacks/classifier.js';
import { relaxationClassifier } from '../../attacks/models/relaxation-classifier.js';
import type { ClassifierAdapter, ModelSource } from '../../attacks/models/source.js';

export function equilibriumPropClassifier(source: ModelSource): DynamicsClassifier {
  if (!source.trained) throw new DataError(`${source.origin}: an equilibrium-prop network must be trained first; run its spec with neurodyn run and pass the run folder`);
  const { train } = source.data;
  const n = train.height * train.width;
  const { kind, ...options } = source.system;
  const system = (kind === 'equilibrium-prop' ? equilibriumPropEntry : equilibriumPropConvEntry).create(options, { inputSize: n }) as EquilibriumNetwork;
  const params = source.trained.params;
  const missing = system.paramNames.filter((p) => !params[p]);
  if (missing.length) throw new DataError(`${source.origin}: the saved model lacks parameters ${missing.join(', ')}`);
  const imageShape: [number, number, number] = [train.height, train.width, 1];
  return relaxationClassifier({
    name: `${kind} ${[n, ...((options.layers as number[] | undefined) ?? [])].join('-')} (${source.trained.trainedBy}, T = ${source.run.maxSteps})`,
    family: kind,
    system,
    params,
    classes: system.classes,
    imageShape,
    relaxation: relaxationSettings(source.run),
    toInput: (x) => system.prepare({ x: system.layout === 'nhwc' ? tf.reshape(x, [x.shape[0]!, ...imageShape]) : x }, params),
    logitsOf: (readout) => readout as tf.Tensor2D,
  });
}

export const equilibriumPropClassifierAdapters: Record<string, ClassifierAdapter> = Object.fromEntries(
  ['equilibrium-prop', 'equilibrium-prop-conv'].map((kind) => [
    kind,
    {
      kind,
      description: 'equilibrium-propagation network: the free phase from zero for T1 steps, scores = the readout',
      create: (source: ModelSource) => equilibriumPropClassifier(source),
    },
  ]),
);
